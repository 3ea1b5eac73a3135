# How CMake finds what repbench builds against. Every find goes through one of the three helpers
# below, which name the Debian package that provides the thing: when it is missing, configuring
# stops with one line saying which package to install. scripts/check_dependencies.sh (the ctest
# test Dependencies.SetupInstallsWhatIsUsed) reads the package names from these calls and checks
# them against scripts/setup.sh's list, so the two cannot drift apart.

function(repbench_missing debian what)
  message(FATAL_ERROR "repbench: ${what} not found: install the Debian package ${debian} "
                      "(scripts/setup.sh installs everything repbench needs)")
endfunction()

# repbench_find_package(<Debian package> <find_package arguments>): find_package in the caller's
# scope (a macro, so that its variables and imported targets stay visible there).
macro(repbench_find_package debian name)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    repbench_missing(${debian} "${name} (find_package)")
  endif()
endmacro()

# repbench_find_optional(<Debian package> <find_package arguments>): the same find, for what is
# built only when the package is there (the Python module): <name>_FOUND says which; the caller
# says in one line what is left out.
macro(repbench_find_optional debian name)
  find_package(${name} ${ARGN} QUIET)
endmacro()

# repbench_pkg_check(<Debian package> <prefix> <module>): a pkg-config module as the imported
# target PkgConfig::<prefix>.
macro(repbench_pkg_check debian prefix module)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    repbench_missing(${debian} "${module} (pkg-config)")
  endif()
endmacro()

# repbench_find_header(<Debian package> <variable> <header> [PATHS ...]): the folder of a header.
macro(repbench_find_header debian var header)
  find_path(${var} ${header} ${ARGN})
  if(NOT ${var})
    repbench_missing(${debian} "${header}")
  endif()
endmacro()

#include <cstdio>

#include "core/version.h"

int main() {
  std::fputs(repbench::version_text().c_str(), stdout);
  return 0;
}

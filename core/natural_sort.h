// Natural ordering of file names ("img2.jpg" < "img10.jpg"), the order the paper's lineage code
// (natsort) gives folder listings; repbench uses it wherever a protocol depends on file order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace repbench {

// True when a sorts before b: runs of digits compare by numeric value (then by length, so "01"
// sorts before "1"), everything else byte by byte.
bool natural_less(std::string_view a, std::string_view b);

void natural_sort(std::vector<std::string>& names);

}  // namespace repbench

// Natural ordering of file names: runs of digits compare by value, so "2.png" < "10.png" and
// "im9" < "im10"; other characters compare case-insensitively, ties broken byte-wise so the order
// is total. This is how image stacks are ordered into z.
#pragma once

#include <string_view>

namespace uniem {

bool natural_less(std::string_view a, std::string_view b);

}  // namespace uniem

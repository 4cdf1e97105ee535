// The memory budget: one limit, for the whole process, on what an input may announce.
//
// A compressed file can announce far more pixels than it holds (a 2.4 MB TIFF announcing
// 50,000 x 50,000 pixels), and a reader that believes it allocates gigabytes before it finds out.
// Every reader (io/tiff, io/png, io/stack) therefore compares what a file or stack announces
// (width x height x pages x bytes per pixel), before allocating or decoding, with this budget,
// and refuses with an InputError naming the file, the size and the limit.
//
// Size: set_memory_budget() (the --memory MB option of the commands that read stacks) when given,
// else UNIEM_MEMORY in MB (read once), else half of this computer's physical memory (sysconf).
// The budget bounds each input on its own; it does not count what the process holds in total.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace uniem {

int64_t memory_budget();                // bytes
void set_memory_budget(int64_t bytes);  // bytes <= 0 restores the default
int64_t physical_memory();              // bytes of RAM, 0 when unknown

// "2.3 GiB", "64 MiB", "512 KiB", "100 bytes".
std::string format_bytes(double bytes);

// Throws InputError when `bytes` exceed the budget:
//   "<source>: <announces> (<size> as <as>), more than the memory limit of <limit>; give more
//    with --memory MB, or <remedy>"
// e.g. announces = "announces 50000 x 50000 pixels", as = "8-bit grey", remedy = "crop the file".
void check_memory_budget(const std::filesystem::path& source, const std::string& announces, double bytes,
                         const std::string& as, const std::string& remedy);

}  // namespace uniem

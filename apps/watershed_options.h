// The arguments of `uniem watershed` as the options of a watershed in slabs
// (io/blockwise_watershed.h), shared by the command and its cluster tasks (apps/cluster/).
#pragma once

#include "apps/cli.h"
#include "io/blockwise_watershed.h"

namespace uniem::apps {

// Throws InputError naming `in` (with `why` in front, e.g. "too large to hold in memory; ", and
// `remedy` after, e.g. "give more --memory") when an option needs the whole volume: --split,
// --preset, --merge-smaller.
BlockwiseWatershedOptions blockwise_watershed_options(const cli::Args& args, const std::string& in, const std::string& why,
                                                      const std::string& remedy);

}  // namespace uniem::apps

// --device and --precision for every command that computes with a network (train2d, infer2d,
// ffn train, ffn segment, demo).
//
//   --device auto     the first usable GPU, else the CPU (the default); the choice is printed
//   --device cpu      the CPU, always available
//   --device cuda     the first GPU (an error when there is none)
//   --device cuda:N   GPU number N, as `uniem devices` lists them
//   --precision tf32  GPU convolutions on tensor cores in TF32 (the default on cards from 2020
//                     on; within 1e-2 of fp32 in tests/cuda); fp32 for full single precision
#pragma once

#include "apps/cli.h"
#include "core/tensor.h"

namespace uniem::apps {

void add_device_options(cli::Command& command);
// The device the options ask for; prints one line saying which. Throws UsageError for a malformed
// --device and InputError for a GPU that is not there or a build without CUDA.
Device choose_device(const cli::Args& args);

}  // namespace uniem::apps

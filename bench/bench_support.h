// What every bench/ program shares: timing a function (median of repetitions after a warm-up)
// and running a peer script that prints one JSON object as its last line.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uniem::bench {

inline double median_seconds(int reps, const std::function<void()>& fn) {
  fn();  // warm-up: page cache, allocator
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Runs `command` and parses the last line it prints as JSON; null when it fails.
inline nlohmann::json run_peer(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return nullptr;
  std::array<char, 4096> buffer{};
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  if (pclose(pipe) != 0 || out.empty()) return nullptr;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const auto last = out.rfind('\n');
  try {
    return nlohmann::json::parse(last == std::string::npos ? out : out.substr(last + 1));
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

// The options of the programs that time a network against PyTorch: [--threads N] [--no-peer].
struct PeerOptions {
  int threads = 2;
  bool peer = true;
};
inline PeerOptions parse_peer_options(int argc, char** argv) {
  PeerOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) o.threads = std::atoi(argv[++i]);
    else if (a == "--no-peer") o.peer = false;
  }
  return o;
}

}  // namespace uniem::bench

// Command-line parsing for the subcommands: each declares its arguments once, and gets parsing,
// --help text and UsageError messages (exit code 2) from that declaration.
//
// Every command also accepts --threads N, --memory MB (the memory budget, core/memory_budget.h),
// --progress bar|json|off (core/progress.h), --quiet and --help. Options take their value as "--name value"
// or "--name=value"; flags take none.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/image/volume.h"

namespace uniem::cli {

struct Spec {
  std::string name, value, help, fallback;  // value empty: a flag
};

class Args;

class Command {
 public:
  Command(std::string name, std::string summary, std::string description, std::string example);
  Command& positional(std::string name, std::string help);
  Command& option(std::string name, std::string value, std::string help, std::string fallback = "");
  Command& flag(std::string name, std::string help);

  // Throws UsageError. Applies --threads and --quiet.
  Args parse(const std::vector<std::string>& argv) const;
  std::string help() const;
  int print_help() const;  // prints help() on stdout; returns exit code 0
  const std::string& name() const { return name_; }

 private:
  const Spec* find(const std::string& name) const;
  std::string name_, summary_, description_, example_;
  std::vector<Spec> positionals_, options_;
};

class Args {
 public:
  bool help = false;
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name) const;  // the value or the declared fallback
  std::string positional(size_t i) const { return positionals_.at(i); }
  size_t positional_count() const { return positionals_.size(); }
  double number(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  // "Z,Y,X" in nm (or one number for all three); nullopt when neither given nor defaulted.
  std::optional<VoxelSize> voxel_size(const std::string& name = "voxel-size") const;
  std::vector<int64_t> integers(const std::string& name, size_t count) const;  // "A,B,C"
  std::array<int64_t, 3> zyx(const std::string& name) const;                    // "Z,Y,X", whole numbers

 private:
  friend class Command;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> fallbacks_;
  std::vector<std::string> positionals_;
};

}  // namespace uniem::cli

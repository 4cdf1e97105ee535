// The option schema of the commands: each command declares its arguments once (name, type, default,
// unit, range or choices, help, basic or advanced, and whether a path is read or written), and gets
// from that declaration its command-line parsing, its --help text, validation with one message per
// mistake (exit code 2), the JSON description a program builds forms from (--describe), and the
// reading of job files (apps/jobs/job_file.h), which turn JSON into the same arguments.
//
// Every command also accepts --threads N, --memory MB (the memory budget, core/memory_budget.h),
// --progress bar|json|off (core/progress.h), --quiet, --describe and --help. Options take their
// value as "--name value" or "--name=value"; flags take none. Steps (uniem filter) are options whose
// order matters: they are kept in the order given.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/image/volume.h"

namespace uniem::cli {

enum class Type { flag, text, integer, number, choice, path };
enum class Role { none, input, output };  // paths: read by the command, or written by it

struct Spec {
  std::string name, value, help, fallback;  // value: what the help shows after the name (empty: a flag)
  Type type = Type::text;
  Role role = Role::none;
  std::optional<double> min, max;
  std::vector<std::string> choices;
  std::string unit;
  bool advanced = false;
  bool common = false;  // --threads, --memory, ...: the runner's, not the command's
  bool step = false;    // an ordered step (uniem filter)
  bool required = false;  // an option the command cannot run without
  bool interactive = false;  // for a person at the command line (uniem mesh --open): not in jobs or forms
};

class Args;

class Command {
 public:
  Command(std::string name, std::string summary, std::string description, std::string example);
  Command& positional(std::string name, std::string help);
  Command& option(std::string name, std::string value, std::string help, std::string fallback = "");
  Command& flag(std::string name, std::string help);
  // A step: an option that may be given several times, applied in the order given (args.steps()).
  // `value` empty for a step without a value.
  Command& step(std::string name, std::string value, std::string help);

  // These describe the argument declared last.
  Command& integer(std::optional<double> min = {}, std::optional<double> max = {});  // a whole number
  Command& number(std::optional<double> min = {}, std::optional<double> max = {});   // any finite number
  Command& choices(std::vector<std::string> allowed);                                 // one of these words
  Command& input();   // a file or folder the command reads
  Command& output();  // a file or folder the command writes
  Command& unit(std::string unit);
  Command& advanced();  // shown apart in --help and folded away in forms
  Command& required();  // an option that must be given ("--model is required")
  Command& interactive();  // only on the command line: a job refuses it, describe leaves it out
  // Exactly one of these options must be given (watershed: --markers, --seeds-below, ...).
  Command& exactly_one_of(std::vector<std::string> names);
  // A rule between options, checked when parsing (after types and ranges): it throws UsageError,
  // e.g. "--intensity needs --stats".
  Command& rule(std::function<void(const Args&)> check);
  // The last positional may be left out; it then takes `fallback`.
  Command& optional(std::string fallback);

  // Throws UsageError. Applies --threads, --memory and --progress.
  Args parse(const std::vector<std::string>& argv) const;
  // Checks one value against the declaration of `name` (its type, range or choices); throws
  // UsageError with the message the command line gives.
  void validate(const Spec& spec, const std::string& value) const;
  std::string help() const;
  int print_help() const;  // prints help() on stdout; returns exit code 0
  // The declaration as JSON: {"command", "summary", "description", "example", "arguments": [...]},
  // one entry per argument with its name, kind (positional, option, flag, step), type, default,
  // unit, min, max, choices, help, level (basic or advanced) and role (input, output).
  nlohmann::json describe() const;
  const std::string& name() const { return name_; }
  const std::vector<Spec>& positionals() const { return positionals_; }
  const std::vector<Spec>& options() const { return options_; }
  const Spec* find(const std::string& name) const;

 private:
  Command& add(std::string name, std::string value, std::string help, std::string fallback, Type type, bool positional);
  Spec& last();
  std::string name_, summary_, description_, example_;
  std::vector<Spec> positionals_, options_;
  std::vector<std::vector<std::string>> one_of_;
  std::vector<std::function<void(const Args&)>> rules_;
  bool last_positional_ = false;
};

// The name a positional has in job files and forms: "MODEL_DIR" -> "model-dir".
std::string field_name(const std::string& positional);

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
  // The steps given, in order: (name, value).
  const std::vector<std::pair<std::string, std::string>>& steps() const { return steps_; }

 private:
  friend class Command;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> fallbacks_;
  std::vector<std::string> positionals_;
  std::vector<std::pair<std::string, std::string>> steps_;
};

}  // namespace uniem::cli

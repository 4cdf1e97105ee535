#include "apps/cli.h"

#include <charconv>
#include <cstdio>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/memory_budget.h"
#include "core/progress.h"
#include "core/threads.h"

namespace uniem::cli {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
  return parts;
}

double parse_number(const std::string& option, const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v))
    throw UsageError("--" + option + ": '" + text + "' is not a number");
  return v;
}

}  // namespace

Command::Command(std::string name, std::string summary, std::string description, std::string example)
    : name_(std::move(name)), summary_(std::move(summary)), description_(std::move(description)), example_(std::move(example)) {
  option("threads", "N", "worker threads (default: all cores, or UNIEM_THREADS)");
  option("memory", "MB", "memory an input may take; larger inputs are refused (default: half the RAM, or UNIEM_MEMORY)");
  option("progress", "STYLE", "how progress is shown on stderr: bar, json (one JSON object a line, for programs) or off", "bar");
  flag("quiet", "no progress bar (the same as --progress off)");
  flag("help", "show this help");
}

Command& Command::positional(std::string name, std::string help) {
  positionals_.push_back({std::move(name), "", std::move(help), ""});
  return *this;
}
Command& Command::option(std::string name, std::string value, std::string help, std::string fallback) {
  options_.push_back({std::move(name), std::move(value), std::move(help), std::move(fallback)});
  return *this;
}
Command& Command::flag(std::string name, std::string help) {
  options_.push_back({std::move(name), "", std::move(help), ""});
  return *this;
}

const Spec* Command::find(const std::string& name) const {
  for (const auto& s : options_)
    if (s.name == name) return &s;
  return nullptr;
}

Args Command::parse(const std::vector<std::string>& argv) const {
  Args args;
  for (const auto& s : options_)
    if (!s.fallback.empty()) args.fallbacks_[s.name] = s.fallback;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.starts_with("--")) {
      std::string name = a.substr(2), value;
      const auto eq = name.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const Spec* spec = find(name);
      if (!spec) throw UsageError("unknown option --" + name);
      if (spec->value.empty()) {
        if (inline_value) throw UsageError("--" + name + " takes no value");
        value = "1";
      } else if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value (" + spec->value + ")");
        value = argv[++i];
      }
      args.values_[name] = value;
    } else if (a == "-h") {
      args.values_["help"] = "1";
    } else {
      args.positionals_.push_back(a);
    }
  }
  args.help = args.has("help");
  if (args.help) return args;
  if (args.positionals_.size() != positionals_.size()) {
    std::string expected;
    for (const auto& p : positionals_) expected += " " + p.name;
    throw UsageError("expected" + (expected.empty() ? std::string(" no arguments") : expected) + ", got " +
                     std::to_string(args.positionals_.size()) + " argument" + (args.positionals_.size() == 1 ? "" : "s"));
  }
  if (args.has("threads")) {
    const int64_t n = args.integer("threads");
    if (n < 1) throw UsageError("--threads must be at least 1");
    set_thread_count(static_cast<int>(n));
  }
  if (args.has("memory")) {
    const int64_t mb = args.integer("memory");
    if (mb < 64 || mb > (int64_t{1} << 30)) throw UsageError("--memory takes megabytes, 64 or more (e.g. --memory 8000 for 8 GB)");
    set_memory_budget(mb << 20);
  }
  const std::string progress = args.get("progress");
  if (progress != "bar" && progress != "json" && progress != "off") throw UsageError("--progress takes bar, json or off");
  set_progress_style(args.has("quiet") || progress == "off" ? ProgressStyle::off
                     : progress == "json"                  ? ProgressStyle::json
                                                           : ProgressStyle::bar);
  return args;
}

std::string Command::help() const {
  std::ostringstream s;
  s << "uniem " << name_ << " - " << summary_ << "\n\nUsage: uniem " << name_;
  for (const auto& p : positionals_) s << " " << p.name;
  s << " [options]\n\n" << description_ << "\n";
  if (!positionals_.empty()) {
    s << "\nArguments:\n";
    for (const auto& p : positionals_) s << "  " << p.name << std::string(p.name.size() < 22 ? 22 - p.name.size() : 1, ' ') << p.help << "\n";
  }
  s << "\nOptions:\n";
  for (const auto& o : options_) {
    std::string left = "--" + o.name + (o.value.empty() ? "" : " " + o.value);
    s << "  " << left << std::string(left.size() < 22 ? 22 - left.size() : 1, ' ') << o.help;
    if (!o.fallback.empty()) s << " (default: " << o.fallback << ")";
    s << "\n";
  }
  if (!example_.empty()) s << "\nExample:\n" << example_ << "\n";
  return s.str();
}

int Command::print_help() const {
  std::fputs(help().c_str(), stdout);
  return 0;
}

std::string Args::get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (auto it = fallbacks_.find(name); it != fallbacks_.end()) return it->second;
  return "";
}

double Args::number(const std::string& name) const { return parse_number(name, get(name)); }

int64_t Args::integer(const std::string& name) const {
  const double v = number(name);
  if (v != std::floor(v)) throw UsageError("--" + name + ": '" + get(name) + "' is not a whole number");
  return static_cast<int64_t>(v);
}

std::vector<int64_t> Args::integers(const std::string& name, size_t count) const {
  const auto parts = split(get(name), ',');
  if (parts.size() != count) throw UsageError("--" + name + " needs " + std::to_string(count) + " comma-separated numbers");
  std::vector<int64_t> out;
  for (const auto& p : parts) {
    const double v = parse_number(name, p);
    if (v != std::floor(v)) throw UsageError("--" + name + ": '" + p + "' is not a whole number");
    out.push_back(static_cast<int64_t>(v));
  }
  return out;
}

std::array<int64_t, 3> Args::zyx(const std::string& name) const {
  const auto v = integers(name, 3);
  return {v[0], v[1], v[2]};
}

std::optional<VoxelSize> Args::voxel_size(const std::string& name) const {
  if (get(name).empty()) return std::nullopt;
  auto parts = split(get(name), ',');
  if (parts.size() == 1) parts = {parts[0], parts[0], parts[0]};
  if (parts.size() != 3) throw UsageError("--" + name + " takes Z,Y,X in nm, e.g. 30,6,6 (or one number for all axes)");
  VoxelSize v;
  v.z = parse_number(name, parts[0]);
  v.y = parse_number(name, parts[1]);
  v.x = parse_number(name, parts[2]);
  if (v.z <= 0 || v.y <= 0 || v.x <= 0) throw UsageError("--" + name + ": voxel sizes must be positive");
  v.known = true;
  return v;
}

}  // namespace uniem::cli

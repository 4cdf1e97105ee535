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
  option("threads", "N", "worker threads (default: all cores, or UNIEM_THREADS)").integer(1, 4096);
  last().common = true;
  option("memory", "MB",
         "memory an input may take; larger inputs are refused, e.g. --memory 8000 for 8 GB (default: half the RAM, or "
         "UNIEM_MEMORY)")
      .integer(64, double(int64_t{1} << 30))
      .unit("MB");
  last().common = true;
  option("progress", "STYLE", "how progress is shown on stderr: bar, json (one JSON object a line, for programs) or off", "bar")
      .choices({"bar", "json", "off"});
  last().common = true;
  flag("quiet", "no progress bar (the same as --progress off)");
  last().common = true;
  flag("describe", "print this command's options as JSON, for programs that build forms from them");
  last().common = true;
  flag("help", "show this help");
  last().common = true;
}

Command& Command::add(std::string name, std::string value, std::string help, std::string fallback, Type type, bool positional) {
  Spec s;
  s.name = std::move(name);
  s.value = std::move(value);
  s.help = std::move(help);
  s.fallback = std::move(fallback);
  s.type = type;
  (positional ? positionals_ : options_).push_back(std::move(s));
  last_positional_ = positional;
  return *this;
}
Command& Command::positional(std::string name, std::string help) {
  return add(std::move(name), "", std::move(help), "", Type::path, true);
}
Command& Command::option(std::string name, std::string value, std::string help, std::string fallback) {
  return add(std::move(name), std::move(value), std::move(help), std::move(fallback), Type::text, false);
}
Command& Command::flag(std::string name, std::string help) {
  return add(std::move(name), "", std::move(help), "", Type::flag, false);
}
Command& Command::step(std::string name, std::string value, std::string help) {
  const Type type = value.empty() ? Type::flag : Type::text;
  add(std::move(name), std::move(value), std::move(help), "", type, false);
  last().step = true;
  return *this;
}

Spec& Command::last() {
  UNIEM_CHECK(last_positional_ ? !positionals_.empty() : !options_.empty(), "cli: no argument declared yet");
  return last_positional_ ? positionals_.back() : options_.back();
}
Command& Command::integer(std::optional<double> min, std::optional<double> max) {
  last().type = Type::integer;
  last().min = min;
  last().max = max;
  return *this;
}
Command& Command::number(std::optional<double> min, std::optional<double> max) {
  last().type = Type::number;
  last().min = min;
  last().max = max;
  return *this;
}
Command& Command::choices(std::vector<std::string> allowed) {
  last().type = Type::choice;
  last().choices = std::move(allowed);
  return *this;
}
Command& Command::input() {
  last().type = Type::path;
  last().role = Role::input;
  return *this;
}
Command& Command::output() {
  last().type = Type::path;
  last().role = Role::output;
  return *this;
}
Command& Command::unit(std::string unit) {
  last().unit = std::move(unit);
  return *this;
}
Command& Command::advanced() {
  last().advanced = true;
  return *this;
}
Command& Command::exactly_one_of(std::vector<std::string> names) {
  one_of_.push_back(std::move(names));
  return *this;
}
Command& Command::rule(std::function<void(const Args&)> check) {
  rules_.push_back(std::move(check));
  return *this;
}
Command& Command::required() {
  last().required = true;
  return *this;
}
Command& Command::interactive() {
  last().interactive = true;
  return *this;
}
Command& Command::optional(std::string fallback) {
  UNIEM_CHECK(last_positional_, "cli: optional() applies to a positional");
  last().fallback = std::move(fallback);
  return *this;
}

const Spec* Command::find(const std::string& name) const {
  for (const auto& s : options_)
    if (s.name == name) return &s;
  return nullptr;
}

std::string field_name(const std::string& positional) {
  std::string out;
  for (char c : positional) out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

std::string format_limit(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", v);
  return text;
}

std::string list_words(const std::vector<std::string>& words) {
  std::string s;
  for (size_t i = 0; i < words.size(); ++i) s += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  return s;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::flag: return "flag";
    case Type::text: return "text";
    case Type::integer: return "integer";
    case Type::number: return "number";
    case Type::choice: return "choice";
    case Type::path: return "path";
  }
  return "text";
}

}  // namespace

void Command::validate(const Spec& spec, const std::string& value) const {
  const std::string name = "--" + spec.name;
  if (spec.type == Type::choice) {
    for (const auto& c : spec.choices)
      if (value == c) return;
    throw UsageError(name + " takes " + list_words(spec.choices) + ", not '" + value + "'");
  }
  if (spec.type != Type::integer && spec.type != Type::number) return;
  const double v = parse_number(spec.name, value);
  if (spec.type == Type::integer && v != std::floor(v)) throw UsageError(name + ": '" + value + "' is not a whole number");
  const bool low = spec.min && v < *spec.min, high = spec.max && v > *spec.max;
  if (!low && !high) return;
  if (spec.min && spec.max)
    throw UsageError(name + " takes " + format_limit(*spec.min) + " to " + format_limit(*spec.max) + ", not " + value);
  if (low) throw UsageError(name + " must be at least " + format_limit(*spec.min) + ", not " + value);
  throw UsageError(name + " must be at most " + format_limit(*spec.max) + ", not " + value);
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
      if (spec->step) {
        args.steps_.emplace_back(name, spec->value.empty() ? "" : value);
        continue;
      }
      args.values_[name] = value;
    } else if (a == "-h") {
      args.values_["help"] = "1";
    } else {
      args.positionals_.push_back(a);
    }
  }
  args.help = args.has("help") || args.has("describe");
  if (args.help) return args;
  if (args.positionals_.size() + 1 == positionals_.size() && !positionals_.back().fallback.empty())
    args.positionals_.push_back(positionals_.back().fallback);
  if (args.positionals_.size() != positionals_.size()) {
    std::string expected;
    for (const auto& p : positionals_) expected += " " + p.name;
    throw UsageError("expected" + (expected.empty() ? std::string(" no arguments") : expected) + ", got " +
                     std::to_string(args.positionals_.size()) + " argument" + (args.positionals_.size() == 1 ? "" : "s"));
  }
  for (const auto& o : options_)
    if (o.required && !args.has(o.name)) throw UsageError("--" + o.name + " is required (see uniem " + name_ + " --help)");
  for (const auto& group : one_of_) {
    std::vector<std::string> flags;
    int given = 0;
    for (const auto& n : group) {
      flags.push_back("--" + n);
      given += args.has(n);
    }
    if (given != 1) throw UsageError("give exactly one of " + list_words(flags));
  }
  for (const auto& [name, value] : args.values_) validate(*find(name), value);
  for (const auto& spec : options_)  // steps are checked like options
    for (const auto& [step, value] : args.steps_)
      if (step == spec.name) validate(spec, value);
  for (const auto& check : rules_) check(args);
  if (args.has("threads")) set_thread_count(static_cast<int>(args.integer("threads")));
  if (args.has("memory")) set_memory_budget(args.integer("memory") << 20);
  const std::string progress = args.get("progress");
  set_progress_style(args.has("quiet") || progress == "off" ? ProgressStyle::off
                     : progress == "json"                  ? ProgressStyle::json
                                                           : ProgressStyle::bar);
  return args;
}

std::string Command::help() const {
  std::ostringstream s;
  s << "uniem " << name_ << " - " << summary_ << "\n\nUsage: uniem " << name_;
  for (const auto& p : positionals_) s << " " << (p.fallback.empty() ? p.name : "[" + p.name + "]");
  s << " [options]\n\n" << description_ << "\n";
  // "  --name VALUE          help (default: X)", the help wrapped at 100 columns under itself.
  const auto line = [&](const std::string& left, const Spec& o) {
    std::string text = o.help + (o.fallback.empty() ? "" : " (default: " + o.fallback + ")");
    std::string out = "  " + left + std::string(left.size() < 22 ? 22 - left.size() : 1, ' ');
    size_t column = out.size();
    const size_t indent = 24, width = 100;
    std::istringstream words(text);
    bool first = true;
    for (std::string word; words >> word; first = false) {
      if (!first && column + 1 + word.size() > width) {
        out += "\n" + std::string(indent, ' ');
        column = indent;
      } else if (!first) {
        out += ' ';
        ++column;
      }
      out += word;
      column += word.size();
    }
    s << out << "\n";
  };
  if (!positionals_.empty()) {
    s << "\nArguments:\n";
    for (const auto& p : positionals_) line(p.name, p);
  }
  const auto section = [&](const char* title, auto wanted) {
    bool first = true;
    for (const auto& o : options_) {
      if (!wanted(o)) continue;
      if (first) s << "\n" << title << ":\n";
      first = false;
      line("--" + o.name + (o.value.empty() ? "" : " " + o.value), o);
    }
  };
  section("Steps, applied in the order given", [](const Spec& o) { return o.step; });
  section("Options", [](const Spec& o) { return !o.step && !o.common && !o.advanced; });
  section("Advanced options", [](const Spec& o) { return !o.step && !o.common && o.advanced; });
  section("Options of every command", [](const Spec& o) { return o.common; });
  if (!example_.empty()) s << "\nExample:\n" << example_ << "\n";
  return s.str();
}

int Command::print_help() const {
  std::fputs(help().c_str(), stdout);
  return 0;
}

nlohmann::json Command::describe() const {
  nlohmann::json arguments = nlohmann::json::array();
  const auto entry = [&](const Spec& o, const char* kind, const std::string& name) {
    nlohmann::json a = {{"name", name}, {"kind", kind}, {"type", type_name(o.type)}, {"help", o.help},
                        {"level", o.advanced ? "advanced" : "basic"}};
    if (!o.value.empty()) a["value"] = o.value;
    if (!o.fallback.empty()) a["default"] = o.fallback;
    if (!o.unit.empty()) a["unit"] = o.unit;
    if (o.min) a["min"] = *o.min;
    if (o.max) a["max"] = *o.max;
    if (!o.choices.empty()) a["choices"] = o.choices;
    if (o.role != Role::none) a["role"] = o.role == Role::input ? "input" : "output";
    if (o.required || (std::string(kind) == "positional" && o.fallback.empty())) a["required"] = true;
    if (o.common) a["level"] = "common";
    arguments.push_back(std::move(a));
  };
  for (const auto& p : positionals_) entry(p, "positional", field_name(p.name));
  for (const auto& o : options_) {
    if (o.name == "help" || o.name == "describe" || o.interactive) continue;
    entry(o, o.step ? "step" : o.type == Type::flag ? "flag" : "option", o.name);
  }
  nlohmann::json j = {{"command", name_}, {"summary", summary_}, {"description", description_}, {"example", example_},
                      {"arguments", arguments}};
  if (!one_of_.empty()) j["exactly_one_of"] = one_of_;
  return j;
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

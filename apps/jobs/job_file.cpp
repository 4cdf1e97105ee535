#include "apps/jobs/job_file.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

#include "core/error.h"
#include "core/progress.h"
#include "io/hdf5.h"
#include "web/workspace/workspace_paths.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

std::string known_commands() {
  std::string s;
  for (const auto& c : commands)
    if (c.job) s += std::string(s.empty() ? "" : ", ") + c.name;
  return s;
}

// A JSON value as the text the command line would carry: a string, a number, or a list of them.
std::string as_text(const nlohmann::json& v, const cli::Spec& spec) {
  const auto bad = [&] { return UsageError("--" + spec.name + " takes a value (" + spec.value + "), not " + v.dump()); };
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  if (!v.is_array() || v.empty()) throw bad();
  std::string s;
  for (const auto& item : v) {
    if (!item.is_string() && !item.is_number()) throw bad();
    s += (s.empty() ? "" : ",") + (item.is_string() ? item.get<std::string>() : item.dump());
  }
  return s;
}

fs::path resolve(const std::string& written, const fs::path& base) {
  const fs::path p(written);
  return (p.is_absolute() ? p : base / p).lexically_normal();
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> parts{""};
  for (char c : s) {
    if (c == ',') parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}

std::string quoted(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\"'\\$`*?;&|<>()") == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A path, or for a TensorFlow checkpoint (ffn import-tf's CHECKPOINT) the prefix of its files.
bool exists_or_prefix(const fs::path& p, bool prefix_allowed) {
  std::error_code ec;
  if (fs::exists(file_on_disk(p), ec)) return true;  // for "file.h5:dataset", the file
  if (!prefix_allowed || !fs::is_directory(p.parent_path(), ec)) return false;
  const std::string prefix = p.filename().string() + ".";
  for (const auto& e : fs::directory_iterator(p.parent_path(), ec))
    if (e.path().filename().string().starts_with(prefix)) return true;
  return false;
}

// The step that writes `path` or a folder above it ("inferred" for "inferred/mask"), or -1.
int written_by(const std::map<std::string, int>& written, const std::string& path) {
  for (fs::path p = fs::path(path).lexically_normal(); !p.empty() && p != p.root_path(); p = p.parent_path())
    if (auto it = written.find(p.string()); it != written.end()) return it->second;
  return -1;
}

// True when `path` lies in `folder` (both made absolute, links resolved as far as they exist).
bool inside(const fs::path& path, const fs::path& folder) {
  const fs::path p = fs::weakly_canonical(path), f = fs::weakly_canonical(folder);
  const auto [end, at] = std::mismatch(f.begin(), f.end(), p.begin(), p.end());
  return end == f.end();
}

const char* style_name() {
  switch (progress_style()) {
    case ProgressStyle::json: return "json";
    case ProgressStyle::off: return "off";
    default: return "bar";
  }
}

}  // namespace

std::string PlannedStep::command_line() const {
  std::string s;
  if (tool)
    for (const auto& w : tool->program) s += (s.empty() ? "" : " ") + quoted(w);
  else
    s = std::string("uniem ") + command->name;
  for (const auto& a : argv)
    if (!a.starts_with("--progress=")) s += " " + quoted(a);
  return s;
}

cli::Command PlannedStep::declaration() const { return tool ? tool->declaration : command->declare(); }

int PlannedStep::run() const {
  if (!tool) return command->run(command->declare().parse(argv));
  tool->declaration.parse(argv);  // checked once more, as a command checks its own
  std::vector<std::string> words;
  for (const auto& a : argv)
    if (!a.starts_with("--progress=")) words.push_back(a);
  return run_tool(*tool, words);
}

Job read_job(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw UsageError(file.string() + ": no such job file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
  return job_from_json(j, fs::absolute(file).parent_path(), file.string());
}

Job job_from_json(const nlohmann::json& source, const fs::path& folder, const std::string& where) {
  const std::string shape =
      "a job is {\"command\": \"filter\", \"arguments\": {...}} or {\"pipeline\": [such steps]}, with \"threads\" optional";
  if (!source.is_object()) throw UsageError(where + ": " + shape);
  for (const auto& [key, value] : source.items())
    if (key != "command" && key != "arguments" && key != "pipeline" && key != "threads" && key != "name")
      throw UsageError(where + ": unknown key '" + key + "' (" + shape + ")");
  if (source.contains("pipeline") == source.contains("command")) throw UsageError(where + ": " + shape);
  if (source.contains("pipeline") && (!source["pipeline"].is_array() || source["pipeline"].empty()))
    throw UsageError(where + ": \"pipeline\" is a list of steps, each {\"command\": ..., \"arguments\": {...}}");
  Job job;
  job.source = source;
  job.folder = fs::absolute(folder).lexically_normal();
  if (source.contains("threads")) {
    const auto& t = source["threads"];
    if (!t.is_number_integer() || t.get<int64_t>() < 1 || t.get<int64_t>() > 4096)
      throw UsageError(where + ": \"threads\" takes a whole number from 1 to 4096, not " + t.dump());
    job.threads = t.get<int>();
  }
  return job;
}

std::vector<PlannedStep> plan(const Job& job, const fs::path& run_folder) {
  const nlohmann::json steps = job.source.contains("pipeline") ? job.source["pipeline"] : nlohmann::json::array({job.source});
  std::vector<PlannedStep> planned;
  std::map<std::string, int> written;  // output paths as written -> step
  // A confined job (the workbench's) also reads the folders added to its workspace.
  const std::vector<fs::path> added = job.confined ? web::WorkspacePaths(job.folder).added() : std::vector<fs::path>();
  for (size_t i = 0; i < steps.size(); ++i) {
    const nlohmann::json& s = steps[i];
    std::string where = steps.size() > 1 ? "step " + std::to_string(i + 1) : std::string();
    if (!s.is_object() || !s.contains("command") || !s["command"].is_string())
      throw UsageError((where.empty() ? "" : where + ": ") + "each step needs \"command\", e.g. \"filter\" or \"ffn segment\"");
    for (const auto& [key, value] : s.items())
      if (key != "command" && key != "arguments" && !(steps.size() == 1 && (key == "threads" || key == "name")))
        throw UsageError((where.empty() ? "" : where + ": ") + "unknown key '" + key + "' (a step has command and arguments)");
    const std::string name = s["command"];
    where = where.empty() ? name : where + " (" + name + ")";
    PlannedStep step;
    step.name = name;
    if (name.starts_with(tool_prefix)) {
      try {
        step.tool = std::make_shared<const ExternalTool>(find_tool(job.folder, name.substr(std::strlen(tool_prefix))));
      } catch (const UsageError& e) {
        throw UsageError(where + ": " + e.what());
      }
    } else {
      step.command = find_command(name, true);
      if (!step.command) throw UsageError(where + ": unknown command '" + name + "' (a job can run " + known_commands() + ")");
    }
    const nlohmann::json arguments = s.value("arguments", nlohmann::json::object());
    if (!arguments.is_object()) throw UsageError(where + ": \"arguments\" is an object, e.g. {\"in\": \"raw\", \"out\": \"smooth.tif\"}");
    const cli::Command declaration = step.declaration();
    try {
      // Positionals, in their order.
      std::map<std::string, std::string> positional_values;
      for (const auto& p : declaration.positionals()) {
        const std::string field = cli::field_name(p.name);
        if (!arguments.contains(field)) throw UsageError("'" + field + "' is missing (" + p.name + ": " + p.help + ")");
        const auto& v = arguments[field];
        if (!v.is_string()) throw UsageError("'" + field + "' takes a path as text, not " + v.dump());
        positional_values[field] = v.get<std::string>();
      }
      std::vector<std::pair<const cli::Spec*, std::string>> given;
      std::vector<std::pair<std::string, std::string>> ordered_steps;
      bool has_steps = false;
      for (const auto& o : declaration.options()) has_steps = has_steps || o.step;
      for (const auto& [key, value] : arguments.items()) {
        if (positional_values.count(key)) continue;
        if (has_steps && key == "steps" && !declaration.find("steps")) {
          if (!value.is_array())
            throw UsageError("'steps' is a list of one-key objects, e.g. [{\"gaussian\": 1}, {\"threshold\": \"otsu\"}]");
          for (const auto& item : value) {
            if (!item.is_object() || item.size() != 1)
              throw UsageError("each of 'steps' is one {\"name\": value} object, not " + item.dump());
            const std::string step_name = item.begin().key();
            const cli::Spec* spec = declaration.find(step_name);
            if (!spec || !spec->step) throw UsageError("unknown option --" + step_name);
            const auto& v = item.begin().value();
            if (spec->value.empty() && !(v.is_boolean() && v.get<bool>()) && !v.is_null())
              throw UsageError("--" + step_name + " takes no value");
            ordered_steps.emplace_back(step_name, spec->value.empty() ? "" : as_text(v, *spec));
          }
          continue;
        }
        const cli::Spec* spec = declaration.find(key);
        if (!spec || spec->step || key == "help" || key == "describe") throw UsageError("unknown option --" + key);
        if (spec->interactive) throw UsageError("--" + key + " is for the command line: a job runs without anybody watching");
        if (spec->common)
          throw UsageError("--" + key + " is not an argument of a step: " +
                           (key == "threads" ? std::string("give \"threads\" at the top of the job file")
                                             : "the job runner sets it (uniem run --" + key + ")"));
        if (spec->type == cli::Type::flag) {
          if (!value.is_boolean()) throw UsageError("--" + key + " is a switch: true or false, not " + value.dump());
          if (value.get<bool>()) given.emplace_back(spec, "");
          continue;
        }
        const std::string text = as_text(value, *spec);
        declaration.validate(*spec, text);
        given.emplace_back(spec, text);
      }
      // Paths: inputs from the job's folder (or an earlier step), outputs into the run folder.
      // Only lists of stacks ("STACK[,STACK...]") are split at commas; a file name may hold one.
      const auto place = [&](const std::string& field, const std::string& text, const cli::Spec& spec, cli::Role role) {
        if (role == cli::Role::none) return text;
        const bool list = spec.value.find("[,") != std::string::npos;
        std::string out;
        for (const auto& part : list ? split_commas(text) : std::vector<std::string>{text}) {
          PathUse use{field, {}, role};
          const auto outside = [&] {
            return UsageError("'" + field + "': " + part + (role == cli::Role::output
                                  ? " is outside the job's folder; a job writes only there"
                                  : " is outside the workspace and the folders added to it; a job reads only there"));
          };
          if (role == cli::Role::output) {
            use.path = resolve(part, run_folder);
            if (job.confined && !inside(use.path, run_folder)) throw outside();
            written[fs::path(part).lexically_normal().string()] = static_cast<int>(i);
          } else if (const int from = written_by(written, part); from >= 0) {
            use.path = resolve(part, run_folder);
            use.from_step = from;
          } else {
            use.path = resolve(part, job.folder);
            if (job.confined && ((!inside(use.path, job.folder) && !inside(use.path, run_folder) &&
                                  std::none_of(added.begin(), added.end(), [&](const fs::path& f) { return inside(use.path, f); })) ||
                                 web::WorkspacePaths::hidden_below(fs::weakly_canonical(use.path), fs::weakly_canonical(job.folder))))
              throw outside();  // hidden files (the workspace's .uniem: its secret, the queue) are outside too
            if (!exists_or_prefix(use.path, field == "checkpoint"))
              throw UsageError("'" + field + "': " + part + " does not exist (looked for " + use.path.string() + ")");
          }
          out += (out.empty() ? "" : ",") + use.path.string();
          step.paths.push_back(std::move(use));
        }
        return out;
      };
      for (const auto& p : declaration.positionals()) {
        const std::string field = cli::field_name(p.name);
        const std::string value = place(field, positional_values[field], p, p.role == cli::Role::none ? cli::Role::input : p.role);
        step.argv.push_back(value);
        step.options[field] = value;
      }
      for (const auto& o : declaration.options())  // a path left at its default is placed as a given one
        if (o.role != cli::Role::none && !o.fallback.empty() && !arguments.contains(o.name)) given.emplace_back(&o, o.fallback);
      for (auto& [spec, text] : given) {
        if (spec->type == cli::Type::flag) {
          step.argv.push_back("--" + spec->name);
          continue;
        }
        text = place(spec->name, text, *spec, spec->role);
        step.argv.push_back("--" + spec->name + "=" + text);
      }
      for (const auto& [step_name, text] : ordered_steps)
        step.argv.push_back("--" + step_name + (text.empty() ? "" : "=" + text));
      step.argv.push_back(std::string("--progress=") + style_name());
      // Every option with its default, as the record keeps them.
      for (const auto& o : declaration.options()) {
        if (o.common || o.step) continue;
        bool found = false;
        for (const auto& [spec, text] : given)
          if (spec == &o) {
            step.options[o.name] = o.type == cli::Type::flag ? nlohmann::json(true) : nlohmann::json(text);
            found = true;
          }
        if (!found) step.options[o.name] = o.type == cli::Type::flag ? nlohmann::json(false) : nlohmann::json(o.fallback);
      }
      if (!ordered_steps.empty()) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [n, t] : ordered_steps) list.push_back({{n, t}});
        step.options["steps"] = list;
      }
      declaration.parse(step.argv);  // what the command will do with them: the same checks, once more
    } catch (const UsageError& e) {
      throw UsageError(where + ": " + e.what());
    }
    planned.push_back(std::move(step));
  }
  return planned;
}

}  // namespace uniem::apps

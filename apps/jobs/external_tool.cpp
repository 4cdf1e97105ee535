#include "apps/jobs/external_tool.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/cancel.h"
#include "core/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

extern char** environ;

namespace uniem::apps {
namespace {

bool plain_name(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::isalpha(static_cast<unsigned char>(s[0])) &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

std::string text_of(const json& a, const char* key, const std::string& where) {
  if (!a.contains(key)) return "";
  if (a[key].is_string()) return a[key].get<std::string>();
  if (a[key].is_number()) return a[key].dump();
  throw UsageError(where + ": \"" + key + "\" is text, not " + a[key].dump());
}

std::optional<double> number_of(const json& a, const char* key, const std::string& where) {
  if (!a.contains(key)) return std::nullopt;
  if (!a[key].is_number()) throw UsageError(where + ": \"" + key + "\" is a number, not " + a[key].dump());
  return a[key].get<double>();
}

void add_argument(cli::Command& c, const json& a, const std::string& where) {
  if (!a.is_object()) throw UsageError(where + " is not an object {\"name\": ..., \"kind\": ...}");
  const std::string name = text_of(a, "name", where), kind = a.value("kind", "option"), type = a.value("type", kind == "flag" ? "flag" : "text");
  if (!plain_name(name)) throw UsageError(where + ": \"name\" must be letters, digits, - and _ (e.g. \"sigma\"), not '" + name + "'");
  const std::string help = text_of(a, "help", where + " (" + name + ")");
  const std::string at = where + " (" + name + ")";
  if (kind == "flag") {
    c.flag(name, help);
  } else if (kind == "positional") {
    if (type != "path") throw UsageError(at + ": a positional argument is a path (an input or an output); give numbers and words as options");
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char ch) { return ch == '-' ? '_' : std::toupper(ch); });
    c.positional(upper, help);
  } else if (kind == "option") {
    std::string value = text_of(a, "value", at);
    if (value.empty()) value = type == "path" ? "PATH" : type == "integer" || type == "number" ? "N" : "TEXT";
    c.option(name, value, help, text_of(a, "default", at));
  } else {
    throw UsageError(at + ": \"kind\" is positional, option or flag, not '" + kind + "'");
  }
  if (kind != "flag") {
    if (type == "integer") c.integer(number_of(a, "min", at), number_of(a, "max", at));
    else if (type == "number") c.number(number_of(a, "min", at), number_of(a, "max", at));
    else if (type == "choice") {
      if (!a.contains("choices") || !a["choices"].is_array() || a["choices"].empty())
        throw UsageError(at + ": a choice needs \"choices\": [\"a\", \"b\", ...]");
      std::vector<std::string> choices;
      for (const auto& ch : a["choices"]) choices.push_back(ch.is_string() ? ch.get<std::string>() : ch.dump());
      c.choices(choices);
    } else if (type == "path") {
      const std::string role = a.value("role", "input");
      if (role == "input") c.input();
      else if (role == "output") c.output();
      else throw UsageError(at + ": \"role\" is input or output, not '" + role + "'");
    } else if (type != "text") {
      throw UsageError(at + ": \"type\" is text, integer, number, choice or path, not '" + type + "'");
    }
  }
  if (a.contains("unit")) c.unit(text_of(a, "unit", at));
  if (a.value("level", "basic") == "advanced") c.advanced();
  if (kind == "option" && a.value("required", false)) c.required();
}

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

static ExternalTool read_manifest(const fs::path& manifest);

json ExternalTool::describe() const {
  json j = declaration.describe();
  j["command"] = tool_prefix + name;
  j["tool"] = true;
  j["program"] = program;
  return j;
}

ExternalTool read_tool(const fs::path& manifest) {
  try {
    return read_manifest(manifest);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong type
    throw UsageError(manifest.string() + ": a field has the wrong type (" + e.what() + ")");
  }
}

static ExternalTool read_manifest(const fs::path& manifest) {
  const std::string where = manifest.string();
  std::ifstream in(manifest);
  if (!in) throw UsageError(where + ": cannot be read");
  const json m = json::parse(in, nullptr, false);
  if (!m.is_object()) throw UsageError(where + ": is not JSON (an object with \"executable\" and \"arguments\")");
  ExternalTool t{manifest.stem().string(), manifest, {}, cli::Command(tool_prefix + manifest.stem().string(), "", "", "")};
  if (!plain_name(t.name)) throw UsageError(where + ": a tool's file name must be letters, digits, - and _ (e.g. nlmeans.json)");
  for (const auto& [key, value] : m.items())
    if (key != "summary" && key != "description" && key != "example" && key != "executable" && key != "arguments")
      throw UsageError(where + ": unknown key \"" + key + "\" (a manifest has summary, description, example, executable, arguments)");
  const json exe = m.value("executable", json());
  if (exe.is_string()) t.program = {exe.get<std::string>()};
  else if (exe.is_array() && !exe.empty() && std::all_of(exe.begin(), exe.end(), [](const json& e) { return e.is_string(); }))
    for (const auto& e : exe) t.program.push_back(e.get<std::string>());
  else throw UsageError(where + ": \"executable\" is the program to run, e.g. \"denoise.sh\" or [\"python3\", \"nlmeans.py\"]");
  // A program named with a path is found from tools/, a bare name there or else on the PATH;
  // later words that name a file in tools/ (an interpreter's script) become absolute, since the
  // tool runs in its job's folder.
  for (size_t i = 0; i < t.program.size(); ++i) {
    const fs::path p = t.program[i];
    if (p.is_absolute()) continue;
    const fs::path beside = manifest.parent_path() / p;
    if (fs::exists(beside)) t.program[i] = fs::absolute(beside).lexically_normal().string();
    else if (i == 0 && p.has_parent_path()) throw UsageError(where + ": the executable " + beside.string() + " does not exist");
    else if (i == 0 && !on_path(p.string()))
      throw UsageError(where + ": the executable " + p.string() + " is neither in " + manifest.parent_path().string() + " nor on the PATH");
  }
  if (fs::path(t.program[0]).is_absolute() && ::access(t.program[0].c_str(), X_OK) != 0)
    throw UsageError(where + ": " + t.program[0] + (fs::exists(t.program[0]) ? " is not executable (chmod +x it, or name its interpreter first)" : " does not exist"));
  auto text = [&](const char* key) { return m.contains(key) && m[key].is_string() ? m[key].get<std::string>() : std::string(); };
  t.declaration = cli::Command(tool_prefix + t.name, text("summary").empty() ? "an external tool (" + t.name + ")" : text("summary"),
                               text("description"), text("example"));
  const json arguments = m.value("arguments", json::array());
  if (!arguments.is_array()) throw UsageError(where + ": \"arguments\" is a list of {\"name\", \"kind\", \"type\", ...}");
  for (size_t i = 0; i < arguments.size(); ++i) add_argument(t.declaration, arguments[i], where + ": argument " + std::to_string(i + 1));
  return t;
}

ExternalTool find_tool(const fs::path& folder, const std::string& name) {
  if (!plain_name(name)) throw UsageError("there is no tool '" + name + "' (tool names are letters, digits, - and _)");
  const fs::path manifest = folder / "tools" / (name + ".json");
  if (!fs::exists(manifest)) throw UsageError("there is no tool '" + name + "' (looked for " + manifest.string() + ")");
  return read_tool(manifest);
}

std::vector<ExternalTool> workspace_tools(const fs::path& folder, std::vector<std::string>* problems) {
  std::vector<fs::path> manifests;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder / "tools", ec))
    if (e.path().extension() == ".json") manifests.push_back(e.path());
  std::sort(manifests.begin(), manifests.end());
  std::vector<ExternalTool> tools;
  for (const auto& m : manifests) {
    try {
      tools.push_back(read_tool(m));
    } catch (const std::exception& e) {  // one manifest's mistake never hides the others
      if (problems) problems->push_back(e.what());
    }
  }
  return tools;
}

int run_tool(const ExternalTool& tool, const std::vector<std::string>& argv) {
  std::vector<std::string> words = tool.program;
  words.insert(words.end(), argv.begin(), argv.end());
  std::vector<char*> pointers;
  for (auto& w : words) pointers.push_back(w.data());
  pointers.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  if (const int e = posix_spawnp(&pid, words[0].c_str(), nullptr, nullptr, pointers.data(), environ); e != 0)
    throw InputError(tool.manifest, "its program " + words[0] + " could not be started (" + std::strerror(e) + ")");
  int status = 0;
  std::optional<std::chrono::steady_clock::time_point> stopping;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw Error("waiting for the tool " + tool.name + " failed: " + std::strerror(errno));
    if (cancel_requested() && !stopping) {
      ::kill(pid, SIGTERM);
      stopping = std::chrono::steady_clock::now();
    }
    if (stopping && std::chrono::steady_clock::now() - *stopping > std::chrono::seconds(10)) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (stopping || cancel_requested()) throw Cancelled();  // the tool may have had the signal first
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace uniem::apps

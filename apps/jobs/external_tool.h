// External tools: programs of the lab's own (a Python script, a Fiji macro runner, ...) that the
// workbench offers beside uniem's commands (UNI-EM's plugin menu, without Python in uniem). Each
// is a JSON manifest in the workspace's tools/ folder, tools/NAME.json:
//
//   {"summary": "smooth with non-local means (scikit-image)",
//    "description": "Longer help, shown under the form.",
//    "executable": ["python3", "nlmeans.py"],      (or one path; relative ones start in tools/)
//    "arguments": [
//      {"name": "in",  "kind": "positional", "type": "path", "role": "input",  "help": "image stack"},
//      {"name": "out", "kind": "positional", "type": "path", "role": "output", "help": "smoothed stack"},
//      {"name": "h", "kind": "option", "type": "number", "min": 0, "default": "0.8", "help": "strength"},
//      {"name": "fast", "kind": "flag", "help": "the faster, coarser algorithm", "level": "advanced"}]}
//
// Arguments take the shape `uniem describe` gives uniem's own (kind positional, option or flag;
// type text, integer, number, choice or path; role input or output; default, min, max, choices,
// unit, level basic or advanced, required; positionals are paths, other values options): the same form, checks, job files and run records. A
// job names the tool "tool:NAME"; it runs as `EXECUTABLE... /abs/in /abs/out --h=0.8 --fast`
// (paths absolute: inputs in the workspace, outputs in the job's run folder), its output on the
// job's log; a cancelled job stops it (SIGTERM, then SIGKILL after 10 s), and the outputs of a
// tool that fails or is cancelled are removed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli.h"

namespace uniem::apps {

inline constexpr const char* tool_prefix = "tool:";

struct ExternalTool {
  std::string name;                   // NAME, from tools/NAME.json
  std::filesystem::path manifest;
  std::vector<std::string> program;   // the executable and its leading arguments
  cli::Command declaration;           // from the manifest's arguments
  nlohmann::json describe() const;    // as uniem describe, "command": "tool:NAME", "tool": true
};

// Reads a manifest; UsageError naming the file and what is wrong in it.
ExternalTool read_tool(const std::filesystem::path& manifest);
// The tool "tool:NAME" of the workspace `folder` (UsageError when there is none, or it is wrong).
ExternalTool find_tool(const std::filesystem::path& folder, const std::string& name);
// Every manifest in FOLDER/tools, by name; the messages of those that cannot be read in `problems`.
std::vector<ExternalTool> workspace_tools(const std::filesystem::path& folder, std::vector<std::string>* problems);

// Runs the tool with `argv` (what plan() made of the job's arguments) in the current folder and
// returns its exit status; throws Cancelled when cancelling was asked (core/cancel.h) while it ran.
int run_tool(const ExternalTool& tool, const std::vector<std::string>& argv);

}  // namespace uniem::apps

// Finding a command and running it with its declared arguments (apps/commands.h).
#include <cstdio>
#include <string>

#include "apps/commands.h"
#include "core/error.h"

namespace uniem::apps {
namespace {

// `uniem ffn` alone or with --help: its steps.
int ffn_usage(bool asked) {
  std::string s = "usage: uniem ffn STEP [options]  (uniem ffn STEP --help for each)\n\n"
                  "The flood-filling network (Januszewski et al. 2018) for 3D neuron segmentation:\n";
  for (const auto& c : commands) {
    const std::string name = c.name;
    if (!name.starts_with("ffn ")) continue;
    s += "  " + name.substr(4) + std::string(name.size() < 16 ? 16 - name.size() : 1, ' ') + c.summary + "\n";
  }
  std::fputs(s.c_str(), asked ? stdout : stderr);
  if (!asked) throw UsageError("uniem ffn needs a step: prep, train, segment, export or import-tf");
  return 0;
}

}  // namespace

const Subcommand* find_command(const std::string& name, bool job) {
  for (const auto& c : commands)
    if (name == c.name && (c.job || !job)) return &c;
  return nullptr;
}

int dispatch(const std::string& first, const Arguments& given) {
  if (first == "describe") return run_describe(given);
  std::string name = first;
  Arguments args = given;
  if (first == "ffn") {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") return ffn_usage(!args.empty());
    name += " " + args[0];
    args.erase(args.begin());
    if (!find_command(name)) throw UsageError("unknown ffn step '" + name.substr(4) + "': prep, train, segment, export or import-tf");
  }
  const Subcommand* c = find_command(name);
  if (!c) throw UsageError("unknown command '" + name + "'");
  for (const auto& a : args)
    if (a == "--describe") return run_describe({name});  // the schema, for programs
  const cli::Command declaration = c->declare();
  const cli::Args parsed = declaration.parse(args);
  if (parsed.help) return declaration.print_help();
  return c->run(parsed);
}

}  // namespace uniem::apps

// uniem serve: the proofreader (web/): makes or opens a project and serves its page.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/serve_project.h"
#include "apps/stack_options.h"
#include "core/memory_budget.h"

namespace fs = std::filesystem;

namespace uniem::apps {

cli::Command serve_command() {
  cli::Command command(
      "serve", "the proofreader: correct segmentations in the browser",
      "Opens a proofreading project and serves its page, where you paint ground truth and correct\n"
      "segmentations: paint, erase, fill, merge, split (watershed from your seeds), delete, lock,\n"
      "name, markers, undo and redo, with the keys of Dojo and UNI-EM (press ? on the page).\n"
      "With --images, a new project is made in --project from an EM stack (8 or 16-bit; 16-bit is\n"
      "kept and shown with an adjustable window) and optional --labels (or none, to paint from\n"
      "scratch). Without, the existing project is opened, with every edit ever acknowledged.\n"
      "Every edit is on disk before the page shows it; several people can work at once and see\n"
      "each other's edits within a second. By default only this computer can connect; with\n"
      "--host 0.0.0.0 others on the lab network can, with the access token printed at start.\n"
      "With --users alice,bob each person gets an address of their own (printed at start; give\n"
      "each only to its owner): their edits, locks and undo are theirs, whatever name is typed.\n"
      "The addresses are kept in the project's .user-tokens file, so they stay the same when the\n"
      "server starts again; delete that file to make new ones (e.g. when an address got out).\n"
      "Ctrl+C stops the server. 'uniem export' writes the labels as a stack at any time.",
      "  uniem serve --images em/ --labels segmentation.tif --project my-proofreading\n"
      "  uniem serve --project my-proofreading --host 0.0.0.0 --port 8000\n"
      "  uniem serve --project my-proofreading --host 0.0.0.0 --users alice,bob");
  // The project is written: made from --images, and every edit is saved into it.
  command.option("project", "DIR", "the project folder (made with --images, else opened)").output().required()
      .option("images", "STACK", "EM stack to make a new project from").input()
      .option("labels", "STACK", "label stack for the new project (default: none, all background)").input()
      .option("host", "ADDRESS", "address to listen on; anything but loopback needs the token", "127.0.0.1").advanced()
      .option("port", "N", "port (0: any free one)", "8080").integer(0, 65535).advanced()
      .option("token", "TEXT", "access token (default: none on loopback, a random one otherwise)").advanced()
      .option("users", "NAMES", "people who proofread (comma-separated): each gets an address of their own, "
              "which signs them in").advanced()
      .option("voxel-size", "Z,Y,X", "voxel size in nm for a new project, when the files do not say it").unit("nm");
  command.rule([](const cli::Args& args) {
    if (args.has("labels") && !args.has("images")) throw UsageError("--labels needs --images (they make a new project)");
    if (args.has("users") && args.has("token")) throw UsageError("--users gives each person a token of their own; leave out --token");
  });
  return command;
}

int run_serve(const cli::Args& args) {
  const int64_t port = args.integer("port");
  const fs::path project = args.get("project");
  if (args.has("images")) {
    make_project(project, args.get("images"), args.has("labels") ? args.get("labels") : "", read_options(args));
  }
  ServeOptions options;
  options.host = args.get("host");
  options.port = static_cast<int>(port);
  options.token = args.get("token");
  if (args.has("users")) {
    std::stringstream list(args.get("users"));
    for (std::string name; std::getline(list, name, ',');) {
      const bool valid = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@';
      });
      if (!valid) throw UsageError("--users takes names of letters, digits and - _ . @ (at most 64), separated by commas, not '" + name + "'");
      if (std::find(options.users.begin(), options.users.end(), name) != options.users.end())
        throw UsageError("--users names " + name + " twice");
      options.users.push_back(name);
    }
    if (options.users.empty()) throw UsageError("--users needs at least one name");
  }
  options.cache_bytes = memory_budget() / 2;  // label chunks kept; the rest for the work
  return serve_project(project, options);
}

}  // namespace uniem::apps

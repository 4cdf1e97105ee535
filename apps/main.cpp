// uniem: git-style entry point. Finds the subcommand, runs it, and turns exceptions into one line
// on stderr and an exit code: 0 success, 1 failure (bad data, refused output), 2 bad usage.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "apps/commands.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/memory_budget.h"
#include "uniem/version.h"

namespace {

void print_version() {
  std::printf("uniem %s (commit %s)\n", uniem::build::version, uniem::build::git_commit);
  std::printf("build: %s, %s, %s\n", uniem::build::build_type, uniem::build::linkage, uniem::build::compiler);
#ifdef UNIEM_WITH_CUDA
  std::printf("CUDA: on (run 'uniem devices' to list GPUs)\n");
#else
  std::printf("CUDA: off\n");
#endif
}

void print_help() {
  std::printf(
      "uniem - segmentation of electron-microscopy volumes, in one program\n\n"
      "Usage: uniem <command> [arguments] [options]\n\nCommands:\n");
  for (const auto& c : uniem::apps::summaries) std::printf("  %-12s %s\n", c.name, c.summary);
  std::printf(
      "\nEvery command explains itself: uniem <command> --help\n"
      "Image stacks are folders of PNG/TIFF files (sorted by name, 2.png before 10.png) or\n"
      "multi-page TIFF files. Start with: uniem demo\n"
      "Without a command, uniem starts the workbench (every command in the browser) for the\n"
      "current folder: the same as 'uniem workbench .'\n\n"
      "Options: --help, --version\n");
}

// Runs command `name`; what stopped it becomes one line on stderr and the exit code.
int run_command(const char* name, const uniem::apps::Arguments& args) {
  uniem::cancel_on_signals();  // serve installs its own: Ctrl+C stops it after its edits are saved
  try {
    return uniem::apps::dispatch(name, args);
  } catch (const uniem::Cancelled& e) {
    const std::string what = e.what();
    std::fprintf(stderr, "uniem %s: %s\n", name,
                 what == "cancelled" ? "cancelled; outputs that were not finished were removed" : ("cancelled; " + what).c_str());
    return uniem::cancel_exit_code();
  } catch (const uniem::UsageError& e) {
    std::fprintf(stderr, "uniem %s: %s\nRun 'uniem %s --help' for usage.\n", name, e.what(), name);
    return 2;
  } catch (const uniem::Error& e) {
    std::fprintf(stderr, "uniem %s: %s\n", name, e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    // Inputs are checked against the memory budget before they are read; this is the work's own
    // memory (or another program's) running out.
    std::fprintf(stderr,
                 "uniem %s: out of memory: this computer could not give the work what it needs (inputs are accepted up "
                 "to the memory limit of %s; a smaller --memory MB refuses large inputs before reading them)\n",
                 name, uniem::format_bytes(static_cast<double>(uniem::memory_budget())).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uniem %s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {  // started without a command (a double-click, a desktop shortcut): the workbench
    std::printf("No command given: starting the workbench for this folder. 'uniem --help' lists the commands.\n");
    return run_command("workbench", {});
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    print_help();
    return 0;
  }
  if (first == "--version" || first == "version") {
    print_version();
    return 0;
  }
  for (const auto& c : uniem::apps::summaries)
    if (first == c.name) return run_command(c.name, uniem::apps::Arguments(argv + 2, argv + argc));
  std::fprintf(stderr, "uniem: unknown command '%s'. Run 'uniem --help' for the list.\n", first.c_str());
  return 2;
}

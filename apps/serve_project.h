// Making and serving a proofreading project (`uniem serve`), and serving a workspace's workbench
// (`uniem workbench`); `uniem demo` ends in the workbench on its output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "io/stack.h"

namespace uniem::web {
struct JobServiceOptions;
}

namespace uniem::apps {

// Reads the stacks and makes a new project (web/proofreading/project.h), saying what it does.
void make_project(const std::filesystem::path& project, const std::string& images, const std::string& labels,
                  const ReadOptions& read);

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string token;  // empty: none on loopback, a random one otherwise
  std::vector<std::string> users;  // people with an address (a token) of their own (uniem serve --users)
  bool any_port_if_taken = false;
  int64_t cache_bytes = int64_t{1} << 30;  // label chunks kept in memory (web::SessionOptions)
  std::vector<std::string> share_origins;   // other sites that may read /share/ (web/http.h)
};

// Opens the project and serves it until SIGINT or SIGTERM; prints the address. Returns 0.
int serve_project(const std::filesystem::path& project, const ServeOptions& options);

// Serves the workbench of `workspace` (its data, jobs and proofreading projects) until SIGINT or
// SIGTERM; prints the address and, with `open_browser` where a desktop session runs, opens it in
// the default browser. Returns 0.
// `page`: the address to print and open, relative to the server's root ("" the workbench itself,
// "annotator/?path=meshes" the 3D annotator on a mesh folder, "#run" the job list).
int serve_workbench(const std::filesystem::path& workspace, const ServeOptions& options, bool open_browser,
                    const std::string& page = "");

// The job service's options for `workspace` as the workbench runs it: jobs run by this program,
// every job command's schema, the workspace's external tools.
web::JobServiceOptions workbench_job_options(const std::filesystem::path& workspace);

// The page's secret (web/http.h) kept in `file` (readable by its owner only), so that open pages
// keep working when the server is started again.
std::string page_secret(const std::filesystem::path& file);

// Each of `users`' own token, kept in `file` (readable by its owner only) so that their addresses
// stay the same when the server starts again; a name not yet there gets a new random token.
std::map<std::string, std::string> user_tokens(const std::filesystem::path& file, const std::vector<std::string>& users);

// Calls listen() (which serves until stop() is called) and calls stop() on the first SIGINT or
// SIGTERM; a second one ends the process at once. A Ctrl+C that came before counts.
void listen_until_signalled(const std::function<void()>& listen, const std::function<void()>& stop);

}  // namespace uniem::apps

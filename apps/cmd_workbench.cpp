// uniem workbench: the browser's way into every command: a workspace folder served with the job
// service (web/jobs/job_service.h) and its page.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/jobs/external_tool.h"
#include "apps/serve_project.h"
#include "core/error.h"
#include "core/memory_budget.h"
#include "web/http.h"
#include "web/jobs/job_service.h"
#include "web/pages.h"
#include "web/project_shelf.h"
#include "web/workspace/annotator_service.h"
#include "web/workspace/data_service.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

// The desktop's default browser on `url` (xdg-open), not waited for; silent when there is none.
void open_in_browser(const std::string& url) {
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  std::string program = "xdg-open";
  char* argv[] = {program.data(), const_cast<char*>(url.c_str()), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "xdg-open", &quiet, nullptr, argv, environ) == 0) {
    std::printf("Opening it in your browser.\n");
    std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();  // no zombie left behind
  }
  posix_spawn_file_actions_destroy(&quiet);
}

}  // namespace

cli::Command workbench_command() {
  cli::Command command(
      "workbench", "run any command from the browser, with a job queue",
      "Serves the workbench for FOLDER (the workspace: your stacks, models and projects; default:\n"
      "the current folder) and prints its address. In the browser, every command is a form; what you\n"
      "run becomes a job in a queue, one at a time, with its progress, its log and its record\n"
      "(run.json) in FOLDER/runs/job-N/, beside its outputs. Paths in the forms are relative to\n"
      "FOLDER. Jobs run as separate processes at a lower priority, so the page stays responsive;\n"
      "the queue survives a restart (jobs that were running are marked interrupted and can be\n"
      "resumed). Every proofreading project in FOLDER (made with uniem serve --images STACK\n"
      "--project FOLDER/NAME) opens in the proofreader from the page, several at once.\n"
      "By default only this computer can connect; with --host 0.0.0.0 others on the lab network\n"
      "can, with the access token printed at start. Ctrl+C stops the server and the running job\n"
      "(resume it later).\n"
      "Viewers read the workspace's volumes as they are under /share/: Neuroglancer opens\n"
      "precomputed://http://127.0.0.1:8000/share/seg.precomputed or zarr://http://127.0.0.1:8000/share/raw.zarr\n"
      "(with a token: /share/TOKEN/...). A viewer served from another web site (the Neuroglancer or\n"
      "webKnossos you use) may read them only when named with --share-to.",
      "  uniem workbench my-experiment/\n  uniem workbench . --host 0.0.0.0 --port 8000\n"
      "  uniem workbench . --share-to https://neuroglancer-demo.appspot.com");
  command.positional("FOLDER", "the workspace folder").input().optional(".");
  command.option("host", "ADDRESS", "address to listen on; anything but loopback needs the token", "127.0.0.1").advanced()
      .option("port", "N", "port (0: any free one; when 8000 is taken and none is given, another)", "8000").integer(0, 65535).advanced()
      .option("token", "TEXT", "access token (default: none on loopback, a random one otherwise)").advanced()
      .option("share-to", "ORIGINS", "web sites (comma-separated, e.g. https://neuroglancer-demo.appspot.com) whose viewers may read the volumes under /share/").advanced()
      .flag("no-browser", "do not open the page in the default browser (it opens when a desktop session runs)").advanced();
  return command;
}

web::JobServiceOptions workbench_job_options(const fs::path& workspace) {
  web::JobServiceOptions o;
  o.workspace = workspace;
  o.program = fs::read_symlink("/proc/self/exe").string();
  o.commands = {{"commands", nlohmann::json::array()}};
  for (const auto& c : commands)
    if (c.job) o.commands["commands"].push_back(c.declare().describe());
  o.tools = [workspace] {
    std::vector<std::string> problems;
    nlohmann::json tools = nlohmann::json::array();
    for (const auto& t : workspace_tools(workspace, &problems)) tools.push_back(t.describe());
    return nlohmann::json{{"tools", tools}, {"problems", problems}};
  };
  return o;
}

int serve_workbench(const fs::path& folder, const ServeOptions& options, bool open_browser, const std::string& page) {
  std::error_code ec;
  const fs::path workspace = fs::weakly_canonical(fs::absolute(folder), ec);
  if (!fs::is_directory(workspace)) throw InputError(workspace, "is not a folder (the workspace must exist)");
  web::HttpOptions o;
  o.host = options.host;
  o.port = options.port;
  o.any_port_if_taken = options.any_port_if_taken;
  o.token = !options.token.empty() ? options.token : web::is_loopback(o.host) ? "" : web::make_token();
  fs::create_directories(workspace / ".uniem", ec);
  if (ec || ::access((workspace / ".uniem").c_str(), W_OK) != 0)
    throw InputError(workspace, "cannot be written (jobs write their outputs and the queue into it); choose a folder you can write");
  o.secret = page_secret(workspace / ".uniem" / "page-secret");
  o.share_origins = options.share_origins;
  web::HttpServer http(o);
  web::add_page_routes(http, "workbench.html");
  web::add_page_routes(http, "annotator.html", "/annotator");  // the 3D annotator
  web::JobService jobs(http, workbench_job_options(workspace));
  web::SessionOptions session_options;
  session_options.cache_bytes = options.cache_bytes;  // label chunks kept by each open project
  web::ProjectShelf projects(http, workspace, session_options);
  web::DataService data(http, workspace);
  web::AnnotatorService annotator(http, data.paths());
  const int port = http.bind();
  jobs.start();  // only now: a port that was taken must not have stopped a job midway
  if (const int n = jobs.store().interrupted_at_open())
    std::printf("%d job%s stopped when the server last stopped; resume %s on the page.\n", n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
  const std::string host = o.host == "0.0.0.0" || o.host == "::" ? "<this computer's address>" : o.host;
  const size_t hash = std::min(page.find('#'), page.size());  // the token goes before a #view
  const std::string path = page.substr(0, hash);
  const std::string query =
      path + (o.token.empty() ? "" : (path.find('?') == std::string::npos ? "?" : "&") + ("token=" + o.token)) + page.substr(hash);
  std::printf("The workbench for %s is at http://%s:%d/%s\n", workspace.c_str(), host.c_str(), port, query.c_str());
  if (open_browser && (std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY")))
    open_in_browser("http://" + (web::is_loopback(o.host) ? o.host : std::string("127.0.0.1")) + ":" + std::to_string(port) + "/" + query);
  std::printf("Open it in a browser. Ctrl+C stops the server (a running job is stopped; resume it later).\n");
  std::fflush(stdout);
  listen_until_signalled([&] { http.listen(); }, [&] { http.stop(); });
  jobs.stop();
  std::printf("Stopped; the job queue is kept in %s.\n", (workspace / ".uniem" / "jobs.sqlite").c_str());
  return 0;
}

int run_workbench(const cli::Args& args) {
  ServeOptions o;
  o.host = args.get("host");
  o.port = static_cast<int>(args.integer("port"));
  o.any_port_if_taken = !args.has("port");  // the default taken (another workbench): any free one
  if (args.has("token")) o.token = args.get("token");
  if (args.has("share-to")) {
    std::stringstream list(args.get("share-to"));
    for (std::string origin; std::getline(list, origin, ',');) {
      while (!origin.empty() && origin.back() == '/') origin.pop_back();
      const size_t scheme = origin.find("://");
      if (!(origin.rfind("http://", 0) == 0 || origin.rfind("https://", 0) == 0) || origin.find('/', scheme + 3) != std::string::npos)
        throw UsageError("--share-to takes web sites such as https://neuroglancer-demo.appspot.com (scheme and host, no path), not '" + origin + "'");
      o.share_origins.push_back(origin);
    }
  }
  o.cache_bytes = memory_budget() / 8;
  return serve_workbench(args.positional(0), o, !args.has("no-browser"));
}

}  // namespace uniem::apps

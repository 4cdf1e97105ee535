#include "apps/serve_project.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "core/cancel.h"
#include "core/error.h"
#include "io/atomic_output.h"
#include "web/proofreading/project.h"
#include "web/server.h"
#include "web/proofreading/session.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {
volatile std::sig_atomic_t stop_requested = false;
}  // namespace

namespace {

web::ImportSource stream(StackReader& reader, const std::string& name) {
  return web::ImportSource{name, reader.dtype(), reader.channels(), {reader.nz(), reader.ny(), reader.nx()},
                           [&reader](int64_t count) { return reader.next(count); }};
}

}  // namespace

void make_project(const fs::path& project, const std::string& images, const std::string& labels, const ReadOptions& read) {
  // Read a slab at a time: a 2048 x 2048 x 500 stack and its labels need not fit in memory.
  StackReader image_reader(images, read);
  std::optional<StackReader> label_reader;
  if (!labels.empty()) label_reader.emplace(labels, read);
  std::printf("Making the project %s from %s%s (%lld x %lld x %lld)...\n", project.c_str(), images.c_str(),
              labels.empty() ? "" : (" and " + labels).c_str(), static_cast<long long>(image_reader.nz()),
              static_cast<long long>(image_reader.ny()), static_cast<long long>(image_reader.nx()));
  std::fflush(stdout);
  const web::ImportSource image_source = stream(image_reader, images);
  if (!label_reader) return web::create_project(project, image_source, nullptr, image_reader.voxel_size());
  const web::ImportSource label_source = stream(*label_reader, labels);
  web::create_project(project, image_source, &label_source, image_reader.voxel_size());
}

std::string page_secret(const fs::path& file) {
  std::string secret;
  std::ifstream(file) >> secret;
  if (secret.size() == 32 && secret.find_first_not_of("0123456789abcdef") == std::string::npos) return secret;
  secret = web::make_token();
  write_file_durably(file, secret);
  std::error_code ec;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
  return secret;
}

std::map<std::string, std::string> user_tokens(const fs::path& file, const std::vector<std::string>& users) {
  nlohmann::json kept = nlohmann::json::object();
  if (fs::exists(file)) {
    std::ifstream in(file);
    kept = nlohmann::json::parse(in, nullptr, false);
    if (!kept.is_object()) throw InputError(file.string() + " is damaged; delete it to give everyone a new address");
  }
  std::map<std::string, std::string> tokens;
  bool added = false;
  for (const std::string& user : users) {
    const auto it = kept.find(user);
    if (it != kept.end() && it->is_string() && it->get<std::string>().size() == 32) {
      tokens[user] = it->get<std::string>();
    } else {
      tokens[user] = web::make_token();
      kept[user] = tokens[user];
      added = true;
    }
  }
  if (added) {
    write_file_durably(file, kept.dump(2) + "\n");
    std::error_code ec;
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
  }
  return tokens;
}

void listen_until_signalled(const std::function<void()>& listen, const std::function<void()>& stop) {
  // SIGINT and SIGTERM only raise a flag (whichever thread takes them); a watcher stops the server.
  stop_requested = cancel_requested();
  struct sigaction action {};
  action.sa_handler = [](int number) {
    if (stop_requested) {
      ::signal(number, SIG_DFL);
      ::raise(number);
    }
    stop_requested = true;
  };
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!stop_requested && !done) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop();
  });
  listen();
  done = true;
  watcher.join();
}

int serve_project(const fs::path& project, const ServeOptions& options) {
  web::ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.any_port_if_taken = options.any_port_if_taken;
  server_options.token = options.token.empty() && !web::is_loopback(options.host) ? web::make_token() : options.token;

  web::SessionOptions session_options;
  session_options.cache_bytes = options.cache_bytes;
  web::Session session(project, session_options);
  server_options.secret = page_secret(project / "page-secret");  // once the session holds the project's lock
  if (!options.users.empty()) server_options.users = user_tokens(project / ".user-tokens", options.users);
  auto server = std::make_unique<web::Server>(session, server_options);
  const int port = server->bind();
  const auto info = session.info();
  std::printf("Project %s: %s voxels of %s, %lld segments, version %lld.\n", project.c_str(),
              (std::to_string(info["shape"][0].get<int64_t>()) + " x " + std::to_string(info["shape"][1].get<int64_t>()) +
               " x " + std::to_string(info["shape"][2].get<int64_t>()))
                  .c_str(),
              info["image_type"].get<std::string>().c_str(), static_cast<long long>(info["segments"].get<int64_t>()),
              static_cast<long long>(info["version"].get<int64_t>()));
  if (!session.recovery_note().empty()) std::printf("Recovery: %s.\n", session.recovery_note().c_str());
  const std::string host = options.host == "0.0.0.0" || options.host == "::" ? "<this computer's address>" : options.host;
  if (options.users.empty()) {
    std::printf("The proofreader is at http://%s:%d/%s\n", host.c_str(), port,
                server_options.token.empty() ? "" : ("?token=" + server_options.token).c_str());
  } else {
    std::printf("Each person has an address of their own, which signs them in (give each only to its owner):\n");
    for (const std::string& user : options.users)
      std::printf("  The proofreader for %s is at http://%s:%d/?token=%s\n", user.c_str(), host.c_str(), port,
                  server_options.users.at(user).c_str());
  }
  std::printf("Open it in a browser; press ? there for the keys. Ctrl+C stops the server (every edit is already saved).\n");
  std::fflush(stdout);

  // A Ctrl+C while the project was being made counts.
  listen_until_signalled([&] { server->listen(); }, [&] { server->stop(); });
  std::printf("Stopped; project %s is up to date (version %lld).\n", project.c_str(), static_cast<long long>(session.version()));
  return 0;
}

}  // namespace uniem::apps

// `uniem workbench FOLDER --port 0 --token TOKEN` as a child process for the benchmarks that talk
// to it (bench/jobs, bench/workbench): started, its port read from what it prints, a client that
// carries the token, stopped (SIGTERM) at the end of the scope.
#pragma once

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace uniem::bench {

class WorkbenchProcess {
 public:
  WorkbenchProcess(const std::string& uniem, const std::filesystem::path& folder, const std::filesystem::path& log,
                   std::string token)
      : token_(std::move(token)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(uniem.c_str(), uniem.c_str(), "workbench", folder.c_str(), "--port", "0", "--token", token_.c_str(),
              "--no-browser", nullptr);
      ::_exit(127);
    }
    for (int k = 0; k < 200 && port_ == 0; ++k) {
      std::ifstream in(log);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (const auto at = text.find("http://127.0.0.1:"); at != std::string::npos) port_ = std::stoi(text.substr(at + 17));
      else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (port_ == 0) {
      std::fprintf(stderr, "bench: the workbench did not start (see %s)\n", log.c_str());
      std::exit(1);
    }
  }
  ~WorkbenchProcess() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  WorkbenchProcess(const WorkbenchProcess&) = delete;
  WorkbenchProcess& operator=(const WorkbenchProcess&) = delete;

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_default_headers({{"X-Uniem-Token", token_}});
    c.set_read_timeout(120, 0);
    return c;
  }
  int port() const { return port_; }

 private:
  std::string token_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace uniem::bench

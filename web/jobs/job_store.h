// The job queue and history of a workspace, in SQLite (WORKSPACE/.uniem/jobs.sqlite): every job
// submitted, its state, and where it ran. Each change is one transaction, on disk when the call
// returns (synchronous FULL; write-ahead log on a local disk, a rollback journal on network file
// systems, where SQLite's WAL does not work), so a server killed at any moment finds the queue as
// it was.
// Opening the store marks jobs that were running as "interrupted": their process ended with the
// server; resume() queues them again, to continue where they stopped (uniem run --resume).
//
// States: queued -> running -> done | failed | cancelled | interrupted; cancelled, failed and
// interrupted jobs can be queued again with resume(). Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace uniem::web {

struct JobRow {
  int64_t id = 0;
  std::string name, state, user, submitted, started, ended, message, run_folder;
  std::string client;    // the browser that submitted it (HttpServer::client), "" for a program
  nlohmann::json job;
  int exit_status = -1;  // -1 while not ended
  bool resume = false;   // the next run continues the previous one
  int runs = 0;          // how many times it was started

  nlohmann::json to_json() const;  // without the client
};

class JobStore {
 public:
  explicit JobStore(const std::filesystem::path& file);  // InputError when it cannot be opened
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // `run_folder`: where it runs and writes, when the submitter names one (a program, e.g. uniem
  // demo; never a browser); empty: WORKSPACE/runs/job-N.
  int64_t submit(const nlohmann::json& job, const std::string& name, const std::string& user, const std::string& client = "",
                 const std::string& run_folder = "");
  std::optional<JobRow> get(int64_t id);
  std::vector<JobRow> list(int limit = 200);  // newest first
  std::optional<JobRow> next_queued();        // the oldest queued job
  bool set_running(int64_t id, const std::string& run_folder);  // false when it is no longer queued
  void set_ended(int64_t id, const std::string& state, int exit_status, const std::string& message);
  bool cancel_queued(int64_t id);  // false when it is not queued
  bool resume(int64_t id);         // false when it is not cancelled, failed or interrupted
  int interrupted_at_open() const { return interrupted_at_open_; }

 private:
  void exec(const std::string& sql);
  std::vector<JobRow> select(const std::string& where, const std::vector<std::string>& values);
  int64_t change(const std::string& sql, const std::vector<std::string>& values);  // rows changed
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
  int interrupted_at_open_ = 0;
};

// "2026-12-07T12:00:00.123Z", now.
std::string utc_now();

}  // namespace uniem::web

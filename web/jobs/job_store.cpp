#include "web/jobs/job_store.h"

#include <sqlite3.h>
#include <sys/vfs.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/error.h"
#include "core/utc_time.h"

namespace uniem::web {

std::string utc_now() { return utc_time(std::chrono::system_clock::now(), true); }

nlohmann::json JobRow::to_json() const {
  nlohmann::json j = {{"id", id},       {"name", name},       {"state", state},     {"user", user},
                      {"submitted", submitted}, {"started", started}, {"ended", ended}, {"message", message},
                      {"run_folder", run_folder}, {"job", job}, {"runs", runs}};
  if (exit_status >= 0) j["exit_status"] = exit_status;
  return j;
}

namespace {

// NFS, SMB/CIFS and the like (statfs magic numbers), where SQLite's write-ahead log is not safe.
bool on_network_file_system(const std::filesystem::path& file) {
  struct statfs s {};
  if (::statfs(file.parent_path().c_str(), &s) != 0) return false;
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x65735546:  // FUSE (sshfs, ...)
      return true;
    default:
      return false;
  }
}

constexpr const char* columns = "id, name, state, user, submitted, started, ended, message, run_folder, job, exit_status, resume, runs, client";

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, const std::vector<std::string>& values) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) fail("prepare");
    for (size_t i = 0; i < values.size(); ++i)
      if (sqlite3_bind_text(s_, static_cast<int>(i + 1), values[i].c_str(), -1, SQLITE_TRANSIENT) != SQLITE_OK) fail("bind");
  }
  ~Statement() { sqlite3_finalize(s_); }
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("step");
    return false;
  }
  std::string text(int column) const {
    const auto* t = sqlite3_column_text(s_, column);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  int64_t integer(int column) const { return sqlite3_column_int64(s_, column); }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw Error(std::string(what) + " failed: " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

JobStore::JobStore(const std::filesystem::path& file) : file_(file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(file, "the job store cannot be opened (" + why + ")");
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec(on_network_file_system(file) ? "PRAGMA journal_mode=DELETE" : "PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, state TEXT NOT NULL, "
         "user TEXT NOT NULL, submitted TEXT NOT NULL, started TEXT NOT NULL DEFAULT '', ended TEXT NOT NULL DEFAULT '', "
         "message TEXT NOT NULL DEFAULT '', run_folder TEXT NOT NULL DEFAULT '', job TEXT NOT NULL, "
         "exit_status INTEGER NOT NULL DEFAULT -1, resume INTEGER NOT NULL DEFAULT 0, runs INTEGER NOT NULL DEFAULT 0)");
    bool has_client = false;  // stores made before jobs knew their browser get the column
    for (Statement info(db_, "PRAGMA table_info(jobs)", {}); info.step();) has_client |= info.text(1) == "client";
    if (!has_client) exec("ALTER TABLE jobs ADD COLUMN client TEXT NOT NULL DEFAULT ''");
    interrupted_at_open_ = static_cast<int>(
        change("UPDATE jobs SET state = 'interrupted', ended = ?, message = 'the server stopped while it ran' WHERE state = 'running'",
               {utc_now()}));
  } catch (const Error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(file, std::string("cannot be used as the job store (") + e.what() +
                               "); move it aside and start again: the queue starts empty, earlier runs stay in runs/");
  }
}

JobStore::~JobStore() { sqlite3_close(db_); }

void JobStore::exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error ? error : "unknown";
    sqlite3_free(error);
    throw Error(why);
  }
}

std::vector<JobRow> JobStore::select(const std::string& where, const std::vector<std::string>& values) {
  Statement s(db_, std::string("SELECT ") + columns + " FROM jobs " + where, values);
  std::vector<JobRow> rows;
  while (s.step()) {
    JobRow r;
    r.id = s.integer(0);
    r.name = s.text(1);
    r.state = s.text(2);
    r.user = s.text(3);
    r.submitted = s.text(4);
    r.started = s.text(5);
    r.ended = s.text(6);
    r.message = s.text(7);
    r.run_folder = s.text(8);
    r.job = nlohmann::json::parse(s.text(9), nullptr, false);
    r.exit_status = static_cast<int>(s.integer(10));
    r.resume = s.integer(11) != 0;
    r.runs = static_cast<int>(s.integer(12));
    r.client = s.text(13);
    rows.push_back(std::move(r));
  }
  return rows;
}

int64_t JobStore::change(const std::string& sql, const std::vector<std::string>& values) {
  Statement s(db_, sql, values);
  s.step();
  return sqlite3_changes(db_);
}

int64_t JobStore::submit(const nlohmann::json& job, const std::string& name, const std::string& user, const std::string& client,
                         const std::string& run_folder) {
  std::lock_guard<std::mutex> lock(mutex_);
  change("INSERT INTO jobs (name, state, user, submitted, job, client, run_folder) VALUES (?, 'queued', ?, ?, ?, ?, ?)",
         {name, user, utc_now(), job.dump(), client, run_folder});
  return sqlite3_last_insert_rowid(db_);
}

std::optional<JobRow> JobStore::get(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto rows = select("WHERE id = ?", {std::to_string(id)});
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

std::vector<JobRow> JobStore::list(int limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  return select("ORDER BY id DESC LIMIT ?", {std::to_string(limit)});
}

std::optional<JobRow> JobStore::next_queued() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto rows = select("WHERE state = 'queued' ORDER BY id LIMIT 1", {});
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

bool JobStore::set_running(int64_t id, const std::string& run_folder) {
  std::lock_guard<std::mutex> lock(mutex_);
  return change("UPDATE jobs SET state = 'running', started = ?, ended = '', message = '', exit_status = -1, run_folder = ?, "
                "runs = runs + 1 WHERE id = ? AND state = 'queued'",
                {utc_now(), run_folder, std::to_string(id)}) == 1;
}

void JobStore::set_ended(int64_t id, const std::string& state, int exit_status, const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  change("UPDATE jobs SET state = ?, ended = ?, exit_status = ?, message = ?, resume = 0 WHERE id = ?",
         {state, utc_now(), std::to_string(exit_status), message, std::to_string(id)});
}

bool JobStore::cancel_queued(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return change("UPDATE jobs SET state = 'cancelled', ended = ?, message = 'cancelled before it started' WHERE id = ? AND state = 'queued'",
                {utc_now(), std::to_string(id)}) == 1;
}

bool JobStore::resume(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return change("UPDATE jobs SET state = 'queued', resume = 1, message = '' WHERE id = ? AND "
                "state IN ('cancelled', 'failed', 'interrupted')",
                {std::to_string(id)}) == 1;
}

}  // namespace uniem::web

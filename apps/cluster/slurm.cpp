#include "apps/cluster/slurm.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;

namespace uniem::apps {
namespace {

std::string quote(const std::string& word) {
  std::string q = "'";
  for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `words` (the first a program found on PATH); its output (stdout and stderr) and exit status.
std::pair<std::string, int> run_program(const std::vector<std::string>& words) {
  std::string command;
  for (const auto& w : words) command += (command.empty() ? "" : " ") + quote(w);
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {"could not start " + words[0], -1};
  std::string out;
  std::array<char, 4096> buffer{};
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string stage_script(const TaskQueue& queue, const SlurmOptions& o, const std::string& program, int phase, int tasks,
                         const std::string& name) {
  std::ostringstream s;
  s << "#!/bin/sh\n"
    << "# A stage of a uniem run: workers for phase " << phase << " (" << queue.phases()[static_cast<size_t>(phase)].name
    << ") of the queue below.\n"
    << "#SBATCH --job-name=" << name << "\n"
    << "#SBATCH --output=" << (queue.folder() / "logs" / (tasks > 1 ? "slurm-%A_%a.out" : "slurm-%j.out")).string() << "\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --time=" << o.time << "\n";
  if (!o.partition.empty()) s << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.account.empty()) s << "#SBATCH --account=" << o.account << "\n";
  if (o.memory_mb > 0) s << "#SBATCH --mem=" << o.memory_mb << "M\n";
  if (o.threads > 0) s << "#SBATCH --cpus-per-task=" << o.threads << "\n";
  s << "exec " << quote(program) << " worker " << quote(queue.folder().string()) << " --last-phase " << phase << " --quiet";
  if (o.threads > 0) s << " --threads " << o.threads;
  if (o.memory_mb > 0) s << " --memory " << std::max<int64_t>(64, o.memory_mb * 3 / 4);
  s << "\n";
  return s.str();
}

}  // namespace

int slurm_max_array_tasks() {
  const auto [out, status] = run_program({"scontrol", "show", "config"});
  if (status != 0) return 1000;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("MaxArraySize", 0) != 0) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) break;
    try {
      return std::max(1, std::stoi(line.substr(eq + 1)));  // indices 0 .. MaxArraySize - 1
    } catch (const std::exception&) {
      break;
    }
  }
  return 1000;
}

std::vector<SlurmJob> submit_to_slurm(const TaskQueue& queue, const SlurmOptions& options, const std::string& program) {
  const int max_array = slurm_max_array_tasks();
  const fs::path scripts = queue.folder() / "slurm";
  fs::create_directories(scripts);
  std::vector<SlurmJob> jobs;
  std::vector<std::string> previous;  // the stage before: its job ids
  const std::string base = "uniem-" + queue.plan().value("command", std::string("run"));
  for (size_t p = 0; p < queue.phases().size(); ++p) {
    const int tasks = static_cast<int>(std::min<int64_t>(queue.phases()[p].tasks, std::max(1, options.workers)));
    std::vector<std::string> stage;
    for (int first = 0; first < tasks; first += max_array) {  // arrays beyond MaxArraySize: several
      const int count = std::min(max_array, tasks - first);
      const std::string name = base + "-" + queue.phases()[p].name;
      const fs::path script = scripts / (std::to_string(p) + "-" + queue.phases()[p].name + "-" + std::to_string(first) + ".sh");
      write_file_atomically(script, stage_script(queue, options, program, static_cast<int>(p), count, name), true, false);
      std::vector<std::string> words = {"sbatch", "--parsable"};
      if (count > 1) words.push_back("--array=0-" + std::to_string(count - 1));
      if (!previous.empty()) {
        std::string after = "--dependency=afterany";
        for (const auto& id : previous) after += ":" + id;
        words.push_back(after);
      }
      words.push_back(script.string());
      const auto [out, status] = run_program(words);
      if (status != 0) {
        for (const auto& j : jobs) run_program({"scancel", j.id});
        throw Error("Slurm refused the job " + script.string() + ": " + (out.empty() ? "sbatch failed (is Slurm installed here?)" : out));
      }
      const std::string id = out.substr(0, out.find(';'));  // "id" or "id;cluster"
      jobs.push_back({id, static_cast<int>(p), count});
      stage.push_back(id);
    }
    previous = stage;
  }
  return jobs;
}

bool slurm_jobs_active(const std::vector<SlurmJob>& jobs) {
  std::string ids;
  for (const auto& j : jobs) ids += (ids.empty() ? "" : ",") + j.id;
  const auto [out, status] = run_program({"squeue", "--noheader", "--format=%i", "--jobs=" + ids});
  if (status != 0) return false;  // squeue refuses ids it no longer knows: they ended
  return out.find_first_not_of(" \n") != std::string::npos;
}

fs::path write_kubernetes_job(const TaskQueue& queue, int workers, const std::string& program) {
  const std::string queue_path = fs::absolute(queue.folder()).string();
  std::ostringstream y;
  y << "# A Kubernetes Indexed Job of " << workers << " uniem workers for the queue " << queue_path << ".\n"
    << "# Every pod runs `uniem worker` on the queue, which must be on a volume all pods mount at the same\n"
    << "# path as here, with the uniem binary (" << program << ") and the data. Name that volume below\n"
    << "# (a PersistentVolumeClaim of your cluster, or an NFS server), then: kubectl apply -f kubernetes.yaml\n"
    << "# Follow it with: uniem status " << queue_path << "\n"
    << "apiVersion: batch/v1\n"
    << "kind: Job\n"
    << "metadata:\n"
    << "  name: uniem-" << queue.plan().value("command", std::string("run")) << "\n"
    << "spec:\n"
    << "  completionMode: Indexed\n"
    << "  completions: " << workers << "\n"
    << "  parallelism: " << workers << "\n"
    << "  backoffLimitPerIndex: 2\n"
    << "  template:\n"
    << "    spec:\n"
    << "      restartPolicy: Never\n"
    << "      containers:\n"
    << "        - name: worker\n"
    << "          image: debian:12-slim\n"
    << "          command: [" << quote(program) << ", \"worker\", " << quote(queue_path) << ", \"--quiet\"]\n"
    << "          volumeMounts:\n"
    << "            - name: shared\n"
    << "              mountPath: " << quote(fs::path(queue_path).parent_path().string())
    << "  # where the shared disk is: the same paths as on this computer\n"
    << "      volumes:\n"
    << "        - name: shared\n"
    << "          persistentVolumeClaim:\n"
    << "            claimName: CHANGE-ME  # the claim of the disk that holds the queue, the data and uniem\n";
  const fs::path file = queue.folder() / "kubernetes.yaml";
  write_file_atomically(file, y.str(), true, false);
  return file;
}

}  // namespace uniem::apps

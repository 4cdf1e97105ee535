// Submitting a task queue's workers to Slurm (sbatch), and a manifest for Kubernetes.
//
// Slurm: one stage per phase of the queue, each a batch job running `uniem worker QUEUE
// --last-phase P`: a job array of up to --workers tasks for a phase of many tasks, one job for a
// phase of one (the reduce, such as the union-find of labels). Each stage depends on the one
// before (afterany: a worker killed in one stage leaves its task to the next stage's workers once
// its lease expires, rather than cancelling the rest). An array larger than the cluster's
// MaxArraySize (scontrol show config) is split into several. The scripts are QUEUE/slurm/*.sh, the
// jobs' output QUEUE/logs/slurm-*.out. The same uniem binary, by its absolute path, runs on the
// nodes: it must be on a disk they share, like the queue.
// Kubernetes: QUEUE/kubernetes.yaml, an Indexed Job of --workers pods, each a worker of every
// phase; the shared disk is a volume the lab names in it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "io/task_queue.h"

namespace uniem::apps {

struct SlurmOptions {
  int workers = 2;
  std::string partition, time = "1:00:00", account;
  int64_t memory_mb = 0;  // per worker; 0: the cluster's default
  int threads = 0;        // per worker; 0: the cluster's default
};

struct SlurmJob {
  std::string id;     // sbatch's job id
  int phase = 0;
  int tasks = 1;      // array tasks (1: a single job)
};

// Submits every stage; returns the jobs in order. Throws Error with sbatch's message when it
// refuses one (those submitted before are cancelled with scancel).
std::vector<SlurmJob> submit_to_slurm(const TaskQueue& queue, const SlurmOptions& options, const std::string& program);

// Whether any of `jobs` is still pending or running (squeue).
bool slurm_jobs_active(const std::vector<SlurmJob>& jobs);

// The most tasks of an array Slurm accepts (indices 0 .. MaxArraySize - 1), or 1000 when scontrol cannot tell.
int slurm_max_array_tasks();

// Writes QUEUE/kubernetes.yaml for `workers` pods; returns its path.
std::filesystem::path write_kubernetes_job(const TaskQueue& queue, int workers, const std::string& program);

}  // namespace uniem::apps

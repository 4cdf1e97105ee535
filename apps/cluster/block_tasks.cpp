#include "apps/cluster/block_tasks.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/cluster/cluster_run.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "apps/watershed_options.h"
#include "core/error.h"
#include "core/image/filter_steps.h"
#include "core/image/label.h"
#include "core/memory_budget.h"
#include "core/progress.h"
#include "io/blockwise_filter.h"
#include "io/blockwise_label.h"
#include "io/blockwise_watershed.h"
#include "io/stack.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace uniem::apps {
namespace {

// The command's arguments as a command line again, paths made absolute (workers may start
// elsewhere), without the options the cluster run itself takes.
Arguments argv_of(const cli::Command& command, const cli::Args& args) {
  const auto path = [](const cli::Spec& s, const std::string& v) { return s.type == cli::Type::path || s.role != cli::Role::none ? fs::absolute(v).string() : v; };
  Arguments argv;
  for (size_t i = 0; i < command.positionals().size() && i < args.positional_count(); ++i)
    argv.push_back(path(command.positionals()[i], args.positional(i)));
  for (const auto& s : command.options()) {
    if (s.step || s.common || !args.has(s.name) || s.interactive) continue;  // threads and memory: each worker's own
    if (is_cluster_option(s.name)) continue;
    argv.push_back("--" + s.name);
    if (s.type != cli::Type::flag) argv.push_back(path(s, args.get(s.name)));
  }
  for (const auto& [name, value] : args.steps()) {
    argv.push_back("--" + name);
    if (!value.empty()) argv.push_back(value);
  }
  return argv;
}

struct Plan {
  std::string command;
  cli::Args args;
  std::string in, out;
  int64_t nz = 0, sections = 1, slabs = 1;
  json extra;
  int64_t z0(int64_t k) const { return k * sections; }
  int64_t z1(int64_t k) const { return std::min(nz, (k + 1) * sections); }
};

Plan plan_of(const TaskQueue& queue) {
  const json& p = queue.plan();
  Plan plan;
  plan.command = p.at("command").get<std::string>();
  const Subcommand* sub = find_command(plan.command);
  if (!sub) throw InputError(queue.folder() / "plan.json", "names an unknown command '" + plan.command + "'");
  const ProgressStyle style = progress_style();  // parsing sets it: the worker's own stands
  plan.args = sub->declare().parse(p.at("argv").get<std::vector<std::string>>());
  set_progress_style(style);
  plan.in = plan.args.positional(0), plan.out = plan.args.positional(1);
  plan.nz = p.at("nz").get<int64_t>(), plan.sections = p.at("sections").get<int64_t>(), plan.slabs = p.at("slabs").get<int64_t>();
  plan.extra = p.value("extra", json::object());
  return plan;
}

std::vector<ParsedFilterStep> filter_steps(const cli::Args& args) {
  std::vector<ParsedFilterStep> parsed;
  for (const auto& [name, value] : args.steps()) parsed.push_back(parse_filter_step({name, value}, args.has("3d")));
  return parsed;
}

std::string slab_file(const char* what, int64_t k) { return std::string(what) + "-" + std::to_string(k) + ".tif"; }

// Writes `v` as work/`name` (a multi-page TIFF), complete or not at all.
void publish_volume(const TaskQueue& queue, const std::string& name, const Volume& v) {
  const fs::path part = queue.scratch(name + ".tif");
  WriteOptions w;
  w.format = StackFormat::multipage_tiff;
  write_volume(part, v, w);
  fs::rename(part, queue.work() / name);
}

Volume two_sections(const Volume& first, const Volume& last) {
  Volume v(first.dtype(), 2, first.ny(), first.nx(), first.channels());
  std::memcpy(v.raw(), first.raw(), first.bytes());
  std::memcpy(v.raw_slice(1), last.raw(), last.bytes());
  return v;
}

Volume section_of(const Volume& v, int64_t z) {
  Volume one(v.dtype(), 1, v.ny(), v.nx(), v.channels());
  std::memcpy(one.raw(), v.raw_slice(z), one.bytes());
  return one;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "is missing (an earlier task's output; was the queue's work/ folder changed?)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Volume read_slab(const Plan& plan, int64_t k) {
  StackReader reader(plan.in, read_options(plan.args));
  reader.seek(plan.z0(k));
  return reader.next(plan.z1(k) - plan.z0(k));
}

// The join's final id of every provisional id (work/ids.bin).
void read_ids(const TaskQueue& queue, std::vector<uint64_t>& ids) {
  const std::string bytes = read_text(queue.work() / "ids.bin");
  ids.resize(bytes.size() / sizeof(uint64_t));
  std::memcpy(ids.data(), bytes.data(), ids.size() * sizeof(uint64_t));
}

Connectivity connectivity_of(const Plan& plan) { return *connectivity_from(static_cast<int>(plan.args.integer("connectivity"))); }

void label_task(const TaskQueue& queue, const Plan& plan, const TaskId& task) {
  const bool preserve = plan.extra.at("preserve").get<bool>();
  const Connectivity c = connectivity_of(plan);
  if (task.phase == 0) {  // components: the slab's count and faces
    const Volume slab = read_slab(plan, task.index);
    const SlabFaces f = slab_faces(slab, label_components(slab, c, preserve));
    publish_volume(queue, slab_file("faces", task.index), two_sections(f.first_labels, f.last_labels));
    publish_volume(queue, slab_file("values", task.index), two_sections(f.first_values, f.last_values));
    queue.publish("count-" + std::to_string(task.index) + ".json", json{{"count", f.count}}.dump());
  } else if (task.phase == 1) {  // join: the final id of every provisional id
    ComponentJoin join(c, preserve);
    for (int64_t k = 0; k < plan.slabs; ++k) {
      SlabFaces f;
      f.count = json::parse(read_text(queue.work() / ("count-" + std::to_string(k) + ".json"))).at("count").get<int64_t>();
      const Volume labels = read_volume(queue.work() / slab_file("faces", k)), values = read_volume(queue.work() / slab_file("values", k));
      f.first_labels = section_of(labels, 0), f.last_labels = section_of(labels, 1);
      f.first_values = section_of(values, 0), f.last_values = section_of(values, 1);
      join.add(f);
    }
    int64_t count = 0;
    const std::vector<uint64_t> ids = join.final_ids(&count);
    queue.publish("ids.bin", std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(uint64_t)));
    queue.publish("join.json", json{{"count", count}, {"bases", join.bases()}}.dump());
  } else if (task.phase == 2) {  // write: the slab with its final ids
    const json joined = json::parse(read_text(queue.work() / "join.json"));
    const int64_t count = joined.at("count").get<int64_t>();
    std::vector<uint64_t> ids;
    read_ids(queue, ids);
    const Volume slab = read_slab(plan, task.index);
    const int64_t base = joined.at("bases").at(static_cast<size_t>(task.index)).get<int64_t>();
    publish_volume(queue, slab_file("labels", task.index), relabel_slab(label_components(slab, c, preserve), ids, base, label_type(count)));
  }
}

void filter_task(const TaskQueue& queue, const Plan& plan, const TaskId& task) {
  const auto steps = filter_steps(plan.args);
  const int64_t margin = plan.extra.at("margin").get<int64_t>(), k = task.index;
  publish_volume(queue, slab_file("slab", k),
                 filter_sections(plan.in, read_options(plan.args), steps, plan.args.has("3d"), margin, plan.z0(k), plan.z1(k)));
}

WatershedSlabs watershed_slabs(const Plan& plan) {
  return {plan.nz, plan.sections, plan.extra.at("overlap").get<int64_t>()};
}

void watershed_task(const TaskQueue& queue, const Plan& plan, const TaskId& task) {
  const BlockwiseWatershedOptions o = blockwise_watershed_options(plan.args, plan.in, ": ", "run it without --cluster");
  const WatershedSlabs slabs = watershed_slabs(plan);
  const double level = plan.extra.value("level", 0.0);
  const bool markers = !o.markers.empty();
  const int write_phase = markers ? 0 : 2;
  const std::string k = std::to_string(task.index);
  if (!markers && task.phase == 0) {  // flood: the slab's regions and its overlaps
    const FloodedSlab f = flooded_slab(flood_window(plan.in, read_options(plan.args), o, level, slabs.window(task.index)), slabs, task.index);
    if (!f.head.empty()) publish_volume(queue, "head-" + k + ".tif", f.head);
    if (!f.tail.empty()) publish_volume(queue, "tail-" + k + ".tif", f.tail);
    queue.publish("regions-" + k + ".json", json{{"regions", f.regions}, {"shown", f.shown}}.dump());
  } else if (!markers && task.phase == 1) {  // join: the regions across the overlaps
    RegionJoin join;
    for (int64_t s = 0; s < slabs.count(); ++s) {
      const std::string n = std::to_string(s);
      const json r = json::parse(read_text(queue.work() / ("regions-" + n + ".json")));
      FloodedSlab f;
      f.regions = r.at("regions").get<uint32_t>();
      f.shown = r.at("shown").get<std::vector<uint32_t>>();
      if (s > 0) f.head = read_volume(queue.work() / ("head-" + n + ".tif"));
      if (s + 1 < slabs.count()) f.tail = read_volume(queue.work() / ("tail-" + n + ".tif"));
      join.add(f);
    }
    int64_t count = 0;
    const std::vector<uint64_t> ids = join.final_ids(&count);
    queue.publish("ids.bin", std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(uint64_t)));
    queue.publish("join.json", json{{"count", count}, {"bases", join.bases()}}.dump());
  } else if (task.phase == write_phase) {  // write: the slab's own sections with their final ids
    std::vector<uint64_t> ids;
    int64_t base = 0;
    DType type = DType::u32;
    if (!markers) {
      const json joined = json::parse(read_text(queue.work() / "join.json"));
      read_ids(queue, ids);
      base = joined.at("bases").at(static_cast<size_t>(task.index)).get<int64_t>();
      type = label_type(joined.at("count").get<int64_t>());
    }
    const Volume labels = flood_window(plan.in, read_options(plan.args), o, level, slabs.window(task.index));
    publish_volume(queue, slab_file("labels", task.index), final_regions(labels, slabs, task.index, ids, base, type));
  }
}

// The last phase: the slabs, in order, written as OUT; then the work files are removed.
void finish_task(const TaskQueue& queue, const Plan& plan) {
  if (fs::exists(queue.work() / "result.json")) return;  // done already (a lease that expired under it)
  const bool labels = plan.command == "label" || plan.command == "watershed";
  const char* what = labels ? "labels" : "slab";
  WriteOptions write = prepare_output(plan.args, plan.out, labels);
  const VoxelSize voxel_size = StackReader(plan.in, read_options(plan.args)).voxel_size();
  std::unique_ptr<StackWriter> writer;
  json result = {{"slabs", plan.slabs}};
  for (int64_t k = 0; k < plan.slabs; ++k) {
    Volume slab = read_volume(queue.work() / slab_file(what, k));
    slab.voxel_size = voxel_size;
    if (!writer) {
      if (labels && write.format == StackFormat::png_folder && slab.dtype() == DType::u32)
        throw InputError(plan.out, "the objects need 32 bits, more than PNG holds; write a .tif file");
      writer = std::make_unique<StackWriter>(plan.out, write, slab, plan.nz);
      result["dtype"] = dtype_name(slab.dtype());
    }
    writer->append(slab);
  }
  writer->commit();
  if (fs::exists(queue.work() / "join.json")) result["count"] = json::parse(read_text(queue.work() / "join.json")).at("count");
  queue.publish("result.json", result.dump());
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(queue.work(), ec))
    if (entry.path().extension() == ".tif" || entry.path().filename() == "ids.bin") fs::remove(entry.path(), ec);
}

}  // namespace

bool has_block_tasks(const std::string& command) { return command == "label" || command == "filter" || command == "watershed"; }

TaskQueue plan_block_tasks(const fs::path& folder, const cli::Command& command, const cli::Args& args, int workers, int64_t sections,
                           double lease_seconds) {
  const std::string in = args.positional(0);
  prepare_output(args, args.positional(1), command.name() != "filter");  // an OUT that may not be written: refused now
  const ReadOptions read = read_options(args);
  const StackReader probe(in, read);
  const int64_t nz = probe.nz();
  json extra = json::object();
  int64_t budget_sections = 1;
  if (command.name() == "label") {
    budget_sections = label_slab_sections(probe.ny(), probe.nx(), dtype_size(probe.dtype()), memory_budget());
    const std::string mode = args.get("mode");
    extra["preserve"] = mode == "labels" || (mode == "auto" && dtype_is_integer(probe.dtype()) && !stack_is_mask(in, read, budget_sections));
  } else if (command.name() == "watershed") {
    const BlockwiseWatershedOptions o = blockwise_watershed_options(args, in, ": with --cluster, ", "run it without --cluster");
    extra["overlap"] = o.overlap;
    extra["markers"] = !o.markers.empty();
    const double per_section = static_cast<double>(probe.ny() * probe.nx()) * (static_cast<double>(dtype_size(probe.dtype())) + 24) * 1.5;
    budget_sections = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(memory_budget()) / per_section) - 2 * o.overlap);
    if (o.markers.empty()) extra["level"] = o.seeds_below_otsu ? stack_otsu_threshold(in, read, budget_sections) : *o.seeds_below;
  } else {
    const auto steps = filter_steps(args);
    if (steps.empty()) throw UsageError("a cluster run takes its filter steps from the command line, not from --pipeline");
    std::string whole;
    const int64_t margin = filter_z_margin(steps, probe.voxel_size(), args.has("3d"), probe.dtype(), &whole);
    if (margin < 0) throw InputError(in, "--" + whole + " needs the whole volume at once; it cannot be cut into blocks for workers");
    extra["margin"] = margin;
    const double per_section = static_cast<double>(probe.ny() * probe.nx()) * (static_cast<double>(dtype_size(probe.dtype())) + 12) * 2;
    budget_sections = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(memory_budget()) / per_section) - 2 * margin);
  }
  if (sections <= 0) {
    const int64_t spread = (nz + 2 * workers - 1) / std::max(1, 2 * workers);  // at least two tasks a worker
    sections = std::max<int64_t>(1, std::min(budget_sections, spread));
  }
  const int64_t slabs = (nz + sections - 1) / sections;
  json plan = {{"command", command.name()}, {"argv", argv_of(command, args)}, {"nz", nz}, {"sections", sections},
               {"slabs", slabs},            {"extra", extra}};
  std::vector<QueuePhase> phases;
  if (command.name() == "label") phases = {{"components", slabs}, {"join", 1}, {"write", slabs}, {"finish", 1}};
  else if (command.name() == "filter") phases = {{"filter", slabs}, {"finish", 1}};
  else if (extra.value("markers", false)) phases = {{"write", slabs}, {"finish", 1}};
  else phases = {{"flood", slabs}, {"join", 1}, {"write", slabs}, {"finish", 1}};
  return TaskQueue::create(folder, plan, phases, lease_seconds);
}

void run_block_task(const TaskQueue& queue, const TaskId& task) {
  const Plan plan = plan_of(queue);
  if (task.phase == static_cast<int>(queue.phases().size()) - 1) finish_task(queue, plan);
  else if (plan.command == "label") label_task(queue, plan, task);
  else if (plan.command == "filter") filter_task(queue, plan, task);
  else if (plan.command == "watershed") watershed_task(queue, plan, task);
  else throw InputError(queue.folder() / "plan.json", "names a command without block tasks: " + plan.command);
}

std::string describe_task(const TaskQueue& queue, const TaskId& task) {
  const auto& phases = queue.phases();
  if (task.phase < 0 || task.phase >= static_cast<int>(phases.size())) return task.name();
  const QueuePhase& phase = phases[static_cast<size_t>(task.phase)];
  std::string text = queue.plan().value("command", "") + ", " + phase.name;
  if (phase.tasks > 1) {
    const int64_t s = queue.plan().value("sections", int64_t{1}), nz = queue.plan().value("nz", int64_t{0});
    const int64_t z0 = task.index * s, z1 = std::min(nz, z0 + s);
    text += ": sections " + std::to_string(z0) + "-" + std::to_string(z1 - 1) + " (task " + std::to_string(task.index + 1) + " of " +
            std::to_string(phase.tasks) + ")";
  }
  return text;
}

std::string queue_result(const TaskQueue& queue) {
  const Plan plan = plan_of(queue);
  const json r = json::parse(read_text(queue.work() / "result.json"));
  const std::string slabs = "in " + std::to_string(plan.slabs) + " block task" + (plan.slabs == 1 ? "" : "s") + " of " +
                            std::to_string(plan.sections) + " sections";
  if (plan.command == "label")
    return std::to_string(r.value("count", int64_t{0})) + " objects (" + (plan.extra.value("preserve", false) ? "label-preserving" : "binary") +
           ", " + plan.args.get("connectivity") + "-connectivity; " + slabs + ") -> " + plan.out;
  if (plan.command == "watershed")
    return (r.contains("count") ? std::to_string(r.value("count", int64_t{0})) + " regions" : std::string("regions of the markers")) + " (" +
           slabs + ", each flooded with " + std::to_string(plan.extra.value("overlap", int64_t{0})) + " more sections on each side) -> " + plan.out;
  return std::to_string(plan.args.steps().size()) + " step" + (plan.args.steps().size() == 1 ? "" : "s") + " -> " + plan.out + " (" +
         r.value("dtype", "") + "; " + slabs + ")";
}

}  // namespace uniem::apps

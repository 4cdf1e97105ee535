#include "core/image/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "core/image/convert.h"
#include "core/image/statistics.h"
#include "core/threads.h"

namespace uniem {
namespace {

// Open addressing, linear probing, key = segment << 32 | truth. Keys equal to `empty` cannot
// occur: ids are below 2^32 - 1 (larger ones are renumbered first).
class PairCounts {
 public:
  static constexpr uint64_t empty = ~uint64_t{0};
  PairCounts() : keys_(1024, empty), counts_(1024, 0) {}
  void add(uint64_t key, uint64_t n) {
    if (4 * (size_ + 1) > 3 * keys_.size()) grow();
    size_t i = slot(key);
    while (keys_[i] != empty && keys_[i] != key) i = (i + 1) & (keys_.size() - 1);
    if (keys_[i] == empty) {
      keys_[i] = key;
      ++size_;
    }
    counts_[i] += n;
  }
  template <class F> void each(F&& f) const {
    for (size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] != empty) f(keys_[i], counts_[i]);
  }

 private:
  size_t slot(uint64_t key) const { return static_cast<size_t>((key * 0x9e3779b97f4a7c15ULL) >> 20) & (keys_.size() - 1); }
  void grow() {
    std::vector<uint64_t> keys(keys_.size() * 2, empty), counts(keys_.size() * 2, 0);
    keys.swap(keys_);
    counts.swap(counts_);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == empty) continue;
      size_t j = slot(keys[i]);
      while (keys_[j] != empty) j = (j + 1) & (keys_.size() - 1);
      keys_[j] = keys[i];
      counts_[j] = counts[i];
    }
  }
  std::vector<uint64_t> keys_, counts_;
  size_t size_ = 0;
};

// Ids that fit in 32 bits (all but the largest value), renumbering the volume if they do not.
Volume with_small_ids(const Volume& v) {
  if (v.dtype() != DType::u64) return Volume();
  if (value_range(v).max < 4294967295.0) return Volume();
  return relabel_consecutive(v);
}

template <class S, class T>
void count_pairs(const S* seg, const T* truth, int64_t n, bool ignore_zero, PairCounts& counts, uint64_t& counted) {
  int64_t i = 0;
  while (i < n) {
    const S s = seg[i];
    const T t = truth[i];
    int64_t j = i + 1;
    while (j < n && seg[j] == s && truth[j] == t) ++j;
    if (!(ignore_zero && t == T{0})) {
      counts.add((static_cast<uint64_t>(s) << 32) | static_cast<uint64_t>(t), static_cast<uint64_t>(j - i));
      counted += static_cast<uint64_t>(j - i);
    }
    i = j;
  }
}

double entropy_bits(const std::vector<double>& p) {
  double h = 0;
  for (double x : p)
    if (x > 0) h -= x * std::log2(x);
  return h;
}

}  // namespace

struct ContingencyCounter::Counts {
  PairCounts pairs;
};

ContingencyCounter::ContingencyCounter(bool ignore_truth_zero) : counts_(std::make_unique<Counts>()), ignore_zero_(ignore_truth_zero) {}
ContingencyCounter::~ContingencyCounter() = default;

void ContingencyCounter::add(const Volume& seg, const Volume& gt) {
  if (seg.shape() != gt.shape() || seg.channels() != gt.channels())
    throw InputError("the segmentation is " + std::to_string(seg.nz()) + " x " + std::to_string(seg.ny()) + " x " +
                     std::to_string(seg.nx()) + " but the ground truth is " + std::to_string(gt.nz()) + " x " +
                     std::to_string(gt.ny()) + " x " + std::to_string(gt.nx()) + "; they must match voxel for voxel");
  if (!dtype_is_integer(seg.dtype()) || !dtype_is_integer(gt.dtype()))
    throw InputError("scores need integer label volumes, not float32; threshold or label probability maps first");
  for (const Volume* v : {&seg, &gt})
    if (v->dtype() == DType::u64 && value_range(*v).max >= 4294967295.0)
      throw InputError("label ids of 2^32 - 1 and above: renumber them first (uniem convert --relabel)");
  std::mutex merge_mutex;
  const int64_t n = seg.elements();
  visit_dtype(seg.dtype(), [&](auto s_type) {
    using S = decltype(s_type);
    visit_dtype(gt.dtype(), [&](auto t_type) {
      using T = decltype(t_type);
      if constexpr (std::is_integral_v<S> && std::is_integral_v<T>) {
        parallel_for(0, n, 1 << 20, [&](int64_t b, int64_t e) {
          PairCounts local;
          uint64_t local_counted = 0;
          count_pairs(seg.data<S>() + b, gt.data<T>() + b, e - b, ignore_zero_, local, local_counted);
          std::lock_guard lock(merge_mutex);
          local.each([&](uint64_t key, uint64_t c) { counts_->pairs.add(key, c); });
          counted_ += local_counted;
        });
      }
    });
  });
  voxels_ += static_cast<uint64_t>(n);
}

Contingency ContingencyCounter::table() const {
  Contingency table;
  counts_->pairs.each([&](uint64_t key, uint64_t c) { table.entries.push_back({key >> 32, key & 0xffffffffULL, c}); });
  std::sort(table.entries.begin(), table.entries.end(), [](const ContingencyEntry& a, const ContingencyEntry& b) {
    return a.segment != b.segment ? a.segment < b.segment : a.truth < b.truth;
  });
  table.voxels = counted_;
  table.total_voxels = voxels_;
  return table;
}

Contingency contingency_table(const Volume& segmentation, const Volume& truth, bool ignore_truth_zero) {
  if (!dtype_is_integer(segmentation.dtype()) || !dtype_is_integer(truth.dtype()))
    throw InputError("scores need integer label volumes, not float32; threshold or label probability maps first");
  const Volume seg_small = with_small_ids(segmentation), truth_small = with_small_ids(truth);
  ContingencyCounter counter(ignore_truth_zero);
  counter.add(seg_small.empty() ? segmentation : seg_small, truth_small.empty() ? truth : truth_small);
  return counter.table();
}

InstanceScores instance_scores(const Contingency& table) {
  InstanceScores r;
  r.voxels = table.voxels;
  if (table.voxels == 0) return r;
  std::map<uint64_t, double> seg_size, truth_size;
  double sum_p2 = 0, h_joint = 0, seg_zero_in_fg = 0, sum_p2_no_seg_zero = 0;
  const double n = static_cast<double>(table.voxels);
  for (const auto& e : table.entries) {
    const double c = static_cast<double>(e.count);
    seg_size[e.segment] += c;
    truth_size[e.truth] += c;
    sum_p2 += c * c;
    const double p = c / n;
    h_joint -= p * std::log2(p);
    if (e.segment == 0) seg_zero_in_fg += c;
    else sum_p2_no_seg_zero += c * c;
  }
  double sum_s2 = 0, sum_t2 = 0, sum_s2_no_zero = 0;
  std::vector<double> ps, pt;
  for (const auto& [id, c] : seg_size) {
    sum_s2 += c * c;
    if (id != 0) sum_s2_no_zero += c * c;
    ps.push_back(c / n);
  }
  for (const auto& [id, c] : truth_size) {
    sum_t2 += c * c;
    pt.push_back(c / n);
  }
  r.segments = seg_size.size();
  r.truth_objects = truth_size.size();

  r.rand_split = sum_p2 / sum_t2;
  r.rand_merge = sum_p2 / sum_s2;
  r.v_rand = sum_p2 / (0.5 * sum_s2 + 0.5 * sum_t2);

  const double h_s = entropy_bits(ps), h_t = entropy_bits(pt);
  const double mutual = h_s + h_t - h_joint;
  r.info_split = h_s > 0 ? mutual / h_s : 1;
  r.info_merge = h_t > 0 ? mutual / h_t : 1;
  r.v_info = (h_s + h_t) > 0 ? mutual / (0.5 * h_s + 0.5 * h_t) : 1;
  r.vi_split = h_joint - h_t;  // H(S|T)
  r.vi_merge = h_joint - h_s;  // H(T|S)
  r.vi = r.vi_split + r.vi_merge;

  // scikit-image 0.19 adapted_rand_error: pair counts, rows = truth, columns = segmentation.
  const double pairs = sum_p2 - n, truth_pairs = sum_t2 - n, seg_pairs = sum_s2 - n;
  r.adapted_rand_precision = truth_pairs > 0 ? pairs / truth_pairs : 1;
  r.adapted_rand_recall = seg_pairs > 0 ? pairs / seg_pairs : 1;
  const double pr = r.adapted_rand_precision + r.adapted_rand_recall;
  r.adapted_rand_error = 1 - (pr > 0 ? 2 * r.adapted_rand_precision * r.adapted_rand_recall / pr : 0);

  // The SNEMI3D challenge script: segment 0 inside the truth's foreground counts as singletons,
  // n there is every voxel of the volume.
  const double all = static_cast<double>(table.total_voxels);
  const double sum_a = sum_t2;
  const double sum_b = sum_s2_no_zero + seg_zero_in_fg / all;
  const double sum_ab = sum_p2_no_seg_zero + seg_zero_in_fg / all;
  const double precision = sum_ab / std::max(sum_b, 1e-6), recall = sum_ab / std::max(sum_a, 1e-6);
  r.snemi3d_adapted_rand_error = 1 - 2 * precision * recall / std::max(precision + recall, 1e-6);
  return r;
}

SemanticScores semantic_scores(const Volume& segmentation, const Volume& truth) {
  const Contingency table = contingency_table(segmentation, truth, false);
  std::map<uint64_t, uint64_t> seg_size, truth_size, agree;
  for (const auto& e : table.entries) {
    seg_size[e.segment] += e.count;
    truth_size[e.truth] += e.count;
    if (e.segment == e.truth) agree[e.segment] += e.count;
  }
  SemanticScores out;
  const auto nonzero = [](const std::map<uint64_t, uint64_t>& m) {
    return std::count_if(m.begin(), m.end(), [](const auto& kv) { return kv.first != 0; });
  };
  out.binary = nonzero(seg_size) <= 1 && nonzero(truth_size) <= 1;
  std::map<uint64_t, ClassScores> classes;
  if (out.binary) {
    ClassScores c;
    c.value = 1;
    for (const auto& e : table.entries) {
      if (e.segment && e.truth) c.true_positives += e.count;
      else if (e.segment) c.false_positives += e.count;
      else if (e.truth) c.false_negatives += e.count;
    }
    classes[1] = c;
  } else {
    for (const auto* sizes : {&seg_size, &truth_size})
      for (const auto& [value, count] : *sizes)
        if (value != 0) classes[value].value = value;
    for (auto& [value, c] : classes) {
      c.true_positives = agree.count(value) ? agree[value] : 0;
      c.false_positives = (seg_size.count(value) ? seg_size[value] : 0) - c.true_positives;
      c.false_negatives = (truth_size.count(value) ? truth_size[value] : 0) - c.true_positives;
    }
  }
  for (auto& [value, c] : classes) {
    const double tp = static_cast<double>(c.true_positives), fp = static_cast<double>(c.false_positives),
                 fn = static_cast<double>(c.false_negatives);
    c.jaccard = tp + fp + fn > 0 ? tp / (tp + fp + fn) : 1;
    c.dice = tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 1;
    c.precision = tp + fp > 0 ? tp / (tp + fp) : 1;
    c.recall = tp + fn > 0 ? tp / (tp + fn) : 1;
    out.classes.push_back(c);
    out.mean_jaccard += c.jaccard;
    out.mean_dice += c.dice;
  }
  if (!out.classes.empty()) {
    out.mean_jaccard /= static_cast<double>(out.classes.size());
    out.mean_dice /= static_cast<double>(out.classes.size());
  }
  return out;
}

}  // namespace uniem

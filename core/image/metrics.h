// Scores of a segmentation against ground truth.
//
// Everything is computed from one contingency table p_ij = #voxels with segment i and ground-truth
// label j, built in one parallel pass and stored sparsely (only pairs that occur: O(pairs) memory,
// so two 1024^3 volumes need no per-voxel arrays). Consecutive voxels with the same pair are
// counted as one run, which makes label volumes fast. Sums run over the sorted table, so the
// scores do not depend on the thread count.
//
// Instance scores (neurons, mitochondria instances), over voxels whose ground truth is not 0:
//   V_rand  = sum p_ij^2 / (alpha sum s_i^2 + (1 - alpha) sum t_j^2), alpha = 0.5, with
//             split = sum p_ij^2 / sum t_j^2 and merge = sum p_ij^2 / sum s_i^2 (s: segment sizes,
//             t: ground-truth sizes; Arganda-Carreras et al. 2015, the UNI-EM paper's score);
//   V_info  = I(S;T) / ((1 - alpha) H(S) + alpha H(T)), split = I/H(S), merge = I/H(T);
//   VI      = H(S|T) + H(T|S) in bits; split = H(S|T) (one object cut into pieces), merge = H(T|S)
//             (CREMI's convention);
//   adapted Rand error as scikit-image's adapted_rand_error (pair counts x^2 - x) and as the
//             SNEMI3D challenge script (segment 0 counted as singletons).
// Semantic scores (masks, classes), over all voxels, per nonzero class c: Jaccard, Dice,
// precision and recall of (segmentation == c) against (ground truth == c). Two binary volumes
// (at most one nonzero value each, e.g. 0/1 against 0/255) are compared as foreground masks.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/image/volume.h"

namespace uniem {

struct ContingencyEntry {
  uint64_t segment, truth, count;
};

struct Contingency {
  std::vector<ContingencyEntry> entries;  // sorted by (segment, truth)
  uint64_t voxels = 0;                    // voxels counted
  uint64_t total_voxels = 0;              // all voxels, ignored ones included
};

// ignore_truth_zero: leave out voxels whose ground truth is 0 (instance scores).
// Throws InputError when shapes differ or a volume is float.
Contingency contingency_table(const Volume& segmentation, const Volume& truth, bool ignore_truth_zero);

// The same table counted a piece at a time, e.g. a few sections of both stacks at once, so that
// two volumes larger than memory can be scored: add() each pair of pieces (same shape), then
// table(). The sums are integers, so the pieces' size and order do not change the result. Ids of
// 2^32 - 1 and above are refused (contingency_table renumbers them; a piece alone cannot).
class ContingencyCounter {
 public:
  explicit ContingencyCounter(bool ignore_truth_zero);
  ~ContingencyCounter();
  void add(const Volume& segmentation, const Volume& truth);
  Contingency table() const;

 private:
  struct Counts;
  std::unique_ptr<Counts> counts_;
  bool ignore_zero_;
  uint64_t counted_ = 0, voxels_ = 0;
};

struct InstanceScores {
  double v_rand = 0, rand_split = 0, rand_merge = 0;
  double v_info = 0, info_split = 0, info_merge = 0;
  double vi = 0, vi_split = 0, vi_merge = 0;  // bits
  double adapted_rand_error = 0, adapted_rand_precision = 0, adapted_rand_recall = 0;  // scikit-image
  double snemi3d_adapted_rand_error = 0;
  uint64_t voxels = 0, segments = 0, truth_objects = 0;
};

InstanceScores instance_scores(const Contingency& table);

struct ClassScores {
  uint64_t value = 0;
  uint64_t true_positives = 0, false_positives = 0, false_negatives = 0;
  double jaccard = 0, dice = 0, precision = 0, recall = 0;
};

struct SemanticScores {
  bool binary = false;              // compared as foreground masks
  std::vector<ClassScores> classes; // one per nonzero class, by value
  double mean_jaccard = 0, mean_dice = 0;
};

SemanticScores semantic_scores(const Volume& segmentation, const Volume& truth);

}  // namespace uniem

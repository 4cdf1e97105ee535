// Reverse-mode automatic differentiation.
//
// The forward pass records a tape: every op whose output needs a gradient (grad mode on and some
// input requires_grad) attaches a Node to the output, holding the inputs and the backward rule.
// loss.backward() walks the nodes from the loss in reverse topological order, calling each rule
// once with the full gradient of its output, and then frees the graph.
//
// How gradients accumulate: a leaf (a tensor with requires_grad set by the user, e.g. a parameter)
// receives the sum of the gradients of every path from the loss to it, and that sum is ADDED to
// whatever its grad() already holds, across backward() calls, until zero_grad(). Non-leaf tensors
// keep no gradient.
//
// Backward rules run with grad mode off (no higher-order gradients). NoGradScope turns recording
// off for inference; detach() gives a tensor sharing storage but outside the graph.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace uniem {

struct Node {
  const char* name = "";
  std::vector<Tensor> inputs;  // entries may be undefined or not need a gradient
  // Returns one gradient per input (undefined where none is needed), each of that input's shape.
  std::function<std::vector<Tensor>(const Tensor& grad_output)> backward;
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node();  // frees a long chain of nodes iteratively, not by recursion
};

bool grad_enabled();

class NoGradScope {
 public:
  NoGradScope();
  ~NoGradScope();
  NoGradScope(const NoGradScope&) = delete;
  NoGradScope& operator=(const NoGradScope&) = delete;

 private:
  bool previous_;
};

// Attaches a node to `output` when any input requires a gradient and grad mode is on.
// The backward rule must not capture `output` itself (a cycle); capture output.detach().
void record(Tensor& output, const char* name, std::vector<Tensor> inputs,
            std::function<std::vector<Tensor>(const Tensor& grad_output)> backward);

// Backward pass from `root` (one element) with d(root)/d(root) = 1.
void run_backward(const Tensor& root);

}  // namespace uniem

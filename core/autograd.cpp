#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "core/backend.h"
#include "core/error.h"

namespace uniem {
namespace {

thread_local bool grad_mode = true;

// a += g in place (same shape), or a fresh copy of g when a is undefined.
void accumulate(Tensor& a, const Tensor& g) {
  if (!a.defined()) {
    a = g.clone();
    return;
  }
  backend(a.device()).binary(BinaryOp::add, a, g, a);
}

}  // namespace

bool grad_enabled() { return grad_mode; }

Node::~Node() {
  // Dropping the last tensor of a 100000-op graph would otherwise recurse 100000 levels deep.
  // Nodes owned by nobody else are detached from their tensors and destroyed one at a time here.
  std::vector<std::shared_ptr<Node>> pending;
  auto release = [&pending](Node& node) {
    node.backward = nullptr;  // its captures may share the inputs below
    for (Tensor& t : node.inputs) {
      TensorImpl* impl = t.impl();
      if (impl && impl->grad_fn && impl->grad_fn.use_count() == 1 && t.impl_use_count() == 1)
        pending.push_back(std::move(impl->grad_fn));
    }
    node.inputs.clear();
  };
  release(*this);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    release(*node);
  }
}

NoGradScope::NoGradScope() : previous_(grad_mode) { grad_mode = false; }
NoGradScope::~NoGradScope() { grad_mode = previous_; }

void record(Tensor& output, const char* name, std::vector<Tensor> inputs,
            std::function<std::vector<Tensor>(const Tensor&)> backward) {
  if (!grad_mode) return;
  bool needed = false;
  for (const Tensor& t : inputs) needed = needed || (t.defined() && t.requires_grad());
  if (!needed) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  output.impl()->grad_fn = std::move(node);
}

void run_backward(const Tensor& root) {
  if (root.numel() != 1)
    throw Error("backward() needs a one-element tensor (a loss), got " + describe(root));
  if (!root.requires_grad()) throw Error("backward() on a tensor that does not require a gradient");
  NoGradScope no_grad;
  Tensor seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  if (!root.grad_fn()) {  // the root is itself a leaf
    accumulate(root.impl()->grad, seed);
    return;
  }

  // Reverse topological order by an iterative depth-first search (no recursion limit on depth).
  // `order` owns the nodes, so freeing a node's inputs below cannot free a node still to come.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root.grad_fn(), 0}};
  visited.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.grad_fn() && visited.insert(in.grad_fn().get()).second)
        stack.push_back({in.grad_fn(), 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = it->get();
    auto found = grads.find(node);
    if (found == grads.end()) continue;  // no path carried a gradient here
    if (!node->backward)
      throw Error(std::string("backward() through the graph of '") + node->name +
                  "' a second time: each forward pass can be differentiated once");
    Tensor g = std::move(found->second);
    grads.erase(found);
    std::vector<Tensor> input_grads = node->backward(g);
    UNIEM_CHECK(input_grads.size() == node->inputs.size(), std::string("backward of ") + node->name +
                                                                " returned the wrong number of gradients");
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!in.defined() || !in.requires_grad() || !input_grads[i].defined()) continue;
      UNIEM_CHECK(input_grads[i].shape() == in.shape(), std::string("backward of ") + node->name + " gave " +
                                                            describe(input_grads[i]) + " for input " +
                                                            describe(in));
      if (in.grad_fn()) accumulate(grads[in.grad_fn().get()], input_grads[i]);
      else accumulate(in.impl()->grad, input_grads[i]);
    }
    // Free this node's saved tensors now: the graph is used once.
    node->backward = nullptr;
    node->inputs.clear();
  }
}

}  // namespace uniem

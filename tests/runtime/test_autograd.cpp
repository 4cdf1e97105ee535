// The tensor handle, views, devices and the autograd tape.
#include <doctest/doctest.h>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/ops/ops.h"

using namespace uniem;
using namespace uniem::ops;

TEST_CASE("tensors: shapes, dtypes, views that share storage and copies that do not") {
  Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.dtype() == ScalarType::f32);
  CHECK(t.device() == Device::cpu());
  Tensor r = t.reshape(Shape{3, -1});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.same_storage(t));
  Tensor row = t.narrow0(1, 1);
  CHECK(row.to_vector() == std::vector<double>{4, 5, 6});
  row.data<float>()[0] = 40;
  CHECK(t.to_vector()[3] == 40);  // the view writes through
  Tensor c = t.clone();
  c.data<float>()[0] = -1;
  CHECK(t.to_vector()[0] == 1);
  CHECK(t.to(ScalarType::f64).dtype() == ScalarType::f64);
  CHECK(Tensor::zeros(Shape{2, 2}, ScalarType::i32).to(ScalarType::f32).to_vector() == std::vector<double>{0, 0, 0, 0});
  CHECK_THROWS_WITH(t.reshape(Shape{4, 2}), doctest::Contains("cannot reshape"));
  CHECK_THROWS(Shape({1, 2, 3, 4, 5, 6}));
  CHECK_THROWS_WITH(t.to(Device::cuda(0)), doctest::Contains("cuda:0"));
  CHECK(describe(t) == "f32 (2, 3) on cpu");
}

TEST_CASE("large tensors reuse the memory of freed ones; the live bytes count tensors, the peak also the kept blocks") {
  Backend& cpu = backend(Device::cpu());
  const size_t before = cpu.live_bytes();
  const void* first = nullptr;
  {
    Tensor big = Tensor::zeros(Shape{3, (1 << 19) + 4099}, ScalarType::f32);  // 6 MiB and a little: a size no other test uses
    CHECK(cpu.live_bytes() >= before + (size_t{6} << 20));
    first = big.raw_data();
    big.data<float>()[5] = 7;
  }
  CHECK(cpu.live_bytes() == before);
  cpu.reset_peak_bytes();
  CHECK(cpu.peak_bytes() >= before + (size_t{6} << 20));  // the freed block is kept for reuse: still held
  Tensor again = Tensor::empty(Shape{3, (1 << 19) + 4099}, ScalarType::f32);
  CHECK(again.raw_data() == first);  // the same block, from the cache
  Tensor zeros = Tensor::zeros(Shape{3, (1 << 19) + 4099}, ScalarType::f32);
  CHECK(zeros.to_vector()[5] == 0);  // zeros() still zeroes reused memory
  CHECK(reinterpret_cast<uintptr_t>(zeros.raw_data()) % 64 == 0);
}

TEST_CASE("random tensors depend on the seed only") {
  Generator a(7), b(7), c(8);
  const auto x = randn(Shape{1000}, a).to_vector();
  CHECK(x == randn(Shape{1000}, b).to_vector());
  CHECK(x != randn(Shape{1000}, c).to_vector());
  CHECK(a.offset() == 2000);  // two counters per normal value
  double mean_x = 0;
  for (double v : x) mean_x += v / 1000;
  CHECK(std::abs(mean_x) < 0.1);
}

TEST_CASE("backward accumulates into leaves until zero_grad") {
  Tensor w = Tensor::from_vector(std::vector<double>{1, 2, 3}, Shape{3}).set_requires_grad();
  Tensor x = Tensor::from_vector(std::vector<double>{4, 5, 6}, Shape{3});
  // y = sum(w * x) + sum(w * w): dy/dw = x + 2w; w is used twice (two paths).
  sum(add(mul(w, x), mul(w, w))).backward();
  CHECK(w.grad().to_vector() == std::vector<double>{6, 9, 12});
  CHECK(!x.grad().defined());
  sum(mul(w, x)).backward();  // adds
  CHECK(w.grad().to_vector() == std::vector<double>{10, 14, 18});
  w.zero_grad();
  CHECK(!w.grad().defined());
}

TEST_CASE("no-grad scope, detach and a graph used twice") {
  Tensor w = Tensor::ones(Shape{2}, ScalarType::f64).set_requires_grad();
  {
    NoGradScope no_grad;
    Tensor y = mul(w, 3.0);
    CHECK(!y.requires_grad());
    CHECK(!y.grad_fn());
  }
  Tensor y = mul(w, 3.0);
  CHECK(y.requires_grad());
  CHECK(!y.detach().requires_grad());
  CHECK(y.detach().same_storage(y));
  Tensor loss = sum(mul(y, y.detach()));  // d/dw = 3 * y = 9
  loss.backward();
  CHECK(w.grad().to_vector() == std::vector<double>{9, 9});
  CHECK_THROWS_WITH(loss.backward(), doctest::Contains("second time"));
  CHECK_THROWS_WITH(mul(w, 2.0).backward(), doctest::Contains("one-element"));
}

TEST_CASE("a deep chain does not overflow the stack") {
  Tensor w = Tensor::ones(Shape{1}, ScalarType::f64).set_requires_grad();
  Tensor y = w;
  for (int i = 0; i < 100000; ++i) y = add(y, 1e-6);
  sum(y).backward();
  CHECK(w.grad().item() == 1.0);
  Tensor z = w;
  for (int i = 0; i < 100000; ++i) z = add(z, 1e-6);
  z = Tensor();  // dropped without a backward pass
  CHECK(w.requires_grad());
}

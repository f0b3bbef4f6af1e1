// gtest helpers for comparing importer outputs with libtorch references.
#pragma once

#include <gtest/gtest.h>
#include <torch/script.h>

namespace tessera::onnx_import::testing {

inline ::testing::AssertionResult Close(const at::Tensor& actual, const at::Tensor& expected,
                                        double rtol = 1e-4, double atol = 1e-5) {
  if (actual.scalar_type() != expected.scalar_type()) {
    return ::testing::AssertionFailure() << "dtype " << actual.scalar_type() << " vs "
                                         << expected.scalar_type();
  }
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure() << "shape " << actual.sizes() << " vs "
                                         << expected.sizes();
  }
  bool ok = expected.is_floating_point()
                ? at::allclose(actual, expected, rtol, atol, /*equal_nan=*/true)
                : at::equal(actual, expected);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "values differ:\n" << actual << "\nexpected\n"
                                       << expected;
}

}  // namespace tessera::onnx_import::testing

// Runs the Result-returning expression and binds its outputs to `outs`.
#define ONNX_RUN(outs, expr)                                   \
  auto outs##_result = (expr);                                 \
  ASSERT_TRUE(outs##_result.ok()) << outs##_result.status().message(); \
  const std::vector<at::Tensor>& outs = *outs##_result

#include "frontend/json/tensor_element.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "frontend/json/json_reader.h"

namespace tessera::json {
namespace {

// The one number of a JSON document `text`, put as an element of `dtype`.
struct Put {
  std::string text;
  DataType dtype;
  char out[8] = {};
  ElementFit fit = ElementFit::kNotNumeric;
  bool Null() { return false; }
  bool Bool(bool) { return false; }
  bool Number(const JsonNumber& n) {
    fit = PutNumber(dtype, n, out);
    return true;
  }
  bool Double(double d) {
    fit = PutNonFinite(dtype, d, out);
    return true;
  }
  bool String(std::string_view) { return false; }
  bool Key(std::string_view) { return false; }
  bool StartObject() { return false; }
  bool EndObject() { return false; }
  bool StartArray() { return false; }
  bool EndArray() { return false; }

  Put(std::string t, DataType d) : text(std::move(t)), dtype(d) {
    EXPECT_TRUE(JsonReader<Put>(text, *this).Parse().ok()) << text;
  }
  template <typename T>
  T As() const {
    T v;
    std::memcpy(&v, out, sizeof v);
    return v;
  }
};

TEST(TensorElementTest, FloatsAreNearestWithoutDoubleRounding) {
  // Just above 1 + 2^-24 (the midpoint between 1.0f and the next float):
  // via double it would round to the midpoint and then tie to 1.0f; the
  // exact value rounds up.
  Put q("1.0000000596046447753906251", DataType::kFp32);
  EXPECT_EQ(q.fit, ElementFit::kOk);
  EXPECT_EQ(q.As<float>(), std::nextafter(1.0f, 2.0f));
  Put d("0.1", DataType::kFp64);
  EXPECT_EQ(d.As<double>(), 0.1);
}

TEST(TensorElementTest, FloatRangeEnds) {
  EXPECT_EQ(Put("3.4028235e38", DataType::kFp32).As<float>(), std::numeric_limits<float>::max());
  EXPECT_EQ(Put("-3.4028236e38", DataType::kFp32).fit, ElementFit::kOutOfRange);
  EXPECT_EQ(Put("1e400", DataType::kFp64).fit, ElementFit::kOutOfRange);
  EXPECT_EQ(Put("1e-400", DataType::kFp64).As<double>(), 0.0);
  EXPECT_EQ(Put("65519", DataType::kFp16).As<uint16_t>(), 0x7bff);
  EXPECT_EQ(Put("-65520", DataType::kFp16).fit, ElementFit::kOutOfRange);
  EXPECT_EQ(Put("1e39", DataType::kBf16).fit, ElementFit::kOutOfRange);
  EXPECT_EQ(Put("1", DataType::kBf16).As<uint16_t>(), 0x3f80);
}

TEST(TensorElementTest, IntegersExactAtBothEnds) {
  EXPECT_EQ(Put("-9223372036854775808", DataType::kInt64).As<int64_t>(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Put("-9223372036854775809", DataType::kInt64).fit, ElementFit::kOutOfRange);
  EXPECT_EQ(Put("18446744073709551615", DataType::kUint64).As<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(Put("18446744073709551616", DataType::kUint64).fit, ElementFit::kOutOfRange);
  EXPECT_EQ(Put("-1", DataType::kUint8).fit, ElementFit::kOutOfRange);
  EXPECT_EQ(Put("-128", DataType::kInt8).As<int8_t>(), -128);
  EXPECT_EQ(Put("300e-2", DataType::kInt16).As<int16_t>(), 3);
  EXPECT_EQ(Put("1.5", DataType::kInt32).fit, ElementFit::kNotInteger);
  EXPECT_EQ(Put("-0", DataType::kInt32).As<int32_t>(), 0);
}

TEST(TensorElementTest, NonFiniteValues) {
  EXPECT_TRUE(std::isnan(Put("NaN", DataType::kFp32).As<float>()));
  EXPECT_EQ(Put("-Infinity", DataType::kFp64).As<double>(), -INFINITY);
  EXPECT_EQ(Put("Infinity", DataType::kFp16).As<uint16_t>(), 0x7c00);
  EXPECT_EQ(Put("NaN", DataType::kInt32).fit, ElementFit::kNotInteger);
  EXPECT_EQ(Put("Infinity", DataType::kUint8).fit, ElementFit::kOutOfRange);
}

TEST(TensorElementTest, NonNumericTypes) {
  EXPECT_EQ(Put("1", DataType::kBool).fit, ElementFit::kNotNumeric);
  EXPECT_EQ(Put("1", DataType::kBytes).fit, ElementFit::kNotNumeric);
  EXPECT_EQ(Put("NaN", DataType::kBytes).fit, ElementFit::kNotNumeric);
}

}  // namespace
}  // namespace tessera::json

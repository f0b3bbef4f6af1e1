#include "frontend/json/json_number.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "frontend/json/json_reader.h"

namespace tessera::json {
namespace {

// Scans `text` as a whole JSON document holding one number.
struct Scanned {
  std::string text;
  JsonNumber number;
  int count = 0;
  bool Null() { return false; }
  bool Bool(bool) { return false; }
  bool Number(const JsonNumber& n) {
    number = n;
    ++count;
    return true;
  }
  bool Double(double) { return false; }
  bool String(std::string_view) { return false; }
  bool Key(std::string_view) { return false; }
  bool StartObject() { return false; }
  bool EndObject() { return false; }
  bool StartArray() { return false; }
  bool EndArray() { return false; }
};

JsonNumber Scan(Scanned& s, std::string text) {
  s.text = std::move(text);
  s.count = 0;
  auto r = JsonReader<Scanned>(s.text, s).Parse();
  EXPECT_TRUE(r.ok()) << s.text;
  EXPECT_EQ(s.count, 1);
  return s.number;
}

// Scans `text` followed by enough spaces for JsonReader's branch-free scan
// of the common forms (FastNumber), which a bare short document never takes.
JsonNumber ScanInWindow(Scanned& s, const std::string& text) {
  return Scan(s, text + std::string(48, ' '));
}

template <typename F>
F Reference(const std::string& text) {
  F v{};
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  EXPECT_EQ(r.ec, std::errc()) << text;
  return v;
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  return u;
}

// Both scans of `text` (alone, and in a longer document) convert like
// std::from_chars.
void ExpectFloatLikeFromChars(const std::string& text) {
  Scanned bare, long_document;  // each keeps the text its number views
  for (const JsonNumber& n : {Scan(bare, text), ScanInWindow(long_document, text)}) {
    float got = 0;
    ASSERT_TRUE(ToFloat(n, &got)) << text;
    EXPECT_EQ(Bits(got), Bits(Reference<float>(text))) << text;
  }
}

void ExpectDoubleLikeFromChars(const std::string& text) {
  Scanned bare, long_document;  // each keeps the text its number views
  for (const JsonNumber& n : {Scan(bare, text), ScanInWindow(long_document, text)}) {
    double got = 0;
    ASSERT_TRUE(ToDouble(n, &got)) << text;
    EXPECT_EQ(Bits(got), Bits(Reference<double>(text))) << text;
  }
}

std::string Format(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

TEST(JsonNumberTest, ScansMantissaAndExponent) {
  Scanned s;
  JsonNumber n = Scan(s, "-12.5e3");
  EXPECT_EQ(n.text, "-12.5e3");
  EXPECT_TRUE(n.negative);
  EXPECT_FALSE(n.integral);
  EXPECT_TRUE(n.exact);
  EXPECT_EQ(n.mantissa, 125u);
  EXPECT_EQ(n.exponent, 2);
  n = Scan(s, "0.000123");
  EXPECT_EQ(n.mantissa, 123u);
  EXPECT_EQ(n.exponent, -6);
  n = Scan(s, "1234567890123456789");
  EXPECT_TRUE(n.integral);
  EXPECT_TRUE(n.exact);
  EXPECT_EQ(n.mantissa, 1234567890123456789u);
  n = Scan(s, "12345678901234567890");  // 20 digits
  EXPECT_FALSE(n.exact);
  EXPECT_EQ(n.mantissa, 1234567890123456789u);
  EXPECT_EQ(n.exponent, 1);
  n = Scan(s, "1E-2");
  EXPECT_EQ(n.exponent, -2);
  n = Scan(s, "1e+99999999999999999999");
  EXPECT_GE(n.exponent, 100000);  // capped, still far beyond any double
}

TEST(JsonNumberTest, CommonFormsInALongDocument) {
  Scanned s;
  // -?I.F: the fraction padded with zeros to 16 digits (then 17, 18).
  JsonNumber n = ScanInWindow(s, "-12.5");
  EXPECT_EQ(n.text, "-12.5");
  EXPECT_TRUE(n.negative);
  EXPECT_FALSE(n.integral);
  EXPECT_TRUE(n.exact);
  EXPECT_EQ(n.mantissa, 125000000000000000u);
  EXPECT_EQ(n.exponent, -16);
  n = ScanInWindow(s, "0.12345678901234567");
  EXPECT_EQ(n.mantissa, 12345678901234567u);
  EXPECT_EQ(n.exponent, -17);
  n = ScanInWindow(s, "0.012345678901234567");
  EXPECT_EQ(n.mantissa, 12345678901234567u);
  EXPECT_EQ(n.exponent, -18);
  n = ScanInWindow(s, "999.9999999999999999");  // 3 + 16 digits: the most that fit
  EXPECT_TRUE(n.exact);
  EXPECT_EQ(n.mantissa, 9999999999999999999u);
  EXPECT_EQ(n.exponent, -16);
  n = ScanInWindow(s, "1234567");
  EXPECT_TRUE(n.integral);
  EXPECT_EQ(n.mantissa, 1234567u);
  EXPECT_EQ(n.exponent, 0);
  // Forms left to the general scan, which must give the same values.
  for (const char* text :
       {"0", "-0", "-0.0", "0.5", "1.5e3", "1.5E-3", "12345678", "1234.5", "9999.9999999999999999",
        "0.0123456789012345678", "0.00000000000000000001", "1.00000000000000000000000001",
        "12345678901234567890.5", "3.4028235e38", "1.401298464324817e-45",
        "0.000000000000000000000000000000000000000000001401298464324817", "2.5", "-2.4999999",
        "0.10000000149011612", "1.1754942e-38", "1.1754943508222875e-38"}) {
    ExpectFloatLikeFromChars(text);
    ExpectDoubleLikeFromChars(text);
    EXPECT_EQ(Scan(s, text).negative, ScanInWindow(s, text).negative) << text;
    EXPECT_EQ(Scan(s, text).integral, ScanInWindow(s, text).integral) << text;
  }
  for (const char* text : {"1.7976931348623157e308", "2.2250738585072014e-308", "5e-324",
                           "4.9406564584124654e-324", "-0.30000000000000004"}) {
    ExpectDoubleLikeFromChars(text);
  }
  float f = 0;
  ASSERT_TRUE(ToFloat(ScanInWindow(s, "-0.0"), &f));
  EXPECT_EQ(Bits(f), 0x80000000u);
  EXPECT_FALSE(ToFloat(ScanInWindow(s, "-3.4028236e38"), &f));
  EXPECT_FALSE(ToFloat(ScanInWindow(s, "340282356779733661637539395458142568448.0"), &f));
  double d = 0;
  EXPECT_FALSE(ToDouble(ScanInWindow(s, "1e400"), &d));
}

TEST(JsonNumberTest, PythonReprOfFloat32MatchesFromChars) {
  // json.dumps(np.float32 array .tolist()): the shortest repr of each float
  // widened to double (~17 digits), the bench's and most clients' form.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> unit(-2.5f, 2.5f);
  for (int i = 0; i < 200000; ++i) {
    float f;
    if (i % 2 == 0) {
      f = unit(rng);
    } else {
      uint32_t bits = static_cast<uint32_t>(rng());
      std::memcpy(&f, &bits, 4);
      if (!std::isfinite(f)) continue;
    }
    char text[40];
    *std::to_chars(text, text + 39, static_cast<double>(f)).ptr = '\0';
    Scanned s;
    float got = 0;
    ASSERT_TRUE(ToFloat(ScanInWindow(s, text), &got)) << text;
    ASSERT_EQ(Bits(got), Bits(f)) << text;
    ASSERT_EQ(Bits(got), Bits(Reference<float>(text))) << text;
  }
}

TEST(JsonNumberTest, EightDigitHelpers) {
  auto load = [](const char* s) {
    uint64_t v;
    std::memcpy(&v, s, 8);
    return v;
  };
  EXPECT_TRUE(internal_json::IsEightDigits(load("01234567")));
  EXPECT_FALSE(internal_json::IsEightDigits(load("0123456.")));
  EXPECT_FALSE(internal_json::IsEightDigits(load("/1234567")));
  EXPECT_FALSE(internal_json::IsEightDigits(load(":1234567")));
  EXPECT_EQ(internal_json::ParseEightDigits(load("12345678")), 12345678u);
  EXPECT_EQ(internal_json::ParseEightDigits(load("00000009")), 9u);
  EXPECT_EQ(internal_json::ParseEightDigits(load("99999999")), 99999999u);
  EXPECT_EQ(internal_json::NonDigitBits(load("12345678")), 0u);
  EXPECT_EQ(std::countr_zero(internal_json::NonDigitBits(load("123,5678"))) / 8, 3);
  EXPECT_EQ(std::countr_zero(internal_json::NonDigitBits(load("\xff" "2345678"))) / 8, 0);
  for (int n = 0; n < 8; ++n) {
    EXPECT_EQ(internal_json::ParseEightDigits(internal_json::FirstDigitsPadded(load("98765432"), n)),
              98765432u / internal_json::kPow10Int[8 - n])
        << n;
  }
}

TEST(JsonNumberTest, FloatsMatchFromChars) {
  std::mt19937 rng(1);
  const char* formats[] = {"%.9g", "%.17g", "%.6e", "%.12g", "%.3f", "%.20g"};
  for (int i = 0; i < 20000; ++i) {
    uint32_t bits = static_cast<uint32_t>(rng());
    float f;
    std::memcpy(&f, &bits, 4);
    if (!std::isfinite(f)) continue;
    double d = f;
    for (const char* format : formats) {
      std::string text = Format(format, d);
      if (text.find_first_of("ni") != std::string::npos) continue;
      float probe;
      auto r = std::from_chars(text.data(), text.data() + text.size(), probe);
      if (r.ec != std::errc()) continue;  // under/overflow: covered below
      ExpectFloatLikeFromChars(text);
    }
    char shortest[32];
    *std::to_chars(shortest, shortest + 31, f).ptr = '\0';
    ExpectFloatLikeFromChars(shortest);
  }
}

TEST(JsonNumberTest, FloatMidpointsMatchFromChars) {
  // Decimal texts at and near the midpoint between two floats are where a
  // double-then-float conversion could round twice.
  std::mt19937 rng(2);
  for (int i = 0; i < 20000; ++i) {
    float f = std::ldexp(1.0f + static_cast<float>(rng() % (1u << 23)) / (1u << 23),
                         static_cast<int>(rng() % 200) - 100);
    double midpoint = static_cast<double>(f) +
                      (static_cast<double>(std::nextafter(f, INFINITY)) - f) / 2;
    for (const char* format : {"%.17g", "%.18g", "%.19g", "%.16g", "%.25g"}) {
      ExpectFloatLikeFromChars(Format(format, midpoint));
    }
  }
}

TEST(JsonNumberTest, DoublesMatchFromChars) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    if (!std::isfinite(d)) continue;
    for (const char* format : {"%.17g", "%.15g", "%.3e"}) ExpectDoubleLikeFromChars(Format(format, d));
  }
  for (const char* text : {"0.1", "-2.5", "9007199254740993", "1e22", "1e23", "123456789012345678901",
                           "0.30000000000000004", "5e-324", "-0.0", "0"}) {
    ExpectDoubleLikeFromChars(text);
  }
}

TEST(JsonNumberTest, OverflowAndUnderflow) {
  Scanned s;
  float f = 1;
  EXPECT_FALSE(ToFloat(Scan(s, "1e39"), &f));
  EXPECT_FALSE(ToFloat(Scan(s, "-3.4028236e38"), &f));
  EXPECT_TRUE(ToFloat(Scan(s, "3.4028235e38"), &f));
  EXPECT_EQ(f, std::numeric_limits<float>::max());
  EXPECT_TRUE(ToFloat(Scan(s, "1e-50"), &f));
  EXPECT_EQ(Bits(f), 0u);
  EXPECT_TRUE(ToFloat(Scan(s, "-1e-50"), &f));
  EXPECT_EQ(Bits(f), 0x80000000u);
  EXPECT_TRUE(ToFloat(Scan(s, "1e-45"), &f));
  EXPECT_EQ(Bits(f), 1u);  // the smallest subnormal
  EXPECT_TRUE(ToFloat(Scan(s, "-0"), &f));
  EXPECT_EQ(Bits(f), 0x80000000u);
  double d = 1;
  EXPECT_FALSE(ToDouble(Scan(s, "1e400"), &d));
  EXPECT_TRUE(ToDouble(Scan(s, "1e-400"), &d));
  EXPECT_EQ(d, 0.0);
  EXPECT_TRUE(ToDouble(Scan(s, "1.7976931348623157e308"), &d));
  EXPECT_EQ(d, std::numeric_limits<double>::max());
}

// "kind sign magnitude" of ToInteger, for comparing.
std::string Integer(Scanned& s, const std::string& text) {
  JsonInteger i = ToInteger(Scan(s, text));
  switch (i.kind) {
    case JsonInteger::Kind::kWhole:
      return std::string(i.negative ? "-" : "+") + std::to_string(i.magnitude);
    case JsonInteger::Kind::kNotWhole: return "fraction";
    case JsonInteger::Kind::kBeyond64Bits: return "beyond";
  }
  return "?";
}

TEST(JsonNumberTest, Integers) {
  Scanned s;
  EXPECT_EQ(Integer(s, "-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(Integer(s, "-9223372036854775809"), "-9223372036854775809");
  EXPECT_EQ(Integer(s, "18446744073709551615"), "+18446744073709551615");
  EXPECT_EQ(Integer(s, "-18446744073709551615"), "-18446744073709551615");
  EXPECT_EQ(Integer(s, "18446744073709551616"), "beyond");
  EXPECT_EQ(Integer(s, "123456789012345678901"), "beyond");
  EXPECT_EQ(Integer(s, "-0"), "-0");
  EXPECT_EQ(Integer(s, "-42"), "-42");
  EXPECT_EQ(Integer(s, "1.0"), "+1");
  EXPECT_EQ(Integer(s, "1e2"), "+100");
  EXPECT_EQ(Integer(s, "0.05e2"), "+5");
  EXPECT_EQ(Integer(s, "1200e-2"), "+12");
  EXPECT_EQ(Integer(s, "0.000e5"), "+0");
  EXPECT_EQ(Integer(s, "1.5"), "fraction");
  EXPECT_EQ(Integer(s, "1201e-2"), "fraction");
  EXPECT_EQ(Integer(s, "1e-99999999999999999999"), "fraction");
  EXPECT_EQ(Integer(s, "1e19"), "+10000000000000000000");
  EXPECT_EQ(Integer(s, "1e20"), "beyond");
  EXPECT_EQ(Integer(s, "1e99999999999999999999"), "beyond");
  EXPECT_EQ(Integer(s, "-9223372036854775808.5"), "fraction");
  EXPECT_EQ(Integer(s, "-9223372036854775809.0"), "-9223372036854775809");

  EXPECT_TRUE(ToInteger(Scan(s, "-9223372036854775808")).Fits<int64_t>());
  EXPECT_FALSE(ToInteger(Scan(s, "-9223372036854775809")).Fits<int64_t>());
  EXPECT_TRUE(ToInteger(Scan(s, "9223372036854775807")).Fits<int64_t>());
  EXPECT_FALSE(ToInteger(Scan(s, "9223372036854775808")).Fits<int64_t>());
  EXPECT_TRUE(ToInteger(Scan(s, "-128")).Fits<int8_t>());
  EXPECT_FALSE(ToInteger(Scan(s, "-129")).Fits<int8_t>());
  EXPECT_TRUE(ToInteger(Scan(s, "-0")).Fits<uint8_t>());
  EXPECT_FALSE(ToInteger(Scan(s, "-1")).Fits<uint8_t>());
  EXPECT_TRUE(ToInteger(Scan(s, "18446744073709551615")).Fits<uint64_t>());
  EXPECT_FALSE(ToInteger(Scan(s, "18446744073709551615")).Fits<int64_t>());
  EXPECT_FALSE(ToInteger(Scan(s, "1.5")).Fits<int64_t>());
}

}  // namespace
}  // namespace tessera::json

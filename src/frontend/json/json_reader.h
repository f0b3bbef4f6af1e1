// JsonReader: a small, non-recursive SAX reader for request bodies.
//
// RapidJSON's Reader converts every number to a double before a handler sees
// it; for a tensor that is both slower than needed and a second rounding for
// FP32. This reader hands numbers over as a JsonNumber (text checked against
// the JSON grammar, digits gathered on the way with 8-digit SWAR steps; the
// common forms of tensor data without a branch on their digits, see
// FastNumber), so the handler converts each once, straight into the
// tensor's type (json_number.h). Everything else follows RFC 8259 as
// RapidJSON does (same error codes and messages, rapidjson/error/en.h), plus
// the NaN, Infinity and -Infinity tokens TF Serving accepts. Strings without
// escapes are passed as views into the input; escaped ones are decoded into
// a scratch buffer, valid until the handler returns. Bytes >= 0x80 are passed
// through unchecked.
//
// Arrays and objects nest at most kMaxJsonDepth levels (common/json_depth.h):
// the bracket that would open one more stops the parse before the handler
// sees it, with too_deep set and its offset; the open-container stack is
// bounded by the limit.
//
// Handler interface (each returns false to stop with kParseErrorTermination):
//   Null() Bool(bool) Number(const JsonNumber&)
//   Double(double)  // NaN, Infinity, -Infinity
//   String(std::string_view) Key(std::string_view)
//   StartObject() EndObject() StartArray() EndArray()
//
// Not thread-safe; one reader per parse.
#pragma once

#include <rapidjson/error/error.h>

#include <bit>
#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_depth.h"
#include "frontend/json/json_number.h"

namespace tessera::json {

struct JsonReadResult {
  rapidjson::ParseErrorCode code = rapidjson::kParseErrorNone;
  size_t offset = 0;
  bool too_deep = false;  // code is then kParseErrorTermination
  bool ok() const { return code == rapidjson::kParseErrorNone; }
};

template <typename Handler>
class JsonReader {
 public:
  // REQUIRES: text.data()[text.size()] is readable (e.g. a std::string's
  // terminating NUL); it is never taken as part of the document.
  JsonReader(std::string_view text, Handler& handler)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), h_(handler) {}

  JsonReadResult Parse() {
    SkipSpace();
    if (p_ == end_) return Error(rapidjson::kParseErrorDocumentEmpty);
    while (true) {
      // A value is expected here.
      SkipSpace();
      switch (*p_) {
        case '{':
          if (stack_.size() >= static_cast<size_t>(kMaxJsonDepth)) return TooDeep();
          ++p_;
          if (!h_.StartObject()) return Error(rapidjson::kParseErrorTermination);
          SkipSpace();
          if (*p_ == '}' && p_ != end_) {
            ++p_;
            if (!h_.EndObject()) return Error(rapidjson::kParseErrorTermination);
            break;
          }
          stack_.push_back('{');
          if (auto r = ReadKey(); !r.ok()) return r;
          continue;
        case '[':
          if (stack_.size() >= static_cast<size_t>(kMaxJsonDepth)) return TooDeep();
          ++p_;
          if (!h_.StartArray()) return Error(rapidjson::kParseErrorTermination);
          SkipSpace();
          if (*p_ == ']' && p_ != end_) {
            ++p_;
            if (!h_.EndArray()) return Error(rapidjson::kParseErrorTermination);
            break;
          }
          stack_.push_back('[');
          continue;
        default:
          if (auto r = ReadScalar(); !r.ok()) return r;
      }
      // A value ended: close containers, find the next value or finish.
      while (true) {
        SkipSpace();
        if (stack_.empty()) {
          if (p_ != end_) return Error(rapidjson::kParseErrorDocumentRootNotSingular);
          return {};
        }
        char c = p_ == end_ ? '\0' : *p_;
        if (stack_.back() == '[') {
          if (c == ',') {
            ++p_;
            // Tensor data: a number after a comma, read without the
            // dispatch on the value's first byte (not -Infinity).
            SkipSpace();
            if (p_ != end_ && (IsDigit(*p_) || (*p_ == '-' && p_[1] != 'I'))) {
              if (auto r = ReadNumber(); !r.ok()) return r;
              continue;
            }
            break;
          }
          if (c != ']') return Error(rapidjson::kParseErrorArrayMissCommaOrSquareBracket);
          ++p_;
          stack_.pop_back();
          if (!h_.EndArray()) return Error(rapidjson::kParseErrorTermination);
        } else {
          if (c == ',') {
            ++p_;
            if (auto r = ReadKey(); !r.ok()) return r;
            break;
          }
          if (c != '}') return Error(rapidjson::kParseErrorObjectMissCommaOrCurlyBracket);
          ++p_;
          stack_.pop_back();
          if (!h_.EndObject()) return Error(rapidjson::kParseErrorTermination);
        }
      }
    }
  }

 private:
  JsonReadResult Error(rapidjson::ParseErrorCode code) const {
    return {code, static_cast<size_t>(p_ - begin_)};
  }

  // At the bracket that would open level kMaxJsonDepth + 1; stack_ holds
  // every open container (an empty one closes before the next opens).
  JsonReadResult TooDeep() const {
    JsonReadResult r = Error(rapidjson::kParseErrorTermination);
    r.too_deep = true;
    return r;
  }

  // Hot loops scan with a local pointer: p_ is a member, and a char load
  // may alias it, which would make the compiler store it on every step.
  void SkipSpace() {
    const char* p = p_;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') ++p;
    // The terminating byte is never a space, so this stops at end_.
    p_ = p;
  }

  static const char* SkipDigits(const char* p) {
    while (IsDigit(*p)) ++p;
    return p;
  }


  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // `"name" :` inside an object.
  JsonReadResult ReadKey() {
    SkipSpace();
    if (p_ == end_ || *p_ != '"') return Error(rapidjson::kParseErrorObjectMissName);
    std::string_view key;
    if (auto r = ReadString(&key); !r.ok()) return r;
    if (!h_.Key(key)) return Error(rapidjson::kParseErrorTermination);
    SkipSpace();
    if (p_ == end_ || *p_ != ':') return Error(rapidjson::kParseErrorObjectMissColon);
    ++p_;
    return {};
  }

  JsonReadResult ReadScalar() {
    if (p_ == end_) return Error(rapidjson::kParseErrorValueInvalid);
    bool ok;
    switch (*p_) {
      case '"': {
        std::string_view s;
        if (auto r = ReadString(&s); !r.ok()) return r;
        ok = h_.String(s);
        break;
      }
      case 't':
        if (!Literal("true")) return Error(rapidjson::kParseErrorValueInvalid);
        ok = h_.Bool(true);
        break;
      case 'f':
        if (!Literal("false")) return Error(rapidjson::kParseErrorValueInvalid);
        ok = h_.Bool(false);
        break;
      case 'n':
        if (!Literal("null")) return Error(rapidjson::kParseErrorValueInvalid);
        ok = h_.Null();
        break;
      case 'N':
        if (!Literal("NaN")) return Error(rapidjson::kParseErrorValueInvalid);
        ok = h_.Double(std::numeric_limits<double>::quiet_NaN());
        break;
      case 'I':
        if (!Literal("Infinity")) return Error(rapidjson::kParseErrorValueInvalid);
        ok = h_.Double(std::numeric_limits<double>::infinity());
        break;
      default:
        if (*p_ == '-' && p_ + 1 < end_ && p_[1] == 'I') {
          ++p_;
          if (!Literal("Infinity")) return Error(rapidjson::kParseErrorValueInvalid);
          ok = h_.Double(-std::numeric_limits<double>::infinity());
          break;
        }
        return ReadNumber();
    }
    return ok ? JsonReadResult{} : Error(rapidjson::kParseErrorTermination);
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, with the digits gathered
  // into a JsonNumber on the way.
  [[gnu::always_inline]] JsonReadResult ReadNumber() {
    JsonNumber n;
    const char* start = p_;
    if (end_ - start >= kFastNumberWindow) [[likely]] {
      if (const char* end = FastNumber(start, &n)) {
        p_ = end;
        n.text = std::string_view(start, static_cast<size_t>(end - start));
        if (!h_.Number(n)) return Error(rapidjson::kParseErrorTermination);
        return {};
      }
      n = JsonNumber();
    }
    const char* p = p_;
    if (*p == '-') {
      n.negative = true;
      ++p;
    }
    int digits = 0;  // digits in n.mantissa
    int64_t taken = 0, skipped = 0;
    if (*p == '0') {
      ++p;
    } else if (*p >= '1' && *p <= '9') {
      p = Digits(p, &n.mantissa, &digits, &taken, &skipped);
      n.exponent += skipped;
      n.exact = skipped == 0;
    } else {
      p_ = p;
      return Error(rapidjson::kParseErrorValueInvalid);
    }
    if (*p == '.') {
      n.integral = false;
      if (!IsDigit(p[1])) {
        p_ = p + 1;
        return Error(rapidjson::kParseErrorNumberMissFraction);
      }
      p = Digits(p + 1, &n.mantissa, &digits, &taken, &skipped);
      n.exponent -= taken;
      n.exact = n.exact && skipped == 0;
    }
    if (*p == 'e' || *p == 'E') {
      n.integral = false;
      ++p;
      bool minus = *p == '-';
      if (*p == '+' || *p == '-') ++p;
      if (!IsDigit(*p)) {
        p_ = p;
        return Error(rapidjson::kParseErrorNumberMissExponent);
      }
      int64_t e = 0;
      for (; IsDigit(*p); ++p) {
        if (e < kExponentCap) e = e * 10 + (*p - '0');
      }
      n.exponent += minus ? -e : e;
    }
    // The terminating byte is not a digit, so the scans above stop at end_.
    p_ = p;
    n.text = std::string_view(start, static_cast<size_t>(p - start));
    if (!h_.Number(n)) return Error(rapidjson::kParseErrorTermination);
    return {};
  }

  // The common number forms without a branch on their digits: -?I or
  // -?I.F with I of 1..7 digits and F of 1..18, no exponent, where the
  // mantissa fits 19 digits. Fills *n but its text and returns the number's
  // end; nullptr for any other form (or an error), which ReadNumber's
  // general scan then reads. REQUIRES: kFastNumberWindow bytes at `p`.
  //
  // The fraction's digits are loaded 8 at a time and the bytes after them
  // replaced by '0's: F's first 16 digits make a 16-digit number F' with
  // trailing zeros, and digits 17 and 18 (c0, c1) are appended, so that
  // value = (I x 10^s + F') x 10^-s with s = 16 or 17 or 18.
  [[gnu::always_inline]] static const char* FastNumber(const char* p, JsonNumber* n) {
    using internal_json::FirstDigitsPadded;
    using internal_json::kPow10Int;
    using internal_json::NonDigitBits;
    using internal_json::ParseEightDigits;
    constexpr uint64_t kZeros = 0x3030303030303030;
    const bool negative = *p == '-';
    p += negative;
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    const int int_digits = std::countr_zero(NonDigitBits(word)) / 8;  // 8: none ends
    const bool leading_zero = (word & 0xff) == '0';
    if (int_digits == 0 || int_digits == 8 || (leading_zero && int_digits > 1)) return nullptr;
    const uint64_t first_digit = (word & 0xff) - '0';
    const uint64_t int_value =
        int_digits == 1 ? first_digit : ParseEightDigits(FirstDigitsPadded(word, int_digits));
    p += int_digits;
    if (*p != '.') {
      if (*p == 'e' || *p == 'E') return nullptr;
      n->negative = negative;
      n->mantissa = int_value;
      return p;
    }
    ++p;
    uint64_t a, b, c;
    std::memcpy(&a, p, sizeof a);
    std::memcpy(&b, p + 8, sizeof b);
    std::memcpy(&c, p + 16, sizeof c);
    const uint64_t a_bits = NonDigitBits(a), b_bits = NonDigitBits(b);
    const int a_digits = std::countr_zero(a_bits) / 8;
    const int b_digits = std::countr_zero(b_bits) / 8;
    const int c_digits = std::countr_zero(NonDigitBits(c)) / 8;
    const int frac_digits =
        a_digits < 8 ? a_digits : (b_digits < 8 ? 8 + b_digits : 16 + c_digits);
    if (frac_digits == 0 || frac_digits > 18) return nullptr;
    // Keep the bytes below the first non-digit ((lowest bit >> 7) - 1 has
    // their bits set; all of them when there is none); b only if a is full.
    const uint64_t a_keep = ((a_bits & (~a_bits + 1)) >> 7) - 1;
    const uint64_t b_keep = a_bits != 0 ? 0 : ((b_bits & (~b_bits + 1)) >> 7) - 1;
    a = (a & a_keep) | (kZeros & ~a_keep);
    b = (b & b_keep) | (kZeros & ~b_keep);
    const int extra = frac_digits > 16 ? frac_digits - 16 : 0;  // 0..2
    const uint64_t c0 = (c & 0xff) - '0', c1 = ((c >> 8) & 0xff) - '0';
    const uint64_t tail = extra == 0 ? 0 : (extra == 1 ? c0 : c0 * 10 + c1);
    const uint64_t frac =
        (uint64_t{ParseEightDigits(a)} * kPow10Int[8] + ParseEightDigits(b)) * kPow10Int[extra] +
        tail;
    const int scale = 16 + extra;
    if (int_value >= kPow10Int[19 - scale]) return nullptr;  // more than 19 digits
    p += frac_digits;
    if (*p == 'e' || *p == 'E') return nullptr;
    n->negative = negative;
    n->integral = false;
    n->mantissa = int_value * kPow10Int[scale] + frac;
    n->exponent = -scale;
    return p;
  }

  // Scans the digits at `p`, adding them to *mantissa while it holds fewer
  // than 19 (*digits); returns their end. *taken: digits added by this call,
  // *skipped: digits after those.
  const char* Digits(const char* p, uint64_t* mantissa, int* digits, int64_t* taken,
                     int64_t* skipped) const {
    const char* first = p;
    uint64_t m = *mantissa;
    int d = *digits;
    while (d + 8 <= kMaxDigits && end_ - p >= 8) {
      uint64_t eight;
      std::memcpy(&eight, p, sizeof eight);
      if (!internal_json::IsEightDigits(eight)) break;
      m = m * 100000000 + internal_json::ParseEightDigits(eight);
      d += 8;
      p += 8;
    }
    while (d < kMaxDigits && IsDigit(*p)) {
      m = m * 10 + static_cast<uint64_t>(*p - '0');
      ++d;
      ++p;
    }
    const char* last = p;
    p = SkipDigits(p);
    *mantissa = m;
    *digits = d;
    *taken = last - first;
    *skipped = p - last;
    return p;
  }

  // REQUIRES: *p_ == '"'. On success *out views the input or scratch_.
  JsonReadResult ReadString(std::string_view* out) {
    const char* start = p_ + 1;
    const char* p = start;
    while (true) {
      auto c = static_cast<unsigned char>(*p);
      if (c == '"') break;
      if (c == '\\' || c < 0x20) {
        p_ = p;
        return c == '\\' ? ReadEscapedString(start, out) : StringControlError();
      }
      ++p;
    }
    *out = std::string_view(start, static_cast<size_t>(p - start));
    p_ = p + 1;
    return {};
  }

  // An unescaped control character (RapidJSON's codes: a NUL ends the text).
  JsonReadResult StringControlError() const {
    return Error(*p_ == '\0' ? rapidjson::kParseErrorStringMissQuotationMark
                             : rapidjson::kParseErrorStringEscapeInvalid);
  }

  JsonReadResult ReadEscapedString(const char* start, std::string_view* out) {
    scratch_.assign(start, p_);
    while (true) {
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"') break;
      if (c < 0x20) return StringControlError();
      if (c != '\\') {
        scratch_.push_back(static_cast<char>(c));
        ++p_;
        continue;
      }
      const char* escape = p_++;
      switch (*p_) {
        case '"': scratch_.push_back('"'); break;
        case '\\': scratch_.push_back('\\'); break;
        case '/': scratch_.push_back('/'); break;
        case 'b': scratch_.push_back('\b'); break;
        case 'f': scratch_.push_back('\f'); break;
        case 'n': scratch_.push_back('\n'); break;
        case 'r': scratch_.push_back('\r'); break;
        case 't': scratch_.push_back('\t'); break;
        case 'u':
          if (auto r = ReadUnicodeEscape(); !r.ok()) return r;
          continue;
        default:
          p_ = escape;
          return Error(rapidjson::kParseErrorStringEscapeInvalid);
      }
      ++p_;
    }
    *out = scratch_;
    ++p_;
    return {};
  }

  // REQUIRES: *p_ == 'u' after a backslash. Appends the code point as UTF-8.
  JsonReadResult ReadUnicodeEscape() {
    ++p_;
    unsigned code;
    if (!Hex4(&code)) return Error(rapidjson::kParseErrorStringUnicodeEscapeInvalidHex);
    if (code >= 0xd800 && code <= 0xdbff) {
      unsigned low;
      if (p_[0] != '\\' || p_[1] != 'u') {
        return Error(rapidjson::kParseErrorStringUnicodeSurrogateInvalid);
      }
      p_ += 2;
      if (!Hex4(&low)) return Error(rapidjson::kParseErrorStringUnicodeEscapeInvalidHex);
      if (low < 0xdc00 || low > 0xdfff) {
        return Error(rapidjson::kParseErrorStringUnicodeSurrogateInvalid);
      }
      code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
    }
    AppendUtf8(code);
    return {};
  }

  bool Hex4(unsigned* out) {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = p_[i];  // stops at the terminating byte, which is not hex
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        p_ += i;
        return false;
      }
    }
    p_ += 4;
    *out = v;
    return true;
  }

  void AppendUtf8(unsigned code) {
    if (code < 0x80) {
      scratch_.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      scratch_.push_back(static_cast<char>(0xc0 | (code >> 6)));
      scratch_.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
      scratch_.push_back(static_cast<char>(0xe0 | (code >> 12)));
      scratch_.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      scratch_.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else {
      scratch_.push_back(static_cast<char>(0xf0 | (code >> 18)));
      scratch_.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
      scratch_.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      scratch_.push_back(static_cast<char>(0x80 | (code & 0x3f)));
    }
  }

  static constexpr int kMaxDigits = 19;  // 10^19 - 1 fits in uint64_t
  // Bytes FastNumber may load: sign, 8 (integer digits and the point), 24.
  static constexpr ptrdiff_t kFastNumberWindow = 40;
  static constexpr int64_t kExponentCap = 100000;  // far beyond any double

  const char* const begin_;
  const char* p_;
  const char* const end_;
  Handler& h_;
  std::vector<char> stack_;  // '{' or '[' per open container
  std::string scratch_;      // decoded escaped string
};

}  // namespace tessera::json

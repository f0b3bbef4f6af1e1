#include "frontend/json/json_reader.h"

#include <gtest/gtest.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace tessera::json {
namespace {

// Both readers' events, written as text so they can be compared.
struct OurEvents {
  std::string out;
  bool Null() { return Add("null"); }
  bool Bool(bool b) { return Add(b ? "true" : "false"); }
  bool Number(const JsonNumber& n) {
    double d = 0;
    std::from_chars(n.text.data(), n.text.data() + n.text.size(), d);
    return AddNumber(d);
  }
  bool Double(double d) { return AddNumber(d); }
  bool String(std::string_view s) { return Add("s:" + std::string(s)); }
  bool Key(std::string_view s) { return Add("k:" + std::string(s)); }
  bool StartObject() { return Add("{"); }
  bool EndObject() { return Add("}"); }
  bool StartArray() { return Add("["); }
  bool EndArray() { return Add("]"); }

  bool AddNumber(double d) {
    // RapidJSON reports "-0" as the integer 0; JsonNumber keeps the sign
    // (json_number_test checks it), so zeros compare unsigned here.
    if (d == 0) d = 0;
    char buf[40];
    std::snprintf(buf, sizeof buf, "n:%.17g", d);
    return Add(buf);
  }
  bool Add(const std::string& e) {
    out += e;
    out += ' ';
    return true;
  }
};

struct RapidEvents : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RapidEvents> {
  OurEvents e;
  bool Null() { return e.Null(); }
  bool Bool(bool b) { return e.Bool(b); }
  bool Int(int i) { return e.AddNumber(i); }
  bool Uint(unsigned u) { return e.AddNumber(u); }
  bool Int64(int64_t i) { return e.AddNumber(static_cast<double>(i)); }
  bool Uint64(uint64_t u) { return e.AddNumber(static_cast<double>(u)); }
  bool Double(double d) { return e.AddNumber(d); }
  bool String(const char* s, rapidjson::SizeType n, bool) { return e.String({s, n}); }
  bool Key(const char* s, rapidjson::SizeType n, bool) { return e.Key({s, n}); }
  bool StartObject() { return e.StartObject(); }
  bool EndObject(rapidjson::SizeType) { return e.EndObject(); }
  bool StartArray() { return e.StartArray(); }
  bool EndArray(rapidjson::SizeType) { return e.EndArray(); }
};

struct Outcome {
  rapidjson::ParseErrorCode code;
  std::string events;
};

Outcome Ours(const std::string& text) {
  OurEvents h;
  auto r = JsonReader<OurEvents>(text, h).Parse();
  return {r.code, r.ok() ? h.out : ""};
}

Outcome Rapid(const std::string& text) {
  RapidEvents h;
  rapidjson::Reader reader;
  rapidjson::StringStream stream(text.c_str());
  auto r = reader.Parse<rapidjson::kParseNanAndInfFlag | rapidjson::kParseFullPrecisionFlag>(
      stream, h);
  return {r.Code(), r.IsError() ? "" : h.e.out};
}

std::string WithoutNumbers(const std::string& events) {
  std::string out;
  bool in_number = false;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events.compare(i, 2, "n:") == 0 && (i == 0 || events[i - 1] == ' ')) in_number = true;
    if (in_number && events[i] == ' ') in_number = false;
    if (!in_number || events[i] == 'n') out += events[i];
  }
  return out;
}

// Also with trailing spaces, which make room for the reader's branch-free
// scan of the common number forms.
void ExpectSameAsRapidJson(const std::string& bare) {
  for (const std::string& text : {bare, bare + std::string(48, ' ')}) {
    Outcome ours = Ours(text);
    Outcome rapid = Rapid(text);
    EXPECT_EQ(ours.code, rapid.code) << text << "\n ours: " << rapidjson::GetParseError_En(ours.code)
                                     << "\n rapidjson: " << rapidjson::GetParseError_En(rapid.code);
    EXPECT_EQ(ours.events, rapid.events) << text;
  }
}

TEST(JsonReaderTest, ValidDocumentsGiveRapidJsonsEvents) {
  const char* docs[] = {
      "{}", "[]", "0", "-0", "1", "-1", "1.5", "-1.5e10", "1E+2", "1e-2", "123456789012345678901",
      "\"\"", "\"abc\"", "true", "false", "null", "NaN", "Infinity", "-Infinity",
      " \t\r\n{ \"a\" : [ 1 , 2 , { \"b\" : null } ] , \"c\" : \"d\" } \n",
      "[[[[[]]]]]", "[{}, {}, []]", "{\"a\":{\"b\":{\"c\":[true,false]}}}",
      R"(["\"\\\/\b\f\n\r\t"])", R"(["\u0041\u00e9\u20ac\ud83d\ude00"])", R"({"k\u0000ey": 1})",
      "[0.1, 0.30000000000000004, 1e308, 5e-324, 2.2250738585072014e-308]",
      "[NaN, Infinity, -Infinity, -0.0]", "\"caf\xc3\xa9\"",
      "[1.2345678901234567, -0.012345678901234567, 1234567, -7.5, 0.0, 123.456]",
  };
  for (const char* doc : docs) ExpectSameAsRapidJson(doc);
}

TEST(JsonReaderTest, InvalidDocumentsGiveRapidJsonsErrors) {
  const char* docs[] = {
      "", "   ", "{", "[", "]", "}", "{]", "[}", "[1,]", "[,1]", "[1 2]", "{,}", "{\"a\"}",
      "{\"a\" 1}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "{1:2}", "{\"a\":1]", "[1}",
      "01", "[01]", "-", "[-]", "1.", "1.e3", ".5", "1e", "1e+", "+1", "0x10", "--1",
      "tru", "truex", "nul", "fals", "nan", "NAN", "infinity", "-inf", "\"abc", "\"\\x\"",
      "\"\\u12G4\"", "\"\\uD800\"", "\"\\uD800\\u0041\"", "\"\\uDC00\"", "\"a\x01\"",
      "\"a\tb\"", "{} {}", "[] x", "1 2", "'a'", "[\"a\" : 1]", "{\"a\":1}}",
      "[1.2345678901234567.5]", "[-01.5]", "[1.5-]", "[-.5]", "[00.5]", "[1.2.3]", "[1.5x]",
  };
  for (const char* doc : docs) ExpectSameAsRapidJson(doc);
}

TEST(JsonReaderTest, NulBytesAreNotJson) {
  ExpectSameAsRapidJson(std::string("[1,\0 2]", 7));
  ExpectSameAsRapidJson(std::string("\"a\0b\"", 5));
  std::string trailing("[1]\0[2]", 7);
  EXPECT_EQ(Ours(trailing).code, rapidjson::kParseErrorDocumentRootNotSingular);
}

TEST(JsonReaderTest, ReportsOffsets) {
  OurEvents h;
  std::string text = "[1, 2,]";
  auto r = JsonReader<OurEvents>(text, h).Parse();
  EXPECT_EQ(r.code, rapidjson::kParseErrorValueInvalid);
  EXPECT_EQ(r.offset, 6u);
}

TEST(JsonReaderTest, StopsWhenTheHandlerSaysSo) {
  struct Stop : OurEvents {
    bool StartArray() { return false; }
  } h;
  std::string text = "{\"a\": [1]}";
  auto r = JsonReader<Stop>(text, h).Parse();
  EXPECT_EQ(r.code, rapidjson::kParseErrorTermination);
  EXPECT_EQ(h.out, "{ k:a ");
}

JsonReadResult Read(const std::string& text, OurEvents* h) {
  return JsonReader<OurEvents>(text, *h).Parse();
}

TEST(JsonReaderTest, NestingIsBoundedAt64Levels) {
  static_assert(kMaxJsonDepth == 64);
  OurEvents h;
  auto r = Read(std::string(64, '[') + std::string(64, ']'), &h);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.too_deep);
  // Mixed, with empty containers that close before the next opens.
  // Empty containers count as a level too.
  std::string head, tail;
  for (int i = 0; i < 31; ++i) head += "{\"a\":[{},[],";  // 12 bytes, 2 levels
  for (int i = 0; i < 31; ++i) tail += "]}";
  EXPECT_TRUE(Read(head + "[[]]" + tail, &h).ok());
  r = Read(head + "[[{}]]" + tail, &h);
  EXPECT_TRUE(r.too_deep);
  EXPECT_EQ(r.offset, 31u * 12 + 2);

  h.out.clear();
  r = Read(std::string(65, '[') + std::string(65, ']'), &h);
  EXPECT_EQ(r.code, rapidjson::kParseErrorTermination);
  EXPECT_TRUE(r.too_deep);
  EXPECT_EQ(r.offset, 64u);  // the 65th '['
  EXPECT_EQ(std::count(h.out.begin(), h.out.end(), '['), 64);  // the handler never saw it
}

TEST(JsonReaderTest, HostileNestingStopsAtTheBound) {
  OurEvents h;
  auto r = Read(std::string(1000000, '['), &h);
  EXPECT_TRUE(r.too_deep);
  EXPECT_EQ(r.offset, 64u);
  std::string objects;
  for (int i = 0; i < 1000000; ++i) objects += "{\"a\":";
  r = Read(objects, &h);
  EXPECT_TRUE(r.too_deep);
  EXPECT_EQ(r.offset, 5u * 64);
  // Other errors are not "too deep".
  r = Read("[1,]", &h);
  EXPECT_FALSE(r.too_deep);
}

TEST(JsonReaderTest, FuzzedDocumentsAgreeWithRapidJson) {
  // Mutations of a valid document; the NaN/Infinity tokens are left out of
  // the alphabet (RapidJSON also takes "Inf", which TF Serving does not).
  const std::string seed =
      R"({"signature_name": "x", "instances": [{"a": [1.5, -2, 3e4], "b": "s\n\u00e9"},)"
      R"( {"a": [0, 0.25, -1e-3], "b": {"b64": "AAEC"}}], "c": [true, false, null]})";
  const std::string alphabet = "{}[]\":,.-+eE0123456789 \\tfnrua\t\n";
  std::mt19937 rng(4);
  for (int i = 0; i < 20000; ++i) {
    std::string doc = seed;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      size_t pos = rng() % doc.size();
      switch (rng() % 3) {
        case 0: doc[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: doc.erase(pos, 1 + rng() % 3); break;
        default: doc.insert(pos, 1, alphabet[rng() % alphabet.size()]);
      }
    }
    Outcome ours = Ours(doc);
    Outcome rapid = Rapid(doc);
    ASSERT_EQ(ours.code, rapid.code) << doc;
    // Values are left out: RapidJSON 1.1 misreads e.g. "0E235" as 2e-31.
    ASSERT_EQ(WithoutNumbers(ours.events), WithoutNumbers(rapid.events)) << doc;
  }
}

}  // namespace
}  // namespace tessera::json

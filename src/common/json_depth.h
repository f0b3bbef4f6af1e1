// The nesting bound of every JSON document Tessera reads from outside the
// process: REST request bodies (KServe v2 and TF Serving), config.json and
// the values of JSON flags, mapping_config.json, signature files.
//
// A document nests at most kMaxJsonDepth arrays and objects, the outermost
// container counting as level 1 (`[[1]]` is 2 levels). Readers refuse the
// container that would open level kMaxJsonDepth + 1 before descending into
// it, so parsing takes stack and memory bounded by the limit, not by the
// input. Documents are parsed iteratively (RapidJSON's kParseIterativeFlag,
// or a reader that does not recurse); the depth count bounds the parser's
// own heap stack as well.
//
// Header-only; everything here is thread-compatible.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera {

inline constexpr int kMaxJsonDepth = 64;

// "nesting deeper than 64 levels": the reason, for messages that already
// say the text is JSON and where.
inline std::string JsonNestingReason() {
  return "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

// "JSON nesting deeper than 64 levels at offset N": the REST answer, N being
// the byte offset of the bracket or brace that opens the level too many.
inline std::string JsonNestingMessage(size_t offset) {
  return "JSON " + JsonNestingReason() + " at offset " + std::to_string(offset);
}

// The open-container count of one parse, for a SAX handler: Enter() on
// every array or object start, Leave() on its end.
class JsonDepth {
 public:
  // False, and exceeded() from then on, when one more container would pass
  // kMaxJsonDepth; the handler then stops the parse.
  bool Enter() {
    if (depth_ >= kMaxJsonDepth) {
      exceeded_ = true;
      return false;
    }
    ++depth_;
    return true;
  }
  void Leave() { --depth_; }
  bool exceeded() const { return exceeded_; }

 private:
  int depth_ = 0;
  bool exceeded_ = false;
};

// A RapidJSON SAX handler that forwards every event to `Inner` (e.g. a
// rapidjson::Document) and stops the parse with kParseErrorTermination when
// the nesting passes kMaxJsonDepth. `Inner` must outlive it.
template <typename Inner>
class DepthLimitedHandler {
 public:
  using Ch = typename Inner::Ch;
  using SizeType = rapidjson::SizeType;

  explicit DepthLimitedHandler(Inner& inner) : inner_(inner) {}

  bool Null() { return inner_.Null(); }
  bool Bool(bool b) { return inner_.Bool(b); }
  bool Int(int i) { return inner_.Int(i); }
  bool Uint(unsigned u) { return inner_.Uint(u); }
  bool Int64(int64_t i) { return inner_.Int64(i); }
  bool Uint64(uint64_t u) { return inner_.Uint64(u); }
  bool Double(double d) { return inner_.Double(d); }
  bool RawNumber(const Ch* s, SizeType n, bool copy) { return inner_.RawNumber(s, n, copy); }
  bool String(const Ch* s, SizeType n, bool copy) { return inner_.String(s, n, copy); }
  bool Key(const Ch* s, SizeType n, bool copy) { return inner_.Key(s, n, copy); }
  bool StartObject() { return depth_.Enter() && inner_.StartObject(); }
  bool EndObject(SizeType members) {
    depth_.Leave();
    return inner_.EndObject(members);
  }
  bool StartArray() { return depth_.Enter() && inner_.StartArray(); }
  bool EndArray(SizeType elements) {
    depth_.Leave();
    return inner_.EndArray(elements);
  }

  bool exceeded() const { return depth_.exceeded(); }

 private:
  Inner& inner_;
  JsonDepth depth_;
};

// The outcome of ParseJsonDocument: RapidJSON's result, and whether it
// failed on the nesting bound (then result.Offset() is the offset of the
// bracket or brace that opens the level too many).
struct JsonDocumentParse {
  rapidjson::ParseResult result;
  bool too_deep = false;
  bool ok() const { return !result.IsError(); }
};

// Parses `text` (need not be NUL-terminated) into `doc` without recursion
// and with at most kMaxJsonDepth levels. `kFlags` are further RapidJSON
// parse flags (not kParseInsituFlag). On failure `doc` is left null.
template <unsigned kFlags = rapidjson::kParseDefaultFlags>
JsonDocumentParse ParseJsonDocument(std::string_view text, rapidjson::Document& doc) {
  JsonDocumentParse out;
  auto parse = [&](rapidjson::Document& target) {
    DepthLimitedHandler<rapidjson::Document> handler(target);
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(memory);
    rapidjson::Reader reader;
    out.result = reader.Parse<kFlags | rapidjson::kParseIterativeFlag>(stream, handler);
    out.too_deep = handler.exceeded();
    return !out.result.IsError();
  };
  doc.SetNull();
  doc.Populate(parse);
  return out;
}

}  // namespace tessera

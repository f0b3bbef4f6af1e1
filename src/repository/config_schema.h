// Internal to the repository library: the JSON Schemas of config.json and of
// its single-value settings, and the one-line messages describing why a
// document fails them. Used by config_parser.cc only.
//
// Thread-safety: the compiled schemas are built once (function statics) and
// only read afterwards; every function may be called concurrently.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::config_internal {

// A compiled schema plus its source document (kept to look up the schema
// node an error points at).
class CompiledSchema {
 public:
  explicit CompiledSchema(const std::string& text);
  CompiledSchema(const CompiledSchema&) = delete;
  CompiledSchema& operator=(const CompiledSchema&) = delete;

  // False only when the built-in schema text itself is broken (a bug).
  bool valid() const { return valid_; }
  const rapidjson::Document& source() const { return source_; }
  const rapidjson::SchemaDocument& compiled() const { return *compiled_; }

 private:
  bool valid_ = true;
  rapidjson::Document source_;
  std::unique_ptr<rapidjson::SchemaDocument> compiled_;
};

// The whole config.json.
const CompiledSchema& ServerConfigSchema();
// model_version_policy: an object with exactly one of all / latest / specific.
const CompiledSchema& VersionPolicySchema();
// shape / layout: a string, or an object whose values are strings.
const CompiledSchema& PerInputSchema();
// plugin_config: an object whose values are strings, numbers or booleans.
const CompiledSchema& PluginConfigSchema();
// dynamic_batching: max_batch_size, max_queue_delay_microseconds,
// preferred_batch_sizes (all optional).
const CompiledSchema& DynamicBatchingSchema();

// Parses `text` into `doc`, iteratively and at most kMaxJsonDepth levels
// deep (common/json_depth.h). On a syntax error returns the reason with its
// byte offset, line and column: "Missing a name for object member at offset
// 2 (line 1, column 3)", "nesting deeper than 64 levels at offset 64 (line
// 1, column 65)".
std::optional<std::string> ParseJson(std::string_view text, rapidjson::Document& doc);

// Validates `doc` against `schema`; on failure returns one line naming the
// JSON Pointer of the offending value and what was expected, e.g.
// "/model_config_list/0/config/nireq must be an integer (got string "4")".
// `root_label` names the document itself when the root is at fault.
std::optional<std::string> Validate(const CompiledSchema& schema, const rapidjson::Value& doc,
                                    std::string_view root_label);

// The compact JSON text of `v`.
std::string CompactJson(const rapidjson::Value& v);

// The member `name` of `object`, or nullptr (also when `object` is not an
// object).
const rapidjson::Value* FindMember(const rapidjson::Value* object, const char* name);

}  // namespace tessera::config_internal

#include "repository/config_schema.h"

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json_depth.h"
#include "common/logging.h"

namespace tessera::config_internal {

std::string CompactJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> writer(sb);
  v.Accept(writer);
  return std::string(sb.GetString(), sb.GetSize());
}

const rapidjson::Value* FindMember(const rapidjson::Value* object, const char* name) {
  if (object == nullptr || !object->IsObject()) return nullptr;
  auto it = object->FindMember(name);
  return it == object->MemberEnd() ? nullptr : &it->value;
}

namespace {

// ---------------------------------------------------------------------------
// The schema. Written so that RapidJSON's validator stops at the innermost
// offending value: "oneOf" is avoided (its failure only says "none matched"),
// e.g. the version policy is "an object with exactly one of these keys"
// rather than a oneOf of three objects.

constexpr std::string_view kVersionPolicySchema = R"json({
  "type": "object",
  "minProperties": 1,
  "maxProperties": 1,
  "additionalProperties": false,
  "properties": {
    "all": {"type": "object", "additionalProperties": false},
    "latest": {
      "type": "object",
      "required": ["num_versions"],
      "additionalProperties": false,
      "properties": {
        "num_versions": {"type": "integer", "minimum": 1, "maximum": 9223372036854775807}
      }
    },
    "specific": {
      "type": "object",
      "required": ["versions"],
      "additionalProperties": false,
      "properties": {
        "versions": {
          "type": "array",
          "items": {"type": "integer", "minimum": 1, "maximum": 9223372036854775807}
        }
      }
    }
  }
})json";

// shape / layout: one string for the model, or one string per input.
constexpr std::string_view kPerInputSchema = R"json({
  "type": ["string", "object"],
  "additionalProperties": {"type": "string"}
})json";

constexpr std::string_view kPluginConfigSchema = R"json({
  "type": "object",
  "additionalProperties": {"type": ["string", "number", "boolean"]}
})json";

// dynamic_batching: every key optional; cross-key rules (preferred sizes
// within max_batch_size) are checked by the parser.
constexpr std::string_view kDynamicBatchingSchema = R"json({
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "max_batch_size": {"type": "integer", "minimum": 1, "maximum": 65536},
    "max_queue_delay_microseconds": {"type": "integer", "minimum": 0, "maximum": 10000000},
    "preferred_batch_sizes": {
      "type": "array",
      "items": {"type": "integer", "minimum": 1, "maximum": 65536}
    }
  }
})json";

// Fields of one model_config_list[i].config, except the four above.
constexpr std::string_view kModelFieldsHead = R"json(
  "name": {"type": "string", "minLength": 1},
  "base_path": {"type": "string", "minLength": 1},
  "batch_size": {"type": ["integer", "string"], "minimum": -1, "maximum": 2147483647},
  "nireq": {"type": "integer", "minimum": 0, "maximum": 2147483647},
  "max_queue_size": {"type": "integer", "minimum": 0, "maximum": 2147483647},
  "target_device": {"type": "string"},
  "allow_cache": {"type": "boolean"},
  "stateful": {"type": "boolean"},
  "idle_sequence_cleanup": {"type": "boolean"},
  "low_latency_transformation": {"type": "boolean"},
  "max_sequence_number": {"type": "integer", "minimum": 0, "maximum": 4294967295},
  "graph_path": {"type": "string"},
  "subconfig": {"type": "string"},
  "custom_loader_options": {
    "type": "object",
    "required": ["loader_name"],
    "properties": {"loader_name": {"type": "string"}}
  },
)json";

constexpr std::string_view kPipelineDefinitions = R"json(
  "source": {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": {
      "type": "object",
      "required": ["node_name", "data_item"],
      "additionalProperties": false,
      "properties": {
        "node_name": {"type": "string", "minLength": 1},
        "data_item": {"type": "string", "minLength": 1}
      }
    }
  },
  "node_output": {
    "type": "object",
    "required": ["data_item", "alias"],
    "additionalProperties": false,
    "properties": {
      "data_item": {"type": "string", "minLength": 1},
      "alias": {"type": "string", "minLength": 1}
    }
  },
  "node": {
    "type": "object",
    "required": ["name", "type", "inputs", "outputs"],
    "additionalProperties": false,
    "properties": {
      "name": {"type": "string", "minLength": 1},
      "type": {"type": "string", "enum": ["DL model", "custom"]},
      "model_name": {"type": "string", "minLength": 1},
      "library_name": {"type": "string", "minLength": 1},
      "version": {"type": "integer", "minimum": 1, "maximum": 9223372036854775807},
      "inputs": {"type": "array", "items": {"$ref": "#/definitions/source"}},
      "outputs": {"type": "array", "items": {"$ref": "#/definitions/node_output"}},
      "params": {"type": "object", "additionalProperties": {"type": "string"}},
      "demultiply_count": {"type": "integer", "minimum": -1, "maximum": 10000},
      "gather_from_node": {"type": "string"}
    }
  },
  "pipeline": {
    "type": "object",
    "required": ["name", "nodes", "inputs", "outputs"],
    "additionalProperties": false,
    "properties": {
      "name": {"type": "string", "minLength": 1},
      "inputs": {"type": "array", "items": {"type": "string", "minLength": 1}},
      "outputs": {"type": "array", "items": {"$ref": "#/definitions/source"}},
      "nodes": {"type": "array", "items": {"$ref": "#/definitions/node"}},
      "demultiply_count": {"type": "integer", "minimum": -1, "maximum": 10000},
      "empty_demultiplex": {"type": "string", "enum": ["error", "empty_result"]}
    }
  }
)json";

constexpr std::string_view kTopLevel = R"json(
  "type": "object",
  "required": ["model_config_list"],
  "additionalProperties": false,
  "properties": {
    "model_config_list": {"type": "array", "items": {"$ref": "#/definitions/model"}},
    "pipeline_config_list": {"type": "array", "items": {"$ref": "#/definitions/pipeline"}},
    "custom_node_library_config_list": {
      "type": "array",
      "items": {
        "type": "object",
        "required": ["name", "base_path"],
        "additionalProperties": false,
        "properties": {
          "name": {"type": "string", "minLength": 1},
          "base_path": {"type": "string", "minLength": 1}
        }
      }
    },
    "monitoring": {
      "type": "object",
      "required": ["metrics"],
      "additionalProperties": false,
      "properties": {
        "metrics": {
          "type": "object",
          "required": ["enable"],
          "additionalProperties": false,
          "properties": {
            "enable": {"type": "boolean"},
            "metrics_list": {"type": "array", "items": {"type": "string", "minLength": 1}}
          }
        }
      }
    }
  }
)json";

std::string ServerConfigSchemaText() {
  std::string s = "{\n\"definitions\": {\n";
  s += R"json("model": {
    "type": "object",
    "required": ["config"],
    "additionalProperties": false,
    "properties": {
      "config": {
        "type": "object",
        "required": ["name", "base_path"],
        "additionalProperties": false,
        "properties": {)json";
  s += kModelFieldsHead;
  s += "\"model_version_policy\": ";
  s += kVersionPolicySchema;
  s += ",\n\"shape\": ";
  s += kPerInputSchema;
  s += ",\n\"layout\": ";
  s += kPerInputSchema;
  s += ",\n\"plugin_config\": ";
  s += kPluginConfigSchema;
  s += ",\n\"dynamic_batching\": ";
  s += kDynamicBatchingSchema;
  s += "}}}},\n";
  s += kPipelineDefinitions;
  s += "\n},\n";  // closes "definitions"
  s += kTopLevel;
  s += "}\n";
  return s;
}

// ---------------------------------------------------------------------------
// Error messages.

std::string EscapePointerToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// "string", "integer", ... with the value itself for short scalars, e.g.
// `string "4"`, `integer -1`, `object`.
std::string DescribeValue(const rapidjson::Value& v) {
  std::string type;
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: type = "boolean"; break;
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: type = "string"; break;
    case rapidjson::kNumberType: type = (v.IsInt64() || v.IsUint64()) ? "integer" : "number"; break;
  }
  std::string text = CompactJson(v);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return type + " " + text;
}

std::string TypeNoun(std::string_view type) {
  if (type == "object") return "an object";
  if (type == "array") return "an array";
  if (type == "integer") return "an integer";
  if (type == "number") return "a number";
  if (type == "string") return "a string";
  if (type == "boolean") return "a boolean";
  if (type == "null") return "null";
  return std::string(type);
}

std::string JoinNames(const rapidjson::Value& array_or_object, bool keys) {
  std::string out;
  auto append = [&out](const std::string& s) {
    if (!out.empty()) out += ", ";
    out += s;
  };
  if (keys && array_or_object.IsObject()) {
    for (auto it = array_or_object.MemberBegin(); it != array_or_object.MemberEnd(); ++it) {
      append(it->name.GetString());
    }
  } else if (array_or_object.IsArray()) {
    for (const auto& item : array_or_object.GetArray()) {
      append(item.IsString() ? std::string(item.GetString()) : CompactJson(item));
    }
  }
  return out;
}

std::string NumberText(const rapidjson::Value* v) { return v ? CompactJson(*v) : "?"; }

// One line saying which value broke which rule. `root_label` names the
// document itself when the offending value is the root.
std::string DescribeSchemaViolation(const CompiledSchema& schema,
                                    const rapidjson::SchemaValidator& validator,
                                    const rapidjson::Value& instance, std::string_view root_label) {
  rapidjson::StringBuffer sb;
  validator.GetInvalidDocumentPointer().Stringify(sb);
  std::string path(sb.GetString(), sb.GetSize());
  std::string subject = path.empty() ? std::string(root_label) : path;

  const rapidjson::Value* rule = validator.GetInvalidSchemaPointer().Get(schema.source());
  const rapidjson::Value* value = validator.GetInvalidDocumentPointer().Get(instance);
  std::string keyword = validator.GetInvalidSchemaKeyword();
  std::string got = value ? " (got " + DescribeValue(*value) + ")" : "";

  if (keyword == "additionalProperties") {
    // RapidJSON points at the unexpected key itself.
    const rapidjson::Value* allowed = FindMember(rule, "properties");
    std::string list = allowed ? JoinNames(*allowed, true) : "";
    return subject + " is not allowed" + (list.empty() ? "" : " (allowed: " + list + ")");
  }
  if (keyword == "required") {
    const rapidjson::Value* required = FindMember(rule, "required");
    if (required && required->IsArray() && value && value->IsObject()) {
      for (const auto& name : required->GetArray()) {
        if (name.IsString() && !value->HasMember(name)) {
          return path + "/" + EscapePointerToken(name.GetString()) + " is required but missing";
        }
      }
    }
    return subject + " is missing a required key (" + (required ? JoinNames(*required, false) : "") + ")";
  }
  if (keyword == "type") {
    const rapidjson::Value* types = FindMember(rule, "type");
    std::string expected;
    if (types && types->IsString()) {
      expected = TypeNoun(types->GetString());
    } else if (types && types->IsArray()) {
      auto list = types->GetArray();
      for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
        if (i > 0) expected += (i + 1 == list.Size()) ? " or " : ", ";
        expected += TypeNoun(list[i].GetString());
      }
    }
    return subject + " must be " + expected + got;
  }
  if (keyword == "minimum") return subject + " must be >= " + NumberText(FindMember(rule, "minimum")) + got;
  if (keyword == "maximum") return subject + " must be <= " + NumberText(FindMember(rule, "maximum")) + got;
  if (keyword == "minProperties" || keyword == "maxProperties") {
    const rapidjson::Value* min = FindMember(rule, "minProperties");
    const rapidjson::Value* max = FindMember(rule, "maxProperties");
    const rapidjson::Value* props = FindMember(rule, "properties");
    if (min && max && min->IsUint() && max->IsUint() && min->GetUint() == 1 && max->GetUint() == 1) {
      if (props && props->IsObject() && rule && FindMember(rule, "additionalProperties") &&
          FindMember(rule, "additionalProperties")->IsFalse()) {
        return subject + " must have exactly one of the keys: " + JoinNames(*props, true);
      }
      return subject + " must have exactly one key";
    }
    if (keyword == "minProperties") return subject + " must have at least " + NumberText(min) + " key(s)";
    return subject + " must have at most " + NumberText(max) + " key(s)";
  }
  if (keyword == "minLength") {
    const rapidjson::Value* min = FindMember(rule, "minLength");
    if (min && min->IsUint() && min->GetUint() == 1) return subject + " must not be empty";
    return subject + " must be at least " + NumberText(min) + " characters long";
  }
  if (keyword == "enum") {
    const rapidjson::Value* values = FindMember(rule, "enum");
    return subject + " must be one of: " + (values ? JoinNames(*values, false) : "") + got;
  }
  return subject + " is invalid (schema keyword '" + keyword + "')" + got;
}

}  // namespace

CompiledSchema::CompiledSchema(const std::string& text) {
  source_.Parse(text.data(), text.size());
  if (source_.HasParseError()) {
    // A bug in the constants above; tests catch it. Fall back to an empty
    // schema (accepts anything) rather than aborting the process.
    TLOG_ERROR("Internal config schema does not parse: {} at offset {}",
               rapidjson::GetParseError_En(source_.GetParseError()), source_.GetErrorOffset());
    valid_ = false;
    source_.SetObject();
  }
  compiled_ = std::make_unique<rapidjson::SchemaDocument>(source_);
}

const CompiledSchema& ServerConfigSchema() {
  static const CompiledSchema schema(ServerConfigSchemaText());
  return schema;
}
const CompiledSchema& VersionPolicySchema() {
  static const CompiledSchema schema{std::string(kVersionPolicySchema)};
  return schema;
}
const CompiledSchema& PerInputSchema() {
  static const CompiledSchema schema{std::string(kPerInputSchema)};
  return schema;
}
const CompiledSchema& PluginConfigSchema() {
  static const CompiledSchema schema{std::string(kPluginConfigSchema)};
  return schema;
}
const CompiledSchema& DynamicBatchingSchema() {
  static const CompiledSchema schema{std::string(kDynamicBatchingSchema)};
  return schema;
}

std::optional<std::string> ParseJson(std::string_view text, rapidjson::Document& doc) {
  JsonDocumentParse parse = ParseJsonDocument(text, doc);
  if (parse.ok()) return std::nullopt;
  size_t offset = parse.result.Offset();
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  std::string reason = parse.too_deep ? JsonNestingReason()
                                      : rapidjson::GetParseError_En(parse.result.Code());
  if (!reason.empty() && reason.back() == '.') reason.pop_back();
  return reason + " at offset " + std::to_string(offset) + " (line " + std::to_string(line) +
         ", column " + std::to_string(column) + ")";
}

std::optional<std::string> Validate(const CompiledSchema& schema, const rapidjson::Value& doc,
                                    std::string_view root_label) {
  rapidjson::SchemaValidator validator(schema.compiled());
  if (doc.Accept(validator)) return std::nullopt;
  return DescribeSchemaViolation(schema, validator, doc, root_label);
}

}  // namespace tessera::config_internal

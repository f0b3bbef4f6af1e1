#include "frontend/kserve_rest/repository_codec.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json_depth.h"

namespace tessera::kserve_rest {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

bool IsBlank(std::string_view body) {
  return body.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Parses `body` as one JSON object into `doc`; `what` names the request in
// errors.
Status ParseObject(std::string_view body, rapidjson::Document& doc, const char* what) {
  if (body.find('\0') != std::string_view::npos) {
    return InvalidArgument(std::string("Invalid JSON in the ") + what + ": NUL character at offset " +
                           std::to_string(body.find('\0')));
  }
  JsonDocumentParse parse = ParseJsonDocument(body, doc);
  if (!parse.ok()) {
    if (parse.too_deep) return InvalidArgument(JsonNestingMessage(parse.result.Offset()));
    return InvalidArgument(std::string("Invalid JSON in the ") + what + " at offset " +
                           std::to_string(parse.result.Offset()) + ": " +
                           rapidjson::GetParseError_En(parse.result.Code()));
  }
  if (!doc.IsObject()) return InvalidArgument(std::string("The ") + what + " must be a JSON object");
  return Status::Ok();
}

std::string_view KeyOf(const rapidjson::Value& name) {
  return {name.GetString(), name.GetStringLength()};
}

void WriteString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteDuration(JsonWriter& w, const char* key, const DurationStat& d) {
  w.Key(key);
  w.StartObject();
  w.Key("count");
  w.Uint64(d.count);
  w.Key("ns");
  w.Uint64(d.ns);
  w.EndObject();
}

}  // namespace

Result<bool> DecodeRepositoryIndexRequest(std::string_view body) {
  if (IsBlank(body)) return false;
  rapidjson::Document doc;
  TESSERA_RETURN_IF_ERROR(ParseObject(body, doc, "repository index request"));
  bool ready = false;
  for (const auto& member : doc.GetObject()) {
    if (KeyOf(member.name) != "ready") {
      return InvalidArgument("Unknown key '" + std::string(KeyOf(member.name)) +
                             "' in the repository index request (allowed: ready)");
    }
    if (!member.value.IsBool()) return InvalidArgument("'ready' must be a boolean");
    ready = member.value.GetBool();
  }
  return ready;
}

Result<std::vector<RepositoryParameter>> DecodeRepositoryModelRequest(std::string_view body) {
  std::vector<RepositoryParameter> parameters;
  if (IsBlank(body)) return parameters;
  rapidjson::Document doc;
  TESSERA_RETURN_IF_ERROR(ParseObject(body, doc, "repository request"));
  for (const auto& member : doc.GetObject()) {
    if (KeyOf(member.name) != "parameters") {
      return InvalidArgument("Unknown key '" + std::string(KeyOf(member.name)) +
                             "' in the repository request (allowed: parameters)");
    }
    if (!member.value.IsObject()) return InvalidArgument("'parameters' must be a JSON object");
    for (const auto& parameter : member.value.GetObject()) {
      const auto& value = parameter.value;
      if (!value.IsBool() && !value.IsNumber() && !value.IsString()) {
        return InvalidArgument("Parameter '" + std::string(KeyOf(parameter.name)) +
                               "' must be a boolean, a number or a string");
      }
      parameters.push_back({std::string(KeyOf(parameter.name)), value.IsBool()});
    }
  }
  return parameters;
}

std::string EncodeRepositoryIndex(const std::vector<RepositoryIndexEntry>& entries) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const auto& entry : entries) {
    w.StartObject();
    w.Key("name");
    WriteString(w, entry.name);
    if (entry.version != 0) {
      w.Key("version");
      WriteString(w, std::to_string(entry.version));
    }
    w.Key("state");
    w.String(ModelReadinessName(entry.state));
    w.Key("reason");
    WriteString(w, entry.reason);
    w.EndObject();
  }
  w.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string EncodeModelStatistics(const std::vector<ModelStatistics>& stats) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("model_stats");
  w.StartArray();
  for (const auto& s : stats) {
    w.StartObject();
    w.Key("name");
    WriteString(w, s.name);
    w.Key("version");
    WriteString(w, std::to_string(s.version));
    w.Key("last_inference");
    w.Uint64(s.last_inference_ms);
    w.Key("inference_count");
    w.Uint64(s.inference_count);
    w.Key("execution_count");
    w.Uint64(s.execution_count);
    w.Key("inference_stats");
    w.StartObject();
    WriteDuration(w, "success", s.success);
    WriteDuration(w, "fail", s.fail);
    WriteDuration(w, "queue", s.queue);
    WriteDuration(w, "compute_input", s.compute_input);
    WriteDuration(w, "compute_infer", s.compute_infer);
    WriteDuration(w, "compute_output", s.compute_output);
    WriteDuration(w, "cache_hit", {});
    WriteDuration(w, "cache_miss", {});
    w.EndObject();
    w.Key("batch_stats");
    w.StartArray();
    for (const auto& b : s.batch_stats) {
      w.StartObject();
      w.Key("batch_size");
      w.Uint64(b.batch_size);
      WriteDuration(w, "compute_input", b.compute_input);
      WriteDuration(w, "compute_infer", b.compute_infer);
      WriteDuration(w, "compute_output", b.compute_output);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace tessera::kserve_rest

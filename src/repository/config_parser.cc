#include "repository/config_parser.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "repository/config_schema.h"
#include "tensor/layout.h"
#include "tensor/shape_spec.h"

namespace tessera {
namespace {

using config_internal::CompactJson;
using config_internal::CompiledSchema;
using config_internal::ParseJson;
using config_internal::Validate;

const rapidjson::Value* Member(const rapidjson::Value* object, const char* name) {
  return config_internal::FindMember(object, name);
}

// Parses then validates a single-value document.
Status ParseAndValidate(std::string_view text, const CompiledSchema& schema, rapidjson::Document& doc) {
  if (auto error = ParseJson(text, doc)) return InvalidArgument("not valid JSON: " + *error);
  if (auto error = Validate(schema, doc, "value")) return InvalidArgument(*error);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Converting validated values. Each REQUIRES `v` to have passed the schema.

VersionPolicy ToVersionPolicy(const rapidjson::Value& v) {
  VersionPolicy policy;
  const rapidjson::Value& key = v.MemberBegin()->name;
  const rapidjson::Value& body = v.MemberBegin()->value;
  std::string_view kind(key.GetString(), key.GetStringLength());
  if (kind == "all") {
    policy.kind = VersionPolicy::Kind::kAll;
  } else if (kind == "latest") {
    policy.kind = VersionPolicy::Kind::kLatest;
    policy.num_versions = body["num_versions"].GetInt64();
  } else {
    policy.kind = VersionPolicy::Kind::kSpecific;
    for (const auto& version : body["versions"].GetArray()) policy.versions.push_back(version.GetInt64());
    std::sort(policy.versions.begin(), policy.versions.end());
    policy.versions.erase(std::unique(policy.versions.begin(), policy.versions.end()),
                          policy.versions.end());
  }
  return policy;
}

PerInputSetting ToPerInputSetting(const rapidjson::Value& v) {
  PerInputSetting setting;
  if (v.IsString()) {
    setting.whole_model = std::string(v.GetString(), v.GetStringLength());
  } else {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      setting.per_input[it->name.GetString()] = std::string(it->value.GetString(), it->value.GetStringLength());
    }
  }
  return setting;
}

std::string ScalarText(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v.GetDouble());  // shortest round-trip
  return ec == std::errc() ? std::string(buf, end) : CompactJson(v);
}

std::map<std::string, std::string> ToPluginConfig(const rapidjson::Value& v) {
  std::map<std::string, std::string> out;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) out[it->name.GetString()] = ScalarText(it->value);
  return out;
}

// REQUIRES: `v` passed DynamicBatchingSchema. Checks what the schema cannot:
// preferred sizes within max_batch_size. Messages name keys relative to `v`.
Result<DynamicBatchingConfig> ToDynamicBatching(const rapidjson::Value& v) {
  DynamicBatchingConfig batching;
  if (const rapidjson::Value* max = Member(&v, "max_batch_size")) batching.max_batch_size = max->GetInt64();
  if (const rapidjson::Value* delay = Member(&v, "max_queue_delay_microseconds")) {
    batching.max_queue_delay_microseconds = delay->GetInt64();
  }
  if (const rapidjson::Value* preferred = Member(&v, "preferred_batch_sizes")) {
    for (rapidjson::SizeType i = 0; i < preferred->Size(); ++i) {
      int64_t size = (*preferred)[i].GetInt64();
      if (size > batching.max_batch_size) {
        return InvalidArgument("/preferred_batch_sizes/" + std::to_string(i) + " must be <= max_batch_size " +
                               std::to_string(batching.max_batch_size) + " (got " + std::to_string(size) + ")");
      }
      batching.preferred_batch_sizes.push_back(size);
    }
    auto& sizes = batching.preferred_batch_sizes;
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  }
  return batching;
}

const char* const kIgnoredModelKeys[] = {"graph_path",         "subconfig",
                                         "custom_loader_options", "idle_sequence_cleanup",
                                         "low_latency_transformation", "max_sequence_number"};
const char* const kStatefulOnlyKeys[] = {"idle_sequence_cleanup", "low_latency_transformation",
                                         "max_sequence_number"};

Result<ModelConfig> ToModelConfig(const rapidjson::Value& config, const std::string& path,
                                  const std::string& config_dir) {
  ModelConfig model;
  model.name = config["name"].GetString();
  model.base_path = ResolveBasePath(config["base_path"].GetString(), config_dir);

  if (const rapidjson::Value* batch = Member(&config, "batch_size")) {
    std::string text = batch->IsString() ? std::string(batch->GetString(), batch->GetStringLength())
                                         : std::to_string(batch->GetInt64());
    auto parsed = ParseBatchSize(text);
    if (!parsed.ok()) return InvalidArgument(path + "/batch_size " + parsed.status().message());
    model.batch_size = *parsed;
  }
  if (const rapidjson::Value* v = Member(&config, "shape")) model.shape = ToPerInputSetting(*v);
  if (const rapidjson::Value* v = Member(&config, "layout")) model.layout = ToPerInputSetting(*v);
  for (auto [setting, kind, key] : {std::tuple{&model.shape, PerInputKind::kShape, "/shape"},
                                    std::tuple{&model.layout, PerInputKind::kLayout, "/layout"}}) {
    Status valid = ValidatePerInputSetting(*setting, kind);
    if (!valid.ok()) return InvalidArgument(path + key + ": " + valid.message());
  }
  if (const rapidjson::Value* v = Member(&config, "model_version_policy")) {
    model.version_policy = ToVersionPolicy(*v);
  }
  if (const rapidjson::Value* v = Member(&config, "nireq")) model.nireq = v->GetInt();
  if (const rapidjson::Value* v = Member(&config, "max_queue_size")) model.max_queue_size = v->GetInt64();
  if (const rapidjson::Value* v = Member(&config, "dynamic_batching")) {
    auto batching = ToDynamicBatching(*v);
    if (!batching.ok()) return InvalidArgument(path + "/dynamic_batching" + batching.status().message());
    model.dynamic_batching = *batching;
  }
  if (const rapidjson::Value* v = Member(&config, "target_device")) {
    // OVMS treats an empty device as the default one.
    if (v->GetStringLength() > 0) model.target_device = v->GetString();
  }
  if (const rapidjson::Value* v = Member(&config, "plugin_config")) model.plugin_config = ToPluginConfig(*v);
  if (const rapidjson::Value* v = Member(&config, "allow_cache")) model.allow_cache = v->GetBool();
  if (const rapidjson::Value* v = Member(&config, "stateful")) model.stateful = v->GetBool();

  for (const char* key : kStatefulOnlyKeys) {
    if (Member(&config, key) && !model.stateful) {
      return InvalidArgument(path + "/" + key + " requires \"stateful\": true");
    }
  }
  for (const char* key : kIgnoredModelKeys) {
    if (Member(&config, key)) {
      TLOG_WARN("Model {}: config key '{}' is accepted for OVMS compatibility but has no effect",
                model.name, key);
    }
  }
  if (model.version_policy.kind == VersionPolicy::Kind::kSpecific && model.version_policy.versions.empty()) {
    TLOG_WARN("Model {}: model_version_policy lists no versions; none will be served", model.name);
  }
  return model;
}

// Rules about pipelines a schema cannot express. Node-to-node wiring, a
// name used twice and a name taken by a model are checked where the
// pipelines are built (as OVMS, they fail only that pipeline).
Status CheckPipelines(const rapidjson::Value& pipelines) {
  for (rapidjson::SizeType i = 0; i < pipelines.Size(); ++i) {
    const rapidjson::Value& pipeline = pipelines[i];
    std::string path = "/pipeline_config_list/" + std::to_string(i);
    const rapidjson::Value& nodes = pipeline["nodes"];
    for (rapidjson::SizeType n = 0; n < nodes.Size(); ++n) {
      const rapidjson::Value& node = nodes[n];
      std::string node_path = path + "/nodes/" + std::to_string(n);
      bool is_model = std::string_view(node["type"].GetString()) == "DL model";
      const char* needed = is_model ? "model_name" : "library_name";
      const char* forbidden = is_model ? "library_name" : "model_name";
      if (!node.HasMember(needed)) {
        return InvalidArgument(node_path + "/" + needed + " is required for a node of type \"" +
                               node["type"].GetString() + "\"");
      }
      if (node.HasMember(forbidden)) {
        return InvalidArgument(node_path + "/" + forbidden + " is not allowed for a node of type \"" +
                               node["type"].GetString() + "\"");
      }
    }
  }
  return Status::Ok();
}

// A canonical positive decimal int64: "8", not "08", "+8" or "8x".
std::optional<int64_t> ParsePositiveInt(std::string_view s) {
  if (s.empty() || s.front() == '0') return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

// ---------------------------------------------------------------------------

Result<ServerConfig> ParseServerConfig(std::string_view json_text, const std::string& config_dir) {
  // Editors on Windows save UTF-8 with a byte-order mark; RapidJSON rejects it.
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (json_text.substr(0, kUtf8Bom.size()) == kUtf8Bom) json_text.remove_prefix(kUtf8Bom.size());
  rapidjson::Document doc;
  if (auto error = ParseJson(json_text, doc)) return InvalidArgument("Invalid JSON in config: " + *error);
  if (auto error = Validate(config_internal::ServerConfigSchema(), doc, "the configuration")) {
    return InvalidArgument("Invalid config: " + *error);
  }

  ServerConfig server;
  std::map<std::string, size_t> model_index;
  const rapidjson::Value& models = doc["model_config_list"];
  for (rapidjson::SizeType i = 0; i < models.Size(); ++i) {
    std::string path = "/model_config_list/" + std::to_string(i) + "/config";
    auto model = ToModelConfig(models[i]["config"], path, config_dir);
    if (!model.ok()) return InvalidArgument("Invalid config: " + model.status().message());
    if (auto it = model_index.find(model->name); it != model_index.end()) {
      return InvalidArgument("Invalid config: duplicate model name '" + model->name +
                             "' at /model_config_list/" + std::to_string(it->second) +
                             " and /model_config_list/" + std::to_string(i));
    }
    model_index[model->name] = i;
    server.models.push_back(std::move(model).value());
  }

  if (const rapidjson::Value* pipelines = Member(&doc, "pipeline_config_list")) {
    Status status = CheckPipelines(*pipelines);
    if (!status.ok()) return InvalidArgument("Invalid config: " + status.message());
    server.pipeline_config_json = CompactJson(*pipelines);
  }
  if (const rapidjson::Value* libraries = Member(&doc, "custom_node_library_config_list")) {
    for (const auto& library : libraries->GetArray()) {
      std::string base_path = library["base_path"].GetString();
      if (base_path.find("..") == std::string::npos) base_path = ResolveBasePath(base_path, config_dir);
      server.custom_node_libraries.push_back(CustomNodeLibraryConfig{library["name"].GetString(), base_path});
    }
  }
  if (const rapidjson::Value* monitoring = Member(&doc, "monitoring")) {
    const rapidjson::Value& metrics = (*monitoring)["metrics"];
    server.metrics.enable = metrics["enable"].GetBool();
    if (const rapidjson::Value* list = Member(&metrics, "metrics_list")) {
      for (const auto& name : list->GetArray()) server.metrics.metrics_list.emplace_back(name.GetString());
    }
  }
  return server;
}

std::string ResolveConfigFilePath(const FileSystem& fs, const std::string& path) {
  return fs.IsDirectory(path) ? JoinPath(path, "config.json") : path;
}

Result<ConfigFileText> ReadConfigFile(const FileSystem& fs, const std::string& path) {
  ConfigFileText file;
  file.path = ResolveConfigFilePath(fs, path);
  auto text = fs.ReadFile(file.path);
  if (!text.ok()) {
    TLOG_DEBUG("Reading config file {}: {}", file.path, text.status().message());
    return NotFound("Config file not found or cannot open.: " + file.path);
  }
  file.text = std::move(text).value();
  file.hash = HashConfigText(file.text);
  std::string parent = std::filesystem::path(file.path).parent_path().string();
  file.dir = ResolveBasePath(parent.empty() ? "." : parent, "");
  return file;
}

Result<ServerConfig> LoadServerConfigFile(const FileSystem& fs, const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(ConfigFileText file, ReadConfigFile(fs, path));
  return ParseServerConfig(file.text, file.dir);
}

std::string HashConfigText(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;  // FNV 64 prime
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

std::string ResolveBasePath(const std::string& base_path, const std::string& relative_to) {
  if (base_path.find("://") != std::string::npos) return base_path;
  namespace fs = std::filesystem;
  fs::path path(base_path);
  if (path.is_relative() && !relative_to.empty()) path = fs::path(relative_to) / path;
  if (path.is_relative()) {
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    if (!ec) path = absolute;
  }
  std::string out = path.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<VersionPolicy> ParseVersionPolicyJson(std::string_view json_text) {
  rapidjson::Document doc;
  TESSERA_RETURN_IF_ERROR(ParseAndValidate(json_text, config_internal::VersionPolicySchema(), doc));
  return ToVersionPolicy(doc);
}

Result<std::map<std::string, std::string>> ParsePluginConfigJson(std::string_view json_text) {
  rapidjson::Document doc;
  TESSERA_RETURN_IF_ERROR(ParseAndValidate(json_text, config_internal::PluginConfigSchema(), doc));
  return ToPluginConfig(doc);
}

Result<DynamicBatchingConfig> ParseDynamicBatchingJson(std::string_view json_text) {
  rapidjson::Document doc;
  TESSERA_RETURN_IF_ERROR(ParseAndValidate(json_text, config_internal::DynamicBatchingSchema(), doc));
  return ToDynamicBatching(doc);
}

Status ValidatePerInputSetting(const PerInputSetting& setting, PerInputKind kind) {
  auto check = [kind](const std::string& text) -> Status {
    if (kind == PerInputKind::kLayout) return ParseLayoutSetting(text).status();
    if (text == "auto") return Status::Ok();
    return ParseShapeSpec(text).status();
  };
  if (setting.whole_model) TESSERA_RETURN_IF_ERROR(check(*setting.whole_model));
  for (const auto& [input, text] : setting.per_input) {
    Status valid = check(text);
    if (!valid.ok()) return InvalidArgument("input " + input + ": " + valid.message());
  }
  return Status::Ok();
}

Result<PerInputSetting> ParsePerInputSetting(std::string_view text, PerInputKind kind) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return PerInputSetting{};
  PerInputSetting setting;
  if (text[first] != '{') {
    setting.whole_model = std::string(text);
  } else {
    rapidjson::Document doc;
    TESSERA_RETURN_IF_ERROR(ParseAndValidate(text, config_internal::PerInputSchema(), doc));
    setting = ToPerInputSetting(doc);
  }
  TESSERA_RETURN_IF_ERROR(ValidatePerInputSetting(setting, kind));
  return setting;
}

Result<std::optional<std::string>> ParseBatchSize(std::string_view text) {
  if (text.empty() || text == "0") return std::optional<std::string>();
  if (text == "auto" || text == "-1" || ParsePositiveInt(text)) {
    return std::optional<std::string>(std::string(text));
  }
  size_t colon = text.find(':');
  if (colon != std::string_view::npos) {
    auto low = ParsePositiveInt(text.substr(0, colon));
    auto high = ParsePositiveInt(text.substr(colon + 1));
    if (low && high && *low <= *high) return std::optional<std::string>(std::string(text));
  }
  return InvalidArgument("must be a positive integer, a range like 1:8, -1 or auto (got \"" +
                         std::string(text) + "\")");
}

}  // namespace tessera

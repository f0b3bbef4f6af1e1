// ModelConfig / ServerConfig: the parsed form of OVMS's config.json (or of the
// single-model command line). Plain values; validation happens in the parser.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tessera {

struct VersionPolicy {
  enum class Kind { kAll, kLatest, kSpecific };
  Kind kind = Kind::kLatest;
  int64_t num_versions = 1;       // kLatest
  std::vector<int64_t> versions;  // kSpecific
  bool operator==(const VersionPolicy&) const = default;
};

// A per-model setting that is either one value for the whole model
// ("shape": "(1,3,224,224)") or one per input ("shape": {"x": "(1,3)"}).
struct PerInputSetting {
  std::optional<std::string> whole_model;
  std::map<std::string, std::string> per_input;
  bool empty() const { return !whole_model && per_input.empty(); }
  bool operator==(const PerInputSetting&) const = default;
};

// Opt-in dynamic batching (config key "dynamic_batching"): requests waiting
// for the same model version whose inputs agree in every dim but the first
// are concatenated along dim 0, run once and split back. Sizes count rows
// (the sum of the requests' first dims), not requests.
struct DynamicBatchingConfig {
  int64_t max_batch_size = 8;                 // rows per run, >= 1
  int64_t max_queue_delay_microseconds = 0;   // how long the oldest request may wait for more
  std::vector<int64_t> preferred_batch_sizes; // ascending, unique, each <= max_batch_size
  bool operator==(const DynamicBatchingConfig&) const = default;
};

struct ModelConfig {
  std::string name;
  std::string base_path;                 // absolute after parsing
  std::optional<std::string> batch_size; // "auto", "8", "1:8"; unset = model's own
  PerInputSetting shape;
  PerInputSetting layout;
  VersionPolicy version_policy;
  int nireq = 0;                         // 0: default (see serving/)
  std::string target_device = "CPU";
  std::map<std::string, std::string> plugin_config;  // values as strings
  int64_t max_queue_size = 0;            // requests waiting per version; 0: server default
  std::optional<DynamicBatchingConfig> dynamic_batching;  // unset: no batching
  bool allow_cache = false;
  bool stateful = false;
  bool operator==(const ModelConfig&) const = default;
};

struct MetricsConfig {
  bool enable = false;
  std::vector<std::string> metrics_list;  // empty = defaults
  bool operator==(const MetricsConfig&) const = default;
};

// One custom_node_library_config_list entry. `base_path` is the .so file
// itself, made absolute against the config file's directory; a path
// containing ".." is kept as written (the loader refuses it, as OVMS does).
struct CustomNodeLibraryConfig {
  std::string name;
  std::string base_path;
  bool operator==(const CustomNodeLibraryConfig&) const = default;
};

struct ServerConfig {
  std::vector<ModelConfig> models;
  std::string pipeline_config_json;  // raw JSON array text; "" when absent
  std::vector<CustomNodeLibraryConfig> custom_node_libraries;  // in file order
  MetricsConfig metrics;
  bool operator==(const ServerConfig&) const = default;
};

}  // namespace tessera

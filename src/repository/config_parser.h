// config.json: OVMS's multi-model configuration file, parsed into a
// ServerConfig. The file is checked against a JSON Schema first (unknown keys
// are errors), so a typo never silently falls back to a default; then a few
// rules a schema cannot say (duplicate names, batch size forms) are checked.
//
// Every error is an InvalidArgument (NotFound for a missing file) whose
// message names where the problem is: the byte offset, line and column of a
// JSON syntax error, or the JSON Pointer of the offending value, e.g.
//   Invalid config: /model_config_list/0/config/nirq is not allowed (allowed: ...)
//
// All functions are pure or read only through the given FileSystem; they are
// safe to call from any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "repository/file_system.h"
#include "repository/model_config.h"

namespace tessera {

// Parses the text of a config.json. Relative base_path values are resolved
// against `config_dir` (the directory holding the file; when itself relative
// or empty it is taken from the current directory). Model base paths come out
// absolute and lexically normalised, except URLs ("s3://...") which are kept
// verbatim. Keys OVMS accepts but Tessera ignores (graph_path, subconfig,
// custom_loader_options, idle_sequence_cleanup, low_latency_transformation,
// max_sequence_number) are accepted with a warning in the log.
// custom_node_library_config_list entries are kept (base_path resolved like a
// model's, except a path containing "..", kept as written).
Result<ServerConfig> ParseServerConfig(std::string_view json_text, const std::string& config_dir);

// A config file as read from disk, before parsing.
struct ConfigFileText {
  std::string path;  // the file actually read (DIR/config.json for a DIR)
  std::string dir;   // its directory, absolute
  std::string text;
  std::string hash;  // HashConfigText(text)
};

// Reads the config file at `path`; a directory means DIR/config.json.
// Error: NotFound "Config file not found or cannot open.: <file path>".
Result<ConfigFileText> ReadConfigFile(const FileSystem& fs, const std::string& path);

// ReadConfigFile + ParseServerConfig.
Result<ServerConfig> LoadServerConfigFile(const FileSystem& fs, const std::string& path);

// The file `path` names: DIR/config.json when `path` is a directory, else
// `path` itself.
std::string ResolveConfigFilePath(const FileSystem& fs, const std::string& path);

// A stable hash of the config text (FNV-1a 64, 16 lower-case hex digits),
// for noticing that the file changed. Not cryptographic.
std::string HashConfigText(std::string_view text);

// `base_path` made absolute against `relative_to` (or the current directory
// when that is empty or relative) and lexically normalised, without a
// trailing '/'. Strings containing "://" are returned unchanged.
std::string ResolveBasePath(const std::string& base_path, const std::string& relative_to);

// --- Single values, shared with the command line (server/options.h). ---
// Their error messages describe the value only ("/latest/num_versions must be
// >= 1 (got 0)"); callers prefix the flag or key they came from.

// {"all":{}} | {"latest":{"num_versions":N>=1}} | {"specific":{"versions":[v>=1,...]}}.
// Specific versions come out ascending without duplicates.
Result<VersionPolicy> ParseVersionPolicyJson(std::string_view json_text);

// A JSON object whose values are strings, numbers or booleans; every value is
// stored as its text ("1", "0.5", "true").
Result<std::map<std::string, std::string>> ParsePluginConfigJson(std::string_view json_text);

// {"max_batch_size": N>=1, "max_queue_delay_microseconds": N>=0,
//  "preferred_batch_sizes": [N>=1, ...]}, every key optional (defaults in
// DynamicBatchingConfig). Preferred sizes must not exceed max_batch_size;
// they come out ascending without duplicates.
Result<DynamicBatchingConfig> ParseDynamicBatchingJson(std::string_view json_text);

enum class PerInputKind { kShape, kLayout };

// Checks every value of a setting: a shape ("(1,3,224,224)", dims a size, -1
// or lo:hi; or "auto") or a layout ("NCHW", "N...", "NHWC:NCHW"); see
// tensor/shape_spec.h and tensor/layout.h. kInvalidArgument naming the input.
Status ValidatePerInputSetting(const PerInputSetting& setting, PerInputKind kind);

// A shape or layout setting: either a plain string for the whole model
// ("(1,3,224,224)", "NHWC:NCHW", "auto") or a JSON object input -> string
// ({"x": "(1,3)"}). Text starting with '{' (after blanks) is read as JSON.
// Empty text gives an empty setting. Values are checked as above.
Result<PerInputSetting> ParsePerInputSetting(std::string_view text, PerInputKind kind);

// A batch size: "auto", "-1" (any), a positive integer ("8") or a range of
// positive integers ("1:8", low <= high). "" and "0" mean "the model's own"
// (nullopt). Returned in canonical form (the text itself).
Result<std::optional<std::string>> ParseBatchSize(std::string_view text);

}  // namespace tessera

// mapping_config.json: optional file in a version directory that renames a
// model's inputs and outputs for clients, as OVMS does:
//
//   {"inputs":  {"<model input name>":  "<name clients use>", ...},
//    "outputs": {"<model output name>": "<name clients use>", ...}}
//
// Both members are optional; other keys and non-string values are refused.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tessera {

inline constexpr char kMappingConfigFile[] = "mapping_config.json";

struct TensorNameMapping {
  std::map<std::string, std::string> inputs;   // model name -> client name
  std::map<std::string, std::string> outputs;  // model name -> client name
  bool operator==(const TensorNameMapping&) const = default;
};

// Parses `json`; `source` names the file in errors (kInvalidArgument).
Result<TensorNameMapping> ParseMappingConfig(std::string_view json, const std::string& source);

}  // namespace tessera

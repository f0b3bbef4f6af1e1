// Builders of pipeline_config_list JSON for the pipeline tests.
#pragma once

#include <string>
#include <vector>

namespace tessera::pipeline::testing {

inline std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// {"<input>": {"node_name": "<node>", "data_item": "<item>"}}
inline std::string Src(const std::string& input, const std::string& node, const std::string& item) {
  return "{\"" + input + "\":{\"node_name\":\"" + node + "\",\"data_item\":\"" + item + "\"}}";
}

inline std::string Out(const std::string& item, const std::string& alias) {
  return "{\"data_item\":\"" + item + "\",\"alias\":\"" + alias + "\"}";
}

// `extra` is more members, e.g. "\"demultiply_count\": 3".
inline std::string Dl(const std::string& name, const std::string& model, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs, const std::string& extra = "") {
  return "{\"name\":\"" + name + "\",\"type\":\"DL model\",\"model_name\":\"" + model + "\",\"inputs\":[" +
         Join(inputs) + "],\"outputs\":[" + Join(outputs) + "]" + (extra.empty() ? "" : "," + extra) + "}";
}

inline std::string Custom(const std::string& name, const std::string& library, const std::string& params_json,
                          const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                          const std::string& extra = "") {
  return "{\"name\":\"" + name + "\",\"type\":\"custom\",\"library_name\":\"" + library + "\",\"params\":" +
         params_json + ",\"inputs\":[" + Join(inputs) + "],\"outputs\":[" + Join(outputs) + "]" +
         (extra.empty() ? "" : "," + extra) + "}";
}

inline std::string Pipeline(const std::string& name, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& nodes, const std::vector<std::string>& outputs,
                            const std::string& extra = "") {
  std::vector<std::string> quoted;
  for (const auto& input : inputs) quoted.push_back("\"" + input + "\"");
  return "{\"name\":\"" + name + "\",\"inputs\":[" + Join(quoted) + "],\"nodes\":[" + Join(nodes) +
         "],\"outputs\":[" + Join(outputs) + "]" + (extra.empty() ? "" : "," + extra) + "}";
}

}  // namespace tessera::pipeline::testing

// Builders of pipeline_config_list JSON for the pipeline tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/pipeline_validator.h"

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

inline TensorInfo T(const std::string& name, Shape shape, DataType type = DataType::kFp32) {
  return TensorInfo{name, type, std::move(shape)};
}

// Models (version 1 only) and the test libraries (built by CMake; their
// paths come from the ADD_SUB_LIBRARY, MISBEHAVING_LIBRARY and
// DYNAMIC_DEMULTIPLEX_LIBRARY definitions).
class FakeDependencies : public PipelineDependencies {
 public:
  FakeDependencies() {
    Add("m1", {T("in", {1, 10})}, {T("out", {1, 10})});
    Add("m_wide", {T("in", {1, 20})}, {T("out", {1, 20})});
    Add("m_dyn", {T("in", {1, -1})}, {T("out", {1, -1})});
    Add("m_int", {T("in", {1, 10}, DataType::kInt32)}, {T("out", {1, 10}, DataType::kInt32)});
    Add("m_str", {T("in", {-1}, DataType::kBytes)}, {T("out", {-1}, DataType::kBytes)});
    Add("two_in", {T("a", {1, 10}), T("b", {1, 10})}, {T("out", {1, 10})});
    Add("split3", {T("in", {1, 10})}, {T("out", {3, 1, 10})});
    Add("split_any", {T("in", {1, 10})}, {T("out", {-1, 1, 10})});
    Add("gather3", {T("in", {3, 1, 10})}, {T("out", {3, 1, 10})});
    Add("const", {}, {T("out", {1, 10})});
    Add("gather_any", {T("in", {-1, 1, 10})}, {T("out", {-1, 1, 10})});
    Add("split_pair", {T("in", {1, 10})}, {T("out", {2, 1, 10})});
    Add("ragged", {T("in", {1, 10})}, {T("out", {1, -1})});
    Add("auto_model", {T("in", {1, 10})}, {T("out", {1, 10})}, /*auto_param=*/true);
    auto add_sub = custom_node::CustomNodeLibrary::Load(ADD_SUB_LIBRARY);
    auto bad = custom_node::CustomNodeLibrary::Load(MISBEHAVING_LIBRARY);
    auto demultiplex = custom_node::CustomNodeLibrary::Load(DYNAMIC_DEMULTIPLEX_LIBRARY);
    EXPECT_TRUE(add_sub.ok() && bad.ok() && demultiplex.ok());
    if (add_sub.ok()) libraries_["add_sub"] = *add_sub;
    if (bad.ok()) libraries_["bad"] = *bad;
    if (demultiplex.ok()) libraries_["dynamic_demultiplex"] = *demultiplex;
  }

  void Add(const std::string& name, std::vector<TensorInfo> inputs, std::vector<TensorInfo> outputs,
           bool auto_param = false) {
    models_[name] = PipelineModelInfo{ModelSignature{std::move(inputs), std::move(outputs)}, auto_param};
  }

  bool IsModelName(const std::string& name) const override { return models_.count(name) > 0; }
  Result<PipelineModelInfo> FindModel(const std::string& name, std::optional<int64_t> version) const override {
    auto it = models_.find(name);
    if (it == models_.end() || version.value_or(1) != 1) return NotFound("Model with requested name is not found");
    return it->second;
  }
  Result<std::shared_ptr<const custom_node::CustomNodeLibrary>> FindLibrary(const std::string& name) const override {
    auto it = libraries_.find(name);
    if (it == libraries_.end()) return NotFound("Custom node library not found");
    return it->second;
  }

 private:
  std::map<std::string, PipelineModelInfo> models_;
  std::map<std::string, std::shared_ptr<const custom_node::CustomNodeLibrary>> libraries_;
};

}  // namespace tessera::pipeline::testing

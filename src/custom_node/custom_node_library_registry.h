// CustomNodeLibraryRegistry: the libraries of custom_node_library_config_list
// by name, kept across config reloads.
//
// Update() applies a new list: an entry with the same name and base_path as
// before keeps its loaded library (as OVMS, a new .so at the same path is not
// picked up); a new or changed entry is loaded; an entry no longer listed is
// dropped (its library stays loaded while nodes made from it live). A library
// that fails to load is remembered as that name's error, so only the
// pipelines using it fail; it is tried again at the next Update. A name
// listed twice keeps its first entry.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "custom_node/custom_node_library.h"
#include "repository/model_config.h"

namespace tessera::custom_node {

class CustomNodeLibraryRegistry {
 public:
  void Update(const std::vector<CustomNodeLibraryConfig>& configs);

  // The loaded library; its load error; or kNotFound "Custom node library
  // not found: <name>" when the name is not configured.
  Result<std::shared_ptr<const CustomNodeLibrary>> Find(const std::string& name) const;

 private:
  struct Entry {
    std::string base_path;
    Result<std::shared_ptr<const CustomNodeLibrary>> library;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace tessera::custom_node

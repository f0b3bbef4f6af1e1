#include "custom_node/custom_node_library_registry.h"

#include <utility>

#include "common/logging.h"

namespace tessera::custom_node {

void CustomNodeLibraryRegistry::Update(const std::vector<CustomNodeLibraryConfig>& configs) {
  std::map<std::string, Entry> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = entries_;
  }
  std::map<std::string, Entry> next;
  for (const CustomNodeLibraryConfig& config : configs) {
    if (next.count(config.name)) {
      TLOG_WARN("Custom node library {} is listed twice; the first entry is used", config.name);
      continue;
    }
    auto it = previous.find(config.name);
    if (it != previous.end() && it->second.base_path == config.base_path && it->second.library.ok()) {
      next.emplace(config.name, it->second);
      continue;
    }
    // Loading runs without the lock: dlopen may take a while.
    auto library = CustomNodeLibrary::Load(config.base_path);
    if (!library.ok()) {
      TLOG_ERROR("Custom node library {} failed to load: {}", config.name, library.status().message());
    }
    next.emplace(config.name, Entry{config.base_path, std::move(library)});
  }
  std::lock_guard<std::mutex> lock(mu_);
  entries_ = std::move(next);
}

Result<std::shared_ptr<const CustomNodeLibrary>> CustomNodeLibraryRegistry::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return NotFound("Custom node library not found: " + name);
  return it->second.library;
}

}  // namespace tessera::custom_node

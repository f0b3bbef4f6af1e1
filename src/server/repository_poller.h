// RepositoryPoller: keeps the served models in line with the repository.
// Every interval it re-reads config.json (config mode; applied only when its
// content hash changed and it parses and validates — otherwise the old state
// keeps serving and the reason is logged), then rescans every model's
// version directories.
//
// Thread-safety: Start/Stop from one thread; PollOnce may run concurrently
// with lookups (the manager serialises updates).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "repository/file_system.h"
#include "serving/model_manager.h"

namespace tessera {

class RepositoryPoller {
 public:
  // `config_path` empty: single-model mode (no config file to watch).
  // `fs` and `manager` must outlive the poller.
  RepositoryPoller(const FileSystem& fs, ModelManager& manager, std::string config_path,
                   std::string loaded_config_hash);
  ~RepositoryPoller() { Stop(); }

  // Polls every `interval` on a background thread until Stop.
  void Start(std::chrono::milliseconds interval);
  void Stop();

  // One poll step. Returns true when anything changed.
  bool PollOnce();

 private:
  bool ReloadConfigIfChanged();

  const FileSystem& fs_;
  ModelManager& manager_;
  const std::string config_path_;
  std::string config_hash_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera

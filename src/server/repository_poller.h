// RepositoryPoller: keeps the served models in line with the repository.
// Every interval it re-reads config.json (config mode; applied only when its
// content hash changed and it parses and validates — otherwise the old state
// keeps serving and the reason is logged), then rescans every model's
// version directories.
//
// Thread-safety: Start/Stop from one thread; PollOnce and Reload may be
// called from any thread (they are serialised).
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

  // One poll step; errors are logged. Returns true when anything changed.
  bool PollOnce();

  // Re-reads the config file (unless `only_if_changed` and its hash is the
  // one applied last) and every version directory. Returns true when
  // anything changed. Errors (the current models keep serving):
  //   kNotFound "Config file not found or cannot open."
  //   kInvalidArgument "Reloading config file failed. Check server logs for more info."
  Result<bool> Reload(bool only_if_changed);

  bool has_config_file() const { return !config_path_.empty(); }

 private:
  Result<bool> ReloadConfig(bool only_if_changed);

  const FileSystem& fs_;
  ModelManager& manager_;
  const std::string config_path_;
  std::mutex reload_mu_;     // serialises Reload between poller and API calls
  std::string config_hash_;  // guarded by reload_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera

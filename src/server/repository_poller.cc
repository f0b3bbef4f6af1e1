#include "server/repository_poller.h"

#include "common/logging.h"
#include "repository/config_parser.h"

namespace tessera {

RepositoryPoller::RepositoryPoller(const FileSystem& fs, ModelManager& manager,
                                   std::string config_path, std::string loaded_config_hash)
    : fs_(fs),
      manager_(manager),
      config_path_(std::move(config_path)),
      config_hash_(std::move(loaded_config_hash)) {}

void RepositoryPoller::Start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      PollOnce();
      lock.lock();
    }
  });
}

void RepositoryPoller::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool RepositoryPoller::PollOnce() {
  auto changed = Reload(/*only_if_changed=*/true);
  return changed.ok() && *changed;
}

Result<bool> RepositoryPoller::Reload(bool only_if_changed) {
  std::lock_guard lock(reload_mu_);
  auto config_changed = ReloadConfig(only_if_changed);
  bool versions_changed = manager_.RefreshVersions();
  if (!config_changed.ok()) return config_changed.status();
  return *config_changed || versions_changed;
}

Result<bool> RepositoryPoller::ReloadConfig(bool only_if_changed) {
  if (config_path_.empty()) return false;
  auto file = ReadConfigFile(fs_, config_path_);
  if (!file.ok()) {
    constexpr char kUnreadable[] = "unreadable";
    if (!only_if_changed || config_hash_ != kUnreadable) {
      TLOG_ERROR("Config file cannot be read, keeping the current models: {}",
                 file.status().message());
    }
    config_hash_ = kUnreadable;
    return NotFound("Config file not found or cannot open.");
  }
  if (only_if_changed && file->hash == config_hash_) return false;
  config_hash_ = file->hash;  // a bad file is reported once, not every poll
  auto config = ParseServerConfig(file->text, file->dir);
  if (!config.ok()) {
    TLOG_ERROR("Reloading config file {} failed, keeping the current models: {}", file->path,
               config.status().message());
    return InvalidArgument("Reloading config file failed. Check server logs for more info.");
  }
  TLOG_INFO("Applying config file {}", file->path);
  return manager_.ApplyConfig(*config);
}

}  // namespace tessera

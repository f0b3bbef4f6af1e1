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
  bool changed = ReloadConfigIfChanged();
  changed |= manager_.RefreshVersions();
  return changed;
}

bool RepositoryPoller::ReloadConfigIfChanged() {
  if (config_path_.empty()) return false;
  auto text = fs_.ReadFile(config_path_);
  if (!text.ok()) {
    TLOG_ERROR("Config file {} cannot be read, keeping the current models: {}", config_path_,
               text.status().message());
    return false;
  }
  std::string hash = HashConfigText(*text);
  if (hash == config_hash_) return false;
  config_hash_ = hash;  // a bad file is reported once, not every poll
  auto config = ParseServerConfig(*text, ParentDirectory(config_path_));
  if (!config.ok()) {
    TLOG_ERROR("Reloading config file {} failed, keeping the current models: {}", config_path_,
               config.status().message());
    return false;
  }
  TLOG_INFO("Config file {} changed, applying it", config_path_);
  return manager_.ApplyConfig(*config);
}

}  // namespace tessera

#include "server/repository_poller.h"

#include <gtest/gtest.h>

#include "repository/config_parser.h"
#include "repository/testing/in_memory_file_system.h"
#include "serving/testing/fake_backend.h"

namespace tessera {
namespace {

constexpr char kOneModel[] =
    R"({"model_config_list": [{"config": {"name": "a", "base_path": "/repo/a"}}]})";
constexpr char kTwoModels[] =
    R"({"model_config_list": [{"config": {"name": "a", "base_path": "/repo/a"}},
                              {"config": {"name": "b", "base_path": "/repo/b"}}]})";

class RepositoryPollerTest : public ::testing::Test {
 protected:
  RepositoryPollerTest() {
    fs_.AddFile("/repo/a/1/model.fake", "offset=1");
    fs_.AddFile("/repo/b/1/model.fake", "offset=2");
    fs_.AddFile("/cfg/config.json", kOneModel);
    backends_.Add(std::make_unique<FakeBackend>(fs_));
    manager_ = std::make_unique<ModelManager>(fs_, backends_, ManagerOptions{1, 8});
    auto file = ReadConfigFile(fs_, "/cfg/config.json");
    manager_->ApplyConfig(*ParseServerConfig(file->text, file->dir));
    poller_ = std::make_unique<RepositoryPoller>(fs_, *manager_, "/cfg/config.json", file->hash);
  }

  InMemoryFileSystem fs_;
  BackendRegistry backends_;
  std::unique_ptr<ModelManager> manager_;
  std::unique_ptr<RepositoryPoller> poller_;
};

TEST_F(RepositoryPollerTest, UnchangedRepositoryChangesNothing) {
  EXPECT_FALSE(poller_->PollOnce());
  EXPECT_TRUE(manager_->Acquire("a", 1).ok());
}

TEST_F(RepositoryPollerTest, ChangedConfigIsApplied) {
  fs_.AddFile("/cfg/config.json", kTwoModels);
  EXPECT_TRUE(poller_->PollOnce());
  EXPECT_TRUE(manager_->Acquire("b", 1).ok());
  EXPECT_FALSE(poller_->PollOnce());
}

TEST_F(RepositoryPollerTest, InvalidConfigKeepsCurrentModels) {
  fs_.AddFile("/cfg/config.json", R"({"model_config_list": [{"config": {"name": "a"}}]})");
  EXPECT_FALSE(poller_->PollOnce());
  fs_.AddFile("/cfg/config.json", "{ broken");
  EXPECT_FALSE(poller_->PollOnce());
  fs_.Remove("/cfg/config.json");
  EXPECT_FALSE(poller_->PollOnce());
  EXPECT_TRUE(manager_->Acquire("a", 1).ok());
  EXPECT_FALSE(manager_->Acquire("b", 1).ok());
}

TEST_F(RepositoryPollerTest, NewVersionDirectoryIsLoaded) {
  fs_.AddFile("/repo/a/2/model.fake", "offset=3");
  EXPECT_TRUE(poller_->PollOnce());
  EXPECT_EQ((*manager_->Acquire("a", kDefaultVersion))->version(), 2);
}

}  // namespace
}  // namespace tessera

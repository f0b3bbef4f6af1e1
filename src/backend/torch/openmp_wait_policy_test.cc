#include "backend/torch/openmp_wait_policy.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace tessera {
namespace {

constexpr const char* kProbeFile = "TESSERA_WAIT_POLICY_PROBE";
constexpr const char* kProbeFilter = "--gtest_filter=OpenMpWaitPolicyProbe.Run";

// Not a test of its own: the process that SpawnProbe starts runs only this.
// It appends "<pid> <OMP_WAIT_POLICY or -> <GOMP_SPINCOUNT or ->" to the
// probe file, then calls UseTesseraOpenMpWaitPolicy (which may run it again).
TEST(OpenMpWaitPolicyProbe, Run) {
  const char* file = std::getenv(kProbeFile);
  if (file == nullptr) GTEST_SKIP() << "only run by OpenMpWaitPolicy tests";
  auto value = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "-");
  };
  std::ofstream(file, std::ios::app) << getpid() << " " << value("OMP_WAIT_POLICY") << " "
                                     << value("GOMP_SPINCOUNT") << "\n";
  std::string self = "/proc/self/exe", filter = kProbeFilter;
  char* argv[] = {self.data(), filter.data(), nullptr};
  UseTesseraOpenMpWaitPolicy(argv);
}

// Runs the probe in a new process whose environment is `env` plus the probe
// file; returns the probe file's lines.
std::vector<std::string> SpawnProbe(std::vector<std::string> env) {
  std::string file = (std::filesystem::temp_directory_path() /
                      ("wait_policy_probe_" + std::to_string(getpid()))).string();
  std::filesystem::remove(file);
  env.push_back(std::string(kProbeFile) + "=" + file);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe", filter = kProbeFilter;
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t pid;
  EXPECT_EQ(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()), 0);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    // The pid never changes: the program is re-executed, not restarted.
    EXPECT_EQ(line.substr(0, line.find(' ')), std::to_string(pid)) << line;
    lines.push_back(line.substr(line.find(' ') + 1));
  }
  std::filesystem::remove(file);
  return lines;
}

TEST(OpenMpWaitPolicy, SetsPassiveOnceByReexecuting) {
  EXPECT_EQ(SpawnProbe({}), (std::vector<std::string>{"- -", "PASSIVE -"}));
}

TEST(OpenMpWaitPolicy, TheUsersSettingWins) {
  EXPECT_EQ(SpawnProbe({"OMP_WAIT_POLICY=active"}), (std::vector<std::string>{"active -"}));
  EXPECT_EQ(SpawnProbe({"GOMP_SPINCOUNT=300000"}), (std::vector<std::string>{"- 300000"}));
}

}  // namespace
}  // namespace tessera

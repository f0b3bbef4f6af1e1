#include "repository/testing/in_memory_file_system.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace tessera {
namespace {

using Names = std::vector<std::string>;

TEST(InMemoryFileSystemTest, AddFileCreatesParents) {
  InMemoryFileSystem fs;
  fs.AddFile("/repo/m/1/model.pt", "weights");
  EXPECT_TRUE(fs.IsDirectory("/repo"));
  EXPECT_TRUE(fs.IsDirectory("/repo/m"));
  EXPECT_TRUE(fs.IsDirectory("/repo/m/1"));
  EXPECT_TRUE(fs.Exists("/repo/m/1/model.pt"));
  EXPECT_FALSE(fs.IsDirectory("/repo/m/1/model.pt"));
  EXPECT_EQ(*fs.ReadFile("/repo/m/1/model.pt"), "weights");
}

TEST(InMemoryFileSystemTest, RootAlwaysExists) {
  InMemoryFileSystem fs;
  EXPECT_TRUE(fs.Exists("/"));
  EXPECT_TRUE(fs.IsDirectory("/"));
  EXPECT_TRUE(fs.ListDirectory("/")->empty());
  fs.AddFile("/b", "");
  fs.AddDirectory("/a/x");
  EXPECT_EQ(*fs.ListDirectory("/"), (Names{"a", "b"}));
}

TEST(InMemoryFileSystemTest, ListsOnlyDirectChildrenSorted) {
  InMemoryFileSystem fs;
  fs.AddDirectory("/m/2");
  fs.AddDirectory("/m/10");
  fs.AddFile("/m/1/deep/file", "x");
  fs.AddFile("/m/a.txt", "x");
  // Siblings of /m whose names start with "m" must not leak into its listing.
  fs.AddFile("/m-other/x", "x");
  fs.AddFile("/m0/x", "x");
  fs.AddFile("/m.d/x", "x");
  EXPECT_EQ(*fs.ListDirectory("/m"), (Names{"1", "10", "2", "a.txt"}));
  EXPECT_EQ(*fs.ListDirectory("/m/1"), (Names{"deep"}));
  EXPECT_TRUE(fs.ListDirectory("/m/2")->empty());
}

TEST(InMemoryFileSystemTest, PathsAreNormalised) {
  InMemoryFileSystem fs;
  fs.AddFile("/a//b/../c/f", "x");
  EXPECT_TRUE(fs.Exists("/a/c/f"));
  EXPECT_FALSE(fs.Exists("/a/b"));
  EXPECT_TRUE(fs.IsDirectory("/a/c/"));
  EXPECT_EQ(*fs.ListDirectory("/a/./c/"), (Names{"f"}));
  EXPECT_EQ(InMemoryFileSystem::Normalize("/x/y/../z/"), "/x/z");
  EXPECT_EQ(InMemoryFileSystem::Normalize("/"), "/");
}

TEST(InMemoryFileSystemTest, RemoveIsRecursiveAndSparesPrefixSiblings) {
  InMemoryFileSystem fs;
  fs.AddFile("/m/1/model.pt", "x");
  fs.AddFile("/m/1/sub/more", "x");
  fs.AddDirectory("/m/10");
  fs.AddDirectory("/m/1-old");
  EXPECT_TRUE(fs.Remove("/m/1"));
  EXPECT_FALSE(fs.Exists("/m/1"));
  EXPECT_FALSE(fs.Exists("/m/1/model.pt"));
  EXPECT_FALSE(fs.Exists("/m/1/sub/more"));
  EXPECT_TRUE(fs.Exists("/m/10"));
  EXPECT_TRUE(fs.Exists("/m/1-old"));
  EXPECT_EQ(*fs.ListDirectory("/m"), (Names{"1-old", "10"}));
  EXPECT_FALSE(fs.Remove("/m/1"));
  EXPECT_FALSE(fs.Remove("/never"));
}

TEST(InMemoryFileSystemTest, RemoveRootEmptiesTheTree) {
  InMemoryFileSystem fs;
  fs.AddFile("/a/b", "x");
  EXPECT_TRUE(fs.Remove("/"));
  EXPECT_FALSE(fs.Exists("/a"));
  EXPECT_TRUE(fs.Exists("/"));
  EXPECT_FALSE(fs.Remove("/"));
}

TEST(InMemoryFileSystemTest, AddingReplacesWhatWasThere) {
  InMemoryFileSystem fs;
  fs.AddFile("/f", "one");
  fs.AddFile("/f", "two");
  EXPECT_EQ(*fs.ReadFile("/f"), "two");
  fs.AddDirectory("/f");
  EXPECT_TRUE(fs.IsDirectory("/f"));
  fs.AddFile("/f/inner", "x");
  fs.AddFile("/f", "file again");
  EXPECT_FALSE(fs.Exists("/f/inner"));
  EXPECT_EQ(*fs.ReadFile("/f"), "file again");
  fs.AddFile("/f/child", "x");  // a file parent becomes a directory
  EXPECT_TRUE(fs.IsDirectory("/f"));
  fs.AddDirectory("/f");  // existing directory: no-op, keeps children
  EXPECT_TRUE(fs.Exists("/f/child"));
}

TEST(InMemoryFileSystemTest, ErrorsNameThePath) {
  InMemoryFileSystem fs;
  fs.AddFile("/file", "x");
  fs.AddDirectory("/dir");
  EXPECT_EQ(fs.ListDirectory("/nope").status(), NotFound("Directory not found: /nope"));
  EXPECT_EQ(fs.ListDirectory("/file").status(), FailedPrecondition("Not a directory: /file"));
  EXPECT_EQ(fs.ReadFile("/nope").status(), NotFound("File not found: /nope"));
  EXPECT_EQ(fs.ReadFile("/dir").status(), FailedPrecondition("Is a directory, not a file: /dir"));
}

TEST(InMemoryFileSystemTest, InjectedReadError) {
  InMemoryFileSystem fs;
  fs.AddFile("/f", "x");
  fs.SetReadError("/f", Status(StatusCode::kPermissionDenied, "denied"));
  EXPECT_EQ(fs.ReadFile("/f").status(), Status(StatusCode::kPermissionDenied, "denied"));
  EXPECT_TRUE(fs.Exists("/f"));
  fs.SetReadError("/f", Status::Ok());
  EXPECT_EQ(*fs.ReadFile("/f"), "x");
}

TEST(InMemoryFileSystemTest, InjectedListError) {
  InMemoryFileSystem fs;
  fs.AddFile("/d/f", "x");
  fs.SetListError("/d", Status(StatusCode::kPermissionDenied, "denied"));
  EXPECT_EQ(fs.ListDirectory("/d").status(), Status(StatusCode::kPermissionDenied, "denied"));
  EXPECT_TRUE(fs.IsDirectory("/d"));
  EXPECT_EQ(*fs.ReadFile("/d/f"), "x");
  fs.SetListError("/d", Status::Ok());
  EXPECT_EQ(*fs.ListDirectory("/d"), (std::vector<std::string>{"f"}));
}

TEST(InMemoryFileSystemTest, ConcurrentWritersAndReaders) {
  InMemoryFileSystem fs;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      std::string dir = "/m/" + std::to_string(i % 7 + 1);
      fs.AddFile(dir + "/model.pt", "v" + std::to_string(i));
      if (i % 3 == 0) fs.Remove(dir);
    }
    stop = true;
  });
  int listings = 0;
  while (!stop) {
    auto names = fs.ListDirectory("/m");
    if (names.ok()) {
      for (const auto& n : *names) EXPECT_FALSE(n.empty());
      ++listings;
    }
  }
  writer.join();
  EXPECT_GE(listings, 0);
  EXPECT_TRUE(fs.IsDirectory("/m"));
}

}  // namespace
}  // namespace tessera

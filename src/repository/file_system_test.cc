#include "repository/file_system.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tessera {
namespace {

namespace fs = std::filesystem;

class LocalFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tessera_fs_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_ / "locked", fs::perms::owner_all, ec);
    fs::remove_all(root_);
  }
  std::string Path(const std::string& relative) const { return (root_ / relative).string(); }
  void Write(const std::string& relative, const std::string& contents) {
    fs::create_directories(fs::path(Path(relative)).parent_path());
    std::ofstream(Path(relative), std::ios::binary) << contents;
  }

  fs::path root_;
  LocalFileSystem local_;
};

TEST_F(LocalFileSystemTest, ListsEntryNamesSorted) {
  Write("b.txt", "b");
  Write("a/inner.txt", "x");
  fs::create_directories(Path("10"));
  fs::create_directories(Path("2"));
  auto names = local_.ListDirectory(root_.string());
  ASSERT_TRUE(names.ok()) << names.status().message();
  EXPECT_EQ(*names, (std::vector<std::string>{"10", "2", "a", "b.txt"}));
}

TEST_F(LocalFileSystemTest, ListingEmptyDirectoryGivesNoNames) {
  auto names = local_.ListDirectory(root_.string());
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_F(LocalFileSystemTest, ListingErrorsNameThePath) {
  EXPECT_EQ(local_.ListDirectory(Path("missing")).status(), NotFound("Directory not found: " + Path("missing")));
  Write("file", "x");
  EXPECT_EQ(local_.ListDirectory(Path("file")).status(), FailedPrecondition("Not a directory: " + Path("file")));
}

TEST_F(LocalFileSystemTest, ExistsAndIsDirectory) {
  Write("d/f", "x");
  EXPECT_TRUE(local_.Exists(Path("d")));
  EXPECT_TRUE(local_.IsDirectory(Path("d")));
  EXPECT_TRUE(local_.Exists(Path("d/f")));
  EXPECT_FALSE(local_.IsDirectory(Path("d/f")));
  EXPECT_FALSE(local_.Exists(Path("nope")));
  EXPECT_FALSE(local_.IsDirectory(Path("nope")));
  EXPECT_FALSE(local_.Exists(""));
}

TEST_F(LocalFileSystemTest, ReadsWholeFileIncludingBinaryBytes) {
  const std::string contents("a\0b\nc\xff", 6);
  Write("bin", contents);
  auto read = local_.ReadFile(Path("bin"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, contents);
  Write("empty", "");
  EXPECT_EQ(*local_.ReadFile(Path("empty")), "");
}

TEST_F(LocalFileSystemTest, ReadErrorsNameThePath) {
  EXPECT_EQ(local_.ReadFile(Path("missing")).status(), NotFound("File not found: " + Path("missing")));
  EXPECT_EQ(local_.ReadFile(root_.string()).status(),
            FailedPrecondition("Is a directory, not a file: " + root_.string()));
}

TEST_F(LocalFileSystemTest, UnreadableFileIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  Write("locked/secret", "x");
  fs::permissions(Path("locked/secret"), fs::perms::none);
  EXPECT_EQ(local_.ReadFile(Path("locked/secret")).status(),
            Status(StatusCode::kPermissionDenied, "Cannot open file: " + Path("locked/secret")));
  fs::permissions(Path("locked"), fs::perms::none);
  EXPECT_EQ(local_.ListDirectory(Path("locked")).status().code(), StatusCode::kPermissionDenied);
}

TEST(JoinPathTest, ExactlyOneSlash) {
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a/", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a//", "//b"), "/a/b");
  EXPECT_EQ(JoinPath("/a", "/b/c"), "/a/b/c");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("a", "b/"), "a/b/");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("a", ""), "a");
}

}  // namespace
}  // namespace tessera

#include "repository/repository.h"

#include <gtest/gtest.h>

#include "repository/testing/in_memory_file_system.h"

namespace tessera {
namespace {

using Versions = std::vector<int64_t>;

TEST(ParseVersionDirectoryNameTest, AcceptsCanonicalPositiveIntegers) {
  EXPECT_EQ(ParseVersionDirectoryName("1"), 1);
  EXPECT_EQ(ParseVersionDirectoryName("42"), 42);
  EXPECT_EQ(ParseVersionDirectoryName("9223372036854775807"), INT64_MAX);
}

TEST(ParseVersionDirectoryNameTest, RejectsEverythingElse) {
  for (const char* bad : {"", "0", "00", "01", "-1", "+1", "1a", "a1", " 1", "1 ", "1.0", "0x1", "1e3",
                          "9223372036854775808", "99999999999999999999", ".1", "１"}) {
    EXPECT_FALSE(ParseVersionDirectoryName(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(ListVersionsTest, ReturnsVersionDirectoriesAscending) {
  InMemoryFileSystem fs;
  fs.AddFile("/m/10/model.pt", "x");
  fs.AddFile("/m/2/model.pt", "x");
  fs.AddDirectory("/m/1");
  auto versions = ListVersions(fs, "/m");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(*versions, (Versions{1, 2, 10}));  // numeric, not lexical, order
}

TEST(ListVersionsTest, SkipsJunkEntries) {
  InMemoryFileSystem fs;
  fs.AddDirectory("/m/3");
  for (const char* junk : {"0", "-1", "+4", "05", "abc", "7b", ".ipynb_checkpoints", "99999999999999999999"}) {
    fs.AddDirectory(std::string("/m/") + junk);
  }
  fs.AddFile("/m/8", "a file named like a version");
  fs.AddFile("/m/README", "text");
  auto versions = ListVersions(fs, "/m");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(*versions, (Versions{3}));
  // A second scan (as the poller does) gives the same answer.
  EXPECT_EQ(*ListVersions(fs, "/m"), (Versions{3}));
}

TEST(ListVersionsTest, EmptyBasePathHasNoVersions) {
  InMemoryFileSystem fs;
  fs.AddDirectory("/m");
  auto versions = ListVersions(fs, "/m");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
}

TEST(ListVersionsTest, MissingBasePathIsNotFoundNamingThePath) {
  InMemoryFileSystem fs;
  EXPECT_EQ(ListVersions(fs, "/models/none").status(),
            NotFound("base path /models/none does not exist"));
}

TEST(ListVersionsTest, BasePathThatIsAFileIsAnError) {
  InMemoryFileSystem fs;
  fs.AddFile("/models/file", "x");
  EXPECT_EQ(ListVersions(fs, "/models/file").status(),
            FailedPrecondition("base path /models/file is not a directory"));
}

TEST(ListVersionsTest, UnlistableBasePathKeepsTheFileSystemsCode) {
  InMemoryFileSystem fs;
  fs.AddDirectory("/m/1");
  fs.SetListError("/m", Status(StatusCode::kPermissionDenied, "Cannot list directory /m: Permission denied"));
  EXPECT_EQ(ListVersions(fs, "/m").status(),
            Status(StatusCode::kPermissionDenied,
                   "base path /m cannot be listed: Cannot list directory /m: Permission denied"));
  fs.SetListError("/m", Status::Ok());
  EXPECT_EQ(*ListVersions(fs, "/m"), (Versions{1}));
}

TEST(ListVersionsTest, SeesVersionsAddedAndRemoved) {
  InMemoryFileSystem fs;
  fs.AddDirectory("/m/1");
  EXPECT_EQ(*ListVersions(fs, "/m"), (Versions{1}));
  fs.AddDirectory("/m/2");
  EXPECT_EQ(*ListVersions(fs, "/m"), (Versions{1, 2}));
  fs.Remove("/m/1");
  EXPECT_EQ(*ListVersions(fs, "/m"), (Versions{2}));
}

}  // namespace
}  // namespace tessera

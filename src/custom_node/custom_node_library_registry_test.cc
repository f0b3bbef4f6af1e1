#include "custom_node/custom_node_library_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera::custom_node {
namespace {

using ::testing::StartsWith;

TEST(CustomNodeLibraryRegistryTest, FindsLoadedAndRemembersFailures) {
  CustomNodeLibraryRegistry registry;
  registry.Update({{"add", ADD_SUB_LIBRARY}, {"gone", "/nonexistent/lib.so"}, {"sym", MISSING_SYMBOL_LIBRARY}});
  auto add = registry.Find("add");
  ASSERT_TRUE(add.ok()) << add.status().ToString();
  EXPECT_EQ((*add)->path(), ADD_SUB_LIBRARY);
  EXPECT_THAT(registry.Find("gone").status().message(), StartsWith("Custom node library failed to open: "));
  EXPECT_THAT(registry.Find("sym").status().message(),
              StartsWith("Custom node library failed to load symbol: release; library: "));
  auto unknown = registry.Find("nope");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "Custom node library not found: nope");
}

TEST(CustomNodeLibraryRegistryTest, SamePathKeepsTheLoadedLibrary) {
  CustomNodeLibraryRegistry registry;
  registry.Update({{"lib", ADD_SUB_LIBRARY}});
  auto first = registry.Find("lib");
  registry.Update({{"lib", ADD_SUB_LIBRARY}});
  auto second = registry.Find("lib");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->get(), second->get());
}

TEST(CustomNodeLibraryRegistryTest, ChangedPathLoadsAnew) {
  CustomNodeLibraryRegistry registry;
  registry.Update({{"lib", ADD_SUB_LIBRARY}});
  auto first = registry.Find("lib");
  registry.Update({{"lib", MISBEHAVING_LIBRARY}});
  auto second = registry.Find("lib");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ((*second)->path(), MISBEHAVING_LIBRARY);
  EXPECT_EQ((*first)->path(), ADD_SUB_LIBRARY);  // still usable by its holders
}

TEST(CustomNodeLibraryRegistryTest, RemovedEntryIsNotFoundButHoldersKeepIt) {
  CustomNodeLibraryRegistry registry;
  registry.Update({{"lib", ADD_SUB_LIBRARY}});
  auto held = registry.Find("lib");
  ASSERT_TRUE(held.ok());
  registry.Update({});
  EXPECT_EQ(registry.Find("lib").status().code(), StatusCode::kNotFound);
  auto node = CustomNode::Create(*held, "n", {});
  EXPECT_TRUE(node.ok()) << node.status().ToString();
}

TEST(CustomNodeLibraryRegistryTest, NameListedTwiceKeepsFirst) {
  CustomNodeLibraryRegistry registry;
  registry.Update({{"lib", ADD_SUB_LIBRARY}, {"lib", MISBEHAVING_LIBRARY}});
  auto lib = registry.Find("lib");
  ASSERT_TRUE(lib.ok());
  EXPECT_EQ((*lib)->path(), ADD_SUB_LIBRARY);
}

}  // namespace
}  // namespace tessera::custom_node

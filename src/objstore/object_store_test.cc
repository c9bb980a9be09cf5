#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "io/fault_file_system.h"
#include "objstore/local_object_store.h"
#include "objstore/s3_object_store.h"

namespace eddy::objstore {
namespace {

TEST(ValidateKeyTest, RefusesKeysThatCannotBeFiles) {
  EXPECT_TRUE(ValidateKey("a/b/c.json").ok());
  EXPECT_EQ(ValidateKey("").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateKey("a//b").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateKey("a/../b").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateKey("./b").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateKey("a/").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateKey(std::string(1025, 'a')).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateKey(std::string("a\0b", 3)).code(), ErrorCode::kInvalidArgument);
}

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  io::FaultInjectionFileSystem fs_;
  LocalObjectStore local_{"/lake", &fs_};
  ObjectStore& store_ = local_;  // through the interface, as the sinks call it
};

// The write probe of Check: a full disk or a directory eddy may not write in fails Check with
// the fix, and leaves no probe behind.
TEST_F(LocalObjectStoreTest, CheckReportsAFullDiskAndADirectoryItMayNotWrite) {
  fs_.InjectFault(io::FaultOperation::kAppend, NoSpace("injected: no space left"), ".eddy-probe");
  Status full = store_.Check();
  EXPECT_EQ(full.code(), ErrorCode::kNoSpace) << full.ToString();
  EXPECT_NE(full.message().find("cannot write in /lake"), std::string::npos) << full.ToString();
  fs_.InjectFault(io::FaultOperation::kOpen, IoError("injected: permission denied"), ".eddy-probe");
  Status denied = store_.Check();
  EXPECT_EQ(denied.code(), ErrorCode::kFailedPrecondition) << denied.ToString();
  EXPECT_NE(denied.message().find("give eddy write access"), std::string::npos)
      << denied.ToString();
  auto left = fs_.List("/lake");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  EXPECT_TRUE(store_.Check().ok());
}

TEST_F(LocalObjectStoreTest, PutGetListDelete) {
  ASSERT_TRUE(store_.Check().ok());
  ASSERT_TRUE(store_.Put("p/2026/12/04/a.json", "one\n").ok());
  ASSERT_TRUE(store_.Put("p/2026/12/04/b.json", "two\n").ok());
  ASSERT_TRUE(store_.Put("p-x/c.json", "three\n").ok());
  ASSERT_TRUE(store_.Put("q/d.json", "four\n").ok());
  EXPECT_EQ(*store_.Get("p/2026/12/04/b.json"), "two\n");
  auto page = store_.List("p", "", "", 1000);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 3u);
  // Byte order as S3 lists: '-' (0x2d) sorts before '/' (0x2f).
  EXPECT_EQ(page->objects[0].key, "p-x/c.json");
  EXPECT_EQ(page->objects[1].key, "p/2026/12/04/a.json");
  EXPECT_EQ(page->objects[2].size, 4u);
  auto first = store_.List("p", "", "", 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->objects.size(), 2u);
  auto second = store_.List("p", "", first->continuation, 2);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->objects.size(), 1u);
  EXPECT_EQ(second->objects[0].key, "p/2026/12/04/b.json");
  EXPECT_TRUE(second->continuation.empty());
  auto head = store_.Head("q/d.json");
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->size, 5u);
  ASSERT_TRUE(store_.Delete("q/d.json").ok());
  EXPECT_FALSE(store_.Head("q/d.json")->has_value());
  EXPECT_EQ(store_.Get("q/d.json").status().code(), ErrorCode::kNotFound);
}

TEST_F(LocalObjectStoreTest, IfNoneMatchKeepsTheFirstObject) {
  PutOptions once;
  once.if_none_match = true;
  ASSERT_TRUE(store_.Put("k/a", "first", once).ok());
  EXPECT_EQ(store_.Put("k/a", "second", once).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*store_.Get("k/a"), "first");
  ASSERT_TRUE(store_.Put("k/a", "third").ok());
  EXPECT_EQ(*store_.Get("k/a"), "third");
  // No temp files stay behind, and none is listed.
  EXPECT_EQ(store_.List("", "", "", 100)->objects.size(), 1u);
  EXPECT_EQ(fs_.List("/lake/k")->size(), 1u);
}

// Two stores over one directory stand for two processes (the sink and `eddy lake compact`)
// committing the same Iceberg version: of conditional puts racing for each key exactly one
// succeeds, and the object is the winner's, never replaced by a loser.
TEST(LocalObjectStoreRaceTest, ConditionalPutsFromTwoStoresLeaveEachKeyToOneWinner) {
  const std::string root =
      std::filesystem::temp_directory_path() / ("eddy_objstore_race_" + std::to_string(::getpid()));
  io::FileSystem* fs = io::DefaultFileSystem();
  ASSERT_TRUE(fs->RemoveTree(root).ok());
  constexpr int kKeys = 300;
  LocalObjectStore first(root, fs);
  LocalObjectStore second(root, fs);
  std::vector<int> won_by[2];
  auto race = [&](LocalObjectStore& store, int writer) {
    PutOptions once;
    once.if_none_match = true;
    for (int key = 0; key < kKeys; ++key) {
      Status put = store.Put("t/metadata/v" + std::to_string(key) + ".metadata.json",
                             "writer " + std::to_string(writer), once);
      if (put.ok()) won_by[writer].push_back(key);
      EXPECT_TRUE(put.ok() || put.code() == ErrorCode::kAlreadyExists) << put.ToString();
    }
  };
  std::thread other([&] { race(second, 1); });
  race(first, 0);
  other.join();
  EXPECT_EQ(won_by[0].size() + won_by[1].size(), static_cast<size_t>(kKeys));
  for (int writer = 0; writer < 2; ++writer) {
    for (int key : won_by[writer]) {
      EXPECT_EQ(*first.Get("t/metadata/v" + std::to_string(key) + ".metadata.json"),
                "writer " + std::to_string(writer))
          << "key " << key;
    }
  }
  EXPECT_EQ(first.List("t/", "", "", 1000)->objects.size(), static_cast<size_t>(kKeys));
  ASSERT_TRUE(fs->RemoveTree(root).ok());
}

TEST_F(LocalObjectStoreTest, AnObjectIsWholeOrAbsentAfterACrash) {
  ASSERT_TRUE(store_.Put("k/a", "old").ok());
  fs_.InjectFault(io::FaultOperation::kSync, IoError("injected"));  // the new object's fsync
  EXPECT_FALSE(store_.Put("k/a", "new").ok());
  fs_.SimulateCrash();  // drop everything not fsync'd
  EXPECT_EQ(*store_.Get("k/a"), "old");
  ASSERT_TRUE(store_.Put("k/b", "durable").ok());
  fs_.SimulateCrash();
  EXPECT_EQ(*store_.Get("k/b"), "durable");
}

TEST(S3ObjectStoreTest, AddressingFollowsTheEndpoint) {
  S3Options aws;
  aws.bucket = "my-lake";
  aws.region = "eu-west-1";
  auto store = S3ObjectStore::Create(aws);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->ObjectUrl("cdc/2026/a b.json", ""),
            "https://my-lake.s3.eu-west-1.amazonaws.com/cdc/2026/a%20b.json");
  S3Options local = aws;
  local.endpoint = "http://127.0.0.1:4568/";
  store = S3ObjectStore::Create(local);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->ObjectUrl("t=orders/x.json", "uploads="),
            "http://127.0.0.1:4568/my-lake/t%3Dorders/x.json?uploads=");
}

TEST(S3ObjectStoreTest, RejectsBadBucketsAndEndpoints) {
  S3Options options;
  for (const char* bucket : {"ab", "Upper", "-lead", "trail.", "a..b", "under_score"}) {
    options.bucket = bucket;
    auto store = S3ObjectStore::Create(options);
    ASSERT_FALSE(store.ok()) << bucket;
    EXPECT_NE(store.status().message().find("bucket name"), std::string::npos);
  }
  options.bucket = "fine-bucket";
  options.endpoint = "ftp://x";
  EXPECT_EQ(S3ObjectStore::Create(options).status().code(), ErrorCode::kInvalidArgument);
}

TEST(S3ObjectStoreTest, UnreachableEndpointIsRetriableWithTheFix) {
  S3Options options;
  options.bucket = "lake";
  options.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  options.max_attempts = 2;
  options.backoff.initial = std::chrono::milliseconds(1);
  auto store = S3ObjectStore::Create(options);
  ASSERT_TRUE(store.ok());
  Status checked = (*store)->Check();
  EXPECT_TRUE(checked.IsRetriable()) << checked.ToString();
  EXPECT_NE(checked.message().find("endpoint="), std::string::npos) << checked.ToString();
}

}  // namespace
}  // namespace eddy::objstore

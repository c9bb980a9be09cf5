#include "io/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "io/fault_file_system.h"

namespace eddy::io {
namespace {

TEST(FaultFileSystemTest, CrashKeepsOnlySyncedBytesAndEntries) {
  FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectory("/d").ok());
  ASSERT_TRUE(fs.SyncDirectory("/").ok());
  auto file = fs.Open("/d/a", OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("hello").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append(" world").ok());
  // The file's entry is not durable until /d is synced.
  fs.SimulateCrash();
  EXPECT_FALSE(*fs.Exists("/d/a"));

  file = fs.Open("/d/a", OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("hello").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  ASSERT_TRUE((*file)->Append(" world").ok());
  EXPECT_EQ(*fs.ReadFile("/d/a"), "hello world");
  fs.SimulateCrash();
  EXPECT_EQ(*fs.ReadFile("/d/a"), "hello");
}

TEST(FaultFileSystemTest, RenameIsDurableOnlyAfterDirectorySync) {
  FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.WriteFileAtomically("/x", "one").ok());
  {
    auto file = fs.Open("/x.new", OpenMode::kCreateNew);
    ASSERT_TRUE((*file)->Append("two").ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }
  ASSERT_TRUE(fs.Rename("/x.new", "/x").ok());
  EXPECT_EQ(*fs.ReadFile("/x"), "two");
  fs.SimulateCrash();
  EXPECT_EQ(*fs.ReadFile("/x"), "one");
  EXPECT_FALSE(*fs.Exists("/x.new"));
}

TEST(FaultFileSystemTest, RenameNoReplaceLeavesAnExistingNameAlone) {
  FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.WriteFileAtomically("/a", "a").ok());
  ASSERT_TRUE(fs.WriteFileAtomically("/b", "b").ok());
  EXPECT_EQ(fs.RenameNoReplace("/a", "/b").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*fs.ReadFile("/a"), "a");
  EXPECT_EQ(*fs.ReadFile("/b"), "b");
  ASSERT_TRUE(fs.RenameNoReplace("/a", "/c").ok());
  EXPECT_FALSE(*fs.Exists("/a"));
  EXPECT_EQ(*fs.ReadFile("/c"), "a");
  EXPECT_EQ(fs.RenameNoReplace("/missing", "/d").code(), ErrorCode::kNotFound);
}

TEST(FaultFileSystemTest, CapacityGivesShortWriteAndNoSpace) {
  FaultInjectionFileSystem fs;
  fs.SetCapacity(10);
  auto file = fs.Open("/f", OpenMode::kCreateNew);
  ASSERT_TRUE((*file)->Append("12345678").ok());
  Status status = (*file)->Append("abcdef");
  EXPECT_EQ(status.code(), ErrorCode::kNoSpace);
  EXPECT_EQ(*(*file)->Size(), 10u);  // a short write
  ASSERT_TRUE((*file)->Truncate(8).ok());
  fs.SetCapacity(0);
  EXPECT_TRUE((*file)->Append("abcdef").ok());
}

TEST(FaultFileSystemTest, InjectedFaultsHitChosenCallsOnly) {
  FaultInjectionFileSystem fs;
  fs.InjectFault(FaultOperation::kSync, IoError("EIO (simulated)"), "target", 1, 1);
  auto other = fs.Open("/other", OpenMode::kCreateNew);
  auto target = fs.Open("/target", OpenMode::kCreateNew);
  EXPECT_TRUE((*other)->Sync().ok());
  EXPECT_TRUE((*target)->Sync().ok());  // skipped once
  EXPECT_EQ((*target)->Sync().code(), ErrorCode::kIoError);
  EXPECT_TRUE((*target)->Sync().ok());  // one-shot
}

TEST(FaultFileSystemTest, CorruptByteAndLocks) {
  FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.WriteFileAtomically("/f", "abc").ok());
  ASSERT_TRUE(fs.CorruptByte("/f", 1, 0x01).ok());
  EXPECT_EQ(*fs.DurableContent("/f"), "acc");
  auto lock = fs.LockFile("/LOCK");
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(fs.LockFile("/LOCK").status().code(), ErrorCode::kFailedPrecondition);
  lock->reset();
  EXPECT_TRUE(fs.LockFile("/LOCK").ok());
}

TEST(FaultFileSystemTest, DirectoryWatchIsSignalledByChangesInItsDirectoryOnly) {
  using std::chrono::milliseconds;
  FaultInjectionFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectory("/d").ok());
  ASSERT_TRUE(fs.CreateDirectory("/d/sub").ok());
  ASSERT_TRUE(fs.CreateDirectory("/other").ok());
  EXPECT_EQ(fs.WatchDirectory("/missing").status().code(), ErrorCode::kNotFound);
  auto watch = fs.WatchDirectory("/d/");  // the spelling of the path does not matter
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  EXPECT_FALSE((*watch)->Wait(milliseconds(0)));

  auto file = *fs.Open("/d/a", OpenMode::kCreateNew);  // created
  EXPECT_TRUE((*watch)->Wait(milliseconds(0)));
  EXPECT_FALSE((*watch)->Wait(milliseconds(0)));  // consumed
  ASSERT_TRUE(file->Append("x").ok());            // appended to
  ASSERT_TRUE(file->Append("y").ok());
  EXPECT_TRUE((*watch)->Wait(milliseconds(0)));
  EXPECT_FALSE((*watch)->Wait(milliseconds(0)));  // both appends consumed at once
  ASSERT_TRUE(file->Truncate(0).ok());
  EXPECT_TRUE((*watch)->Wait(milliseconds(0)));
  ASSERT_TRUE(fs.Rename("/d/a", "/d/b").ok());
  EXPECT_TRUE((*watch)->Wait(milliseconds(0)));
  ASSERT_TRUE(fs.Remove("/d/b").ok());
  EXPECT_TRUE((*watch)->Wait(milliseconds(0)));

  // Changes elsewhere, or deeper, do not signal it; syncs and reads neither.
  auto elsewhere = *fs.Open("/other/a", OpenMode::kCreateNew);
  ASSERT_TRUE(elsewhere->Append("x").ok());
  auto deeper = *fs.Open("/d/sub/a", OpenMode::kCreateNew);
  ASSERT_TRUE(deeper->Append("x").ok());
  ASSERT_TRUE(deeper->Sync().ok());
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  EXPECT_FALSE((*watch)->Wait(milliseconds(0)));

  // A waiter blocked in Wait is woken by a write from another thread.
  bool woke = false;
  std::thread waiter([&] { woke = (*watch)->Wait(milliseconds(30'000)); });
  auto writer = *fs.Open("/d/c", OpenMode::kCreateNew);
  ASSERT_TRUE(writer->Append("x").ok());
  waiter.join();
  EXPECT_TRUE(woke);
}

TEST(PosixFileSystemTest, DirectoryWatchWakesOnAWriteInTheDirectory) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("eddy_io_watch_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  FileSystem* fs = DefaultFileSystem();
  ASSERT_TRUE(fs->CreateDirectory(dir).ok());
  EXPECT_FALSE(fs->WatchDirectory(JoinPath(dir, "missing")).ok());
  auto watch = fs->WatchDirectory(dir);
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  EXPECT_FALSE((*watch)->Wait(std::chrono::milliseconds(0)));
  {
    auto file = *fs->Open(JoinPath(dir, "a"), OpenMode::kCreateNew);
    ASSERT_TRUE(file->Append("x").ok());
  }
  EXPECT_TRUE((*watch)->Wait(std::chrono::milliseconds(30'000)));
  EXPECT_FALSE((*watch)->Wait(std::chrono::milliseconds(0)));  // drained
  watch->reset();
  std::filesystem::remove_all(dir);
}

// A large append (past the write-back hint's 1 MiB, in pieces) reads back whole after Sync,
// and after the synced pages are dropped from the page cache (read from disk again).
TEST(PosixFileSystemTest, LargeAppendsReadBackAfterWriteBackAndDroppedPages) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("eddy_io_large_test_" + std::to_string(::getpid()));
  FileSystem* fs = DefaultFileSystem();
  ASSERT_TRUE(fs->RemoveTree(dir).ok());
  ASSERT_TRUE(fs->CreateDirectories(dir).ok());
  auto file = fs->Open(dir + "/f", OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok());
  std::string expected;
  for (int piece = 0; piece < 40; ++piece) {
    std::string bytes(100'000 + piece, static_cast<char>('a' + piece % 26));
    ASSERT_TRUE((*file)->Append(bytes).ok());
    expected += bytes;
  }
  ASSERT_TRUE((*file)->Sync().ok());
  (*file)->DropCachedPages();
  std::string actual(expected.size(), '\0');
  EXPECT_EQ(*(*file)->ReadAt(0, actual.size(), actual.data()), expected.size());
  EXPECT_EQ(actual, expected);
  file->reset();
  EXPECT_EQ(*fs->ReadFile(dir + "/f"), expected);
  ASSERT_TRUE(fs->RemoveTree(dir).ok());
}

// kCreateUncached: appends of every size around the 1 MiB buffer and the 4 KiB block, read
// back while part is on disk and part pending, then after the Sync that makes the file a plain
// one, after plain appends, after a Truncate, and through a fresh open. /dev/shm (tmpfs) too
// where it exists: there O_DIRECT may be refused, and the file must behave the same.
TEST(PosixFileSystemTest, UncachedFileHoldsEveryAppendedByte) {
  std::vector<std::string> roots = {std::filesystem::temp_directory_path().string()};
  if (std::filesystem::is_directory("/dev/shm")) roots.push_back("/dev/shm");
  for (const std::string& root : roots) {
    SCOPED_TRACE(root);
    std::string dir = root + "/eddy_io_uncached_test_" + std::to_string(::getpid());
    FileSystem* fs = DefaultFileSystem();
    ASSERT_TRUE(fs->RemoveTree(dir).ok());
    ASSERT_TRUE(fs->CreateDirectories(dir).ok());
    auto file = fs->Open(dir + "/f", OpenMode::kCreateUncached);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    std::string expected;
    auto append = [&](size_t size) {
      std::string bytes(size, '\0');
      for (size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<char>('a' + (expected.size() + i) * 7 % 26);
      }
      ASSERT_TRUE((*file)->Append(bytes).ok());
      expected += bytes;
    };
    auto check = [&](uint64_t offset, size_t size) {
      std::string actual(size, '\0');
      auto read = (*file)->ReadAt(offset, size, actual.data());
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      size_t want = offset >= expected.size() ? 0 : std::min(size, expected.size() - offset);
      ASSERT_EQ(*read, want);
      EXPECT_EQ(actual.substr(0, want), expected.substr(offset, want)) << offset << "+" << size;
    };
    append(16);  // a segment header
    for (size_t size : {4080u, 1u, 4096u, 300'000u, 1'048'576u, 777u, 2'000'000u, 5u}) append(size);
    EXPECT_EQ(*(*file)->Size(), expected.size());
    // Before the Sync: blocks on disk, the rest pending, and reads across the boundary.
    for (uint64_t offset : {0ul, 10ul, 4095ul, 4096ul, 1'000'000ul, expected.size() - 100,
                            expected.size() - 1, expected.size() - 5000}) {
      check(offset, 9000);
    }
    ASSERT_TRUE((*file)->Sync().ok());
    EXPECT_EQ(*(*file)->Size(), expected.size());
    EXPECT_EQ(std::filesystem::file_size(dir + "/f"), expected.size());  // no padding left
    append(3);                                                           // plain appends from here
    append(10'000);
    ASSERT_TRUE((*file)->Sync().ok());
    check(0, expected.size() + 10);
    EXPECT_EQ(*fs->ReadFile(dir + "/f"), expected);
    file->reset();
    EXPECT_EQ(*fs->ReadFile(dir + "/f"), expected);

    // Truncate while appends still bypass the cache, then appends go on plainly; and a file
    // closed without a Sync still holds what was appended.
    file = fs->Open(dir + "/g", OpenMode::kCreateUncached);
    ASSERT_TRUE(file.ok());
    expected.clear();
    append(1'500'000);
    ASSERT_TRUE((*file)->Truncate(1'234'567).ok());
    expected.resize(1'234'567);
    append(42);
    EXPECT_EQ(*(*file)->Size(), expected.size());
    file->reset();
    EXPECT_EQ(*fs->ReadFile(dir + "/g"), expected);
    file = fs->Open(dir + "/h", OpenMode::kCreateUncached);
    ASSERT_TRUE(file.ok());
    expected.clear();
    append(5000);
    file->reset();
    EXPECT_EQ(*fs->ReadFile(dir + "/h"), expected);
    ASSERT_TRUE(fs->RemoveTree(dir).ok());
  }
}

// RenameNoReplace gives a name to one file only: racing threads (as racing processes would)
// for each of many names, exactly one wins each name, and every loser's file is still there.
TEST(PosixFileSystemTest, RenameNoReplaceGivesEachNameToExactlyOneRacer) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("eddy_io_noreplace_" + std::to_string(::getpid()));
  FileSystem* fs = DefaultFileSystem();
  ASSERT_TRUE(fs->RemoveTree(dir).ok());
  ASSERT_TRUE(fs->CreateDirectories(dir).ok());
  ASSERT_TRUE(fs->WriteFileAtomically(dir + "/a", "a").ok());
  ASSERT_TRUE(fs->WriteFileAtomically(dir + "/b", "b").ok());
  EXPECT_EQ(fs->RenameNoReplace(dir + "/a", dir + "/b").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*fs->ReadFile(dir + "/a"), "a");  // both as they were
  EXPECT_EQ(*fs->ReadFile(dir + "/b"), "b");
  ASSERT_TRUE(fs->RenameNoReplace(dir + "/a", dir + "/c").ok());
  EXPECT_FALSE(*fs->Exists(dir + "/a"));
  EXPECT_EQ(*fs->ReadFile(dir + "/c"), "a");

  constexpr int kRacers = 4;
  constexpr int kNames = 200;
  for (int racer = 0; racer < kRacers; ++racer) {
    for (int name = 0; name < kNames; ++name) {
      // Plain files (no fsync: durability is not what is tested).
      auto file = fs->Open(dir + "/t" + std::to_string(racer) + "-" + std::to_string(name),
                           OpenMode::kCreateOrTruncate);
      ASSERT_TRUE(file.ok());
      ASSERT_TRUE((*file)->Append(std::to_string(racer)).ok());
    }
  }
  std::vector<std::vector<int>> won(kRacers);
  std::vector<std::thread> threads;
  for (int racer = 0; racer < kRacers; ++racer) {
    threads.emplace_back([&, racer] {
      for (int name = 0; name < kNames; ++name) {
        Status renamed =
            fs->RenameNoReplace(dir + "/t" + std::to_string(racer) + "-" + std::to_string(name),
                                dir + "/n" + std::to_string(name));
        if (renamed.ok()) won[racer].push_back(name);
        EXPECT_TRUE(renamed.ok() || renamed.code() == ErrorCode::kAlreadyExists)
            << renamed.ToString();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int name = 0; name < kNames; ++name) {
    int winners = 0;
    for (int racer = 0; racer < kRacers; ++racer) {
      const bool mine = std::count(won[racer].begin(), won[racer].end(), name) > 0;
      winners += mine ? 1 : 0;
      const std::string temp = dir + "/t" + std::to_string(racer) + "-" + std::to_string(name);
      EXPECT_EQ(*fs->Exists(temp), !mine) << temp;  // a loser keeps its file
      if (mine) {
        EXPECT_EQ(*fs->ReadFile(dir + "/n" + std::to_string(name)), std::to_string(racer));
      }
    }
    EXPECT_EQ(winners, 1) << "name " << name;
  }
  ASSERT_TRUE(fs->RemoveTree(dir).ok());
}

TEST(PosixFileSystemTest, BasicOperationsAndLock) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("eddy_io_test_" + std::to_string(::getpid()));
  FileSystem* fs = DefaultFileSystem();
  ASSERT_TRUE(fs->RemoveTree(dir).ok());
  ASSERT_TRUE(fs->CreateDirectories(dir + "/a/b").ok());
  ASSERT_TRUE(fs->WriteFileAtomically(dir + "/a/b/f", "payload").ok());
  EXPECT_EQ(*fs->ReadFile(dir + "/a/b/f"), "payload");
  auto file = fs->Open(dir + "/a/b/f", OpenMode::kReadWrite);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("!").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  char buffer[4];
  EXPECT_EQ(*(*file)->ReadAt(3, 4, buffer), 4u);
  EXPECT_EQ(std::string(buffer, 4), "load");
  ASSERT_TRUE(fs->Truncate(dir + "/a/b/f", 3).ok());
  EXPECT_EQ(*fs->FileSize(dir + "/a/b/f"), 3u);
  EXPECT_EQ(fs->Open(dir + "/a/b/f", OpenMode::kCreateNew).status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(fs->Open(dir + "/missing", OpenMode::kReadOnly).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(*fs->List(dir + "/a/b"), std::vector<std::string>{"f"});
  auto lock = fs->LockFile(dir + "/LOCK");
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(fs->LockFile(dir + "/LOCK").status().code(), ErrorCode::kFailedPrecondition);
  lock->reset();
  EXPECT_TRUE(fs->LockFile(dir + "/LOCK").ok());
  ASSERT_TRUE(fs->RemoveTree(dir).ok());
  EXPECT_FALSE(*fs->Exists(dir));
}

}  // namespace
}  // namespace eddy::io

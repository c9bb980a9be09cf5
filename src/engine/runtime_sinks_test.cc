#include "engine/runtime_sinks.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "base/crc32c.h"

namespace eddy::engine {
namespace {

std::vector<consume::SinkSpec> Sample() {
  consume::SinkSpec hook;
  hook.name = "hook";
  hook.stream = "orders";
  hook.url = "webhook+https://user:p%40ss w@example.com/x";
  hook.settings = {{"batch_size", "50"}, {"header.X-Note", "two words\nand a line"}};
  consume::SinkSpec bare;
  bare.name = "bare";
  bare.stream = "s";
  bare.url = "file:///tmp/out";
  return {hook, bare};
}

TEST(RuntimeSinks, EncodeDecodeRoundTrips) {
  std::string text = EncodeRuntimeSinks(Sample());
  EXPECT_EQ(text.rfind("eddy-runtime-sinks 1\n", 0), 0u) << text;
  auto decoded = DecodeRuntimeSinks(text, "f");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].name, "hook");
  EXPECT_EQ((*decoded)[0].url, Sample()[0].url);
  EXPECT_EQ((*decoded)[0].settings, Sample()[0].settings);
  EXPECT_EQ((*decoded)[1].url, "file:///tmp/out");
  auto empty = DecodeRuntimeSinks(EncodeRuntimeSinks({}), "f");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(RuntimeSinks, DamageIsCorruptionNamingTheFile) {
  std::string text = EncodeRuntimeSinks(Sample());
  for (size_t cut : {size_t{0}, size_t{5}, text.size() / 2, text.size() - 1}) {
    auto decoded = DecodeRuntimeSinks(text.substr(0, cut), "DATA/runtime-sinks");
    ASSERT_FALSE(decoded.ok()) << cut;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption);
    EXPECT_NE(decoded.status().message().find("DATA/runtime-sinks"), std::string::npos);
  }
  std::string flipped = text;
  flipped[25] ^= 1;
  EXPECT_EQ(DecodeRuntimeSinks(flipped, "f").status().code(), ErrorCode::kCorruption);
}

TEST(RuntimeSinks, WellFramedButWrongLinesAreCorruption) {
  auto framed = [](std::string body) {
    // A valid CRC over a wrong body: the line checks must catch it.
    std::string text = "eddy-runtime-sinks 1\n" + body;
    return text + fmt::format("crc32c {:08x}\n", crc32c::Mask(crc32c::Value(text)));
  };
  for (const char* body :
       {"setting a b\n", "sink a s\n", "sink a s u\nsink a s u\n",
        "sink a s u\nsetting k 1\nsetting k 2\n", "sink a s %zz\n", "surprise\n"}) {
    auto decoded = DecodeRuntimeSinks(framed(body), "f");
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption) << body;
  }
  EXPECT_TRUE(DecodeRuntimeSinks(framed("sink a s u\nsetting k %20\n"), "f").ok());
  std::string other_version = "eddy-runtime-sinks 2\n";
  other_version += fmt::format("crc32c {:08x}\n", crc32c::Mask(crc32c::Value(other_version)));
  EXPECT_NE(DecodeRuntimeSinks(other_version, "f").status().message().find("another version"),
            std::string::npos);
}

TEST(RuntimeSinks, SaveAndLoadThroughTheFileSystem) {
  std::string dir = ::testing::TempDir() + "/runtime_sinks_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  io::FileSystem* fs = io::DefaultFileSystem();
  auto absent = LoadRuntimeSinks(fs, dir);
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(absent->empty());
  ASSERT_TRUE(SaveRuntimeSinks(fs, dir, Sample()).ok());
  auto loaded = LoadRuntimeSinks(fs, dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->size(), 2u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy::engine

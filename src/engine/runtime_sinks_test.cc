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
  std::string other_version = "eddy-runtime-sinks 9\n";
  other_version += fmt::format("crc32c {:08x}\n", crc32c::Mask(crc32c::Value(other_version)));
  EXPECT_NE(DecodeRuntimeSinks(other_version, "f").status().message().find("another version"),
            std::string::npos);
}

TEST(RuntimeSinks, SaveAndLoadThroughTheFileSystem) {
  std::string dir = ::testing::TempDir() + "/runtime_sinks_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  io::FileSystem* fs = io::DefaultFileSystem();
  auto absent = LoadRuntimeResources(fs, dir);
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(absent->sinks.empty() && absent->sources.empty() && absent->streams.empty());
  RuntimeResources resources;
  resources.sinks = Sample();
  ASSERT_TRUE(SaveRuntimeResources(fs, dir, resources).ok());
  auto loaded = LoadRuntimeResources(fs, dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->sinks.size(), 2u);
  std::filesystem::remove_all(dir);
}

TEST(RuntimeResources, SourcesAndStreamsRoundTripInVersionTwo) {
  RuntimeResources resources;
  resources.sources.push_back({"pg", "postgresql://u:p w@h:5432/db", {{"slot_name", "s1"}}});
  resources.sources.push_back({"maria", "mariadb://root@h:3306/shop", {}});
  resources.streams.push_back({"orders", "pg", {{"shards", "2"}, {"tables", "public.a,public.b"}}});
  resources.sinks = Sample();
  std::string text = EncodeRuntimeResources(resources);
  EXPECT_EQ(text.rfind("eddy-runtime-sinks 2\nsource pg postgresql://u:p%20w@h:5432/db\n"
                       "setting slot_name s1\n",
                       0),
            0u)
      << text;
  auto decoded = DecodeRuntimeResources(text, "f");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->sources.size(), 2u);
  EXPECT_EQ(decoded->sources[0].url, "postgresql://u:p w@h:5432/db");
  EXPECT_EQ(decoded->sources[0].settings.at("slot_name"), "s1");
  ASSERT_EQ(decoded->streams.size(), 1u);
  EXPECT_EQ(decoded->streams[0].source, "pg");
  EXPECT_EQ(decoded->streams[0].settings.at("tables"), "public.a,public.b");
  EXPECT_EQ(decoded->sinks.size(), 2u);
  // Sinks only: version 1, as before.
  RuntimeResources sinks_only;
  sinks_only.sinks = Sample();
  EXPECT_EQ(EncodeRuntimeResources(sinks_only), EncodeRuntimeSinks(Sample()));
}

TEST(RuntimeResources, SourceAndStreamLinesNeedVersionTwo) {
  auto framed = [](int version, const std::string& body) {
    std::string text = fmt::format("eddy-runtime-sinks {}\n", version) + body;
    return text + fmt::format("crc32c {:08x}\n", crc32c::Mask(crc32c::Value(text)));
  };
  EXPECT_EQ(DecodeRuntimeResources(framed(1, "source a postgresql://h/d\n"), "f").status().code(),
            ErrorCode::kCorruption);
  EXPECT_EQ(DecodeRuntimeResources(framed(1, "stream s a\n"), "f").status().code(),
            ErrorCode::kCorruption);
  EXPECT_TRUE(DecodeRuntimeResources(framed(2, "source a u\nsetting k v\nstream s a\n"), "f").ok());
  EXPECT_EQ(DecodeRuntimeResources(framed(2, "source a u\nsource a u\n"), "f").status().code(),
            ErrorCode::kCorruption);
  EXPECT_EQ(DecodeRuntimeResources(framed(2, "stream s a\nstream s b\n"), "f").status().code(),
            ErrorCode::kCorruption);
  EXPECT_EQ(DecodeRuntimeResources(framed(3, ""), "f").status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace eddy::engine

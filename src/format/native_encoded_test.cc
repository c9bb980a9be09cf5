// AppendNativeRecord must write what NativeRenderer writes, byte for byte, or decline.
#include "format/native_encoded.h"

#include <gtest/gtest.h>

#include <random>

#include "format/sample_events.h"
#include "model/event_codec.h"
#include "model/testing.h"

namespace eddy::format {
namespace {

// The general path's output for `encoded`, as `eddy tail` prints it.
std::string General(const Renderer& renderer, std::string_view encoded, ViewType view) {
  auto event = model::DecodeEvent(encoded);
  EXPECT_TRUE(event.ok()) << event.status().ToString();
  return event.ok() ? renderer.Render(*event, view) : std::string();
}

TEST(NativeEncodedTest, SampleEventsRenderAsTheNativeRenderer) {
  auto renderer = MakeRenderer("native");
  ASSERT_TRUE(renderer.ok());
  int rendered = 0;
  for (const auto& sample : testing::SampleEvents()) {
    SCOPED_TRACE(sample.name);
    std::string encoded;
    model::EncodeEvent(sample.event, encoded);
    for (ViewType view : {ViewType::kNewAndOldImages, ViewType::kNewImage, ViewType::kOldImage,
                          ViewType::kKeysOnly}) {
      std::string out = "previous line\n";
      if (AppendNativeRecord(encoded, view, &out)) {
        EXPECT_EQ(view, ViewType::kNewAndOldImages);
        EXPECT_EQ(out, "previous line\n" + General(**renderer, encoded, view));
        ++rendered;
      } else {
        EXPECT_EQ(out, "previous line\n");  // declined: nothing appended
      }
    }
  }
  // Row changes and truncates of both connectors take the fast path.
  EXPECT_GE(rendered, 9);
}

TEST(NativeEncodedTest, RandomEventsRenderAsTheNativeRenderer) {
  uint64_t seed = model::testing::TestSeed();
  std::mt19937_64 random(seed);
  auto renderer = MakeRenderer("native");
  ASSERT_TRUE(renderer.ok());
  int rendered = 0;
  for (int i = 0; i < 3000; ++i) {
    model::ChangeEvent event = model::testing::RandomEvent(random);
    std::string encoded;
    model::EncodeEvent(event, encoded);
    std::string out;
    if (!AppendNativeRecord(encoded, ViewType::kNewAndOldImages, &out)) continue;
    ++rendered;
    ASSERT_EQ(out, General(**renderer, encoded, ViewType::kNewAndOldImages))
        << "seed=" << seed << " i=" << i;
  }
  EXPECT_GT(rendered, 100) << "seed=" << seed;
}

TEST(NativeEncodedTest, TruncatedOrCorruptBytesAreDeclined) {
  auto samples = testing::SampleEvents();
  std::string encoded;
  model::EncodeEvent(samples[0].event, encoded);
  for (size_t length = 0; length < encoded.size(); ++length) {
    std::string out = "x";
    EXPECT_FALSE(AppendNativeRecord(std::string_view(encoded).substr(0, length),
                                    ViewType::kNewAndOldImages, &out))
        << length;
    EXPECT_EQ(out, "x");
  }
  std::string trailing = encoded + "!";
  std::string out;
  EXPECT_FALSE(AppendNativeRecord(trailing, ViewType::kNewAndOldImages, &out));
  EXPECT_TRUE(out.empty());
  std::string bad_version = encoded;
  bad_version[0] = 9;
  EXPECT_FALSE(AppendNativeRecord(bad_version, ViewType::kNewAndOldImages, &out));
}

}  // namespace
}  // namespace eddy::format

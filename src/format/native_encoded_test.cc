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

// Strings are checked and copied with fixed-size loads (lengths 0-3, 4-7, 8 and more, the
// last word overlapping): every length up to 24 with a byte that needs escaping (or UTF-8)
// at every position renders as the general path does, as column names and as values.
TEST(NativeEncodedTest, StringsOfEveryLengthWithSpecialBytesRenderAsTheNativeRenderer) {
  auto renderer = MakeRenderer("native");
  ASSERT_TRUE(renderer.ok());
  model::ChangeEvent base;
  for (const auto& sample : testing::SampleEvents()) {
    std::string encoded;
    model::EncodeEvent(sample.event, encoded);
    std::string out;
    if (sample.event.op == model::Operation::kInsert && sample.event.after &&
        AppendNativeRecord(encoded, ViewType::kNewAndOldImages, &out)) {
      base = sample.event;
      break;
    }
  }
  ASSERT_TRUE(base.after.has_value()) << "no sample insert takes the fast path";
  const std::vector<std::string> specials = {
      "\"", "\\", "\n", std::string(1, '\0'), "\x1f", "\x7f", "\xc3\xa9", "\xff", "~"};
  int checked = 0;
  for (size_t length = 0; length <= 24; ++length) {
    for (size_t at = 0; at <= length; ++at) {
      for (const std::string& special : specials) {
        std::string text(length, 'x');
        if (at < length) text.replace(at, 1, special);
        model::ChangeEvent event = base;
        event.after->push_back(
            model::Field{text.empty() ? "e" : "c_" + text, model::Value::Text(text)});
        std::string encoded;
        model::EncodeEvent(event, encoded);
        std::string out = "previous\n";
        ASSERT_TRUE(AppendNativeRecord(encoded, ViewType::kNewAndOldImages, &out));
        ASSERT_EQ(out, "previous\n" + General(**renderer, encoded, ViewType::kNewAndOldImages))
            << "length=" << length << " at=" << at;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 2000);
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

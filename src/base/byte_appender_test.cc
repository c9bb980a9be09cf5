#include "base/byte_appender.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/bytes.h"

namespace eddy {
namespace {

// The appender writes exactly what the std::string appends of base/bytes.h write, whatever the
// string held and had room for, across its growth.
TEST(ByteAppenderTest, WritesWhatTheStringAppendsWrite) {
  std::mt19937_64 random(7);
  const std::string source(300, 'x');
  for (int round = 0; round < 200; ++round) {
    std::string expected(random() % 40, 'p');
    std::string actual = expected;
    actual.reserve(random() % 2 == 0 ? 0 : random() % 400);
    {
      ByteAppender appender(actual);
      for (int piece = 0; piece < 60; ++piece) {
        const size_t length = random() % (piece % 5 == 0 ? 300 : 20);
        std::string bytes = source.substr(0, length);
        for (char& c : bytes) c = static_cast<char>(random());
        const uint64_t number = random() >> (random() % 64);
        switch (random() % 5) {
          case 0:
            appender.Append(bytes);
            expected += bytes;
            break;
          case 1:
            appender.PutByte(static_cast<uint8_t>(number));
            PutFixed8(expected, static_cast<uint8_t>(number));
            break;
          case 2:
            appender.PutVarint64(number);
            PutVarint64(expected, number);
            break;
          case 3: {
            const int64_t signed_number = random() % 2 == 0 ? static_cast<int64_t>(number)
                                                            : -static_cast<int64_t>(number >> 1);
            appender.PutVarintSigned64(signed_number);
            PutVarintSigned64(expected, signed_number);
            break;
          }
          default:
            appender.PutLengthPrefixed(bytes);
            PutLengthPrefixed(expected, bytes);
            break;
        }
      }
      ASSERT_EQ(appender.size(), expected.size());
    }
    EXPECT_EQ(actual, expected) << "round " << round;
  }
}

// A string with a large capacity (a recycled record that held a large value) gets at most
// 4 KiB of room ahead, and a large piece still fits.
// AppendWritten copies bytes written earlier, also when making room moves the string (the
// source is read after the room is made).
TEST(ByteAppenderTest, AppendWrittenCopiesEarlierBytesAcrossGrowth) {
  for (size_t n : {0u, 1u, 3u, 8u, 16u, 17u, 100u}) {
    std::string out;
    std::string expected;
    {
      ByteAppender appender(out);
      std::string piece(n, '\0');
      for (size_t i = 0; i < n; ++i) piece[i] = static_cast<char>('a' + i % 26);
      appender.Append("head");
      appender.Append(piece);
      expected = "head" + piece;
      for (int round = 0; round < 200; ++round) {  // grows the string many times
        appender.AppendWritten(4, n);
        expected += piece;
      }
      EXPECT_EQ(appender.written(), expected) << n;
    }
    EXPECT_EQ(out, expected) << n;
  }
}

TEST(ByteAppenderTest, RoomAheadIsBoundedWhateverTheCapacity) {
  std::string out = "x";
  out.reserve(8 << 20);
  {
    ByteAppender appender(out);
    EXPECT_LE(out.size(), 1u + 4096u);
    const std::string big(100'000, 'b');
    appender.Append(big);
    appender.PutVarint64(300);
    EXPECT_EQ(appender.size(), 1u + big.size() + 2u);
  }
  EXPECT_EQ(out.size(), 1u + 100'000u + 2u);
  EXPECT_EQ(out.substr(0, 2), "xb");
}

TEST(ByteAppenderTest, FinishTrimsAndAppendingAgainMakesRoomAgain) {
  std::string out = "head";
  ByteAppender appender(out);
  appender.Append("ab", 2);
  EXPECT_EQ(appender.written(), "headab");
  appender.Finish();
  EXPECT_EQ(out, "headab");
  appender.Append(std::string_view("0123456789abcdefXYZ"));
  appender.Finish();
  EXPECT_EQ(out, "headab0123456789abcdefXYZ");
}

}  // namespace
}  // namespace eddy

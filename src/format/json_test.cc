#include "format/json.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>

namespace eddy::format {
namespace {

std::string Quote(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndEveryControlCharacter) {
  EXPECT_EQ(Quote("a\"b\\c/"), R"("a\"b\\c/")");
  EXPECT_EQ(Quote("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Quote(std::string_view("\0", 1)), R"("\u0000")");
  EXPECT_EQ(Quote("\x01\x1f"), R"("\u0001\u001f")");
  for (int c = 0; c < 0x20; ++c) {
    std::string quoted = Quote(std::string(1, static_cast<char>(c)));
    for (char q : quoted) EXPECT_GE(static_cast<unsigned char>(q), 0x20) << c;
    EXPECT_TRUE(MinifyJson(quoted).has_value()) << quoted;
  }
  EXPECT_EQ(Quote("\x7f"), "\"\x7f\"");
}

// PlainJsonPrefix checks eight bytes per step: every byte value at every offset of strings of
// every length up to 40 must stop it exactly where a byte-by-byte check stops.
TEST(JsonStringTest, PlainPrefixStopsAtTheFirstByteThatNeedsEscaping) {
  auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; };
  for (size_t length = 0; length <= 40; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string text(length, 'a');
        text[at] = static_cast<char>(c);
        const size_t expected = plain(static_cast<unsigned char>(c)) ? length : at;
        ASSERT_EQ(PlainJsonPrefix(text), expected)
            << "length=" << length << " at=" << at << " byte=" << c;
      }
    }
    EXPECT_EQ(PlainJsonPrefix(std::string(length, '~')), length);
  }
  // Several flagged bytes: the first wins (borrows never flag an earlier byte).
  std::string two_zeros = "ab" + std::string(2, '\0') + "cdefgh";
  EXPECT_EQ(PlainJsonPrefix(two_zeros), 2u);
  EXPECT_EQ(PlainJsonPrefix("abc\x1f\x80\"xyzw"), 3u);
  EXPECT_EQ(PlainJsonPrefix(std::string("abcdefg") + '\x01' + 'h'), 7u);
}

TEST(JsonStringTest, EscapesBetweenRunsOfPlainText) {
  EXPECT_EQ(Quote(""), R"("")");
  EXPECT_EQ(Quote("plain text"), R"("plain text")");
  EXPECT_EQ(Quote("ab\"cd\nef\\"), R"("ab\"cd\nef\\")");
  EXPECT_EQ(Quote("\"lead and trail\n"), R"("\"lead and trail\n")");
}

TEST(JsonWriterTest, Base64StringMatchesBase64Encode) {
  for (std::string_view bytes : {std::string_view(""), std::string_view("f"),
                                 std::string_view("fo"), std::string_view("foo"),
                                 std::string_view("\0\xff binary \x01", 12)}) {
    JsonWriter direct;
    direct.BeginObject();
    direct.MemberBase64("data", bytes);
    direct.MemberInt("after", 1);
    direct.EndObject();
    JsonWriter copied;
    copied.BeginObject();
    copied.Member("data", Base64Encode(bytes));
    copied.MemberInt("after", 1);
    copied.EndObject();
    EXPECT_EQ(direct.str(), copied.str());
  }
}

TEST(JsonStringTest, KeepsValidUtf8IncludingNonBmp) {
  std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
  EXPECT_EQ(Quote(text), "\"" + text + "\"");
}

TEST(JsonStringTest, ReplacesInvalidUtf8WithReplacementCharacter) {
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(Quote("a\xff" "b"), "\"a" + fffd + "b\"");                  // invalid byte
  EXPECT_EQ(Quote("\x80"), "\"" + fffd + "\"");                          // stray continuation
  EXPECT_EQ(Quote("\xc3"), "\"" + fffd + "\"");                          // truncated at end
  EXPECT_EQ(Quote("\xc3x"), "\"" + fffd + "x\"");                        // truncated mid-text
  EXPECT_EQ(Quote("\xc0\xaf"), "\"" + fffd + fffd + "\"");               // overlong '/'
  EXPECT_EQ(Quote("\xe0\x80\xaf"), "\"" + fffd + fffd + fffd + "\"");    // overlong 3-byte
  EXPECT_EQ(Quote("\xed\xa0\x80"), "\"" + fffd + fffd + fffd + "\"");    // UTF-16 surrogate
  EXPECT_EQ(Quote("\xf4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
  EXPECT_EQ(Quote("\xf5"), "\"" + fffd + "\"");
}

TEST(MinifyJsonTest, AcceptsValidJsonAndKeepsNumberSpelling) {
  EXPECT_EQ(MinifyJson(" { \"a\" : [ 1 , 2.50 , -0 , 1E+400 , true , null ] ,\n\"b\":{} } "),
            R"({"a":[1,2.50,-0,1E+400,true,null],"b":{}})");
  EXPECT_EQ(MinifyJson("12345678901234567890123"), "12345678901234567890123");
  EXPECT_EQ(MinifyJson("\"x \\u00e9 \\n\""), "\"x \\u00e9 \\n\"");
  EXPECT_EQ(MinifyJson("[]"), "[]");
}

TEST(MinifyJsonTest, RejectsInvalidJson) {
  for (const char* bad : {"", " ", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "01", "1.", ".5", "+1",
                          "NaN", "tru", "\"unterminated", "\"bad \\x escape\"", "{a:1}", "[1] [2]",
                          "\"tab\tinside\"", "\"\xff\"", "'single'"}) {
    EXPECT_FALSE(MinifyJson(bad).has_value()) << bad;
  }
  EXPECT_FALSE(MinifyJson(std::string(100000, '[')).has_value());  // depth limit, no crash
}

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\x00\xff\xfe", 3)), "AP/+");
}

TEST(Base64Test, MatchesLibcryptoForEveryLengthAndByte) {
  std::mt19937 random(12);
  for (size_t size = 0; size < 300; ++size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    if (size == 256) {
      for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i);  // every byte value
    }
    std::string expected(4 * ((size + 2) / 3) + 1, '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(size));
    expected.resize(static_cast<size_t>(written));
    ASSERT_EQ(Base64Encode(bytes), expected) << "size " << size;
    std::string appended = "x";
    AppendJsonBase64(appended, bytes);
    ASSERT_EQ(appended, "x\"" + expected + "\"") << "size " << size;
  }
}

TEST(JsonWriterTest, CommasAndNesting) {
  JsonWriter writer;
  writer.BeginObject();
  writer.MemberInt("a", -1);
  writer.Key("b");
  writer.BeginArray();
  writer.Uint(18446744073709551615u);
  writer.Double(0.1);
  writer.Float(1.1f);
  writer.BeginObject();
  writer.EndObject();
  writer.Null();
  writer.EndArray();
  writer.Member("c", "x");
  writer.EndObject();
  EXPECT_EQ(writer.str(), R"({"a":-1,"b":[18446744073709551615,0.1,1.1,{},null],"c":"x"})");
}

}  // namespace
}  // namespace eddy::format

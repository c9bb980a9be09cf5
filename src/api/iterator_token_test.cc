#include "api/iterator_token.h"

#include <gtest/gtest.h>

namespace eddy::api {
namespace {

TEST(IteratorToken, RoundTripsAndFitsKinesisLimit) {
  IteratorCodec codec(std::string(32, 'k'));
  IteratorPosition position;
  position.api = IteratorApi::kDynamoDbStreams;
  position.issued_millis = 1700000000123;
  position.stream_created_millis = 1690000000000;
  position.shard_index = 7;
  position.next_sequence = 123456789;
  position.stream_name = std::string(128, 's');
  std::string token = codec.Encode(position);
  EXPECT_LE(token.size(), 512u);
  auto decoded = codec.Decode(token);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, position);
}

TEST(IteratorToken, RejectsForgedTruncatedAndForeignTokens) {
  IteratorCodec codec(std::string(32, 'k'));
  IteratorCodec other(std::string(32, 'o'));
  IteratorPosition position;
  position.stream_name = "orders";
  position.next_sequence = 5;
  std::string token = codec.Encode(position);
  EXPECT_FALSE(other.Decode(token).ok());
  EXPECT_FALSE(codec.Decode(token.substr(0, token.size() - 4)).ok());
  EXPECT_FALSE(codec.Decode("not base64!").ok());
  EXPECT_FALSE(codec.Decode("").ok());
  // Flip one bit in every byte position of the decoded token: all must be rejected.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string forged = token;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    if (forged == token) continue;
    auto decoded = codec.Decode(forged);
    EXPECT_FALSE(decoded.ok()) << "position " << i;
  }
}

}  // namespace
}  // namespace eddy::api

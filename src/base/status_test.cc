#include "base/status.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

Result<int> Half(int value) {
  if (value % 2 != 0) return InvalidArgument(std::to_string(value) + " is odd");
  return value / 2;
}

Result<int> Quarter(int value) {
  EDDY_ASSIGN_OR_RETURN(int half, Half(value));
  EDDY_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusTest, OkAndErrorsCarryCodeAndMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  Status status = Corruption("bad CRC");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kCorruption);
  EXPECT_EQ(status.ToString(), "Corruption: bad CRC");
  EXPECT_EQ(status.WithContext("segment 3").ToString(), "Corruption: segment 3: bad CRC");
}

TEST(StatusTest, RetriableClassification) {
  EXPECT_TRUE(NoSpace("disk full").IsRetriable());
  EXPECT_TRUE(Unavailable("down").IsRetriable());
  EXPECT_FALSE(Corruption("x").IsRetriable());
  EXPECT_FALSE(InvalidArgument("x").IsRetriable());
}

TEST(ResultTest, PropagatesErrorsThroughMacros) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "3 is odd");
  EXPECT_EQ(bad.value_or(-1), -1);
}

}  // namespace
}  // namespace eddy

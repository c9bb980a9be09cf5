#include "model/event_codec.h"

#include <gtest/gtest.h>

namespace eddy::model {
namespace {

TEST(EventCodecTest, Placeholder) {
  ChangeEvent event;
  event.table = {"d", "s", "t"};
  auto decoded = DecodeEvent(EncodeEvent(event));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, event);
}

}  // namespace
}  // namespace eddy::model

#include "net/http_client_pool.h"

#include <gtest/gtest.h>

namespace eddy::net {
namespace {

TEST(HttpClientPoolTest, ReturnedClientsAreReusedUntilThePoolCloses) {
  HttpClientPool pool;
  auto first = pool.Borrow();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = pool.Borrow();
  ASSERT_TRUE(second.ok());
  HttpClient* first_address = first->get();
  EXPECT_NE(first_address, second->get());  // both in use: two clients
  pool.Return(std::move(first).value());
  auto again = pool.Borrow();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first_address);  // the idle one, its connection kept
  pool.Return(std::move(again).value());
  pool.Close();
  pool.Return(std::move(second).value());  // dropped, not kept
  auto after_close = pool.Borrow();
  ASSERT_TRUE(after_close.ok());  // a closed pool still creates clients for stragglers
  EXPECT_NE(after_close->get(), nullptr);
}

}  // namespace
}  // namespace eddy::net

// HttpClientPool: idle HttpClients kept for reuse by destinations that send requests from
// several threads at once (one request per client at a time, see http_client.h).
//
// Borrow() hands out an idle client (its connection kept alive) or creates one from the
// pool's options; Return() puts it back unless the pool is closed. Close() drops every idle
// client and makes later Return()s drop theirs, so a destination shutting down releases its
// connections while requests still in flight finish on the clients they hold.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "net/http_client.h"

namespace eddy::net {

class HttpClientPool {
 public:
  HttpClientPool() = default;
  HttpClientPool(const HttpClientPool&) = delete;
  HttpClientPool& operator=(const HttpClientPool&) = delete;

  // Options of the clients created from now on (set once before the first Borrow).
  void set_options(HttpClientOptions options) { options_ = std::move(options); }
  const HttpClientOptions& options() const { return options_; }

  [[nodiscard]] Result<std::unique_ptr<HttpClient>> Borrow();
  void Return(std::unique_ptr<HttpClient> client);
  void Close();

 private:
  HttpClientOptions options_;
  std::mutex mutex_;  // guards idle_ and closed_
  std::vector<std::unique_ptr<HttpClient>> idle_;
  bool closed_ = false;
};

}  // namespace eddy::net

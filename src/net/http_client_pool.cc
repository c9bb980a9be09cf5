#include "net/http_client_pool.h"

namespace eddy::net {

Result<std::unique_ptr<HttpClient>> HttpClientPool::Borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<HttpClient> client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  return HttpClient::Create(options_);
}

void HttpClientPool::Return(std::unique_ptr<HttpClient> client) {
  std::lock_guard lock(mutex_);
  if (!closed_) idle_.push_back(std::move(client));
}

void HttpClientPool::Close() {
  std::vector<std::unique_ptr<HttpClient>> dropped;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    dropped.swap(idle_);
  }
}

}  // namespace eddy::net

#include "api/body_buffers.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace eddy::api {
namespace {

struct Pool {
  std::mutex mutex;
  std::vector<std::string> buffers;
  size_t bytes = 0;
};

Pool& GetPool() {
  static auto* pool = new Pool;  // never destroyed: connection threads may outlive statics
  return *pool;
}

}  // namespace

std::string TakeBodyBuffer() {
  Pool& pool = GetPool();
  std::lock_guard lock(pool.mutex);
  if (pool.buffers.empty()) return {};
  auto largest = std::max_element(pool.buffers.begin(), pool.buffers.end(),
                                  [](const std::string& a, const std::string& b) {
                                    return a.capacity() < b.capacity();
                                  });
  std::string buffer = std::move(*largest);
  *largest = std::move(pool.buffers.back());
  pool.buffers.pop_back();
  pool.bytes -= buffer.capacity();
  return buffer;
}

void ReturnBodyBuffer(std::string&& buffer) {
  size_t capacity = buffer.capacity();
  if (capacity < kMinPooledBodyBuffer || capacity > kMaxRetainedBodyBuffer) {
    std::string().swap(buffer);
    return;
  }
  buffer.clear();
  Pool& pool = GetPool();
  {
    std::lock_guard lock(pool.mutex);
    if (pool.bytes + capacity <= kMaxRetainedBodyBytes) {
      pool.bytes += capacity;
      pool.buffers.push_back(std::move(buffer));
      return;
    }
  }
  std::string().swap(buffer);  // the pool is full: free outside the lock
}

size_t PooledBodyBytes() {
  Pool& pool = GetPool();
  std::lock_guard lock(pool.mutex);
  return pool.bytes;
}

}  // namespace eddy::api

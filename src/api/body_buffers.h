// Reuse of response body buffers. A GetRecords reply is megabytes; allocating it fresh for
// every call made malloc map and unmap (or trim) the memory each time, and the kernel fault in
// and zero every page again (about a fifth of the server's CPU under the GetRecords load of
// bench/api/kinesis_vs_kinesalite.mjs). The handlers take an empty string with retained
// capacity from this process-wide pool, the HTTP front ends give it back once it is sent.
//
// Bounds: at most kMaxRetainedBytes of capacity is kept idle in the pool in total, and a
// buffer larger than kMaxBufferBytes is freed instead of kept, so an idle server holds at most
// 64 MiB here.
//
// Thread safety: all functions are thread-safe.
#pragma once

#include <cstddef>
#include <string>

namespace eddy::api {

inline constexpr size_t kMaxRetainedBodyBytes = 64u << 20;
inline constexpr size_t kMaxRetainedBodyBuffer = 16u << 20;
// Buffers below this capacity are not worth pooling (malloc serves them from its free lists).
inline constexpr size_t kMinPooledBodyBuffer = 64u << 10;

// An empty string, with the largest idle capacity the pool holds (or a new string).
std::string TakeBodyBuffer();
// Gives a buffer back (its contents are discarded). Small or oversized buffers are freed.
void ReturnBodyBuffer(std::string&& buffer);
// Capacity currently idle in the pool (for tests).
size_t PooledBodyBytes();

}  // namespace eddy::api

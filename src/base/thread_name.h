// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it: one name per role
// ("sink-control", "sink-lane-0", ...), so a per-thread CPU figure says which part of eddy
// used it. Linux keeps at most 15 bytes of a name; a longer one is cut there.
//
// Threads: names only the calling thread; safe to call from any thread at any time.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace eddy {

inline void NameCurrentThread(std::string_view name) {
  char text[16];
  const size_t length = std::min(name.size(), sizeof(text) - 1);
  std::memcpy(text, name.data(), length);
  text[length] = '\0';
  pthread_setname_np(pthread_self(), text);  // fails only for an over-long name: cut above
}

}  // namespace eddy

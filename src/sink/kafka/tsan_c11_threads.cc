// ThreadSanitizer builds only (linked into the tests that run librdkafka; see CMakeLists.txt).
//
// Debian's librdkafka 2.0.2 starts its threads and takes its locks through C11 <threads.h>
// (thrd_create, mtx_lock, cnd_timedwait: glibc 2.34's), which GCC 12's libtsan does not
// intercept: it intercepts only the pthread functions. A thread started by thrd_create then
// has no ThreadSanitizer state, and the first allocation on it (librdkafka's main thread
// calloc()s as it starts) dereferences a null allocator cache: every test that creates a
// librdkafka client crashed with SIGSEGV at once. These definitions, in the executable, take
// precedence over glibc's and do the same through the pthread functions glibc implements them
// with (a C11 mtx_t/cnd_t/thrd_t is a pthread mutex/condition/thread on glibc), so the
// sanitizer sees librdkafka's threads and its synchronization with ours.
#include <errno.h>
#include <pthread.h>
#include <threads.h>

#include <cstdint>
#include <new>

namespace {

struct Start {
  thrd_start_t function;
  void* argument;
};

void* Trampoline(void* raw) {
  Start start = *static_cast<Start*>(raw);
  delete static_cast<Start*>(raw);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.function(start.argument)));
}

int Result(int pthread_error) {
  switch (pthread_error) {
    case 0:
      return thrd_success;
    case ENOMEM:
      return thrd_nomem;
    case EBUSY:
      return thrd_busy;
    case ETIMEDOUT:
      return thrd_timedout;
    default:
      return thrd_error;
  }
}

pthread_mutex_t* Mutex(mtx_t* mutex) { return reinterpret_cast<pthread_mutex_t*>(mutex); }
pthread_cond_t* Condition(cnd_t* condition) { return reinterpret_cast<pthread_cond_t*>(condition); }

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) Start{function, argument};
  if (start == nullptr) return thrd_nomem;
  int error = pthread_create(thread, nullptr, &Trampoline, start);
  if (error != 0) delete start;
  return error == EAGAIN ? thrd_nomem : Result(error);
}

int thrd_join(thrd_t thread, int* result) {
  void* value = nullptr;
  int error = pthread_join(thread, &value);
  if (error == 0 && result != nullptr)
    *result = static_cast<int>(reinterpret_cast<intptr_t>(value));
  return Result(error);
}

int thrd_detach(thrd_t thread) { return Result(pthread_detach(thread)); }

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  int error = pthread_mutex_init(Mutex(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return Result(error);
}
int mtx_lock(mtx_t* mutex) { return Result(pthread_mutex_lock(Mutex(mutex))); }
int mtx_trylock(mtx_t* mutex) { return Result(pthread_mutex_trylock(Mutex(mutex))); }
int mtx_timedlock(mtx_t* __restrict mutex, const struct timespec* __restrict deadline) {
  return Result(pthread_mutex_timedlock(Mutex(mutex), deadline));
}
int mtx_unlock(mtx_t* mutex) { return Result(pthread_mutex_unlock(Mutex(mutex))); }
void mtx_destroy(mtx_t* mutex) { pthread_mutex_destroy(Mutex(mutex)); }

int cnd_init(cnd_t* condition) { return Result(pthread_cond_init(Condition(condition), nullptr)); }
int cnd_signal(cnd_t* condition) { return Result(pthread_cond_signal(Condition(condition))); }
int cnd_broadcast(cnd_t* condition) { return Result(pthread_cond_broadcast(Condition(condition))); }
int cnd_wait(cnd_t* condition, mtx_t* mutex) {
  return Result(pthread_cond_wait(Condition(condition), Mutex(mutex)));
}
int cnd_timedwait(cnd_t* __restrict condition, mtx_t* __restrict mutex,
                  const struct timespec* __restrict deadline) {
  return Result(pthread_cond_timedwait(Condition(condition), Mutex(mutex), deadline));
}
void cnd_destroy(cnd_t* condition) { pthread_cond_destroy(Condition(condition)); }

}  // extern "C"

// librdkafka itself is not built with the sanitizer: its reference counts and flags are
// atomics the sanitizer cannot see, so it reports races between librdkafka's own threads on
// librdkafka's objects (a topic's lock destroyed by its main thread after a broker thread's
// last use, ordered by a reference count). Reports with a librdkafka frame are suppressed;
// races between eddy's threads are still reported.
extern "C" const char* __tsan_default_suppressions() {
  return "race:librdkafka.so.1\n"
         "mutex:librdkafka.so.1\n"
         "deadlock:librdkafka.so.1\n";
}

// ByteAppender: appends to a std::string through a pointer into room made ahead, for encoders
// that write many short pieces per record (a snapshot row's names, type bytes, varints and
// values).
//
// Why: each std::string::append of a few bytes is a call into memmove (the length is not a
// constant), about as costly as the bytes themselves; a snapshot row is 25-30 of them. The
// appender grows the string's size ahead (one resize, which zero-fills the room; at most 4 KiB
// beyond what is written, and more only as pieces need it), writes
// pieces of up to 16 bytes with fixed-size moves the compiler inlines, and trims the string to
// what was written when it finishes (Finish or destruction). Longer pieces still go to memcpy.
//
// While an appender is alive the string's size() includes the room made ahead: read what was
// written through size() and data() of the appender, and touch the string only after Finish.
//
// Thread safety: none; one appender per string at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

// The appends are forced inline: a call per piece is what the appender exists to avoid, and
// GCC's -O2 heuristics leave these out of line.
#define EDDY_APPENDER_INLINE [[gnu::always_inline]] inline

namespace eddy {

class ByteAppender {
 public:
  explicit ByteAppender(std::string& out) : out_(out), size_(out.size()) {
    // The string's spare capacity, but no more than kMaxRoomAhead: a recycled string that
    // once held a large value must not cost a zero-fill of all of it on every use.
    const size_t spare = out_.capacity() - size_;
    out_.resize(size_ + std::clamp(spare, kMinRoom, kMaxRoomAhead));
  }
  ~ByteAppender() { Finish(); }
  ByteAppender(const ByteAppender&) = delete;
  ByteAppender& operator=(const ByteAppender&) = delete;

  // Trims the string to the bytes written; appending again makes room again.
  void Finish() {
    if (out_.size() != size_) out_.resize(size_);
  }

  // The string's bytes written so far (what size() of the string is after Finish).
  size_t size() const { return size_; }
  const char* data() const { return out_.data(); }
  std::string_view written() const { return std::string_view(out_.data(), size_); }

  EDDY_APPENDER_INLINE void Append(const char* bytes, size_t n) {
    char* to = Room(n);
    if (n <= 16) {
      CopyShort(to, bytes, n);
    } else {
      std::memcpy(to, bytes, n);
    }
    size_ += n;
  }
  EDDY_APPENDER_INLINE void Append(std::string_view bytes) { Append(bytes.data(), bytes.size()); }
  // Appends a copy of the `n` bytes written at `offset` (offset + n <= size()): the room is
  // made first, so growing the string cannot leave the source behind.
  EDDY_APPENDER_INLINE void AppendWritten(size_t offset, size_t n) {
    char* to = Room(n);
    const char* from = out_.data() + offset;
    if (n <= 16) {
      CopyShort(to, from, n);
    } else {
      std::memcpy(to, from, n);
    }
    size_ += n;
  }
  EDDY_APPENDER_INLINE void PutByte(uint8_t byte) {
    *Room(1) = static_cast<char>(byte);
    ++size_;
  }
  // base/bytes.h's PutVarint64, PutVarintSigned64 and PutLengthPrefixed, byte for byte.
  EDDY_APPENDER_INLINE void PutVarint64(uint64_t v) {
    char* to = Room(10);
    size_t n = 0;
    while (v >= 0x80) {
      to[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    to[n++] = static_cast<char>(v);
    size_ += n;
  }
  EDDY_APPENDER_INLINE void PutVarintSigned64(int64_t v) {
    PutVarint64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  EDDY_APPENDER_INLINE void PutLengthPrefixed(std::string_view bytes) {
    PutVarint64(bytes.size());
    Append(bytes);
  }

 private:
  static constexpr size_t kMinRoom = 64;
  static constexpr size_t kMaxRoomAhead = 4096;

  // Room for `n` more bytes after what was written.
  EDDY_APPENDER_INLINE char* Room(size_t n) {
    if (out_.size() - size_ < n) Grow(n);
    return out_.data() + size_;
  }
  [[gnu::noinline]] void Grow(size_t n) {
    out_.resize(std::max(size_ + n + kMinRoom, 2 * out_.size()));
  }

  // Up to 16 bytes with two possibly overlapping fixed-size moves (no library call).
  EDDY_APPENDER_INLINE static void CopyShort(char* to, const char* from, size_t n) {
    if (n >= 8) {
      CopyHeadAndTail<uint64_t>(to, from, n);
    } else if (n >= 4) {
      CopyHeadAndTail<uint32_t>(to, from, n);
    } else if (n > 0) {
      to[0] = from[0];
      to[n / 2] = from[n / 2];
      to[n - 1] = from[n - 1];
    }
  }
  // The first and the last sizeof(Word) of `n` bytes, n in [sizeof(Word), 2 * sizeof(Word)].
  template <typename Word>
  EDDY_APPENDER_INLINE static void CopyHeadAndTail(char* to, const char* from, size_t n) {
    Word head;
    Word tail;
    std::memcpy(&head, from, sizeof(Word));
    std::memcpy(&tail, from + n - sizeof(Word), sizeof(Word));
    std::memcpy(to, &head, sizeof(Word));
    std::memcpy(to + n - sizeof(Word), &tail, sizeof(Word));
  }

  std::string& out_;
  size_t size_;  // bytes written; out_.size() is that plus the room made ahead
};

}  // namespace eddy

#undef EDDY_APPENDER_INLINE

// Internal to format/: the output cursor and the encoded-event cursor the renderers that write
// straight from encoded events (native_encoded.cc, debezium_encoded.cc) share.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/byte_cursor.h"
#include "base/bytes.h"
#include "format/json.h"
#include "format/value_text.h"
#include "model/value.h"

namespace eddy::format::encoded_internal {

// Appends to a std::string through a cursor: the string is grown ahead (never shrunk while
// writing) so each small write is a bounds compare and a copy. Finish() trims it to what was
// written. Strings that need escaping go through json.cc's AppendJsonString, so the escaping
// rules stay in one place.
//
// A scratch Output (kScratch) writes from the start of a buffer kept across records (a
// thread_local string) and takes the string's whole size as room, never trimming it: the
// buffer grows, with std::string's zero fill, only past the largest record it held, where a
// string emptied for every record is filled again for every record. View() is what was
// written; Finish() is not called.
class Output {
 public:
  struct ScratchTag {};
  static constexpr ScratchTag kScratch{};

  explicit Output(std::string& out) : out_(out) { Reset(out.size()); }
  Output(std::string& scratch, ScratchTag) : out_(scratch) { Reset(0); }
  size_t size() const { return static_cast<size_t>(at_ - base_); }
  std::string_view View() const { return std::string_view(base_, size()); }
  void Finish() { out_.resize(size()); }
  void Truncate(size_t size) { at_ = base_ + size; }

  void Raw(std::string_view text) {
    char* at = Room(text.size());
    std::memcpy(at, text.data(), text.size());
    at_ = at + text.size();
  }
  template <size_t N>
  void Literal(const char (&text)[N]) {
    Raw(std::string_view(text, N - 1));
  }
  void Char(char c) {
    *Room(1) = c;
    ++at_;
  }
  // Checks and copies in one pass with fixed-size loads and stores (no call per string; 16
  // bytes a step where the machine has SSE2): most strings are short names and values that
  // need no escaping. Reads only `text`; writes up to 8 bytes past the string's end, inside
  // the room taken.
  void String(std::string_view text) {
    const size_t n = text.size();
    const char* src = text.data();
    char* at = Room(n + 2 + 8);
    char* dst = at + 1;
    bool plain;
#if defined(__SSE2__)
    if (n >= 16) {
      uint32_t flagged = 0;
      size_t i = 0;
      for (; i + 16 <= n; i += 16) {
        flagged |= json_internal::FlaggedMask16(src + i);
        std::memcpy(dst + i, src + i, 16);
      }
      if (i < n) {  // the last 16 bytes, overlapping what was copied
        flagged |= json_internal::FlaggedMask16(src + n - 16);
        std::memcpy(dst + n - 16, src + n - 16, 16);
      }
      plain = flagged == 0;
    } else if (n >= 8) {
#else
    if (n >= 8) {
#endif
      uint64_t flagged = 0;
      size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        uint64_t word;
        std::memcpy(&word, src + i, 8);
        flagged |= json_internal::FlaggedBytes(word);
        std::memcpy(dst + i, &word, 8);
      }
      if (i < n) {  // the last 8 bytes, overlapping what was copied
        uint64_t word;
        std::memcpy(&word, src + n - 8, 8);
        flagged |= json_internal::FlaggedBytes(word);
        std::memcpy(dst + n - 8, &word, 8);
      }
      plain = flagged == 0;
    } else if (n >= 4) {
      uint32_t head, tail;
      std::memcpy(&head, src, 4);
      std::memcpy(&tail, src + n - 4, 4);
      plain = json_internal::FlaggedBytes(head | (uint64_t{tail} << 32)) == 0;
      std::memcpy(dst, &head, 4);
      std::memcpy(dst + n - 4, &tail, 4);
    } else if (n > 0) {
      const auto first = static_cast<uint8_t>(src[0]);
      const auto middle = static_cast<uint8_t>(src[n / 2]);
      const auto last = static_cast<uint8_t>(src[n - 1]);
      plain = json_internal::FlaggedBytes(0x6161616161000000ULL | first | (middle << 8) |
                                          (uint64_t{last} << 16)) == 0;
      dst[0] = static_cast<char>(first);
      dst[n / 2] = static_cast<char>(middle);
      dst[n - 1] = static_cast<char>(last);
    } else {
      plain = true;
    }
    if (plain) [[likely]] {
      at[0] = '"';
      dst[n] = '"';
      at_ = dst + n + 1;
      return;
    }
    out_.resize(size());
    AppendJsonString(out_, text);
    Reset(out_.size());
  }
  // A timestamp's text (value_text.h; plain ASCII, so no escaping) in quotes.
  void Instant(model::TemporalKind kind, int64_t micros, bool utc) {
    char* at = Room(kMaxInstantChars + 2);
    at[0] = '"';
    char* end = WriteInstant(at + 1, kind, micros, utc);
    *end++ = '"';
    at_ = end;
  }
  void Key(std::string_view name) {
    String(name);
    Char(':');
  }
  template <typename Integer>
  void Number(Integer value) {
    char* at = Room(24);
    at_ = std::to_chars(at, at + 24, value).ptr;
  }
  // `"ts_ms":<nanos floored to ms>,"ts_ns":<nanos>`. The events of one source transaction
  // share their commit time (and a batch of captured events its capture time), so the last
  // two texts this thread wrote are kept and copied instead of formatted again.
  void Times(int64_t nanos) {
    thread_local std::array<TimesText, 2> times_;
    thread_local int next_times_ = 0;
    for (TimesText& cached : times_) {
      if (cached.size != 0 && cached.nanos == nanos) {
        Raw(std::string_view(cached.text, cached.size));
        return;
      }
    }
    TimesText& slot = times_[next_times_];
    next_times_ ^= 1;
    char* at = slot.text;
    std::memcpy(at, "\"ts_ms\":", 8);
    at = std::to_chars(at + 8, slot.text + sizeof slot.text, FloorDiv(nanos, 1000000)).ptr;
    std::memcpy(at, ",\"ts_ns\":", 9);
    at = std::to_chars(at + 9, slot.text + sizeof slot.text, nanos).ptr;
    slot.nanos = nanos;
    slot.size = static_cast<size_t>(at - slot.text);
    Raw(std::string_view(slot.text, slot.size));
  }

 private:
  struct TimesText {
    int64_t nanos = 0;
    size_t size = 0;  // 0: empty
    char text[64];
  };

  // Room for `bytes` more at at_: the string is sized ahead (resize zero-fills what it adds,
  // so it grows by about one record at a time; its own reallocation is geometric already).
  char* Room(size_t bytes) {
    if (static_cast<size_t>(end_ - at_) < bytes) [[unlikely]]
      Grow(bytes);
    return at_;
  }
  [[gnu::noinline]] void Grow(size_t bytes) {
    const size_t used = size();
    out_.resize(used + bytes + 1024);
    Reset(used);
  }
  void Reset(size_t used) {
    base_ = out_.data();
    at_ = base_ + used;
    end_ = base_ + out_.size();
  }

  std::string& out_;
  char* base_ = nullptr;  // out_.data()
  char* at_ = nullptr;    // the end of what was written
  char* end_ = nullptr;   // out_.data() + out_.size()
};

// The encoded-event cursor: base/byte_cursor.h's (ByteReader's rules, answering true/false).
using Cursor = ::eddy::ByteCursor;

}  // namespace eddy::format::encoded_internal

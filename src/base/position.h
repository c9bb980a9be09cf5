// Source positions: where a change came from in the source database's own log.
//
// A position identifies the end of a committed source transaction, so "everything at or
// below position P is durable in eddy's log" is a meaningful statement that sources use to
// acknowledge (PostgreSQL flush LSN) and to skip already-logged transactions after a restart.
//
// Binary encoding (used inside log records and checkpoints) is specified in
// docs/formats/source-position.md; the tag values below never change.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "base/status.h"
#include "base/strong_type.h"

namespace eddy {

// PostgreSQL write-ahead log position, rendered as "16/B374D848" (high/low 32 bits in hex).
class Lsn : public StrongType<uint64_t, struct LsnTag> {
 public:
  using StrongType::StrongType;
  static constexpr Lsn Invalid() { return Lsn(0); }
  bool IsValid() const { return value() != 0; }
  std::string ToString() const;
  static Result<Lsn> Parse(std::string_view text);
};

// Per-shard record sequence number in eddy's log: strictly increasing within a shard.
// The Kinesis-style 56-digit decimal rendering is built from it by the API layer.
using SequenceNumber = StrongType<uint64_t, struct SequenceNumberTag>;

// MySQL/MariaDB binlog coordinates: file name ("mysql-bin.000042") and byte offset.
// Files compare by their numeric suffix, which the server increases on every rotation.
struct BinlogPosition {
  std::string file;
  uint64_t offset = 0;

  std::string ToString() const;  // "mysql-bin.000042:1234"
  // Orders by file suffix then offset; files without a numeric suffix compare by name.
  std::strong_ordering operator<=>(const BinlogPosition& other) const;
  bool operator==(const BinlogPosition& other) const = default;
};

// A global transaction id as the server prints it: MariaDB "0-1-42" (domain-server-sequence)
// or MySQL "3E11FA47-71CA-11E1-9E33-C80AA9429562:23". Kept as text; the MySQL capture parses
// what it needs (domain and sequence) for resume.
struct Gtid {
  std::string text;
  bool empty() const { return text.empty(); }
  bool operator==(const Gtid&) const = default;
};

struct PostgresPosition {
  // End LSN of the transaction's commit record: the value PostgreSQL expects as flush position.
  Lsn commit_end_lsn;
  // LSN of the change itself (the WAL record's start); for snapshot rows, the slot's
  // consistent point.
  Lsn change_lsn;
  bool operator==(const PostgresPosition&) const = default;
};

struct MysqlPosition {
  uint32_t server_id = 0;
  // Position just after the transaction's commit (XID or COMMIT query event): where a replica
  // resumes to get the next transaction.
  BinlogPosition end;
  Gtid gtid;
  bool operator==(const MysqlPosition&) const = default;
};

enum class SourceKind : uint8_t { kNone = 0, kPostgres = 1, kMysql = 2 };

// The position of one change: which source log and where in it. Comparisons are defined only
// between positions of the same kind (one source feeds one log stream).
class SourcePosition {
 public:
  // The alternatives in the order of their encoded kind byte (static_asserts below).
  using Storage = std::variant<std::monostate, PostgresPosition, MysqlPosition>;

  SourcePosition() = default;
  explicit SourcePosition(PostgresPosition position) : value_(position) {}
  explicit SourcePosition(MysqlPosition position) : value_(std::move(position)) {}

  SourceKind kind() const { return static_cast<SourceKind>(value_.index()); }
  bool empty() const { return kind() == SourceKind::kNone; }
  const PostgresPosition* postgres() const { return std::get_if<PostgresPosition>(&value_); }
  const MysqlPosition* mysql() const { return std::get_if<MysqlPosition>(&value_); }

  // Orders by the transaction's end (commit end LSN; binlog end coordinates). Positions of
  // different kinds are unordered.
  std::partial_ordering CompareTransaction(const SourcePosition& other) const;

  std::string ToString() const;

  // Appends the binary encoding to `out`.
  void EncodeTo(std::string& out) const;
  // Decodes from `bytes`, advancing it past the encoding; bounds-checked.
  static Result<SourcePosition> DecodeFrom(std::string_view& bytes);
  // The size of the encoding at the start of `bytes`, with DecodeFrom's checks but without
  // building the position (the fast paths of the log's frame reader and the event decoder);
  // 0 when DecodeFrom would fail (an encoding is at least one byte).
  static size_t EncodedSize(std::string_view bytes);

  bool operator==(const SourcePosition&) const = default;

 private:
  Storage value_;
};

// The encoded kind byte is the variant index and the SourceKind value
// (docs/formats/source-position.md): reordering the alternatives would change the disk format,
// so it must not compile.
namespace position_layout {
template <SourceKind kKind, typename T>
constexpr bool IndexIs() {
  return std::is_same_v<
      std::variant_alternative_t<static_cast<size_t>(kKind), SourcePosition::Storage>, T>;
}
static_assert(IndexIs<SourceKind::kNone, std::monostate>());
static_assert(IndexIs<SourceKind::kPostgres, PostgresPosition>());
static_assert(IndexIs<SourceKind::kMysql, MysqlPosition>());
static_assert(std::variant_size_v<SourcePosition::Storage> == 3);
static_assert(static_cast<uint8_t>(SourceKind::kNone) == 0 &&
              static_cast<uint8_t>(SourceKind::kPostgres) == 1 &&
              static_cast<uint8_t>(SourceKind::kMysql) == 2);
}  // namespace position_layout

}  // namespace eddy

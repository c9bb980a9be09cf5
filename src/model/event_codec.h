// Compact binary encoding of ChangeEvent for the log (spec: docs/formats/event-encoding.md).
//
//   +---------+----+-------+---------------- ... ----------------+
//   | version | op | flags | fields in a fixed order (see spec)   |
//   |  u8=1|2 | u8 |  u8   | varints, zigzag varints, len-prefixed |
//   +---------+----+-------+---------------- ... ----------------+
//
// Decoding treats the bytes as untrusted: every read is bounds-checked, counts are checked
// against the bytes that remain, nesting is limited, enums are validated; any malformed input
// returns Corruption, never crashes. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/event.h"

namespace eddy::model {

// The newest version this build writes. Decoders accept versions 1..kEventEncodingVersion.
// The encoder writes the lowest version that can hold the event: version 1 for row changes,
// truncates and messages without transaction metadata (so older builds keep reading logs that
// use no newer feature), version 2 for schema changes, transaction records, heartbeats and
// events carrying a transaction block.
inline constexpr uint8_t kEventEncodingVersion = 2;
// Arrays nest at most this deep (PostgreSQL allows 6 dimensions).
inline constexpr int kMaxArrayDepth = 16;

// Flag bits of the third byte.
inline constexpr uint8_t kEventFlagHasBefore = 0x01;
inline constexpr uint8_t kEventFlagHasAfter = 0x02;
inline constexpr uint8_t kEventFlagHasMessage = 0x04;
inline constexpr uint8_t kEventFlagHasSchemaChange = 0x08;        // version 2
inline constexpr uint8_t kEventFlagHasTransactionOrder = 0x10;     // version 2
inline constexpr uint8_t kEventFlagHasTransactionSummary = 0x20;   // version 2
inline constexpr uint8_t kEventFlagsKnownV1 = 0x07;
inline constexpr uint8_t kEventFlagsKnown = 0x3F;

// Appends the encoding of `event` to `out`.
void EncodeEvent(const ChangeEvent& event, std::string& out);
std::string EncodeEvent(const ChangeEvent& event);

// Decodes one event that occupies all of `bytes` (trailing bytes are Corruption).
Result<ChangeEvent> DecodeEvent(std::string_view bytes);

// Value encoding on its own (type byte + payload), used by the event encoding and available
// for other records (e.g. key values).
void EncodeValue(const Value& value, std::string& out);
Result<Value> DecodeValue(std::string_view& bytes);

// Encodes row changes (ops c, u, d, r) that share every field but the op, the ordinal in the
// transaction, the source row number and the rows (the rows of one binlog rows event, say)
// without building a ChangeEvent per row: SetShared encodes what they share once; BeginEvent
// then appends only what differs, and the caller appends the rows (key, then before if
// present, then after if present) as AppendRowFieldCount followed by, per field,
// AppendFieldName (or bytes it produced earlier) and EncodeValue. The result is byte for byte
// what EncodeEvent writes for the equivalent ChangeEvent (version 1). Not thread-safe.
class RowEventEncoder {
 public:
  // Takes the table, schema version, times, transaction id, position and source fields of
  // `shared` (its op, ordinal, mysql_row and rows are ignored). `shared` must carry no
  // message, schema change or transaction block: those events go through EncodeEvent.
  void SetShared(const ChangeEvent& shared);
  // Appends the event's fields up to (not including) its key row.
  void BeginEvent(Operation op, bool has_before, bool has_after, uint64_t ordinal_in_transaction,
                  uint32_t mysql_row, std::string& out) const;

 private:
  std::string up_to_ordinal_;  // table .. transaction id
  std::string after_ordinal_;  // position .. mysql thread id
  std::string query_;          // length-prefixed source.query
};

// A TableSchema on its own, in the layout a schema change event carries it (the spec's
// "table schema"): the schema history (schema/schema_history.h) stores schemas this way.
// Decoding is as strict as DecodeEvent's; the schema must occupy all of `bytes`.
void AppendTableSchema(const TableSchema& schema, std::string& out);
Result<TableSchema> DecodeTableSchema(std::string_view bytes);

void AppendRowFieldCount(uint64_t count, std::string& out);
// AppendPartitionKeyValue for a value given in its encoding (one EncodeValue output); integer
// keys, the common case, are rendered without decoding a Value. Corruption when `encoded` is
// not one whole encoded value.
[[nodiscard]] Status AppendPartitionKeyValueEncoded(std::string_view encoded, std::string& out);
void AppendFieldName(std::string_view name, std::string& out);

}  // namespace eddy::model

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
#include <vector>

#include "base/byte_appender.h"
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

// A stored event read in place, for consumers that lay out rows themselves (the Parquet
// writer) and need no ChangeEvent: the header fields as views into the encoded bytes, and the
// key and images as encoded rows that RowFieldReader reads one field at a time. Every view
// points into the bytes given to DecodeEventView and lives as long as they do.
//
// DecodeEventView checks exactly what DecodeEvent checks (the same bytes decode with one iff
// they decode with the other, with the same values), without allocating for row changes.
struct ValueView {
  ValueType type = ValueType::kNull;
  bool boolean = false;  // kBool
  int64_t int64 = 0;     // kInt64; micros of kTime, kTimeTz, kTimestamp, kTimestampTz, kInterval
  uint64_t uint64 = 0;   // kUint64
  float float32 = 0;     // kFloat32
  double float64 = 0;    // kFloat64
  int32_t int32 = 0;     // kDate days; kTimeTz UTC offset seconds; kInterval months
  int32_t interval_days = 0;                      // kInterval
  TemporalKind temporal = TemporalKind::kFinite;  // kDate, kTimestamp, kTimestampTz
  // kDecimal, kText, kBytes, kJson, kEnum, kBits: the value; kTypedText: its text; kUuid: the
  // 16 bytes.
  std::string_view text;
  std::string_view type_name;  // kTypedText
  // The whole value as EncodeValue wrote it (DecodeValue reads it back): for kArray, and for
  // consumers that need a model::Value after all (an error message).
  std::string_view encoded;
};

struct FieldView {
  std::string_view name;
  ValueView value;
};

struct EventView {
  uint8_t version = 0;
  Operation op = Operation::kInsert;
  uint8_t flags = 0;                         // kEventFlag* bits
  std::string_view database, schema, table;  // TableId's parts
  uint32_t schema_version = 0;
  int64_t commit_time_ns = 0;
  int64_t capture_time_ns = 0;
  std::string_view transaction_id;
  uint64_t ordinal_in_transaction = 0;
  // SourcePosition::EncodeTo's bytes (checked: SourcePosition::DecodeFrom reads them whole).
  std::string_view position;
  // Each one whole encoded row (field count, then name and value per field), as
  // RowFieldReader reads it; before/after are empty unless has_before()/has_after().
  std::string_view key, before, after;
  bool has_before() const { return (flags & kEventFlagHasBefore) != 0; }
  bool has_after() const { return (flags & kEventFlagHasAfter) != 0; }
};

// Decodes one event that occupies all of `bytes` in place (trailing bytes are Corruption).
Result<EventView> DecodeEventView(std::string_view bytes);

// DecodeEventView, collecting as it checks them the fields of the row image that a consumer of
// row changes lays out: the after image, or for a delete the before image (the key when the
// delete has none). `image` is cleared first and then holds those fields in their stored
// order, pointing into `bytes`; it stays empty when the event has no such row. One parse of
// the event instead of DecodeEventView followed by a RowFieldReader over the image (the Parquet
// writer's AppendStoredEvent). On an error `image` holds some fields: ignore it.
Result<EventView> DecodeEventViewWithImage(std::string_view bytes, std::vector<FieldView>* image);

// The operation of a stored event, from its first bytes (the version and operation checks of
// DecodeEvent alone): for consumers that sort records by operation before decoding them.
Result<Operation> StoredEventOperation(std::string_view bytes);

// Reads one encoded row of an EventView (already checked by DecodeEventView, so reads do not
// fail on such a row; a row from elsewhere is checked as it is read).
class RowFieldReader {
 public:
  explicit RowFieldReader(std::string_view row);
  // The row's field count (Corruption for bytes that do not start with one).
  Result<uint64_t> Count();
  // The next field, after Count(). Call at most Count() times.
  Result<FieldView> Next();

 private:
  std::string_view bytes_;
};

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
  // The same through an appender (the snapshot's record writer, source/snapshot_records.h).
  void BeginEvent(Operation op, bool has_before, bool has_after, uint64_t ordinal_in_transaction,
                  uint32_t mysql_row, ByteAppender& out) const;

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

#include "model/event_codec.h"

#include <bit>
#include <cassert>
#include <charconv>
#include <limits>

#include "base/byte_cursor.h"
#include "base/bytes.h"
#include "model/event_header.h"

namespace eddy::model {

namespace {

void PutTemporalKind(std::string& out, TemporalKind kind) {
  PutFixed8(out, static_cast<uint8_t>(kind));
}

// The header fields between the flags and the ordinal, and between the ordinal and the
// source row number (shared by EncodeEvent and RowEventEncoder, which encodes them once).
void EncodeFieldsUpToOrdinal(const ChangeEvent& event, std::string& out) {
  PutLengthPrefixed(out, event.table.database);
  PutLengthPrefixed(out, event.table.schema);
  PutLengthPrefixed(out, event.table.name);
  PutVarint64(out, event.schema_version);
  PutVarintSigned64(out, event.commit_time_ns);
  PutVarintSigned64(out, event.capture_time_ns);
  PutLengthPrefixed(out, event.transaction_id);
}

void EncodeFieldsAfterOrdinal(const ChangeEvent& event, std::string& out) {
  std::string position;
  event.position.EncodeTo(position);
  PutLengthPrefixed(out, position);
  PutFixed8(out, static_cast<uint8_t>(event.source.connector));
  PutLengthPrefixed(out, event.source.server_name);
  PutFixed8(out, static_cast<uint8_t>(event.source.snapshot));
  PutVarint64(out, event.source.mysql_thread_id);
}

void EncodeRow(const Row& row, std::string& out) {
  PutVarint64(out, row.size());
  for (const Field& field : row) {
    PutLengthPrefixed(out, field.name);
    EncodeValue(field.value, out);
  }
}

Result<TemporalKind> ReadTemporalKind(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint8_t raw, reader.ReadFixed8());
  if (raw > static_cast<uint8_t>(TemporalKind::kZero)) {
    return Corruption("unknown temporal kind " + std::to_string(raw));
  }
  return static_cast<TemporalKind>(raw);
}

Result<int32_t> ReadSigned32(ByteReader& reader, const char* what) {
  EDDY_ASSIGN_OR_RETURN(int64_t raw, reader.ReadVarintSigned64());
  if (raw < std::numeric_limits<int32_t>::min() || raw > std::numeric_limits<int32_t>::max()) {
    return Corruption(std::string(what) + " " + std::to_string(raw) + " does not fit 32 bits");
  }
  return static_cast<int32_t>(raw);
}

Result<uint32_t> ReadUnsigned32(ByteReader& reader, const char* what) {
  EDDY_ASSIGN_OR_RETURN(uint64_t raw, reader.ReadVarint64());
  if (raw > std::numeric_limits<uint32_t>::max()) {
    return Corruption(std::string(what) + " " + std::to_string(raw) + " does not fit 32 bits");
  }
  return static_cast<uint32_t>(raw);
}

Result<std::string> ReadString(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(std::string_view bytes, reader.ReadLengthPrefixed());
  return std::string(bytes);
}

// Every element takes at least one byte, so a count above the remaining bytes is corrupt;
// checking it first keeps a hostile count from reserving gigabytes.
Result<uint64_t> ReadCount(ByteReader& reader, const char* what) {
  EDDY_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
  if (count > reader.remaining()) {
    return Corruption(std::string(what) + " count " + std::to_string(count) + " exceeds the " +
                      std::to_string(reader.remaining()) + " bytes that remain");
  }
  return count;
}

Result<Value> ReadValue(ByteReader& reader, int depth) {
  EDDY_ASSIGN_OR_RETURN(uint8_t tag, reader.ReadFixed8());
  if (tag > static_cast<uint8_t>(ValueType::kUnavailable)) {
    return Corruption("unknown value type " + std::to_string(tag));
  }
  switch (static_cast<ValueType>(tag)) {
    case ValueType::kNull:
      return Value::Null();
    case ValueType::kBool: {
      EDDY_ASSIGN_OR_RETURN(uint8_t raw, reader.ReadFixed8());
      if (raw > 1) return Corruption("bool value byte " + std::to_string(raw) + " is not 0 or 1");
      return Value::Bool(raw == 1);
    }
    case ValueType::kInt64: {
      EDDY_ASSIGN_OR_RETURN(int64_t v, reader.ReadVarintSigned64());
      return Value::Int64(v);
    }
    case ValueType::kUint64: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, reader.ReadVarint64());
      return Value::Uint64(v);
    }
    case ValueType::kFloat32: {
      EDDY_ASSIGN_OR_RETURN(uint32_t bits, reader.ReadFixed32());
      return Value::Float32(std::bit_cast<float>(bits));
    }
    case ValueType::kFloat64: {
      EDDY_ASSIGN_OR_RETURN(uint64_t bits, reader.ReadFixed64());
      return Value::Float64(std::bit_cast<double>(bits));
    }
    case ValueType::kDecimal: {
      EDDY_ASSIGN_OR_RETURN(std::string text, ReadString(reader));
      return Value::Decimal(std::move(text));
    }
    case ValueType::kText: {
      EDDY_ASSIGN_OR_RETURN(std::string text, ReadString(reader));
      return Value::Text(std::move(text));
    }
    case ValueType::kBytes: {
      EDDY_ASSIGN_OR_RETURN(std::string data, ReadString(reader));
      return Value::Bytes(std::move(data));
    }
    case ValueType::kDate: {
      EDDY_ASSIGN_OR_RETURN(TemporalKind kind, ReadTemporalKind(reader));
      EDDY_ASSIGN_OR_RETURN(int32_t days, ReadSigned32(reader, "date day count"));
      return Value::Date(DateValue{kind, days});
    }
    case ValueType::kTime: {
      EDDY_ASSIGN_OR_RETURN(int64_t micros, reader.ReadVarintSigned64());
      return Value::Time(micros);
    }
    case ValueType::kTimeTz: {
      EDDY_ASSIGN_OR_RETURN(int64_t micros, reader.ReadVarintSigned64());
      EDDY_ASSIGN_OR_RETURN(int32_t offset, ReadSigned32(reader, "time zone offset"));
      return Value::TimeTz(TimeTzValue{micros, offset});
    }
    case ValueType::kTimestamp: {
      EDDY_ASSIGN_OR_RETURN(TemporalKind kind, ReadTemporalKind(reader));
      EDDY_ASSIGN_OR_RETURN(int64_t micros, reader.ReadVarintSigned64());
      return Value::Timestamp(TimestampValue{kind, micros});
    }
    case ValueType::kTimestampTz: {
      EDDY_ASSIGN_OR_RETURN(TemporalKind kind, ReadTemporalKind(reader));
      EDDY_ASSIGN_OR_RETURN(int64_t micros, reader.ReadVarintSigned64());
      return Value::TimestampTz(TimestampTzValue{kind, micros});
    }
    case ValueType::kInterval: {
      EDDY_ASSIGN_OR_RETURN(int32_t months, ReadSigned32(reader, "interval months"));
      EDDY_ASSIGN_OR_RETURN(int32_t days, ReadSigned32(reader, "interval days"));
      EDDY_ASSIGN_OR_RETURN(int64_t micros, reader.ReadVarintSigned64());
      return Value::Interval(IntervalValue{months, days, micros});
    }
    case ValueType::kUuid: {
      EDDY_ASSIGN_OR_RETURN(std::string_view raw, reader.ReadBytes(16));
      UuidValue uuid;
      for (size_t i = 0; i < 16; ++i) uuid.bytes[i] = static_cast<uint8_t>(raw[i]);
      return Value::Uuid(uuid);
    }
    case ValueType::kJson: {
      EDDY_ASSIGN_OR_RETURN(std::string text, ReadString(reader));
      return Value::Json(std::move(text));
    }
    case ValueType::kEnum: {
      EDDY_ASSIGN_OR_RETURN(std::string label, ReadString(reader));
      return Value::Enum(std::move(label));
    }
    case ValueType::kBits: {
      EDDY_ASSIGN_OR_RETURN(std::string bits, ReadString(reader));
      return Value::Bits(std::move(bits));
    }
    case ValueType::kArray: {
      if (depth >= kMaxArrayDepth) {
        return Corruption("arrays nested deeper than " + std::to_string(kMaxArrayDepth));
      }
      EDDY_ASSIGN_OR_RETURN(uint64_t count, ReadCount(reader, "array element"));
      std::vector<Value> elements;
      elements.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) {
        EDDY_ASSIGN_OR_RETURN(Value element, ReadValue(reader, depth + 1));
        elements.push_back(std::move(element));
      }
      return Value::Array(std::move(elements));
    }
    case ValueType::kTypedText: {
      EDDY_ASSIGN_OR_RETURN(std::string type_name, ReadString(reader));
      EDDY_ASSIGN_OR_RETURN(std::string text, ReadString(reader));
      return Value::TypedText(std::move(type_name), std::move(text));
    }
    case ValueType::kUnavailable:
      return Value::Unavailable();
  }
  return Corruption("unknown value type " + std::to_string(tag));
}

Result<Row> ReadRow(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint64_t count, ReadCount(reader, "row field"));
  Row row;
  row.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    Field field;
    EDDY_ASSIGN_OR_RETURN(field.name, ReadString(reader));
    EDDY_ASSIGN_OR_RETURN(field.value, ReadValue(reader, 0));
    row.push_back(std::move(field));
  }
  return row;
}

Result<ValueType> ReadValueType(ByteReader& reader, const char* what) {
  EDDY_ASSIGN_OR_RETURN(uint8_t raw, reader.ReadFixed8());
  if (raw > static_cast<uint8_t>(ValueType::kUnavailable)) {
    return Corruption(std::string("unknown ") + what + " " + std::to_string(raw));
  }
  return static_cast<ValueType>(raw);
}

Result<bool> ReadBool(ByteReader& reader, const char* what) {
  EDDY_ASSIGN_OR_RETURN(uint8_t raw, reader.ReadFixed8());
  if (raw > 1)
    return Corruption(std::string(what) + " byte " + std::to_string(raw) + " is not 0 or 1");
  return raw == 1;
}

// Column modifier presence bits.
constexpr uint8_t kColumnHasLength = 0x01;
constexpr uint8_t kColumnHasPrecision = 0x02;
constexpr uint8_t kColumnHasScale = 0x04;
constexpr uint8_t kColumnHasDeclaredType = 0x08;
constexpr uint8_t kColumnHasCollation = 0x10;
constexpr uint8_t kColumnModifierBits = kColumnHasLength | kColumnHasPrecision | kColumnHasScale |
                                        kColumnHasDeclaredType | kColumnHasCollation;

void EncodeTableSchema(const TableSchema& schema, std::string& out) {
  PutLengthPrefixed(out, schema.table.database);
  PutLengthPrefixed(out, schema.table.schema);
  PutLengthPrefixed(out, schema.table.name);
  PutVarint64(out, schema.version);
  PutVarint64(out, schema.columns.size());
  for (const Column& column : schema.columns) {
    PutLengthPrefixed(out, column.name);
    PutLengthPrefixed(out, column.source_type);
    PutFixed8(out, static_cast<uint8_t>(column.type));
    PutFixed8(out, static_cast<uint8_t>(column.element_type));
    PutFixed8(out, column.nullable ? 1 : 0);
    PutVarintSigned64(out, column.primary_key_ordinal);
    uint8_t present = 0;
    if (column.length) present |= kColumnHasLength;
    if (column.precision) present |= kColumnHasPrecision;
    if (column.scale) present |= kColumnHasScale;
    if (!column.declared_type.empty()) present |= kColumnHasDeclaredType;
    if (!column.collation.empty()) present |= kColumnHasCollation;
    PutFixed8(out, present);
    if (column.length) PutVarintSigned64(out, *column.length);
    if (column.precision) PutVarintSigned64(out, *column.precision);
    if (column.scale) PutVarintSigned64(out, *column.scale);
    if (!column.declared_type.empty()) PutLengthPrefixed(out, column.declared_type);
    if (!column.collation.empty()) PutLengthPrefixed(out, column.collation);
  }
  PutVarint64(out, schema.primary_key.size());
  for (const std::string& name : schema.primary_key) PutLengthPrefixed(out, name);
}

Result<TableSchema> ReadTableSchema(ByteReader& reader) {
  TableSchema schema;
  EDDY_ASSIGN_OR_RETURN(schema.table.database, ReadString(reader));
  EDDY_ASSIGN_OR_RETURN(schema.table.schema, ReadString(reader));
  EDDY_ASSIGN_OR_RETURN(schema.table.name, ReadString(reader));
  EDDY_ASSIGN_OR_RETURN(schema.version, ReadUnsigned32(reader, "table schema version"));
  EDDY_ASSIGN_OR_RETURN(uint64_t columns, ReadCount(reader, "column"));
  schema.columns.reserve(static_cast<size_t>(columns));
  for (uint64_t i = 0; i < columns; ++i) {
    Column column;
    EDDY_ASSIGN_OR_RETURN(column.name, ReadString(reader));
    EDDY_ASSIGN_OR_RETURN(column.source_type, ReadString(reader));
    EDDY_ASSIGN_OR_RETURN(column.type, ReadValueType(reader, "column type"));
    EDDY_ASSIGN_OR_RETURN(column.element_type, ReadValueType(reader, "column element type"));
    EDDY_ASSIGN_OR_RETURN(column.nullable, ReadBool(reader, "column nullable"));
    EDDY_ASSIGN_OR_RETURN(column.primary_key_ordinal, ReadSigned32(reader, "primary key ordinal"));
    EDDY_ASSIGN_OR_RETURN(uint8_t present, reader.ReadFixed8());
    if ((present & ~kColumnModifierBits) != 0) {
      return Corruption("unknown column modifier bits " + std::to_string(present));
    }
    if (present & kColumnHasLength) {
      EDDY_ASSIGN_OR_RETURN(column.length, ReadSigned32(reader, "column length"));
    }
    if (present & kColumnHasPrecision) {
      EDDY_ASSIGN_OR_RETURN(column.precision, ReadSigned32(reader, "column precision"));
    }
    if (present & kColumnHasScale) {
      EDDY_ASSIGN_OR_RETURN(column.scale, ReadSigned32(reader, "column scale"));
    }
    if (present & kColumnHasDeclaredType) {
      EDDY_ASSIGN_OR_RETURN(column.declared_type, ReadString(reader));
    }
    if (present & kColumnHasCollation) {
      EDDY_ASSIGN_OR_RETURN(column.collation, ReadString(reader));
    }
    schema.columns.push_back(std::move(column));
  }
  EDDY_ASSIGN_OR_RETURN(uint64_t keys, ReadCount(reader, "primary key column"));
  schema.primary_key.reserve(static_cast<size_t>(keys));
  for (uint64_t i = 0; i < keys; ++i) {
    EDDY_ASSIGN_OR_RETURN(std::string name, ReadString(reader));
    schema.primary_key.push_back(std::move(name));
  }
  return schema;
}

// The checks ReadEvent and ReadEventView share, so that the owning and the in-place decoder
// refuse the same bytes with the same words.

// The version, operation and flags bytes that open every event.
struct EventHeader {
  uint8_t version = 0;
  Operation op = Operation::kInsert;
  uint8_t flags = 0;
};

Result<EventHeader> ReadEventHeader(ByteReader& reader) {
  EventHeader header;
  EDDY_ASSIGN_OR_RETURN(header.version, reader.ReadFixed8());
  if (header.version == 0 || header.version > kEventEncodingVersion) {
    return Corruption("event encoding version " + std::to_string(header.version) +
                      " is not supported by this build (it reads 1.." +
                      std::to_string(kEventEncodingVersion) + "); upgrade eddy to read this log");
  }
  EDDY_ASSIGN_OR_RETURN(uint8_t op, reader.ReadFixed8());
  const Operation last_op = header.version == 1 ? Operation::kMessage : kLastOperation;
  if (op < static_cast<uint8_t>(Operation::kInsert) || op > static_cast<uint8_t>(last_op)) {
    return Corruption("unknown operation " + std::to_string(op) + " in encoding version " +
                      std::to_string(header.version));
  }
  header.op = static_cast<Operation>(op);
  EDDY_ASSIGN_OR_RETURN(header.flags, reader.ReadFixed8());
  const uint8_t known_flags = header.version == 1 ? kEventFlagsKnownV1 : kEventFlagsKnown;
  if ((header.flags & ~known_flags) != 0) {
    return Corruption("unknown event flags " + std::to_string(header.flags) +
                      " in encoding version " + std::to_string(header.version));
  }
  return header;
}

// The event's source position: its length-prefixed bytes hold exactly one SourcePosition.
Result<SourcePosition> DecodeWholePosition(std::string_view position_bytes) {
  EDDY_ASSIGN_OR_RETURN(SourcePosition position, SourcePosition::DecodeFrom(position_bytes));
  if (!position_bytes.empty()) {
    return Corruption(std::to_string(position_bytes.size()) +
                      " unexpected bytes after the source position");
  }
  return position;
}

Result<ConnectorKind> ReadConnectorKind(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint8_t connector, reader.ReadFixed8());
  if (connector > static_cast<uint8_t>(ConnectorKind::kMariadb)) {
    return Corruption("unknown connector kind " + std::to_string(connector));
  }
  return static_cast<ConnectorKind>(connector);
}

Result<SnapshotMarker> ReadSnapshotMarker(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint8_t snapshot, reader.ReadFixed8());
  if (snapshot > static_cast<uint8_t>(SnapshotMarker::kIncremental)) {
    return Corruption("unknown snapshot marker " + std::to_string(snapshot));
  }
  return static_cast<SnapshotMarker>(snapshot);
}

Result<SchemaChangeKind> ReadSchemaChangeKind(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint8_t kind, reader.ReadFixed8());
  if (kind > static_cast<uint8_t>(kLastSchemaChangeKind)) {
    return Corruption("unknown schema change kind " + std::to_string(kind));
  }
  return static_cast<SchemaChangeKind>(kind);
}

Result<ChangeEvent> ReadEvent(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(EventHeader header, ReadEventHeader(reader));
  ChangeEvent event;
  event.op = header.op;
  const uint8_t flags = header.flags;
  EDDY_ASSIGN_OR_RETURN(event.table.database, ReadString(reader));
  EDDY_ASSIGN_OR_RETURN(event.table.schema, ReadString(reader));
  EDDY_ASSIGN_OR_RETURN(event.table.name, ReadString(reader));
  EDDY_ASSIGN_OR_RETURN(event.schema_version, ReadUnsigned32(reader, "schema version"));
  EDDY_ASSIGN_OR_RETURN(event.commit_time_ns, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(event.capture_time_ns, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(event.transaction_id, ReadString(reader));
  EDDY_ASSIGN_OR_RETURN(event.ordinal_in_transaction, reader.ReadVarint64());

  EDDY_ASSIGN_OR_RETURN(std::string_view position_bytes, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(event.position, DecodeWholePosition(position_bytes));

  EDDY_ASSIGN_OR_RETURN(event.source.connector, ReadConnectorKind(reader));
  EDDY_ASSIGN_OR_RETURN(event.source.server_name, ReadString(reader));
  EDDY_ASSIGN_OR_RETURN(event.source.snapshot, ReadSnapshotMarker(reader));
  EDDY_ASSIGN_OR_RETURN(event.source.mysql_thread_id, reader.ReadVarint64());
  EDDY_ASSIGN_OR_RETURN(event.source.mysql_row, ReadUnsigned32(reader, "mysql row"));
  EDDY_ASSIGN_OR_RETURN(event.source.query, ReadString(reader));

  EDDY_ASSIGN_OR_RETURN(event.key, ReadRow(reader));
  if (flags & kEventFlagHasBefore) {
    EDDY_ASSIGN_OR_RETURN(event.before, ReadRow(reader));
  }
  if (flags & kEventFlagHasAfter) {
    EDDY_ASSIGN_OR_RETURN(event.after, ReadRow(reader));
  }
  if (flags & kEventFlagHasMessage) {
    LogicalMessage message;
    EDDY_ASSIGN_OR_RETURN(message.prefix, ReadString(reader));
    EDDY_ASSIGN_OR_RETURN(message.content, ReadString(reader));
    EDDY_ASSIGN_OR_RETURN(uint8_t transactional, reader.ReadFixed8());
    if (transactional > 1) return Corruption("message transactional flag is not 0 or 1");
    message.transactional = transactional == 1;
    event.message = std::move(message);
  }
  if (flags & kEventFlagHasSchemaChange) {
    SchemaChange change;
    EDDY_ASSIGN_OR_RETURN(change.kind, ReadSchemaChangeKind(reader));
    EDDY_ASSIGN_OR_RETURN(change.ddl, ReadString(reader));
    EDDY_ASSIGN_OR_RETURN(change.previous_name, ReadString(reader));
    EDDY_ASSIGN_OR_RETURN(bool has_schema, ReadBool(reader, "table schema present"));
    if (has_schema) {
      EDDY_ASSIGN_OR_RETURN(change.table_schema, ReadTableSchema(reader));
    }
    event.schema_change = std::move(change);
  }
  if (flags & kEventFlagHasTransactionOrder) {
    TransactionOrder order;
    EDDY_ASSIGN_OR_RETURN(order.total_order, reader.ReadVarint64());
    EDDY_ASSIGN_OR_RETURN(order.data_collection_order, reader.ReadVarint64());
    event.transaction_order = order;
  }
  if (flags & kEventFlagHasTransactionSummary) {
    TransactionSummary summary;
    EDDY_ASSIGN_OR_RETURN(summary.event_count, reader.ReadVarint64());
    EDDY_ASSIGN_OR_RETURN(uint64_t collections, ReadCount(reader, "data collection"));
    summary.data_collections.reserve(static_cast<size_t>(collections));
    for (uint64_t i = 0; i < collections; ++i) {
      TransactionSummary::Collection collection;
      EDDY_ASSIGN_OR_RETURN(collection.name, ReadString(reader));
      EDDY_ASSIGN_OR_RETURN(collection.event_count, reader.ReadVarint64());
      summary.data_collections.push_back(std::move(collection));
    }
    event.transaction_summary = std::move(summary);
  }
  return event;
}

// ReadValue in place: the same checks, no allocation.
Result<ValueView> ReadValueView(ByteReader& reader, int depth) {
  const std::string_view start = reader.rest();
  ValueView view;
  EDDY_ASSIGN_OR_RETURN(uint8_t tag, reader.ReadFixed8());
  if (tag > static_cast<uint8_t>(ValueType::kUnavailable)) {
    return Corruption("unknown value type " + std::to_string(tag));
  }
  view.type = static_cast<ValueType>(tag);
  switch (view.type) {
    case ValueType::kNull:
    case ValueType::kUnavailable:
      break;
    case ValueType::kBool: {
      EDDY_ASSIGN_OR_RETURN(uint8_t raw, reader.ReadFixed8());
      if (raw > 1) return Corruption("bool value byte " + std::to_string(raw) + " is not 0 or 1");
      view.boolean = raw == 1;
      break;
    }
    case ValueType::kInt64:
    case ValueType::kTime: {
      EDDY_ASSIGN_OR_RETURN(view.int64, reader.ReadVarintSigned64());
      break;
    }
    case ValueType::kUint64: {
      EDDY_ASSIGN_OR_RETURN(view.uint64, reader.ReadVarint64());
      break;
    }
    case ValueType::kFloat32: {
      EDDY_ASSIGN_OR_RETURN(uint32_t bits, reader.ReadFixed32());
      view.float32 = std::bit_cast<float>(bits);
      break;
    }
    case ValueType::kFloat64: {
      EDDY_ASSIGN_OR_RETURN(uint64_t bits, reader.ReadFixed64());
      view.float64 = std::bit_cast<double>(bits);
      break;
    }
    case ValueType::kDecimal:
    case ValueType::kText:
    case ValueType::kBytes:
    case ValueType::kJson:
    case ValueType::kEnum:
    case ValueType::kBits: {
      EDDY_ASSIGN_OR_RETURN(view.text, reader.ReadLengthPrefixed());
      break;
    }
    case ValueType::kDate: {
      EDDY_ASSIGN_OR_RETURN(view.temporal, ReadTemporalKind(reader));
      EDDY_ASSIGN_OR_RETURN(view.int32, ReadSigned32(reader, "date day count"));
      break;
    }
    case ValueType::kTimeTz: {
      EDDY_ASSIGN_OR_RETURN(view.int64, reader.ReadVarintSigned64());
      EDDY_ASSIGN_OR_RETURN(view.int32, ReadSigned32(reader, "time zone offset"));
      break;
    }
    case ValueType::kTimestamp:
    case ValueType::kTimestampTz: {
      EDDY_ASSIGN_OR_RETURN(view.temporal, ReadTemporalKind(reader));
      EDDY_ASSIGN_OR_RETURN(view.int64, reader.ReadVarintSigned64());
      break;
    }
    case ValueType::kInterval: {
      EDDY_ASSIGN_OR_RETURN(view.int32, ReadSigned32(reader, "interval months"));
      EDDY_ASSIGN_OR_RETURN(view.interval_days, ReadSigned32(reader, "interval days"));
      EDDY_ASSIGN_OR_RETURN(view.int64, reader.ReadVarintSigned64());
      break;
    }
    case ValueType::kUuid: {
      EDDY_ASSIGN_OR_RETURN(view.text, reader.ReadBytes(16));
      break;
    }
    case ValueType::kArray: {
      if (depth >= kMaxArrayDepth) {
        return Corruption("arrays nested deeper than " + std::to_string(kMaxArrayDepth));
      }
      EDDY_ASSIGN_OR_RETURN(uint64_t count, ReadCount(reader, "array element"));
      for (uint64_t i = 0; i < count; ++i) {
        EDDY_RETURN_IF_ERROR(ReadValueView(reader, depth + 1).status());
      }
      break;
    }
    case ValueType::kTypedText: {
      EDDY_ASSIGN_OR_RETURN(view.type_name, reader.ReadLengthPrefixed());
      EDDY_ASSIGN_OR_RETURN(view.text, reader.ReadLengthPrefixed());
      break;
    }
  }
  view.encoded = start.substr(0, start.size() - reader.remaining());
  return view;
}

// One whole row (ReadRow's checks), returned as its bytes; with `fields`, each field read is
// appended to it too (the checking pass is then the reading pass).
Result<std::string_view> SkipRow(ByteReader& reader, std::vector<FieldView>* fields = nullptr) {
  const std::string_view start = reader.rest();
  EDDY_ASSIGN_OR_RETURN(uint64_t count, ReadCount(reader, "row field"));
  for (uint64_t i = 0; i < count; ++i) {
    EDDY_ASSIGN_OR_RETURN(std::string_view name, reader.ReadLengthPrefixed());
    EDDY_ASSIGN_OR_RETURN(ValueView value, ReadValueView(reader, 0));
    if (fields != nullptr) fields->push_back(FieldView{name, value});
  }
  return start.substr(0, start.size() - reader.remaining());
}

// ReadEvent in place (keep the two in step: they check the same things in the same order).
// With `image`: the fields of the row image a row change's consumer lays out (see
// DecodeEventViewWithImage) are collected into it as they are checked.
Result<EventView> ReadEventView(ByteReader& reader, std::vector<FieldView>* image) {
  EventView event;
  EDDY_ASSIGN_OR_RETURN(EventHeader header, ReadEventHeader(reader));
  event.version = header.version;
  event.op = header.op;
  event.flags = header.flags;
  EDDY_ASSIGN_OR_RETURN(event.database, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(event.schema, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(event.table, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(event.schema_version, ReadUnsigned32(reader, "schema version"));
  EDDY_ASSIGN_OR_RETURN(event.commit_time_ns, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(event.capture_time_ns, reader.ReadVarintSigned64());
  EDDY_ASSIGN_OR_RETURN(event.transaction_id, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(event.ordinal_in_transaction, reader.ReadVarint64());

  EDDY_ASSIGN_OR_RETURN(event.position, reader.ReadLengthPrefixed());
  EDDY_RETURN_IF_ERROR(DecodeWholePosition(event.position).status());

  EDDY_RETURN_IF_ERROR(ReadConnectorKind(reader).status());
  EDDY_RETURN_IF_ERROR(reader.ReadLengthPrefixed().status());  // server name
  EDDY_RETURN_IF_ERROR(ReadSnapshotMarker(reader).status());
  EDDY_RETURN_IF_ERROR(reader.ReadVarint64().status());                // mysql thread id
  EDDY_RETURN_IF_ERROR(ReadUnsigned32(reader, "mysql row").status());  // mysql row
  EDDY_RETURN_IF_ERROR(reader.ReadLengthPrefixed().status());          // query

  // Which row is the image: the after image, or for a delete the before image (the key when
  // there is none). Fields collected from a row that turns out not to be it are dropped.
  const bool has_before = (event.flags & kEventFlagHasBefore) != 0;
  const bool has_after = (event.flags & kEventFlagHasAfter) != 0;
  const bool is_delete = event.op == Operation::kDelete;
  std::vector<FieldView>* key_image =
      image != nullptr && is_delete && !has_before ? image : nullptr;
  std::vector<FieldView>* before_image = image != nullptr && is_delete ? image : nullptr;
  std::vector<FieldView>* after_image = image != nullptr && !is_delete ? image : nullptr;
  EDDY_ASSIGN_OR_RETURN(event.key, SkipRow(reader, key_image));
  if (has_before) {
    EDDY_ASSIGN_OR_RETURN(event.before, SkipRow(reader, before_image));
  }
  if (has_after) {
    EDDY_ASSIGN_OR_RETURN(event.after, SkipRow(reader, after_image));
  }
  if (event.flags & kEventFlagHasMessage) {
    EDDY_RETURN_IF_ERROR(reader.ReadLengthPrefixed().status());
    EDDY_RETURN_IF_ERROR(reader.ReadLengthPrefixed().status());
    EDDY_ASSIGN_OR_RETURN(uint8_t transactional, reader.ReadFixed8());
    if (transactional > 1) return Corruption("message transactional flag is not 0 or 1");
  }
  if (event.flags & kEventFlagHasSchemaChange) {
    EDDY_RETURN_IF_ERROR(ReadSchemaChangeKind(reader).status());
    EDDY_RETURN_IF_ERROR(reader.ReadLengthPrefixed().status());
    EDDY_RETURN_IF_ERROR(reader.ReadLengthPrefixed().status());
    EDDY_ASSIGN_OR_RETURN(bool has_schema, ReadBool(reader, "table schema present"));
    if (has_schema) EDDY_RETURN_IF_ERROR(ReadTableSchema(reader).status());
  }
  if (event.flags & kEventFlagHasTransactionOrder) {
    EDDY_RETURN_IF_ERROR(reader.ReadVarint64().status());
    EDDY_RETURN_IF_ERROR(reader.ReadVarint64().status());
  }
  if (event.flags & kEventFlagHasTransactionSummary) {
    EDDY_RETURN_IF_ERROR(reader.ReadVarint64().status());
    EDDY_ASSIGN_OR_RETURN(uint64_t collections, ReadCount(reader, "data collection"));
    for (uint64_t i = 0; i < collections; ++i) {
      EDDY_RETURN_IF_ERROR(reader.ReadLengthPrefixed().status());
      EDDY_RETURN_IF_ERROR(reader.ReadVarint64().status());
    }
  }
  return event;
}

}  // namespace

void EncodeValue(const Value& value, std::string& out) {
  PutFixed8(out, static_cast<uint8_t>(value.type()));
  struct Visitor {
    std::string& out;
    void operator()(const NullValue&) {}
    void operator()(bool v) { PutFixed8(out, v ? 1 : 0); }
    void operator()(int64_t v) { PutVarintSigned64(out, v); }
    void operator()(uint64_t v) { PutVarint64(out, v); }
    void operator()(float v) { PutFixed32(out, std::bit_cast<uint32_t>(v)); }
    void operator()(double v) { PutFixed64(out, std::bit_cast<uint64_t>(v)); }
    void operator()(const DecimalValue& v) { PutLengthPrefixed(out, v.text); }
    void operator()(const std::string& v) { PutLengthPrefixed(out, v); }
    void operator()(const BytesValue& v) { PutLengthPrefixed(out, v.data); }
    void operator()(const DateValue& v) {
      PutTemporalKind(out, v.kind);
      PutVarintSigned64(out, v.days);
    }
    void operator()(const TimeValue& v) { PutVarintSigned64(out, v.micros); }
    void operator()(const TimeTzValue& v) {
      PutVarintSigned64(out, v.micros);
      PutVarintSigned64(out, v.utc_offset_seconds);
    }
    void operator()(const TimestampValue& v) {
      PutTemporalKind(out, v.kind);
      PutVarintSigned64(out, v.micros);
    }
    void operator()(const TimestampTzValue& v) {
      PutTemporalKind(out, v.kind);
      PutVarintSigned64(out, v.micros);
    }
    void operator()(const IntervalValue& v) {
      PutVarintSigned64(out, v.months);
      PutVarintSigned64(out, v.days);
      PutVarintSigned64(out, v.micros);
    }
    void operator()(const UuidValue& v) {
      out.append(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size());
    }
    void operator()(const JsonValue& v) { PutLengthPrefixed(out, v.text); }
    void operator()(const EnumValue& v) { PutLengthPrefixed(out, v.label); }
    void operator()(const BitsValue& v) { PutLengthPrefixed(out, v.bits); }
    void operator()(const ArrayValue& v) {
      PutVarint64(out, v.elements.size());
      for (const Value& element : v.elements) EncodeValue(element, out);
    }
    void operator()(const TypedTextValue& v) {
      PutLengthPrefixed(out, v.type_name);
      PutLengthPrefixed(out, v.text);
    }
    void operator()(const UnavailableValue&) {}
  };
  std::visit(Visitor{out}, value.storage());
}

Result<Value> DecodeValue(std::string_view& bytes) {
  ByteReader reader(bytes);
  EDDY_ASSIGN_OR_RETURN(Value value, ReadValue(reader, 0));
  bytes = reader.rest();
  return value;
}

void EncodeEvent(const ChangeEvent& event, std::string& out) {
  uint8_t flags = 0;
  if (event.before) flags |= kEventFlagHasBefore;
  if (event.after) flags |= kEventFlagHasAfter;
  if (event.message) flags |= kEventFlagHasMessage;
  if (event.schema_change) flags |= kEventFlagHasSchemaChange;
  if (event.transaction_order) flags |= kEventFlagHasTransactionOrder;
  if (event.transaction_summary) flags |= kEventFlagHasTransactionSummary;
  const bool needs_v2 = (flags & ~kEventFlagsKnownV1) != 0 ||
                        static_cast<uint8_t>(event.op) > static_cast<uint8_t>(Operation::kMessage);
  PutFixed8(out, needs_v2 ? 2 : 1);
  PutFixed8(out, static_cast<uint8_t>(event.op));
  PutFixed8(out, flags);
  EncodeFieldsUpToOrdinal(event, out);
  PutVarint64(out, event.ordinal_in_transaction);
  EncodeFieldsAfterOrdinal(event, out);
  PutVarint64(out, event.source.mysql_row);
  PutLengthPrefixed(out, event.source.query);
  EncodeRow(event.key, out);
  if (event.before) EncodeRow(*event.before, out);
  if (event.after) EncodeRow(*event.after, out);
  if (event.message) {
    PutLengthPrefixed(out, event.message->prefix);
    PutLengthPrefixed(out, event.message->content);
    PutFixed8(out, event.message->transactional ? 1 : 0);
  }
  if (event.schema_change) {
    const SchemaChange& change = *event.schema_change;
    PutFixed8(out, static_cast<uint8_t>(change.kind));
    PutLengthPrefixed(out, change.ddl);
    PutLengthPrefixed(out, change.previous_name);
    PutFixed8(out, change.table_schema ? 1 : 0);
    if (change.table_schema) EncodeTableSchema(*change.table_schema, out);
  }
  if (event.transaction_order) {
    PutVarint64(out, event.transaction_order->total_order);
    PutVarint64(out, event.transaction_order->data_collection_order);
  }
  if (event.transaction_summary) {
    PutVarint64(out, event.transaction_summary->event_count);
    PutVarint64(out, event.transaction_summary->data_collections.size());
    for (const auto& collection : event.transaction_summary->data_collections) {
      PutLengthPrefixed(out, collection.name);
      PutVarint64(out, collection.event_count);
    }
  }
}

void RowEventEncoder::SetShared(const ChangeEvent& shared) {
  assert(!shared.message && !shared.schema_change && !shared.transaction_order &&
         !shared.transaction_summary);
  up_to_ordinal_.clear();
  EncodeFieldsUpToOrdinal(shared, up_to_ordinal_);
  after_ordinal_.clear();
  EncodeFieldsAfterOrdinal(shared, after_ordinal_);
  query_.clear();
  PutLengthPrefixed(query_, shared.source.query);
}

void RowEventEncoder::BeginEvent(Operation op, bool has_before, bool has_after,
                                 uint64_t ordinal_in_transaction, uint32_t mysql_row,
                                 std::string& out) const {
  ByteAppender appender(out);
  BeginEvent(op, has_before, has_after, ordinal_in_transaction, mysql_row, appender);
}

void RowEventEncoder::BeginEvent(Operation op, bool has_before, bool has_after,
                                 uint64_t ordinal_in_transaction, uint32_t mysql_row,
                                 ByteAppender& out) const {
  assert(static_cast<uint8_t>(op) <= static_cast<uint8_t>(Operation::kRead));
  uint8_t flags = (has_before ? kEventFlagHasBefore : 0) | (has_after ? kEventFlagHasAfter : 0);
  out.PutByte(1);
  out.PutByte(static_cast<uint8_t>(op));
  out.PutByte(flags);
  out.Append(up_to_ordinal_);
  out.PutVarint64(ordinal_in_transaction);
  out.Append(after_ordinal_);
  out.PutVarint64(mysql_row);
  out.Append(query_);
}

void AppendRowFieldCount(uint64_t count, std::string& out) { PutVarint64(out, count); }

void AppendFieldName(std::string_view name, std::string& out) { PutLengthPrefixed(out, name); }

Status AppendPartitionKeyValueEncoded(std::string_view encoded, std::string& out) {
  if (!encoded.empty() && (encoded[0] == static_cast<char>(ValueType::kInt64) ||
                           encoded[0] == static_cast<char>(ValueType::kUint64))) {
    ByteReader reader(encoded.substr(1));
    auto raw = reader.ReadVarint64();
    if (raw.ok() && reader.empty()) {
      // Value::CanonicalText is "<type>:<decimal>", length-prefixed as "<length>:<text>".
      char text[24];
      text[0] = static_cast<char>('0' + encoded[0]);
      text[1] = ':';
      std::to_chars_result end;
      if (encoded[0] == static_cast<char>(ValueType::kInt64)) {
        int64_t v = static_cast<int64_t>((*raw >> 1) ^ (~(*raw & 1) + 1));
        end = std::to_chars(text + 2, text + sizeof(text), v);
      } else {
        end = std::to_chars(text + 2, text + sizeof(text), *raw);
      }
      size_t length = static_cast<size_t>(end.ptr - text);
      char prefix[8];
      auto prefix_end = std::to_chars(prefix, prefix + sizeof(prefix), length);
      out.append(prefix, static_cast<size_t>(prefix_end.ptr - prefix));
      out.push_back(':');
      out.append(text, length);
      return Status::Ok();
    }
  }
  std::string_view rest = encoded;
  EDDY_ASSIGN_OR_RETURN(Value value, DecodeValue(rest));
  if (!rest.empty()) return Corruption("partition key value has trailing bytes");
  AppendPartitionKeyValue(value, out);
  return Status::Ok();
}

std::string EncodeEvent(const ChangeEvent& event) {
  std::string out;
  EncodeEvent(event, out);
  return out;
}

void AppendTableSchema(const TableSchema& schema, std::string& out) {
  EncodeTableSchema(schema, out);
}

namespace {
// `read` over all of `bytes`: its error, or trailing bytes, named as `doing` and `what`.
template <typename T>
Result<T> DecodeWhole(std::string_view bytes, Result<T> (*read)(ByteReader&), const char* doing,
                      const char* what) {
  ByteReader reader(bytes);
  Result<T> decoded = read(reader);
  if (!decoded.ok()) return decoded.status().WithContext(doing);
  if (!reader.empty()) {
    return Corruption(std::string(doing) + ": " + std::to_string(reader.remaining()) +
                      " unexpected bytes after the " + what);
  }
  return decoded;
}
}  // namespace

Result<TableSchema> DecodeTableSchema(std::string_view bytes) {
  return DecodeWhole(bytes, &ReadTableSchema, "decoding table schema", "schema");
}

namespace {

Result<StoredEventHeader> ReadHeader(ByteReader& reader) {
  StoredEventHeader header;
  EDDY_ASSIGN_OR_RETURN(uint8_t version, reader.ReadFixed8());
  if (version == 0 || version > kEventEncodingVersion) {
    return Corruption("event encoding version " + std::to_string(version) +
                      " is not supported by this build (it reads 1.." +
                      std::to_string(kEventEncodingVersion) + "); upgrade eddy to read this log");
  }
  EDDY_ASSIGN_OR_RETURN(uint8_t op, reader.ReadFixed8());
  const Operation last_op = version == 1 ? Operation::kMessage : kLastOperation;
  if (op < static_cast<uint8_t>(Operation::kInsert) || op > static_cast<uint8_t>(last_op)) {
    return Corruption("unknown operation " + std::to_string(op) + " in encoding version " +
                      std::to_string(version));
  }
  header.op = static_cast<Operation>(op);
  EDDY_ASSIGN_OR_RETURN(uint8_t flags, reader.ReadFixed8());
  const uint8_t known_flags = version == 1 ? kEventFlagsKnownV1 : kEventFlagsKnown;
  if ((flags & ~known_flags) != 0) {
    return Corruption("unknown event flags " + std::to_string(flags) + " in encoding version " +
                      std::to_string(version));
  }
  EDDY_ASSIGN_OR_RETURN(header.database, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(header.schema, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(header.table, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(header.schema_version, ReadUnsigned32(reader, "schema version"));
  return header;
}

// --- The fast path of ReadEventView ---
//
// The same checks in the same order on a ByteCursor, answering true/false: a Result per
// field and per integer was most of the instructions of decoding a stored row for a Parquet
// file. False means the bytes do not decode here, or hold a part this path leaves to
// ReadEventView (a schema change's table schema); DecodeWholeEventView then runs
// ReadEventView, which decodes them or says why not. Debug builds check every event it
// accepts against ReadEventView (FastAgreesWithReadEventView), and the fuzz target
// fuzz_event_decode checks that DecodeEventView accepts exactly what DecodeEvent accepts.

bool FastUnsigned32(ByteCursor& cursor, uint32_t* value) {
  uint64_t raw;
  if (!cursor.Varint(&raw) || raw > std::numeric_limits<uint32_t>::max()) return false;
  *value = static_cast<uint32_t>(raw);
  return true;
}

bool FastSigned32(ByteCursor& cursor, int32_t* value) {
  int64_t raw;
  if (!cursor.SignedVarint(&raw) || raw < std::numeric_limits<int32_t>::min() ||
      raw > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *value = static_cast<int32_t>(raw);
  return true;
}

bool FastCount(ByteCursor& cursor, uint64_t* count) {
  return cursor.Varint(count) && *count <= cursor.remaining();
}

bool FastTemporalKind(ByteCursor& cursor, TemporalKind* kind) {
  uint8_t raw;
  if (!cursor.Byte(&raw) || raw > static_cast<uint8_t>(TemporalKind::kZero)) return false;
  *kind = static_cast<TemporalKind>(raw);
  return true;
}

bool FastValueView(ByteCursor& cursor, int depth, ValueView* view) {
  const std::string_view start = cursor.rest();
  uint8_t tag;
  if (!cursor.Byte(&tag) || tag > static_cast<uint8_t>(ValueType::kUnavailable)) return false;
  view->type = static_cast<ValueType>(tag);
  switch (view->type) {
    case ValueType::kNull:
    case ValueType::kUnavailable:
      break;
    case ValueType::kBool: {
      uint8_t raw;
      if (!cursor.Byte(&raw) || raw > 1) return false;
      view->boolean = raw == 1;
      break;
    }
    case ValueType::kInt64:
    case ValueType::kTime:
      if (!cursor.SignedVarint(&view->int64)) return false;
      break;
    case ValueType::kUint64:
      if (!cursor.Varint(&view->uint64)) return false;
      break;
    case ValueType::kFloat32: {
      uint32_t bits;
      if (!cursor.Fixed32(&bits)) return false;
      view->float32 = std::bit_cast<float>(bits);
      break;
    }
    case ValueType::kFloat64: {
      uint64_t bits;
      if (!cursor.Fixed64(&bits)) return false;
      view->float64 = std::bit_cast<double>(bits);
      break;
    }
    case ValueType::kDecimal:
    case ValueType::kText:
    case ValueType::kBytes:
    case ValueType::kJson:
    case ValueType::kEnum:
    case ValueType::kBits:
      if (!cursor.LengthPrefixed(&view->text)) return false;
      break;
    case ValueType::kDate:
      if (!FastTemporalKind(cursor, &view->temporal) || !FastSigned32(cursor, &view->int32)) {
        return false;
      }
      break;
    case ValueType::kTimeTz:
      if (!cursor.SignedVarint(&view->int64) || !FastSigned32(cursor, &view->int32)) return false;
      break;
    case ValueType::kTimestamp:
    case ValueType::kTimestampTz:
      if (!FastTemporalKind(cursor, &view->temporal) || !cursor.SignedVarint(&view->int64)) {
        return false;
      }
      break;
    case ValueType::kInterval:
      if (!FastSigned32(cursor, &view->int32) || !FastSigned32(cursor, &view->interval_days) ||
          !cursor.SignedVarint(&view->int64)) {
        return false;
      }
      break;
    case ValueType::kUuid:
      if (!cursor.Bytes(16, &view->text)) return false;
      break;
    case ValueType::kArray: {
      uint64_t count;
      if (depth >= kMaxArrayDepth || !FastCount(cursor, &count)) return false;
      for (uint64_t i = 0; i < count; ++i) {
        ValueView element;
        if (!FastValueView(cursor, depth + 1, &element)) return false;
      }
      break;
    }
    case ValueType::kTypedText:
      if (!cursor.LengthPrefixed(&view->type_name) || !cursor.LengthPrefixed(&view->text)) {
        return false;
      }
      break;
    default:
      return false;
  }
  view->encoded = start.substr(0, start.size() - cursor.remaining());
  return true;
}

bool FastRow(ByteCursor& cursor, std::vector<FieldView>* fields, std::string_view* row) {
  const std::string_view start = cursor.rest();
  uint64_t count;
  if (!FastCount(cursor, &count)) return false;
  FieldView unused;
  for (uint64_t i = 0; i < count; ++i) {
    // Read straight into the image's next entry (a failed event's image is cleared).
    FieldView& field = fields != nullptr ? fields->emplace_back() : unused;
    if (!cursor.LengthPrefixed(&field.name) || !FastValueView(cursor, 0, &field.value)) {
      return false;
    }
  }
  *row = start.substr(0, start.size() - cursor.remaining());
  return true;
}

// DecodeWholePosition's checks, without building the position.
bool FastWholePosition(std::string_view bytes) {
  return !bytes.empty() && SourcePosition::EncodedSize(bytes) == bytes.size();
}

// ReadEventHeader's checks: the version, operation and flags bytes.
bool FastEventHeader(ByteCursor& cursor, uint8_t* version, Operation* operation, uint8_t* flags) {
  uint8_t op;
  if (!cursor.Byte(version) || *version == 0 || *version > kEventEncodingVersion ||
      !cursor.Byte(&op)) {
    return false;
  }
  const Operation last_op = *version == 1 ? Operation::kMessage : kLastOperation;
  if (op < static_cast<uint8_t>(Operation::kInsert) || op > static_cast<uint8_t>(last_op)) {
    return false;
  }
  *operation = static_cast<Operation>(op);
  const uint8_t known_flags = *version == 1 ? kEventFlagsKnownV1 : kEventFlagsKnown;
  return cursor.Byte(flags) && (*flags & ~known_flags) == 0;
}

// ReadHeader's checks (ReadStoredEventHeader's fast path).
bool FastStoredEventHeader(std::string_view bytes, StoredEventHeader* header) {
  ByteCursor cursor(bytes);
  uint8_t version, flags;
  return FastEventHeader(cursor, &version, &header->op, &flags) &&
         cursor.LengthPrefixed(&header->database) && cursor.LengthPrefixed(&header->schema) &&
         cursor.LengthPrefixed(&header->table) && FastUnsigned32(cursor, &header->schema_version);
}

bool FastEventView(ByteCursor& cursor, std::vector<FieldView>* image, EventView* event) {
  if (!FastEventHeader(cursor, &event->version, &event->op, &event->flags)) return false;
  // A schema change carries a table schema: left to ReadEventView.
  if (event->flags & kEventFlagHasSchemaChange) return false;
  if (!cursor.LengthPrefixed(&event->database) || !cursor.LengthPrefixed(&event->schema) ||
      !cursor.LengthPrefixed(&event->table) || !FastUnsigned32(cursor, &event->schema_version) ||
      !cursor.SignedVarint(&event->commit_time_ns) ||
      !cursor.SignedVarint(&event->capture_time_ns) ||
      !cursor.LengthPrefixed(&event->transaction_id) ||
      !cursor.Varint(&event->ordinal_in_transaction) || !cursor.LengthPrefixed(&event->position) ||
      !FastWholePosition(event->position)) {
    return false;
  }
  uint8_t connector, snapshot;
  std::string_view text;
  uint64_t thread_id;
  uint32_t mysql_row;
  if (!cursor.Byte(&connector) || connector > static_cast<uint8_t>(ConnectorKind::kMariadb) ||
      !cursor.LengthPrefixed(&text) || !cursor.Byte(&snapshot) ||
      snapshot > static_cast<uint8_t>(SnapshotMarker::kIncremental) || !cursor.Varint(&thread_id) ||
      !FastUnsigned32(cursor, &mysql_row) || !cursor.LengthPrefixed(&text)) {
    return false;
  }
  // The image, as ReadEventView picks it.
  const bool has_before = (event->flags & kEventFlagHasBefore) != 0;
  const bool has_after = (event->flags & kEventFlagHasAfter) != 0;
  const bool is_delete = event->op == Operation::kDelete;
  std::vector<FieldView>* key_image =
      image != nullptr && is_delete && !has_before ? image : nullptr;
  std::vector<FieldView>* before_image = image != nullptr && is_delete ? image : nullptr;
  std::vector<FieldView>* after_image = image != nullptr && !is_delete ? image : nullptr;
  if (!FastRow(cursor, key_image, &event->key)) return false;
  if (has_before && !FastRow(cursor, before_image, &event->before)) return false;
  if (has_after && !FastRow(cursor, after_image, &event->after)) return false;
  if (event->flags & kEventFlagHasMessage) {
    uint8_t transactional;
    if (!cursor.LengthPrefixed(&text) || !cursor.LengthPrefixed(&text) ||
        !cursor.Byte(&transactional) || transactional > 1) {
      return false;
    }
  }
  if (event->flags & kEventFlagHasTransactionOrder) {
    uint64_t order;
    if (!cursor.Varint(&order) || !cursor.Varint(&order)) return false;
  }
  if (event->flags & kEventFlagHasTransactionSummary) {
    uint64_t count, collections;
    if (!cursor.Varint(&count) || !FastCount(cursor, &collections)) return false;
    for (uint64_t i = 0; i < collections; ++i) {
      if (!cursor.LengthPrefixed(&text) || !cursor.Varint(&count)) return false;
    }
  }
  return true;
}

#ifndef NDEBUG
bool SameValueView(const ValueView& a, const ValueView& b) {
  return a.type == b.type && a.boolean == b.boolean && a.int64 == b.int64 && a.uint64 == b.uint64 &&
         std::bit_cast<uint32_t>(a.float32) == std::bit_cast<uint32_t>(b.float32) &&
         std::bit_cast<uint64_t>(a.float64) == std::bit_cast<uint64_t>(b.float64) &&
         a.int32 == b.int32 && a.interval_days == b.interval_days && a.temporal == b.temporal &&
         a.text == b.text && a.type_name == b.type_name && a.encoded == b.encoded;
}

// Debug builds: what the fast path accepted, ReadEventView accepts too, with the same view and
// image.
bool FastAgreesWithReadEventView(std::string_view bytes, const EventView& fast,
                                 const std::vector<FieldView>* fast_image) {
  ByteReader reader(bytes);
  std::vector<FieldView> image;
  Result<EventView> slow = ReadEventView(reader, fast_image != nullptr ? &image : nullptr);
  if (!slow.ok() || !reader.empty()) return false;
  const EventView& s = *slow;
  if (s.version != fast.version || s.op != fast.op || s.flags != fast.flags ||
      s.database != fast.database || s.schema != fast.schema || s.table != fast.table ||
      s.schema_version != fast.schema_version || s.commit_time_ns != fast.commit_time_ns ||
      s.capture_time_ns != fast.capture_time_ns || s.transaction_id != fast.transaction_id ||
      s.ordinal_in_transaction != fast.ordinal_in_transaction || s.position != fast.position ||
      s.key != fast.key || s.before != fast.before || s.after != fast.after) {
    return false;
  }
  if (fast_image == nullptr) return true;
  if (image.size() != fast_image->size()) return false;
  for (size_t i = 0; i < image.size(); ++i) {
    if (image[i].name != (*fast_image)[i].name ||
        !SameValueView(image[i].value, (*fast_image)[i].value)) {
      return false;
    }
  }
  return true;
}
#endif

// DecodeWhole for ReadEventView, which takes the image's fields too: the fast path first.
Result<EventView> DecodeWholeEventView(ByteReader& reader, std::vector<FieldView>* image) {
  {
    const std::string_view bytes = reader.rest();
    ByteCursor cursor(bytes);
    EventView event;
    if (FastEventView(cursor, image, &event) && cursor.empty()) [[likely]] {
      assert(FastAgreesWithReadEventView(bytes, event, image));
      reader.TakeVerified(reader.remaining());
      return event;
    }
    if (image != nullptr) image->clear();
  }
  Result<EventView> decoded = ReadEventView(reader, image);
  if (!decoded.ok()) return decoded.status().WithContext("decoding change event");
  if (!reader.empty()) {
    return Corruption("decoding change event: " + std::to_string(reader.remaining()) +
                      " unexpected bytes after the event");
  }
  return decoded;
}

}  // namespace

Result<StoredEventHeader> ReadStoredEventHeader(std::string_view bytes) {
  if (StoredEventHeader fast; FastStoredEventHeader(bytes, &fast)) [[likely]] {
#ifndef NDEBUG
    ByteReader check(bytes);
    Result<StoredEventHeader> slow = ReadHeader(check);
    assert(slow.ok() && slow->op == fast.op && slow->database == fast.database &&
           slow->schema == fast.schema && slow->table == fast.table &&
           slow->schema_version == fast.schema_version);
#endif
    return fast;
  }
  ByteReader reader(bytes);
  Result<StoredEventHeader> header = ReadHeader(reader);
  if (!header.ok()) return header.status().WithContext("decoding change event");
  return header;
}

Result<EventView> DecodeEventView(std::string_view bytes) {
  ByteReader reader(bytes);
  return DecodeWholeEventView(reader, nullptr);
}

Result<EventView> DecodeEventViewWithImage(std::string_view bytes, std::vector<FieldView>* image) {
  image->clear();
  ByteReader reader(bytes);
  return DecodeWholeEventView(reader, image);
}

Result<Operation> StoredEventOperation(std::string_view bytes) {
  if (bytes.size() < 2) return Corruption("decoding change event: fewer than 2 bytes");
  const uint8_t version = static_cast<uint8_t>(bytes[0]);
  const uint8_t op = static_cast<uint8_t>(bytes[1]);
  if (version == 0 || version > kEventEncodingVersion) {
    return Corruption("decoding change event: event encoding version " + std::to_string(version) +
                      " is not supported by this build");
  }
  const Operation last_op = version == 1 ? Operation::kMessage : kLastOperation;
  if (op < static_cast<uint8_t>(Operation::kInsert) || op > static_cast<uint8_t>(last_op)) {
    return Corruption("decoding change event: unknown operation " + std::to_string(op));
  }
  return static_cast<Operation>(op);
}

RowFieldReader::RowFieldReader(std::string_view row) : bytes_(row) {}

Result<uint64_t> RowFieldReader::Count() {
  ByteReader reader(bytes_);
  EDDY_ASSIGN_OR_RETURN(uint64_t count, ReadCount(reader, "row field"));
  bytes_ = reader.rest();
  return count;
}

Result<FieldView> RowFieldReader::Next() {
  ByteReader reader(bytes_);
  FieldView field;
  EDDY_ASSIGN_OR_RETURN(field.name, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(field.value, ReadValueView(reader, 0));
  bytes_ = reader.rest();
  return field;
}

Result<ChangeEvent> DecodeEvent(std::string_view bytes) {
  return DecodeWhole(bytes, &ReadEvent, "decoding change event", "event");
}

}  // namespace eddy::model

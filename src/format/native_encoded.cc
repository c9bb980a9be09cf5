#include "format/native_encoded.h"

#include <cmath>
#include <optional>

#include "base/bytes.h"
#include "format/renderers.h"
#include "format/value_text.h"
#include "model/event_codec.h"

namespace eddy::format {
namespace {

constexpr int64_t kMaxSafeInteger = int64_t{1} << 53;  // as native.cc

// Reads a row's fields (name, value) and writes {name: value, ...} when `writer` is non-null
// (the key row is only checked). Common value types are written straight from the bytes; the
// others are decoded by model::DecodeValue (the general decoder, with its checks) and written
// by WriteNativeValue, so the conventions stay in one place.
bool RenderRow(ByteReader& reader, JsonWriter* writer) {
  auto count = reader.ReadVarint64();
  if (!count.ok() || *count > reader.remaining()) return false;
  if (writer != nullptr) writer->BeginObject();
  for (uint64_t i = 0; i < *count; ++i) {
    auto name = reader.ReadLengthPrefixed();
    if (!name.ok() || reader.empty()) return false;
    if (writer != nullptr) writer->Key(*name);
    const auto tag = static_cast<model::ValueType>(static_cast<uint8_t>(reader.rest()[0]));
    switch (tag) {
      case model::ValueType::kNull: {
        (void)reader.TakeVerified(1);
        if (writer != nullptr) writer->Null();
        continue;
      }
      case model::ValueType::kInt64: {
        (void)reader.TakeVerified(1);
        auto v = reader.ReadVarintSigned64();
        if (!v.ok()) return false;
        if (writer == nullptr) continue;
        if (*v >= -kMaxSafeInteger && *v <= kMaxSafeInteger) {
          writer->Int(*v);
        } else {
          writer->String(std::to_string(*v));
        }
        continue;
      }
      case model::ValueType::kText:
      case model::ValueType::kDecimal:
      case model::ValueType::kEnum: {
        (void)reader.TakeVerified(1);
        auto text = reader.ReadLengthPrefixed();
        if (!text.ok()) return false;
        if (writer != nullptr) writer->String(*text);
        continue;
      }
      case model::ValueType::kTimestamp:
      case model::ValueType::kTimestampTz: {
        (void)reader.TakeVerified(1);
        auto kind = reader.ReadFixed8();
        if (!kind.ok() || *kind > static_cast<uint8_t>(model::TemporalKind::kZero)) return false;
        auto micros = reader.ReadVarintSigned64();
        if (!micros.ok()) return false;
        if (writer == nullptr) continue;
        const auto temporal_kind = static_cast<model::TemporalKind>(*kind);
        writer->String(tag == model::ValueType::kTimestamp
                           ? FormatTimestamp({temporal_kind, *micros})
                           : FormatTimestampTz({temporal_kind, *micros}));
        continue;
      }
      default: {
        std::string_view rest = reader.rest();
        auto value = model::DecodeValue(rest);
        if (!value.ok()) return false;
        (void)reader.TakeVerified(reader.remaining() - rest.size());
        if (writer != nullptr) WriteNativeValue(*writer, *value);
        continue;
      }
    }
  }
  if (writer != nullptr) writer->EndObject();
  return true;
}

bool Render(std::string_view encoded, JsonWriter& writer) {
  ByteReader reader(encoded);
  auto version = reader.ReadFixed8();
  if (!version.ok() || *version == 0 || *version > model::kEventEncodingVersion) return false;
  auto op_byte = reader.ReadFixed8();
  // Row changes and truncates only (messages, schema changes, transaction records and
  // heartbeats take the general path).
  if (!op_byte.ok() || *op_byte < static_cast<uint8_t>(model::Operation::kInsert) ||
      *op_byte > static_cast<uint8_t>(model::Operation::kTruncate)) {
    return false;
  }
  const auto op = static_cast<model::Operation>(*op_byte);
  auto flags = reader.ReadFixed8();
  if (!flags.ok() || (*flags & ~(model::kEventFlagHasBefore | model::kEventFlagHasAfter)) != 0) {
    return false;
  }
  auto database = reader.ReadLengthPrefixed();
  auto schema = database.ok() ? reader.ReadLengthPrefixed() : database;
  auto table = schema.ok() ? reader.ReadLengthPrefixed() : schema;
  if (!table.ok()) return false;
  auto schema_version = reader.ReadVarint64();
  if (!schema_version.ok() || *schema_version > UINT32_MAX) return false;
  auto commit_ns = reader.ReadVarintSigned64();
  auto capture_ns = commit_ns.ok() ? reader.ReadVarintSigned64() : commit_ns;
  if (!capture_ns.ok()) return false;
  auto transaction_id = reader.ReadLengthPrefixed();
  if (!transaction_id.ok() || !reader.ReadVarint64().ok()) return false;
  auto position_bytes = reader.ReadLengthPrefixed();
  if (!position_bytes.ok()) return false;
  // A MySQL position is read in place (file and GTID as views); PostgreSQL's and none through
  // the general decoder. Layout: base/position.h SourcePosition::EncodeTo.
  std::string_view position_view = *position_bytes;
  std::optional<SourcePosition> position;
  std::string_view binlog_file, gtid;
  uint32_t server_id = 0;
  uint64_t binlog_offset = 0;
  if (!position_view.empty() && position_view[0] == static_cast<char>(SourceKind::kMysql)) {
    ByteReader position_reader(position_view.substr(1));
    auto id = position_reader.ReadFixed32();
    auto file = id.ok() ? position_reader.ReadLengthPrefixed() : Result<std::string_view>(id.status());
    auto offset = file.ok() ? position_reader.ReadVarint64() : Result<uint64_t>(file.status());
    auto gtid_text = offset.ok() ? position_reader.ReadLengthPrefixed() : Result<std::string_view>(offset.status());
    if (!gtid_text.ok() || !position_reader.empty()) return false;
    server_id = *id;
    binlog_file = *file;
    binlog_offset = *offset;
    gtid = *gtid_text;
  } else {
    auto decoded = SourcePosition::DecodeFrom(position_view);
    if (!decoded.ok() || !position_view.empty()) return false;
    position = std::move(*decoded);
  }
  auto connector = reader.ReadFixed8();
  if (!connector.ok() || *connector > static_cast<uint8_t>(model::ConnectorKind::kMariadb)) {
    return false;
  }
  auto server_name = reader.ReadLengthPrefixed();
  auto snapshot = server_name.ok() ? reader.ReadFixed8() : Result<uint8_t>(server_name.status());
  if (!snapshot.ok() || *snapshot > static_cast<uint8_t>(model::SnapshotMarker::kLast)) {
    return false;
  }
  auto thread_id = reader.ReadVarint64();
  auto mysql_row = thread_id.ok() ? reader.ReadVarint64() : thread_id;
  if (!mysql_row.ok() || *mysql_row > UINT32_MAX) return false;
  if (!reader.ReadLengthPrefixed().ok()) return false;  // the query
  if (!RenderRow(reader, nullptr)) return false;       // the key: checked, not rendered

  writer.BeginObject();
  writer.Member("type", "full");
  writer.Member("op", model::OperationCode(op));
  writer.Key("before");
  if (*flags & model::kEventFlagHasBefore) {
    if (!RenderRow(reader, &writer)) return false;
  } else {
    writer.Null();
  }
  writer.Key("after");
  if (*flags & model::kEventFlagHasAfter) {
    if (!RenderRow(reader, &writer)) return false;
  } else {
    writer.Null();
  }
  if (!reader.empty()) return false;  // trailing bytes: the general decoder says what is wrong
  writer.Key("source");
  writer.BeginObject();
  writer.Member("version", "1.0");
  writer.Member("connector", model::ConnectorName(static_cast<model::ConnectorKind>(*connector)));
  writer.MemberInt("ts_ms", FloorDiv(*commit_ns, 1000000));
  writer.MemberInt("ts_ns", *commit_ns);
  writer.Member("txId", *transaction_id);
  writer.Member("db", *database);
  writer.Member("schema", schema->empty() ? *database : *schema);
  writer.Member("table", *table);
  if (!position.has_value()) {  // MySQL, read in place above
    writer.Member("file", binlog_file);
    writer.Key("pos");
    writer.Uint(binlog_offset);
    writer.Key("gtid");
    if (gtid.empty()) {
      writer.Null();
    } else {
      writer.String(gtid);
    }
    writer.Key("server_id");
    writer.Uint(server_id);
  } else if (const PostgresPosition* pg = position->postgres()) {
    writer.Member("lsn", pg->change_lsn.ToString());
    writer.Member("commit_lsn", pg->commit_end_lsn.ToString());
  }
  writer.EndObject();
  writer.MemberInt("ts_ms", FloorDiv(*capture_ns, 1000000));
  writer.MemberInt("ts_ns", *capture_ns);
  writer.EndObject();
  return true;
}

}  // namespace

bool AppendNativeRecord(std::string_view encoded_event, ViewType view, std::string* out) {
  if (view != ViewType::kNewAndOldImages) return false;
  const size_t original_size = out->size();
  JsonWriter writer = JsonWriter::Appending(std::move(*out));
  bool rendered = Render(encoded_event, writer);
  *out = writer.Take();
  if (!rendered) out->resize(original_size);
  return rendered;
}

}  // namespace eddy::format

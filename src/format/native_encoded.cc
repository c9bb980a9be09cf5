#include "format/native_encoded.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include "base/bytes.h"
#include "format/encoded_internal.h"
#include "format/renderers.h"
#include "format/value_text.h"
#include "model/event_codec.h"

namespace eddy::format {
namespace {

using encoded_internal::Cursor;
using encoded_internal::Output;

// Reads a row's fields (name, value) and writes {name: value, ...} when `out` is non-null (the
// key row is only checked). Common value types are written straight from the bytes; the others
// are decoded by model::DecodeValue (the general decoder, with its checks) and written by
// WriteNativeValue, so the conventions stay in one place.
bool RenderRow(Cursor& reader, Output* out) {
  uint64_t count;
  if (!reader.Varint(&count) || count > reader.remaining()) return false;
  if (out != nullptr) out->Char('{');
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view name;
    if (!reader.LengthPrefixed(&name) || reader.empty()) return false;
    if (out != nullptr) {
      if (i > 0) out->Char(',');
      out->Key(name);
    }
    const auto tag = static_cast<model::ValueType>(reader.Peek());
    switch (tag) {
      case model::ValueType::kNull: {
        reader.Skip(1);
        if (out != nullptr) out->Literal("null");
        continue;
      }
      case model::ValueType::kInt64: {
        reader.Skip(1);
        int64_t v;
        if (!reader.SignedVarint(&v)) return false;
        if (out == nullptr) continue;
        if (v >= -kMaxSafeInteger && v <= kMaxSafeInteger) {
          out->Number(v);
        } else {
          out->String(std::to_string(v));
        }
        continue;
      }
      case model::ValueType::kText:
      case model::ValueType::kDecimal:
      case model::ValueType::kEnum: {
        reader.Skip(1);
        std::string_view text;
        if (!reader.LengthPrefixed(&text)) return false;
        if (out != nullptr) out->String(text);
        continue;
      }
      case model::ValueType::kTimestamp:
      case model::ValueType::kTimestampTz: {
        reader.Skip(1);
        uint8_t kind;
        if (!reader.Byte(&kind) || kind > static_cast<uint8_t>(model::TemporalKind::kZero)) {
          return false;
        }
        int64_t micros;
        if (!reader.SignedVarint(&micros)) return false;
        if (out != nullptr) {
          out->Instant(static_cast<model::TemporalKind>(kind), micros,
                       tag == model::ValueType::kTimestampTz);
        }
        continue;
      }
      default: {
        std::string_view rest = reader.rest();
        auto value = model::DecodeValue(rest);
        if (!value.ok()) return false;
        reader.Skip(reader.remaining() - rest.size());
        if (out != nullptr) {
          JsonWriter writer;
          WriteNativeValue(writer, *value);
          out->Raw(writer.str());
        }
        continue;
      }
    }
  }
  if (out != nullptr) out->Char('}');
  return true;
}

bool Render(std::string_view encoded, Output& out) {
  Cursor reader(encoded);
  uint8_t version;
  if (!reader.Byte(&version) || version == 0 || version > model::kEventEncodingVersion) {
    return false;
  }
  uint8_t op_byte;
  // Row changes and truncates only (messages, schema changes, transaction records and
  // heartbeats take the general path).
  if (!reader.Byte(&op_byte) || op_byte < static_cast<uint8_t>(model::Operation::kInsert) ||
      op_byte > static_cast<uint8_t>(model::Operation::kTruncate)) {
    return false;
  }
  const auto op = static_cast<model::Operation>(op_byte);
  uint8_t flags;
  if (!reader.Byte(&flags) ||
      (flags & ~(model::kEventFlagHasBefore | model::kEventFlagHasAfter)) != 0) {
    return false;
  }
  std::string_view database, schema, table, transaction_id, position_view;
  uint64_t schema_version, ordinal;
  int64_t commit_ns, capture_ns;
  if (!reader.LengthPrefixed(&database) || !reader.LengthPrefixed(&schema) ||
      !reader.LengthPrefixed(&table) || !reader.Varint(&schema_version) ||
      schema_version > UINT32_MAX || !reader.SignedVarint(&commit_ns) ||
      !reader.SignedVarint(&capture_ns) || !reader.LengthPrefixed(&transaction_id) ||
      !reader.Varint(&ordinal) || !reader.LengthPrefixed(&position_view)) {
    return false;
  }
  // A MySQL position is read in place (file and GTID as views); PostgreSQL's and none through
  // the general decoder. Layout: base/position.h SourcePosition::EncodeTo.
  std::optional<SourcePosition> position;
  std::string_view binlog_file, gtid;
  uint32_t server_id = 0;
  uint64_t binlog_offset = 0;
  if (!position_view.empty() && position_view[0] == static_cast<char>(SourceKind::kMysql)) {
    Cursor position_reader(position_view.substr(1));
    if (!position_reader.Fixed32(&server_id) || !position_reader.LengthPrefixed(&binlog_file) ||
        !position_reader.Varint(&binlog_offset) || !position_reader.LengthPrefixed(&gtid) ||
        !position_reader.empty()) {
      return false;
    }
  } else {
    auto decoded = SourcePosition::DecodeFrom(position_view);
    if (!decoded.ok() || !position_view.empty()) return false;
    position = std::move(*decoded);
  }
  uint8_t connector, snapshot;
  std::string_view server_name, query;
  uint64_t thread_id, mysql_row;
  if (!reader.Byte(&connector) ||
      connector > static_cast<uint8_t>(model::ConnectorKind::kMariadb) ||
      !reader.LengthPrefixed(&server_name) || !reader.Byte(&snapshot) ||
      snapshot > static_cast<uint8_t>(model::SnapshotMarker::kIncremental) ||
      !reader.Varint(&thread_id) || !reader.Varint(&mysql_row) || mysql_row > UINT32_MAX ||
      !reader.LengthPrefixed(&query)) {
    return false;
  }
  if (!RenderRow(reader, nullptr)) return false;  // the key: checked, not rendered

  // The same members in the same order as NativeRenderer::Render.
  out.Literal("{\"type\":\"full\",\"op\":");
  out.String(model::OperationCode(op));
  out.Literal(",\"before\":");
  if (flags & model::kEventFlagHasBefore) {
    if (!RenderRow(reader, &out)) return false;
  } else {
    out.Literal("null");
  }
  out.Literal(",\"after\":");
  if (flags & model::kEventFlagHasAfter) {
    if (!RenderRow(reader, &out)) return false;
  } else {
    out.Literal("null");
  }
  if (!reader.empty()) return false;  // trailing bytes: the general decoder says what is wrong
  out.Literal(",\"source\":{\"version\":\"1.0\",\"connector\":");
  out.String(model::ConnectorName(static_cast<model::ConnectorKind>(connector)));
  out.Char(',');
  out.Times(commit_ns);
  out.Literal(",\"txId\":");
  out.String(transaction_id);
  out.Literal(",\"db\":");
  out.String(database);
  out.Literal(",\"schema\":");
  out.String(schema.empty() ? database : schema);
  out.Literal(",\"table\":");
  out.String(table);
  if (!position.has_value()) {  // MySQL, read in place above
    out.Literal(",\"file\":");
    out.String(binlog_file);
    out.Literal(",\"pos\":");
    out.Number(binlog_offset);
    out.Literal(",\"gtid\":");
    if (gtid.empty()) {
      out.Literal("null");
    } else {
      out.String(gtid);
    }
    out.Literal(",\"server_id\":");
    out.Number(server_id);
  } else if (const PostgresPosition* pg = position->postgres()) {
    out.Literal(",\"lsn\":");
    out.String(pg->change_lsn.ToString());
    out.Literal(",\"commit_lsn\":");
    out.String(pg->commit_end_lsn.ToString());
  }
  out.Literal("},");
  out.Times(capture_ns);
  out.Char('}');
  return true;
}

}  // namespace

bool AppendNativeRecord(std::string_view encoded_event, ViewType view, std::string* out) {
  if (view != ViewType::kNewAndOldImages) return false;
  Output output(*out);
  const size_t original_size = output.size();
  if (!Render(encoded_event, output)) output.Truncate(original_size);
  output.Finish();
  return output.size() != original_size;
}

}  // namespace eddy::format

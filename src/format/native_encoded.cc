#include "format/native_encoded.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include "base/bytes.h"
#include "format/renderers.h"
#include "format/value_text.h"
#include "model/event_codec.h"

namespace eddy::format {
namespace {

constexpr int64_t kMaxSafeInteger = int64_t{1} << 53;  // as native.cc

// Bytes JSON strings carry unescaped: printable ASCII other than `"` and `\` (json.cc's rule).
constexpr std::array<bool, 256> kPlainByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x7f; ++c) plain[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

// Appends to a std::string through a cursor: the string is grown ahead (never shrunk while
// writing) so each small write is a bounds compare and a copy. Finish() trims it to what was
// written. Strings that need escaping go through json.cc's AppendJsonString, so the escaping
// rules stay in one place.
class Output {
 public:
  explicit Output(std::string& out) : out_(out), size_(out.size()) {}
  size_t size() const { return size_; }
  void Finish() { out_.resize(size_); }
  void Truncate(size_t size) { size_ = size; }

  void Raw(std::string_view text) {
    char* at = Room(text.size());
    std::memcpy(at, text.data(), text.size());
    size_ += text.size();
  }
  template <size_t N>
  void Literal(const char (&text)[N]) {
    Raw(std::string_view(text, N - 1));
  }
  void Char(char c) {
    *Room(1) = c;
    ++size_;
  }
  void String(std::string_view text) {
    bool plain = true;
    for (char c : text) plain &= kPlainByte[static_cast<uint8_t>(c)];
    if (plain) {
      char* at = Room(text.size() + 2);
      at[0] = '"';
      std::memcpy(at + 1, text.data(), text.size());
      at[text.size() + 1] = '"';
      size_ += text.size() + 2;
      return;
    }
    out_.resize(size_);
    AppendJsonString(out_, text);
    size_ = out_.size();
  }
  // A timestamp's text (value_text.h; plain ASCII, so no escaping) in quotes.
  void Instant(model::TemporalKind kind, int64_t micros, bool utc) {
    out_.resize(size_);
    out_.push_back('"');
    AppendInstant(out_, kind, micros, utc);
    out_.push_back('"');
    size_ = out_.size();
  }
  void Key(std::string_view name) {
    String(name);
    Char(':');
  }
  template <typename Integer>
  void Number(Integer value) {
    char* at = Room(24);
    size_ = static_cast<size_t>(std::to_chars(at, at + 24, value).ptr - out_.data());
  }

 private:
  // Grows by a little at a time: resize zero-fills what it adds, and the string's own
  // reallocation is geometric already.
  char* Room(size_t bytes) {
    if (out_.size() - size_ < bytes) out_.resize(size_ + bytes + 512);
    return out_.data() + size_;
  }

  std::string& out_;
  size_t size_;
};

// ByteReader's varint and length-prefixed reads with the one-byte case inline (most lengths
// and small integers), the same checks otherwise.
inline Result<uint64_t> Varint(ByteReader& reader) {
  std::string_view rest = reader.rest();
  if (!rest.empty() && static_cast<uint8_t>(rest[0]) < 0x80) {
    (void)reader.TakeVerified(1);
    return static_cast<uint8_t>(rest[0]);
  }
  return reader.ReadVarint64();
}
inline Result<int64_t> SignedVarint(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint64_t raw, Varint(reader));
  return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
}
inline Result<std::string_view> LengthPrefixed(ByteReader& reader) {
  std::string_view rest = reader.rest();
  if (!rest.empty() && static_cast<uint8_t>(rest[0]) < 0x80 &&
      static_cast<uint8_t>(rest[0]) < rest.size()) {
    (void)reader.TakeVerified(1);
    return reader.TakeVerified(static_cast<uint8_t>(rest[0]));
  }
  return reader.ReadLengthPrefixed();
}

// Reads a row's fields (name, value) and writes {name: value, ...} when `out` is non-null (the
// key row is only checked). Common value types are written straight from the bytes; the others
// are decoded by model::DecodeValue (the general decoder, with its checks) and written by
// WriteNativeValue, so the conventions stay in one place.
bool RenderRow(ByteReader& reader, Output* out) {
  auto count = Varint(reader);
  if (!count.ok() || *count > reader.remaining()) return false;
  if (out != nullptr) out->Char('{');
  for (uint64_t i = 0; i < *count; ++i) {
    auto name = LengthPrefixed(reader);
    if (!name.ok() || reader.empty()) return false;
    if (out != nullptr) {
      if (i > 0) out->Char(',');
      out->Key(*name);
    }
    const auto tag = static_cast<model::ValueType>(static_cast<uint8_t>(reader.rest()[0]));
    switch (tag) {
      case model::ValueType::kNull: {
        (void)reader.TakeVerified(1);
        if (out != nullptr) out->Literal("null");
        continue;
      }
      case model::ValueType::kInt64: {
        (void)reader.TakeVerified(1);
        auto v = SignedVarint(reader);
        if (!v.ok()) return false;
        if (out == nullptr) continue;
        if (*v >= -kMaxSafeInteger && *v <= kMaxSafeInteger) {
          out->Number(*v);
        } else {
          out->String(std::to_string(*v));
        }
        continue;
      }
      case model::ValueType::kText:
      case model::ValueType::kDecimal:
      case model::ValueType::kEnum: {
        (void)reader.TakeVerified(1);
        auto text = LengthPrefixed(reader);
        if (!text.ok()) return false;
        if (out != nullptr) out->String(*text);
        continue;
      }
      case model::ValueType::kTimestamp:
      case model::ValueType::kTimestampTz: {
        (void)reader.TakeVerified(1);
        auto kind = reader.ReadFixed8();
        if (!kind.ok() || *kind > static_cast<uint8_t>(model::TemporalKind::kZero)) return false;
        auto micros = SignedVarint(reader);
        if (!micros.ok()) return false;
        if (out != nullptr) {
          out->Instant(static_cast<model::TemporalKind>(*kind), *micros,
                       tag == model::ValueType::kTimestampTz);
        }
        continue;
      }
      default: {
        std::string_view rest = reader.rest();
        auto value = model::DecodeValue(rest);
        if (!value.ok()) return false;
        (void)reader.TakeVerified(reader.remaining() - rest.size());
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
  auto database = LengthPrefixed(reader);
  auto schema = database.ok() ? LengthPrefixed(reader) : database;
  auto table = schema.ok() ? LengthPrefixed(reader) : schema;
  if (!table.ok()) return false;
  auto schema_version = Varint(reader);
  if (!schema_version.ok() || *schema_version > UINT32_MAX) return false;
  auto commit_ns = SignedVarint(reader);
  auto capture_ns = commit_ns.ok() ? SignedVarint(reader) : commit_ns;
  if (!capture_ns.ok()) return false;
  auto transaction_id = LengthPrefixed(reader);
  if (!transaction_id.ok() || !Varint(reader).ok()) return false;
  auto position_bytes = LengthPrefixed(reader);
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
    auto file = id.ok() ? LengthPrefixed(position_reader) : Result<std::string_view>(id.status());
    auto offset = file.ok() ? Varint(position_reader) : Result<uint64_t>(file.status());
    auto gtid_text =
        offset.ok() ? LengthPrefixed(position_reader) : Result<std::string_view>(offset.status());
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
  auto server_name = LengthPrefixed(reader);
  auto snapshot = server_name.ok() ? reader.ReadFixed8() : Result<uint8_t>(server_name.status());
  if (!snapshot.ok() || *snapshot > static_cast<uint8_t>(model::SnapshotMarker::kIncremental)) {
    return false;
  }
  auto thread_id = Varint(reader);
  auto mysql_row = thread_id.ok() ? Varint(reader) : thread_id;
  if (!mysql_row.ok() || *mysql_row > UINT32_MAX) return false;
  if (!LengthPrefixed(reader).ok()) return false;  // the query
  if (!RenderRow(reader, nullptr)) return false;   // the key: checked, not rendered

  // The same members in the same order as NativeRenderer::Render.
  out.Literal("{\"type\":\"full\",\"op\":");
  out.String(model::OperationCode(op));
  out.Literal(",\"before\":");
  if (*flags & model::kEventFlagHasBefore) {
    if (!RenderRow(reader, &out)) return false;
  } else {
    out.Literal("null");
  }
  out.Literal(",\"after\":");
  if (*flags & model::kEventFlagHasAfter) {
    if (!RenderRow(reader, &out)) return false;
  } else {
    out.Literal("null");
  }
  if (!reader.empty()) return false;  // trailing bytes: the general decoder says what is wrong
  out.Literal(",\"source\":{\"version\":\"1.0\",\"connector\":");
  out.String(model::ConnectorName(static_cast<model::ConnectorKind>(*connector)));
  out.Literal(",\"ts_ms\":");
  out.Number(FloorDiv(*commit_ns, 1000000));
  out.Literal(",\"ts_ns\":");
  out.Number(*commit_ns);
  out.Literal(",\"txId\":");
  out.String(*transaction_id);
  out.Literal(",\"db\":");
  out.String(*database);
  out.Literal(",\"schema\":");
  out.String(schema->empty() ? *database : *schema);
  out.Literal(",\"table\":");
  out.String(*table);
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
  out.Literal("},\"ts_ms\":");
  out.Number(FloorDiv(*capture_ns, 1000000));
  out.Literal(",\"ts_ns\":");
  out.Number(*capture_ns);
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

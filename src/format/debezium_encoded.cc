#include "format/debezium_encoded.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <memory>
#include <span>
#include <unordered_map>

#include "format/debezium_key.h"
#include "format/encoded_internal.h"
#include "format/renderers.h"
#include "model/event_codec.h"

namespace eddy::format {
namespace {

using encoded_internal::Cursor;
using encoded_internal::Output;
using model::ValueType;

constexpr std::string_view kSourceVersion = "eddy-0.1.0";  // as debezium.cc

// One field of an encoded row: its name, its value's type tag and the value's bytes (tag
// included, as model::DecodeValue reads them).
struct EncodedField {
  std::string_view name;
  ValueType type = ValueType::kNull;
  std::string_view value;
};

// Steps through an encoded row's fields. Values are skipped by their type's layout where it
// is simple and by model::DecodeValue (the general decoder, with its checks) otherwise.
class RowReader {
 public:
  // False when the row's field count does not read.
  bool Open(std::string_view row) {
    reader_ = Cursor(row);
    return reader_.Varint(&left_) && left_ <= reader_.remaining();
  }
  uint64_t size() const { return left_; }
  // False at the end or when the field does not decode (*ok then says which).
  bool Next(EncodedField* field, bool* ok) {
    *ok = true;
    if (left_ == 0) return false;
    --left_;
    *ok = false;
    if (!reader_.LengthPrefixed(&field->name) || reader_.empty()) return false;
    std::string_view rest = reader_.rest();
    field->type = static_cast<ValueType>(reader_.Peek());
    switch (field->type) {
      case ValueType::kNull:
      case ValueType::kUnavailable:
        reader_.Skip(1);
        break;
      case ValueType::kInt64:
      case ValueType::kUint64: {
        reader_.Skip(1);
        uint64_t ignored;
        if (!reader_.Varint(&ignored)) return false;
        break;
      }
      case ValueType::kText:
      case ValueType::kDecimal:
      case ValueType::kEnum:
      case ValueType::kJson: {
        reader_.Skip(1);
        std::string_view ignored;
        if (!reader_.LengthPrefixed(&ignored)) return false;
        break;
      }
      default: {
        std::string_view after = rest;
        if (!model::DecodeValue(after).ok()) return false;
        reader_.Skip(rest.size() - after.size());
        break;
      }
    }
    field->value = rest.substr(0, rest.size() - reader_.remaining());
    *ok = true;
    return true;
  }
  bool AtEnd() const { return left_ == 0; }

 private:
  Cursor reader_{std::string_view()};
  uint64_t left_ = 0;
};

// Appends `row`'s fields to `*fields` (cleared first); false when the row does not decode.
bool SplitRow(std::string_view row, std::vector<EncodedField>* fields) {
  fields->clear();
  RowReader rows;
  if (!rows.Open(row)) return false;
  EncodedField field;
  bool ok = true;
  while (rows.Next(&field, &ok)) fields->push_back(field);
  return ok;
}

// Which of a change's rows.
enum class RowSlot : uint8_t { kKey = 0, kBefore = 1, kAfter = 2 };

// The fields of the rows the last EncodedRowChange::Parse on this thread read (its key row and
// images), so that the writers after it read each row's fields once: Parse walks every field
// anyway, to find where each row ends. A change carries the number of the Parse that filled
// this (EncodedRowChange::parse_number); a change from an earlier Parse (or one built by hand)
// finds the number changed and reads its rows again.
// Only changes of up to kMaxKeptFields fields in all are kept (a wider one reads its rows again):
// a fixed array is filled with a store per field.
struct ParsedRows {
  static constexpr uint32_t kMaxKeptFields = 64;
  uint64_t parse_number = 0;
  uint32_t count = 0;     // fields kept
  bool overflow = false;  // more than kMaxKeptFields: none are usable
  std::array<EncodedField, kMaxKeptFields> fields;
  std::array<std::pair<uint32_t, uint32_t>, 3> rows{};  // [begin, end) in fields, by RowSlot
};

ParsedRows& Parsed() {
  thread_local ParsedRows parsed;
  return parsed;
}

// Skips a whole row, keeping its fields in `*parsed` as the row in `slot`; false when it does
// not decode.
bool SkipRow(Cursor& reader, std::string_view* row, RowSlot slot, ParsedRows* parsed) {
  std::string_view rest = reader.rest();
  RowReader rows;
  if (!rows.Open(rest)) return false;
  const uint32_t begin = parsed->count;
  EncodedField field;
  bool ok = true;
  while (rows.Next(&field, &ok)) {
    if (parsed->count < ParsedRows::kMaxKeptFields) {
      parsed->fields[parsed->count++] = field;
    } else {
      parsed->overflow = true;
    }
  }
  if (!ok) return false;
  parsed->rows[static_cast<size_t>(slot)] = {begin, parsed->count};
  // The row ends where the last field's value ends (or right after the count).
  size_t consumed;
  if (field.value.empty()) {
    Cursor count(rest);
    uint64_t ignored;
    if (!count.Varint(&ignored)) return false;
    consumed = rest.size() - count.remaining();
    if (ignored != 0) return false;
  } else {
    consumed = static_cast<size_t>(field.value.data() + field.value.size() - rest.data());
  }
  *row = rest.substr(0, consumed);
  reader.Skip(consumed);
  return true;
}

// The fields of `row`, `change`'s row in `slot` (which may be absent: a change without its
// before image), into `*fields`: those its Parse kept when it was this thread's last, else read
// again, into `scratch`. False when the row does not decode.
bool RowFields(const EncodedRowChange& change, RowSlot slot, std::vector<EncodedField>& scratch,
               std::span<const EncodedField>* fields) {
  const ParsedRows& parsed = Parsed();
  if (change.parse_number != 0 && change.parse_number == parsed.parse_number) {
    const auto [begin, end] = parsed.rows[static_cast<size_t>(slot)];
    *fields = std::span<const EncodedField>(parsed.fields.data() + begin, end - begin);
    return true;
  }
  const std::optional<std::string_view> row = slot == RowSlot::kKey      ? change.key_row
                                              : slot == RowSlot::kBefore ? change.before_row
                                                                         : change.after_row;
  scratch.clear();
  if (row && !SplitRow(*row, &scratch)) return false;
  *fields = scratch;
  return true;
}

// Writes one value in Debezium's conventions: the common types from the bytes, the others
// through model::DecodeValue and WriteDebeziumValue, so the conventions stay in one place.
bool WriteValue(const EncodedField& field, const RendererOptions& options, Output& out) {
  Cursor reader(field.value);
  reader.Skip(1);
  switch (field.type) {
    case ValueType::kNull:
      out.Literal("null");
      return true;
    case ValueType::kInt64: {
      int64_t v;
      if (!reader.SignedVarint(&v)) return false;
      out.Number(v);
      return true;
    }
    case ValueType::kUint64: {
      uint64_t v;
      if (!reader.Varint(&v)) return false;
      out.Number(v);
      return true;
    }
    case ValueType::kText:
    case ValueType::kEnum:
    case ValueType::kJson: {
      std::string_view text;
      if (!reader.LengthPrefixed(&text)) return false;
      out.String(text);
      return true;
    }
    default: {
      std::string_view bytes = field.value;
      auto value = model::DecodeValue(bytes);
      if (!value.ok()) return false;
      thread_local JsonWriter writer;
      writer = JsonWriter(writer.Take());  // reuses the buffer's capacity
      WriteDebeziumValue(writer, *value, options);
      out.Raw(writer.str());
      return true;
    }
  }
}

bool WriteImage(std::span<const EncodedField> fields, const RendererOptions& options, Output& out) {
  out.Char('{');
  bool first = true;
  for (const EncodedField& field : fields) {
    if (!first) out.Char(',');
    first = false;
    out.Key(field.name);
    if (!WriteValue(field, options, out)) return false;
  }
  out.Char('}');
  return true;
}

// `change`'s image in `slot` (present), or false.
bool WriteImageOf(const EncodedRowChange& change, RowSlot slot, const RendererOptions& options,
                  Output& out) {
  thread_local std::vector<EncodedField> scratch;
  std::span<const EncodedField> fields;
  return RowFields(change, slot, scratch, &fields) && WriteImage(fields, options, out);
}

// `"ts_ms":..,"ts_us":..,"ts_ns":..` of `nanos`. A source transaction's events share their
// commit time (and a captured batch its capture time): the last two texts this thread wrote
// are kept and copied instead of formatted again.
void WriteTimes(int64_t nanos, Output& out) {
  struct Text {
    int64_t nanos = 0;
    size_t size = 0;  // 0: empty
    char text[96];
  };
  thread_local std::array<Text, 2> cache;
  thread_local int next = 0;
  for (const Text& cached : cache) {
    if (cached.size != 0 && cached.nanos == nanos) {
      out.Raw(std::string_view(cached.text, cached.size));
      return;
    }
  }
  Text& slot = cache[next];
  next ^= 1;
  char* at = slot.text;
  char* end = slot.text + sizeof slot.text;
  std::memcpy(at, "\"ts_ms\":", 8);
  at = std::to_chars(at + 8, end, FloorDiv(nanos, 1000000)).ptr;
  std::memcpy(at, ",\"ts_us\":", 9);
  at = std::to_chars(at + 9, end, FloorDiv(nanos, 1000)).ptr;
  std::memcpy(at, ",\"ts_ns\":", 9);
  at = std::to_chars(at + 9, end, nanos).ptr;
  slot.nanos = nanos;
  slot.size = static_cast<size_t>(at - slot.text);
  out.Raw(std::string_view(slot.text, slot.size));
}

std::string_view SnapshotText(uint8_t marker) {
  switch (static_cast<model::SnapshotMarker>(marker)) {
    case model::SnapshotMarker::kFalse:
      return "false";
    case model::SnapshotMarker::kTrue:
      return "true";
    case model::SnapshotMarker::kFirst:
      return "first";
    case model::SnapshotMarker::kLast:
      return "last";
    case model::SnapshotMarker::kIncremental:
      return "incremental";
  }
  return "false";
}

// debezium.cc's AllDigits + strtoll.
bool TransactionNumber(std::string_view id, int64_t* number) {
  if (id.empty() || id.size() > 18) return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  *number = 0;
  std::from_chars(id.data(), id.data() + id.size(), *number);
  return true;
}

// Texts of the record that depend only on a byte the event carries (its connector, snapshot
// marker, operation; Read checks each byte's range): written once with the same Output calls
// as the rest of the record, then copied for every record instead of escaped again.
struct ConstantTexts {
  // `{"version":V,"connector":C,"name":`, by ConnectorKind.
  std::array<std::string, static_cast<size_t>(model::ConnectorKind::kMariadb) + 1> source_head;
  // `,"snapshot":S,"db":`, by SnapshotMarker.
  std::array<std::string, static_cast<size_t>(model::SnapshotMarker::kIncremental) + 1> snapshot;
  // `,"op":O,`, by Operation (the row changes Read accepts: kInsert to kRead).
  std::array<std::string, static_cast<size_t>(model::Operation::kRead) + 1> op;
};

const ConstantTexts& Constants() {
  static const ConstantTexts texts = [] {
    ConstantTexts built;
    for (size_t kind = 0; kind < built.source_head.size(); ++kind) {
      Output out(built.source_head[kind]);
      out.Literal("{\"version\":");
      out.String(kSourceVersion);
      out.Literal(",\"connector\":");
      out.String(model::ConnectorName(static_cast<model::ConnectorKind>(kind)));
      out.Literal(",\"name\":");
      out.Finish();
    }
    for (size_t marker = 0; marker < built.snapshot.size(); ++marker) {
      Output out(built.snapshot[marker]);
      out.Literal(",\"snapshot\":");
      out.String(SnapshotText(static_cast<uint8_t>(marker)));
      out.Literal(",\"db\":");
      out.Finish();
    }
    for (size_t op = static_cast<size_t>(model::Operation::kInsert); op < built.op.size(); ++op) {
      Output out(built.op[op]);
      out.Literal(",\"op\":");
      out.String(model::OperationCode(static_cast<model::Operation>(op)));
      out.Char(',');
      out.Finish();
    }
    return built;
  }();
  return texts;
}

// A number's decimal text as last formatted in one slot of this thread: the records of one
// source transaction (and of one snapshot) share their commit position and transaction ID, so
// those are formatted once per run of records instead of once per record.
struct NumberText {
  uint64_t value = 0;
  size_t size = 0;  // 0: empty
  char text[24];
};

std::string_view TextOf(NumberText& slot, uint64_t value) {
  if (slot.size == 0 || slot.value != value) {
    slot.value = value;
    slot.size = static_cast<size_t>(
        std::to_chars(slot.text, slot.text + sizeof slot.text, value).ptr - slot.text);
  }
  return std::string_view(slot.text, slot.size);
}

// `"txId":` as Debezium's PostgreSQL connector writes it (the number, or null when the ID is
// not one), kept for the last ID this thread wrote.
void WriteTransactionNumber(std::string_view id, Output& out) {
  struct Last {
    std::string id;
    bool set = false;
    bool numeric = false;
    NumberText number;
  };
  thread_local Last last;
  if (!last.set || last.id != id) {
    int64_t transaction = 0;
    last.numeric = TransactionNumber(id, &transaction);
    if (last.numeric) (void)TextOf(last.number, static_cast<uint64_t>(transaction));
    last.id.assign(id);
    last.set = true;
  }
  if (last.numeric) {
    out.Raw(std::string_view(last.number.text, last.number.size));
  } else {
    out.Literal("null");
  }
}

// The `source` block, as DebeziumRenderer::WriteSource writes it.
bool WriteSource(const EncodedRowChange& change, Output& out) {
  const ConstantTexts& constants = Constants();
  // Read checked both bytes; a change built otherwise declines rather than index past them.
  if (change.connector >= constants.source_head.size() ||
      change.snapshot >= constants.snapshot.size()) {
    return false;
  }
  out.Raw(constants.source_head[change.connector]);
  out.String(change.server_name);
  out.Char(',');
  WriteTimes(change.commit_ns, out);
  out.Raw(constants.snapshot[change.snapshot]);
  out.String(change.database);
  Cursor position(change.position);
  uint8_t kind = 0;
  if (!position.Byte(&kind)) return false;
  if (kind == static_cast<uint8_t>(SourceKind::kPostgres)) {
    uint64_t commit_end;
    uint64_t change_lsn;
    if (position.remaining() != 16) return false;
    std::string_view rest = position.rest();
    commit_end = DecodeFixed64(rest.data());
    change_lsn = DecodeFixed64(rest.data() + 8);
    thread_local NumberText commit_end_text;
    char lsn_text[24];
    const std::string_view lsn(
        lsn_text,
        static_cast<size_t>(std::to_chars(lsn_text, lsn_text + sizeof lsn_text, change_lsn).ptr -
                            lsn_text));
    out.Literal(",\"sequence\":\"[\\\"");
    out.Raw(TextOf(commit_end_text, commit_end));
    out.Literal("\\\",\\\"");
    out.Raw(lsn);
    out.Literal("\\\"]\",\"schema\":");
    out.String(change.schema);
    out.Literal(",\"table\":");
    out.String(change.table);
    out.Literal(",\"txId\":");
    WriteTransactionNumber(change.transaction_id, out);
    out.Literal(",\"lsn\":");
    out.Raw(lsn);
    out.Literal(",\"xmin\":null}");
    return true;
  }
  uint32_t server_id = 0;
  std::string_view file;
  uint64_t offset = 0;
  std::string_view gtid;
  if (kind == static_cast<uint8_t>(SourceKind::kMysql)) {
    if (!position.Fixed32(&server_id) || !position.LengthPrefixed(&file) ||
        !position.Varint(&offset) || !position.LengthPrefixed(&gtid) || !position.empty()) {
      return false;
    }
  } else if (kind != static_cast<uint8_t>(SourceKind::kNone) || !position.empty()) {
    return false;
  }
  out.Literal(",\"sequence\":null,\"table\":");
  out.String(change.table);
  out.Literal(",\"server_id\":");
  out.Number(server_id);
  out.Literal(",\"gtid\":");
  if (gtid.empty()) {
    out.Literal("null");
  } else {
    out.String(gtid);
  }
  out.Literal(",\"file\":");
  out.String(file);
  out.Literal(",\"pos\":");
  out.Number(offset);
  out.Literal(",\"row\":");
  out.Number(change.mysql_row);
  out.Literal(",\"thread\":");
  out.Number(change.mysql_thread_id);
  out.Literal(",\"query\":");
  if (change.query.empty()) {
    out.Literal("null");
  } else {
    out.String(change.query);
  }
  out.Char('}');
  return true;
}

// The payload object (the envelope without its schema).
bool WritePayload(const EncodedRowChange& change, const RendererOptions& options, Output& out) {
  out.Literal("{\"before\":");
  if (change.before_row) {
    if (!WriteImageOf(change, RowSlot::kBefore, options, out)) return false;
  } else {
    out.Literal("null");
  }
  out.Literal(",\"after\":");
  if (change.after_row) {
    if (!WriteImageOf(change, RowSlot::kAfter, options, out)) return false;
  } else {
    out.Literal("null");
  }
  out.Literal(",\"source\":");
  if (!WriteSource(change, out)) return false;
  out.Literal(",\"transaction\":");
  if (change.has_transaction_order) {
    out.Literal("{\"id\":");
    out.String(change.transaction_id);
    out.Literal(",\"total_order\":");
    out.Number(change.total_order);
    out.Literal(",\"data_collection_order\":");
    out.Number(change.data_collection_order);
    out.Char('}');
  } else {
    out.Literal("null");
  }
  const size_t op = static_cast<size_t>(change.op);
  const ConstantTexts& constants = Constants();
  if (op >= constants.op.size() || constants.op[op].empty()) return false;  // as WriteSource
  out.Raw(constants.op[op]);
  WriteTimes(change.capture_ns, out);
  out.Char('}');
  return true;
}

// --- the schema part, built by the general renderer once per shape ---

// A shape under construction: the key of a schema cache, written into a thread's reused
// buffer. The buffer's bytes past size_ are scratch, so an append checks for room once instead
// of std::string's checks per call, and no byte is zero-filled again (a shape is built for each
// record rendered with schemas).
class Shape {
 public:
  explicit Shape(std::string& buffer) : buffer_(buffer) {}
  void Byte(char c) {
    *Room(1) = c;
    ++size_;
  }
  void Bytes(const void* data, size_t size) {
    std::memcpy(Room(size), data, size);
    size_ += size;
  }
  // Length-prefixed, so that consecutive texts cannot run together.
  void Text(std::string_view text) {
    const size_t size = text.size();
    char* at = Room(sizeof size + size);
    std::memcpy(at, &size, sizeof size);
    if (size != 0) std::memcpy(at + sizeof size, text.data(), size);  // data() may be null
    size_ += sizeof size + size;
  }
  std::string_view view() const { return std::string_view(buffer_.data(), size_); }

 private:
  char* Room(size_t bytes) {
    if (buffer_.size() - size_ < bytes) [[unlikely]] {
      buffer_.resize(std::max(buffer_.size() * 2, size_ + bytes + 256));
    }
    return buffer_.data() + size_;
  }

  std::string& buffer_;
  size_t size_ = 0;
};

// Appends what a value contributes to a schema: its type, and for decimals (precise) the
// scale, for bit strings the length; false for arrays (their schema follows the elements).
bool AppendValueShape(const EncodedField& field, const RendererOptions& options, Shape& shape) {
  shape.Byte(static_cast<char>(field.type));
  if (field.type == ValueType::kArray) return false;
  if (field.type == ValueType::kDecimal && options.decimal_handling == DecimalHandling::kPrecise) {
    Cursor reader(field.value);
    reader.Skip(1);
    std::string_view text;
    if (!reader.LengthPrefixed(&text)) return false;
    size_t point = text.find('.');
    size_t scale = point == std::string_view::npos ? 0 : text.size() - point - 1;
    shape.Bytes(&scale, sizeof scale);
  } else if (field.type == ValueType::kBits) {
    std::string_view bytes = field.value;
    auto value = model::DecodeValue(bytes);
    if (!value.ok()) return false;
    size_t length = value->Get<model::BitsValue>().bits.size();
    shape.Bytes(&length, sizeof length);
  }
  return true;
}

bool IsSample(const EncodedField& field) {
  return field.type != ValueType::kNull && field.type != ValueType::kUnavailable;
}

// Schema prefixes (`{"schema":...,"payload":`) by shape, per thread. Bounded: a thread that
// sees more shapes than this starts over.
class SchemaCache {
 public:
  static constexpr size_t kMaxEntries = 4096;
  // Records come in runs of one table and shape: the last entry found is compared first,
  // before the shape is hashed.
  const std::string* Find(std::string_view shape) const {
    if (last_ != nullptr && last_->first == shape) return &last_->second;
    auto found = entries_.find(shape);
    if (found == entries_.end()) return nullptr;
    last_ = &*found;
    return &found->second;
  }
  void Put(std::string_view shape, std::string prefix) {
    if (entries_.size() >= kMaxEntries) {
      entries_.clear();
      last_ = nullptr;
    }
    entries_.emplace(std::string(shape), std::move(prefix));
  }

 private:
  // Looked up by std::string_view (Shape::view) without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
  };
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> entries_;
  // An entry of `entries_` (node addresses survive rehashing), or null.
  mutable const std::pair<const std::string, std::string>* last_ = nullptr;
};

SchemaCache& EnvelopeSchemas() {
  thread_local SchemaCache cache;
  return cache;
}
SchemaCache& KeySchemas() {
  thread_local SchemaCache cache;
  return cache;
}

// The integer type the catalog gives a column, as one character of the shape.
char IntegerTypeCode(const model::TableSchema* table_schema, std::string_view column) {
  std::string_view type =
      DebeziumIntegerType(table_schema ? table_schema->FindColumn(column) : nullptr);
  return type[3];  // int16 / int32 / int64
}

// The shape of the envelope's schema: what WriteEnvelopeSchema reads of the event.
bool EnvelopeShape(const EncodedRowChange& change, const RendererOptions& options,
                   const model::TableSchema* table_schema, Shape& shape) {
  shape.Byte(static_cast<char>(options.decimal_handling));
  shape.Byte(change.position.empty() ? 0 : change.position[0]);
  shape.Text(change.server_name);
  shape.Text(change.schema);
  shape.Text(change.database);
  shape.Text(change.table);
  // Columns in image order (after, then before), each with whether it is a key column and
  // the type of its first value that is neither null nor unavailable.
  thread_local std::vector<EncodedField> columns;
  thread_local std::vector<uint8_t> sampled;  // columns[i] holds a sample
  columns.clear();
  sampled.clear();
  thread_local std::vector<EncodedField> scratch;
  for (RowSlot slot : {RowSlot::kAfter, RowSlot::kBefore}) {
    std::span<const EncodedField> fields;
    if (!RowFields(change, slot, scratch, &fields)) return false;
    for (const EncodedField& field : fields) {
      size_t i = 0;
      for (; i < columns.size(); ++i) {
        if (columns[i].name == field.name) break;
      }
      if (i == columns.size()) {
        columns.push_back(field);
        sampled.push_back(0);
      }
      if (sampled[i] == 0 && IsSample(field)) {
        columns[i] = field;
        sampled[i] = 1;
      }
    }
  }
  std::span<const EncodedField> keys;
  if (!RowFields(change, RowSlot::kKey, scratch, &keys)) return false;
  shape.Text({});  // separates the table from the columns
  for (size_t i = 0; i < columns.size(); ++i) {
    shape.Text(columns[i].name);
    bool is_key = false;
    for (const EncodedField& key : keys) is_key = is_key || key.name == columns[i].name;
    shape.Byte(is_key ? 1 : 0);
    if (sampled[i] == 0) {
      shape.Byte(static_cast<char>(ValueType::kNull));
      continue;
    }
    if (!AppendValueShape(columns[i], options, shape)) return false;
    if (columns[i].type == ValueType::kInt64 || columns[i].type == ValueType::kUint64) {
      shape.Byte(IntegerTypeCode(table_schema, columns[i].name));
    }
  }
  return true;
}

// `full` is a whole `{"schema":S,"payload":P}` record whose payload is `payload`: returns
// `{"schema":S,"payload":`, or nullopt when `full` is not that.
std::optional<std::string> SchemaPrefix(std::string_view full, std::string_view payload) {
  constexpr std::string_view kHead = "{\"schema\":";
  constexpr std::string_view kPayload = ",\"payload\":";
  if (full.size() < payload.size() + kHead.size() + kPayload.size() + 1 ||
      full.substr(0, kHead.size()) != kHead || full.back() != '}' ||
      full.substr(full.size() - 1 - payload.size(), payload.size()) != payload) {
    return std::nullopt;
  }
  std::string_view prefix = full.substr(0, full.size() - 1 - payload.size());
  if (prefix.substr(prefix.size() - kPayload.size()) != kPayload) return std::nullopt;
  return std::string(prefix);
}

bool Read(Cursor& reader, EncodedRowChange* change, ParsedRows* parsed) {
  uint8_t version;
  if (!reader.Byte(&version) || version == 0 || version > model::kEventEncodingVersion) {
    return false;
  }
  uint8_t op_byte;
  if (!reader.Byte(&op_byte) || op_byte < static_cast<uint8_t>(model::Operation::kInsert) ||
      op_byte > static_cast<uint8_t>(model::Operation::kRead)) {
    return false;
  }
  change->op = static_cast<model::Operation>(op_byte);
  uint8_t flags;
  const uint8_t known = version == 1 ? 0 : model::kEventFlagHasTransactionOrder;
  if (!reader.Byte(&flags) ||
      (flags & ~(model::kEventFlagHasBefore | model::kEventFlagHasAfter | known)) != 0) {
    return false;
  }
  uint64_t schema_version;
  uint64_t ordinal;
  if (!reader.LengthPrefixed(&change->database) || !reader.LengthPrefixed(&change->schema) ||
      !reader.LengthPrefixed(&change->table) || !reader.Varint(&schema_version) ||
      schema_version > UINT32_MAX || !reader.SignedVarint(&change->commit_ns) ||
      !reader.SignedVarint(&change->capture_ns) ||
      !reader.LengthPrefixed(&change->transaction_id) || !reader.Varint(&ordinal) ||
      !reader.LengthPrefixed(&change->position)) {
    return false;
  }
  change->schema_version = static_cast<uint32_t>(schema_version);
  if (!reader.Byte(&change->connector) ||
      change->connector > static_cast<uint8_t>(model::ConnectorKind::kMariadb) ||
      !reader.LengthPrefixed(&change->server_name) || !reader.Byte(&change->snapshot) ||
      change->snapshot > static_cast<uint8_t>(model::SnapshotMarker::kIncremental) ||
      !reader.Varint(&change->mysql_thread_id) || !reader.Varint(&change->mysql_row) ||
      change->mysql_row > UINT32_MAX || !reader.LengthPrefixed(&change->query)) {
    return false;
  }
  // The position as SourcePosition::DecodeFrom reads it (the source block writes from it).
  Cursor position(change->position);
  uint8_t kind = 0;
  if (!position.Byte(&kind)) return false;
  if (kind == static_cast<uint8_t>(SourceKind::kPostgres)) {
    if (position.remaining() != 16) return false;
  } else if (kind == static_cast<uint8_t>(SourceKind::kMysql)) {
    uint32_t server_id;
    std::string_view file;
    uint64_t offset;
    std::string_view gtid;
    if (!position.Fixed32(&server_id) || !position.LengthPrefixed(&file) ||
        !position.Varint(&offset) || !position.LengthPrefixed(&gtid) || !position.empty()) {
      return false;
    }
  } else if (kind != static_cast<uint8_t>(SourceKind::kNone) || !position.empty()) {
    return false;
  }
  if (!SkipRow(reader, &change->key_row, RowSlot::kKey, parsed)) return false;
  change->before_row.reset();
  change->after_row.reset();
  parsed->rows[static_cast<size_t>(RowSlot::kBefore)] = {};
  parsed->rows[static_cast<size_t>(RowSlot::kAfter)] = {};
  if (flags & model::kEventFlagHasBefore) {
    std::string_view row;
    if (!SkipRow(reader, &row, RowSlot::kBefore, parsed)) return false;
    change->before_row = row;
  }
  if (flags & model::kEventFlagHasAfter) {
    std::string_view row;
    if (!SkipRow(reader, &row, RowSlot::kAfter, parsed)) return false;
    change->after_row = row;
  }
  change->has_transaction_order = (flags & model::kEventFlagHasTransactionOrder) != 0;
  if (change->has_transaction_order &&
      (!reader.Varint(&change->total_order) || !reader.Varint(&change->data_collection_order))) {
    return false;
  }
  return reader.empty();
}

}  // namespace

bool EncodedRowChange::Parse(std::string_view bytes) {
  encoded = bytes;
  ParsedRows& parsed = Parsed();
  // A new number: the fields kept for the change parsed before are gone.
  ++parsed.parse_number;
  parsed.count = 0;
  parsed.overflow = false;
  parse_number = 0;
  Cursor reader(bytes);
  if (!Read(reader, this, &parsed)) return false;
  if (!parsed.overflow) parse_number = parsed.parse_number;
  return true;
}

namespace {

// The schema prefix for `change`'s shape from this thread's cache, built (by the general
// renderer, checked against `payload`, the change's payload already written) when the shape
// is new; null when the change declines. `shape` is the change's EnvelopeShape.
const std::string* SchemaPrefixFor(const EncodedRowChange& change, ViewType view,
                                   const RendererOptions& options,
                                   const model::TableSchema* table_schema, std::string_view shape,
                                   std::string_view payload) {
  SchemaCache& cache = EnvelopeSchemas();
  if (const std::string* known = cache.Find(shape); known != nullptr) return known;
  auto event = model::DecodeEvent(change.encoded);
  if (!event.ok()) return nullptr;
  RecordContext context;
  context.table_schema = table_schema;
  std::string full;
  MakeDebeziumRenderer(true, options)->RenderTo(*event, view, context, &full);
  auto built = SchemaPrefix(full, payload);
  if (!built) return nullptr;
  cache.Put(shape, std::move(*built));
  return cache.Find(shape);
}

// Appends the payload to `out`; false (with `out` as it was) when the change declines.
bool AppendPayload(const EncodedRowChange& change, const RendererOptions& options,
                   std::string* out) {
  const size_t original_size = out->size();
  Output output(*out);
  bool written = WritePayload(change, options, output);
  if (!written) output.Truncate(original_size);
  output.Finish();
  return written;
}

}  // namespace

bool AppendDebeziumRecord(const EncodedRowChange& change, ViewType view, bool include_schema,
                          const RendererOptions& options, const model::TableSchema* table_schema,
                          std::string* out) {
  DebeziumRecordParts parts;
  if (!RenderDebeziumRecordParts(change, view, include_schema, options, table_schema, &parts)) {
    return false;
  }
  out->reserve(out->size() + parts.prefix.size() + parts.payload.size() + parts.suffix.size());
  out->append(parts.prefix);
  out->append(parts.payload);
  out->append(parts.suffix);
  return true;
}

bool RenderDebeziumRecordParts(const EncodedRowChange& change, ViewType view, bool include_schema,
                               const RendererOptions& options,
                               const model::TableSchema* table_schema, DebeziumRecordParts* parts) {
  *parts = DebeziumRecordParts{};
  if (view != ViewType::kNewAndOldImages) return false;
  thread_local std::string scratch;
  std::string_view payload;  // in `scratch`
  std::string_view shape_view;
  thread_local std::string shape_buffer;
  Shape shape(shape_buffer);
  if (include_schema) {
    if (!EnvelopeShape(change, options, table_schema, shape)) return false;
    shape_view = shape.view();
  }
  {
    Output output(scratch, Output::kScratch);
    if (!WritePayload(change, options, output)) return false;
    payload = output.View();
  }
  if (include_schema) {
    const std::string* prefix =
        SchemaPrefixFor(change, view, options, table_schema, shape_view, payload);
    if (prefix == nullptr) return false;
    parts->prefix = *prefix;
    parts->suffix = "}";
  }
  parts->payload = payload;
  return true;
}

bool AppendDebeziumRecordParts(const EncodedRowChange& change, ViewType view, bool include_schema,
                               const RendererOptions& options,
                               const model::TableSchema* table_schema, std::string* payload,
                               DebeziumRecordParts* parts) {
  *parts = DebeziumRecordParts{};
  if (view != ViewType::kNewAndOldImages) return false;
  if (!include_schema) return AppendPayload(change, options, payload);
  thread_local std::string shape_buffer;
  Shape shape(shape_buffer);
  if (!EnvelopeShape(change, options, table_schema, shape)) return false;
  const size_t original_size = payload->size();
  if (!AppendPayload(change, options, payload)) return false;
  const std::string* prefix = SchemaPrefixFor(change, view, options, table_schema, shape.view(),
                                              std::string_view(*payload).substr(original_size));
  if (prefix == nullptr) {
    payload->resize(original_size);
    return false;
  }
  parts->prefix = *prefix;
  parts->suffix = "}";
  return true;
}

namespace {

// AppendDebeziumKey from the rows' fields: `keys` (the key row's) valued from `image` where it
// has them all, else with their own values.
bool WriteKey(std::span<const EncodedField> keys, std::span<const EncodedField> image,
              std::string_view schema_name, bool include_schema, const RendererOptions& options,
              const model::TableSchema* table_schema, std::string* out, bool* empty) {
  *empty = false;
  thread_local std::vector<EncodedField> fields;
  fields.clear();
  for (const EncodedField& key : keys) {
    const EncodedField* found = nullptr;
    for (const EncodedField& field : image) {
      if (field.name == key.name) {
        found = &field;
        break;
      }
    }
    if (found == nullptr) {  // the key row's own values
      fields.assign(keys.begin(), keys.end());
      break;
    }
    fields.push_back(*found);
  }
  if (fields.empty()) {
    *empty = true;
    return true;
  }
  thread_local std::string scratch;
  std::string_view payload;  // in `scratch`
  {
    Output output(scratch, Output::kScratch);
    output.Char('{');
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) output.Char(',');
      output.Key(fields[i].name);
      if (!WriteValue(fields[i], options, output)) return false;
    }
    output.Char('}');
    payload = output.View();
  }
  if (!include_schema) {
    out->append(payload);
    return true;
  }
  thread_local std::string shape_buffer;
  Shape shape(shape_buffer);
  shape.Byte(static_cast<char>(options.decimal_handling));
  shape.Text(schema_name);
  for (const EncodedField& field : fields) {
    shape.Text(field.name);
    if (!IsSample(field)) {
      shape.Byte(static_cast<char>(ValueType::kNull));
      continue;
    }
    if (!AppendValueShape(field, options, shape)) return false;
    if (field.type == ValueType::kInt64 || field.type == ValueType::kUint64) {
      shape.Byte(IntegerTypeCode(table_schema, field.name));
    }
  }
  SchemaCache& cache = KeySchemas();
  const std::string* prefix = cache.Find(shape.view());
  if (prefix == nullptr) {
    model::Row row;
    for (const EncodedField& field : fields) {
      std::string_view bytes = field.value;
      auto value = model::DecodeValue(bytes);
      if (!value.ok()) return false;
      row.push_back(model::Field{std::string(field.name), std::move(*value)});
    }
    std::string full = RenderDebeziumKey(row, schema_name, true, 0, options, table_schema);
    auto built = SchemaPrefix(full, payload);
    if (!built) return false;
    cache.Put(shape.view(), std::move(*built));
    prefix = cache.Find(shape.view());
  }
  out->reserve(out->size() + prefix->size() + payload.size() + 1);
  out->append(*prefix);
  out->append(payload);
  out->push_back('}');
  return true;
}

}  // namespace

bool AppendDebeziumKey(std::string_view key_row, std::string_view image_row,
                       std::string_view schema_name, bool include_schema,
                       const RendererOptions& options, const model::TableSchema* table_schema,
                       std::string* out, bool* empty) {
  thread_local std::vector<EncodedField> keys;
  thread_local std::vector<EncodedField> image;
  if (!SplitRow(key_row, &keys) || !SplitRow(image_row, &image)) return false;
  return WriteKey(keys, image, schema_name, include_schema, options, table_schema, out, empty);
}

bool AppendDebeziumChangeKey(const EncodedRowChange& change, bool from_before,
                             std::string_view schema_name, bool include_schema,
                             const RendererOptions& options, const model::TableSchema* table_schema,
                             std::string* out, bool* empty) {
  thread_local std::vector<EncodedField> key_scratch;
  thread_local std::vector<EncodedField> image_scratch;
  std::span<const EncodedField> keys;
  if (!RowFields(change, RowSlot::kKey, key_scratch, &keys)) return false;
  std::span<const EncodedField> image = keys;  // no image: the key row's own values
  if (from_before ? change.before_row.has_value() : change.after_row.has_value()) {
    if (!RowFields(change, from_before ? RowSlot::kBefore : RowSlot::kAfter, image_scratch,
                   &image)) {
      return false;
    }
  }
  return WriteKey(keys, image, schema_name, include_schema, options, table_schema, out, empty);
}

}  // namespace eddy::format

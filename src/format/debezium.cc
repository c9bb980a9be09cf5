// Debezium's JSON envelope, with ("debezium-schema") or without ("debezium") the Kafka Connect
// JsonConverter schema part (docs/formats/debezium.md).
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <cstdlib>
#include <map>
#include <vector>

#include "format/debezium_key.h"
#include "format/renderers.h"
#include "format/value_text.h"

namespace eddy::format {

namespace {

using model::ValueType;

constexpr std::string_view kDebeziumUnavailable = "__debezium_unavailable_value";
// Debezium's MicroDuration counts a month as 365.25 / 12 days = 2629800 seconds.
constexpr int64_t kMicrosPerAverageMonth = 2629800000000;

// Java BigInteger.toByteArray of the unscaled decimal: minimal big-endian two's complement.
std::string UnscaledTwosComplement(std::string_view text, int& scale) {
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  scale = 0;
  std::vector<uint8_t> magnitude;  // big-endian
  bool after_point = false;
  for (char c : text) {
    if (c == '.') {
      after_point = true;
      continue;
    }
    if (after_point) ++scale;
    int carry = c - '0';
    for (size_t i = magnitude.size(); i-- > 0;) {
      int v = magnitude[i] * 10 + carry;
      magnitude[i] = static_cast<uint8_t>(v & 0xff);
      carry = v >> 8;
    }
    while (carry > 0) {
      magnitude.insert(magnitude.begin(), static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  while (!magnitude.empty() && magnitude.front() == 0) magnitude.erase(magnitude.begin());
  if (magnitude.empty()) return std::string(1, '\0');
  if (!negative) {
    if (magnitude.front() & 0x80) magnitude.insert(magnitude.begin(), 0);
  } else {
    for (uint8_t& b : magnitude) b = static_cast<uint8_t>(~b);
    for (size_t i = magnitude.size(); i-- > 0;) {
      if (++magnitude[i] != 0) break;
    }
    if (!(magnitude.front() & 0x80)) magnitude.insert(magnitude.begin(), 0xff);
  }
  return std::string(magnitude.begin(), magnitude.end());
}

int DecimalScale(std::string_view text) {
  size_t point = text.find('.');
  return point == std::string_view::npos ? 0 : static_cast<int>(text.size() - point - 1);
}

// Debezium io.debezium.data.Bits: the bits as bytes, little-endian.
std::string BitsLittleEndian(std::string_view bits) {
  size_t count = (bits.size() + 7) / 8;
  std::string bytes(count, '\0');
  for (size_t i = 0; i < bits.size(); ++i) {
    size_t bit = bits.size() - 1 - i;  // bit index counted from the least significant
    if (bits[i] == '1') bytes[bit / 8] = static_cast<char>(bytes[bit / 8] | (1 << (bit % 8)));
  }
  return bytes;
}

// java.time ISO formatting of the fraction: none, 3, 6 (or 9) digits as needed.
std::string JavaIsoFraction(int64_t micros_of_second) {
  if (micros_of_second == 0) return "";
  char buffer[32];
  if (micros_of_second % 1000 == 0) {
    std::snprintf(buffer, sizeof(buffer), ".%03lld", static_cast<long long>(micros_of_second / 1000));
  } else {
    std::snprintf(buffer, sizeof(buffer), ".%06lld", static_cast<long long>(micros_of_second));
  }
  return buffer;
}

std::string ZonedTimestamp(const model::TimestampTzValue& v) {
  if (v.kind != model::TemporalKind::kFinite) return FormatTimestampTz(v);
  // "2023-11-14T22:13:20.123456Z" with Java's fraction rule.
  std::string base = FormatTimestampTz(v);
  base.resize(base.size() - 8);  // drop ".ffffffZ"
  return base + JavaIsoFraction(FloorMod(v.micros, 1000000)) + "Z";
}

std::string ZonedTime(const model::TimeTzValue& v) {
  int64_t utc = FloorMod(FloorMod(v.micros, kMicrosPerDay) -
                             FloorMod(int64_t{v.utc_offset_seconds} * 1000000, kMicrosPerDay),
                         kMicrosPerDay);
  std::string base = FormatTime(utc);
  base.resize(base.size() - 7);  // drop ".ffffff"
  return base + JavaIsoFraction(utc % 1000000) + "Z";
}

// Saturates like Debezium's (long) cast of its double arithmetic, without its rounding.
int64_t MicroDuration(const model::IntervalValue& v) {
  int64_t months = 0;
  int64_t days = 0;
  int64_t total = 0;
  bool overflow = __builtin_mul_overflow(int64_t{v.months}, kMicrosPerAverageMonth, &months) ||
                  __builtin_mul_overflow(int64_t{v.days}, kMicrosPerDay, &days) ||
                  __builtin_add_overflow(months, days, &total) ||
                  __builtin_add_overflow(total, v.micros, &total);
  if (!overflow) return total;
  // The sign of the exact sum decides the direction of saturation.
  long double exact = static_cast<long double>(v.months) * kMicrosPerAverageMonth +
                      static_cast<long double>(v.days) * kMicrosPerDay + static_cast<long double>(v.micros);
  return exact < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
}

bool AllDigits(std::string_view text) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Kafka Connect's integer schema type for a source integer column, as Debezium's connectors
// choose it: PostgreSQL smallint int16, integer int32, bigint int64; MySQL/MariaDB tinyint and
// smallint int16, mediumint and int int32, bigint int64, and an unsigned type one size up
// (tinyint unsigned int16, smallint unsigned int32, int unsigned int64). Without the column
// (no catalog schema known) every integer is int64, which holds every value.
std::string_view ConnectIntegerType(const model::Column* column) {
  if (column == nullptr) return "int64";
  // The type name's leading word, lower-cased (ASCII: catalog type names are). It runs for
  // each integer of each record rendered with schemas, so it allocates nothing; a word longer
  // than any integer type name is none of them.
  char buffer[12];
  size_t length = 0;
  for (char c : column->source_type) {
    const bool lower = c >= 'a' && c <= 'z';
    const bool upper = c >= 'A' && c <= 'Z';
    if (!lower && !upper && !(c >= '0' && c <= '9')) break;
    if (length == sizeof buffer) return "int64";
    buffer[length++] = upper ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view word(buffer, length);
  auto is_unsigned = [column] {
    return column->source_type.find("unsigned") != std::string::npos ||
           column->source_type.find("UNSIGNED") != std::string::npos;
  };
  if (word == "tinyint") return "int16";
  if (word == "smallint" || word == "int2" || word == "smallserial" || word == "serial2") {
    return is_unsigned() ? "int32" : "int16";
  }
  if (word == "mediumint") return "int32";
  if (word == "int" || word == "integer" || word == "int4" || word == "serial" || word == "serial4") {
    return is_unsigned() ? "int64" : "int32";
  }
  return "int64";
}

void WriteDebeziumValueImpl(JsonWriter& writer, const model::Value& value,
                            const RendererOptions& options) {
  struct Visitor {
    const RendererOptions& options;
    JsonWriter& writer;
    void operator()(const model::NullValue&) { writer.Null(); }
    void operator()(bool v) { writer.Bool(v); }
    void operator()(int64_t v) { writer.Int(v); }
    void operator()(uint64_t v) { writer.Uint(v); }
    void operator()(float v) {
      if (std::isfinite(v)) {
        writer.Float(v);
      } else {
        writer.String(std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
      }
    }
    void operator()(double v) {
      if (std::isfinite(v)) {
        writer.Double(v);
      } else {
        writer.String(std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
      }
    }
    void operator()(const model::DecimalValue& v) {
      switch (options.decimal_handling) {
        case DecimalHandling::kString:
          writer.String(v.text);
          return;
        case DecimalHandling::kDouble:
          if (v.IsSpecial()) {
            writer.String(v.text);
          } else {
            writer.Double(std::strtod(v.text.c_str(), nullptr));
          }
          return;
        case DecimalHandling::kPrecise:
          if (v.IsSpecial() || !model::DecimalValue::IsWellFormed(v.text)) {
            writer.Null();  // not representable as Connect Decimal (Debezium does the same)
          } else {
            int scale = 0;
            writer.String(Base64Encode(UnscaledTwosComplement(v.text, scale)));
          }
          return;
      }
    }
    void operator()(const std::string& v) { writer.String(v); }
    void operator()(const model::BytesValue& v) { writer.String(Base64Encode(v.data)); }
    void operator()(const model::DateValue& v) {
      switch (v.kind) {
        case model::TemporalKind::kFinite: writer.Int(v.days); return;
        case model::TemporalKind::kPositiveInfinity: writer.Int(std::numeric_limits<int32_t>::max()); return;
        case model::TemporalKind::kNegativeInfinity: writer.Int(std::numeric_limits<int32_t>::min()); return;
        case model::TemporalKind::kZero: writer.Null(); return;
      }
    }
    void operator()(const model::TimeValue& v) { writer.Int(v.micros); }
    void operator()(const model::TimeTzValue& v) { writer.String(ZonedTime(v)); }
    void operator()(const model::TimestampValue& v) {
      switch (v.kind) {
        case model::TemporalKind::kFinite: writer.Int(v.micros); return;
        case model::TemporalKind::kPositiveInfinity: writer.Int(std::numeric_limits<int64_t>::max()); return;
        case model::TemporalKind::kNegativeInfinity: writer.Int(std::numeric_limits<int64_t>::min()); return;
        case model::TemporalKind::kZero: writer.Null(); return;
      }
    }
    void operator()(const model::TimestampTzValue& v) {
      if (v.kind == model::TemporalKind::kZero) {
        writer.Null();
      } else {
        writer.String(ZonedTimestamp(v));
      }
    }
    void operator()(const model::IntervalValue& v) { writer.Int(MicroDuration(v)); }
    void operator()(const model::UuidValue& v) { writer.String(v.ToString()); }
    void operator()(const model::JsonValue& v) { writer.String(v.text); }
    void operator()(const model::EnumValue& v) { writer.String(v.label); }
    void operator()(const model::BitsValue& v) {
      if (v.bits.size() == 1) {
        writer.Bool(v.bits == "1");
      } else {
        writer.String(Base64Encode(BitsLittleEndian(v.bits)));
      }
    }
    void operator()(const model::ArrayValue& v) {
      writer.BeginArray();
      for (const model::Value& element : v.elements) WriteDebeziumValueImpl(writer, element, options);
      writer.EndArray();
    }
    void operator()(const model::TypedTextValue& v) { writer.String(v.text); }
    void operator()(const model::UnavailableValue&) { writer.String(kDebeziumUnavailable); }
  };
  std::visit(Visitor{options, writer}, value.storage());
}


class DebeziumRenderer final : public Renderer {
 public:
  DebeziumRenderer(bool include_schema, RendererOptions options)
      : include_schema_(include_schema), options_(options) {}
  using Renderer::Render;
  std::string_view name() const override { return include_schema_ ? "debezium-schema" : "debezium"; }

  // A key struct as JsonConverter writes it (see RenderDebeziumKey in format/debezium_key.h).
  std::string RenderKey(const model::Row& fields, std::string_view schema_name,
                        int schema_version, const model::TableSchema* table_schema) const {
    JsonWriter writer;
    if (include_schema_) {
      writer.BeginObject();
      writer.Key("schema");
      BeginStruct(writer);
      for (const model::Field& field : fields) {
        const model::Value* sample =
            field.value.is_null() || field.value.is_unavailable() ? nullptr : &field.value;
        WriteValueSchema(writer, sample, false, field.name,
                         table_schema ? table_schema->FindColumn(field.name) : nullptr);
      }
      EndStruct(writer, false, schema_name, schema_version, "");
      writer.Key("payload");
    }
    writer.BeginObject();
    for (const model::Field& field : fields) {
      writer.Key(field.name);
      WriteValue(writer, field.value);
    }
    writer.EndObject();
    if (include_schema_) writer.EndObject();
    return writer.Take();
  }

  std::string Render(const model::ChangeEvent& event, ViewType view,
                     const RecordContext& context) const override {
    std::string out;
    RenderTo(event, view, context, &out);
    return out;
  }

  void RenderTo(const model::ChangeEvent& event, ViewType view, const RecordContext& context,
                std::string* out) const override {
    switch (event.op) {
      case model::Operation::kSchemaChange: *out = RenderSchemaChange(event); return;
      case model::Operation::kTransactionBegin:
      case model::Operation::kTransactionEnd: *out = RenderTransaction(event); return;
      case model::Operation::kHeartbeat: *out = RenderHeartbeat(event); return;
      default: break;
    }
    Images images(event, view);
    JsonWriter writer(std::move(*out));  // emptied; its capacity is reused
    if (include_schema_) {
      writer.BeginObject();
      writer.Key("schema");
      WriteEnvelopeSchema(writer, event, images, context.table_schema);
      writer.Key("payload");
    }
    writer.BeginObject();
    if (event.op != model::Operation::kMessage) {
      writer.Key("before");
      WriteImage(writer, images.before());
      writer.Key("after");
      WriteImage(writer, images.after());
    }
    writer.Key("source");
    WriteSource(writer, event);
    if (event.op != model::Operation::kMessage) {
      writer.Key("transaction");
      if (event.transaction_order) {
        WriteTransactionBlock(writer, event);
      } else {
        writer.Null();
      }
    }
    writer.Member("op", model::OperationCode(event.op));
    writer.MemberInt("ts_ms", FloorDiv(event.capture_time_ns, 1000000));
    writer.MemberInt("ts_us", FloorDiv(event.capture_time_ns, 1000));
    writer.MemberInt("ts_ns", event.capture_time_ns);
    if (event.message) {
      writer.Key("message");
      writer.BeginObject();
      writer.Member("prefix", event.message->prefix);
      writer.Member("content", Base64Encode(event.message->content));
      writer.EndObject();
    }
    writer.EndObject();
    if (include_schema_) writer.EndObject();
    *out = writer.Take();
  }

 private:
  // --- schema change, transaction and heartbeat records ---

  // Wraps `payload` as {"schema":..,"payload":..} when the schema part is on.
  std::string Wrap(const std::string& schema, const std::string& payload) const {
    if (!include_schema_) return payload;
    JsonWriter writer;
    writer.BeginObject();
    writer.Key("schema");
    writer.RawJson(schema);
    writer.Key("payload");
    writer.RawJson(payload);
    writer.EndObject();
    return writer.Take();
  }

  static void OptionalInt(JsonWriter& writer, std::string_view name, const std::optional<int32_t>& v) {
    writer.Key(name);
    if (v) {
      writer.Int(*v);
    } else {
      writer.Null();
    }
  }

  // java.sql.Types of a column, from its model type and source type name.
  static int JdbcType(const model::Column& column, bool postgres) {
    std::string type;
    for (char c : column.source_type) type.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    switch (column.type) {
      case ValueType::kBool: return 16;  // BOOLEAN
      case ValueType::kInt64:
      case ValueType::kUint64:
        if (type.rfind("tinyint", 0) == 0) return -6;  // TINYINT
        if (type.rfind("smallint", 0) == 0 || type == "int2") return 5;
        if (type.rfind("int", 0) == 0 || type.rfind("mediumint", 0) == 0 || type == "integer" ||
            type == "int4" || type == "serial") {
          return type.rfind("int8", 0) == 0 ? -5 : 4;
        }
        if (type.rfind("year", 0) == 0) return 91;  // DATE, as Debezium reports YEAR
        return -5;  // BIGINT
      case ValueType::kFloat32: return 7;   // REAL
      case ValueType::kFloat64: return 8;   // DOUBLE
      case ValueType::kDecimal: return postgres ? 2 : 3;  // NUMERIC / DECIMAL
      case ValueType::kText:
        if (type.rfind("char", 0) == 0 || type.rfind("bpchar", 0) == 0) return 1;  // CHAR
        if (type.find("text") != std::string::npos) return postgres ? 12 : -1;   // LONGVARCHAR
        return 12;  // VARCHAR
      case ValueType::kBytes:
        if (type.find("blob") != std::string::npos) return 2004;  // BLOB
        if (type.rfind("binary", 0) == 0) return -2;  // BINARY
        return -3;  // VARBINARY (bytea)
      case ValueType::kDate: return 91;
      case ValueType::kTime: return 92;
      case ValueType::kTimeTz: return 2013;
      case ValueType::kTimestamp: return 93;
      case ValueType::kTimestampTz: return postgres ? 2014 : 93;
      case ValueType::kEnum: return postgres ? 12 : 1;
      case ValueType::kBits: return -7;  // BIT
      case ValueType::kArray: return 2003;
      default: return 1111;  // OTHER: interval, uuid, json, typed text
    }
  }

  // Debezium's TableId.toDoubleQuotedString: "db"."table" (MySQL), "db"."schema"."table".
  static std::string QuotedTableId(const model::TableId& table) {
    std::string out;
    for (const std::string* part : {&table.database, &table.schema, &table.name}) {
      if (part->empty()) continue;
      if (!out.empty()) out.push_back('.');
      out += "\"" + *part + "\"";
    }
    return out;
  }

  static std::string_view TableChangeType(model::SchemaChangeKind kind) {
    switch (kind) {
      case model::SchemaChangeKind::kCreateTable: return "CREATE";
      case model::SchemaChangeKind::kDropTable: return "DROP";
      case model::SchemaChangeKind::kAlterTable:
      case model::SchemaChangeKind::kRenameTable:
      case model::SchemaChangeKind::kAddColumn:
      case model::SchemaChangeKind::kDropColumn:
      case model::SchemaChangeKind::kRenameColumn:
      case model::SchemaChangeKind::kColumnTypeChange: return "ALTER";
      default: return "";  // database-level and other statements change no table
    }
  }

  std::string RenderSchemaChange(const model::ChangeEvent& event) const {
    const model::SchemaChange empty;
    const model::SchemaChange& change = event.schema_change ? *event.schema_change : empty;
    bool postgres = event.position.postgres() != nullptr;
    JsonWriter writer;
    writer.BeginObject();
    writer.Key("source");
    WriteSource(writer, event);
    writer.MemberInt("ts_ms", FloorDiv(event.capture_time_ns, 1000000));
    writer.Member("databaseName", event.table.database);
    writer.Key("schemaName");
    if (event.table.schema.empty()) {
      writer.Null();
    } else {
      writer.String(event.table.schema);
    }
    writer.Member("ddl", change.ddl);
    writer.Key("tableChanges");
    writer.BeginArray();
    std::string_view type = TableChangeType(change.kind);
    if (!type.empty() && !event.table.name.empty()) {
      writer.BeginObject();
      writer.Member("type", type);
      writer.Member("id", QuotedTableId(event.table));
      writer.Key("table");
      if (!change.table_schema) {
        writer.Null();
      } else {
        const model::TableSchema& schema = *change.table_schema;
        writer.BeginObject();
        writer.MemberNull("defaultCharsetName");
        writer.Key("primaryKeyColumnNames");
        writer.BeginArray();
        for (const std::string& name : schema.primary_key) writer.String(name);
        writer.EndArray();
        writer.Key("columns");
        writer.BeginArray();
        int position = 0;
        for (const model::Column& column : schema.columns) {
          writer.BeginObject();
          writer.Member("name", column.name);
          writer.MemberInt("jdbcType", JdbcType(column, postgres));
          writer.MemberNull("nativeType");
          std::string type_name;
          for (char c : column.source_type) {
            type_name.push_back(postgres ? c : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
          }
          writer.Member("typeName", type_name);
          writer.Member("typeExpression", type_name);
          writer.MemberNull("charsetName");
          OptionalInt(writer, "length", column.length ? column.length : column.precision);
          OptionalInt(writer, "scale", column.scale);
          writer.MemberInt("position", ++position);
          writer.Key("optional");
          writer.Bool(column.nullable);
          writer.Key("autoIncremented");
          writer.Bool(false);
          writer.Key("generated");
          writer.Bool(false);
          writer.MemberNull("comment");
          writer.Key("hasDefaultValue");
          writer.Bool(false);
          writer.Key("enumValues");
          writer.BeginArray();
          writer.EndArray();
          writer.EndObject();
        }
        writer.EndArray();
        writer.Key("attributes");
        writer.BeginArray();
        writer.EndArray();
        writer.MemberNull("comment");
        writer.EndObject();
      }
      writer.EndObject();
    }
    writer.EndArray();
    writer.EndObject();
    if (!include_schema_) return writer.Take();
    return Wrap(SchemaChangeSchema(postgres), writer.Take());
  }

  static std::string SchemaChangeSchema(bool postgres) {
    JsonWriter writer;
    auto simple = [&](std::string_view type, bool optional, std::string_view name) {
      SimpleField(writer, type, optional, name);
    };
    auto struct_end = [&](bool optional, std::string_view name, std::string_view field) {
      EndStruct(writer, optional, name, 1, field);
    };
    auto struct_begin = [&]() { BeginStruct(writer); };
    auto string_array = [&](std::string_view field) {
      BeginArrayField(writer);
      SimpleField(writer, "string", false, "");
      EndArrayField(writer, true, field);
    };
    struct_begin();
    WriteSourceSchema(writer, postgres);
    simple("int64", false, "ts_ms");
    simple("string", true, "databaseName");
    simple("string", true, "schemaName");
    simple("string", true, "ddl");
    BeginArrayField(writer);
    struct_begin();
    simple("string", false, "type");
    simple("string", false, "id");
    struct_begin();
    simple("string", true, "defaultCharsetName");
    string_array("primaryKeyColumnNames");
    BeginArrayField(writer);
    struct_begin();
    simple("string", false, "name");
    simple("int32", false, "jdbcType");
    simple("int32", true, "nativeType");
    simple("string", false, "typeName");
    simple("string", true, "typeExpression");
    simple("string", true, "charsetName");
    simple("int32", true, "length");
    simple("int32", true, "scale");
    simple("int32", false, "position");
    simple("boolean", true, "optional");
    simple("boolean", true, "autoIncremented");
    simple("boolean", true, "generated");
    simple("string", true, "comment");
    simple("boolean", true, "hasDefaultValue");
    string_array("enumValues");
    struct_end(false, "io.debezium.connector.schema.Column", "");
    EndArrayField(writer, false, "columns");
    string_array("attributes");
    simple("string", true, "comment");
    struct_end(true, "io.debezium.connector.schema.Table", "table");
    struct_end(false, "io.debezium.connector.schema.Change", "");
    EndArrayField(writer, false, "tableChanges");
    struct_end(false, postgres ? "io.debezium.connector.postgresql.SchemaChangeValue"
                               : "io.debezium.connector.mysql.SchemaChangeValue", "");
    return writer.Take();
  }

  // Debezium's transaction topic record (TransactionMetadataValue).
  std::string RenderTransaction(const model::ChangeEvent& event) const {
    bool end = event.op == model::Operation::kTransactionEnd;
    JsonWriter writer;
    writer.BeginObject();
    writer.Member("status", end ? "END" : "BEGIN");
    writer.Member("id", event.transaction_id);
    if (end && event.transaction_summary) {
      writer.Key("event_count");
      writer.Uint(event.transaction_summary->event_count);
      writer.Key("data_collections");
      writer.BeginArray();
      for (const auto& collection : event.transaction_summary->data_collections) {
        writer.BeginObject();
        writer.Member("data_collection", collection.name);
        writer.Key("event_count");
        writer.Uint(collection.event_count);
        writer.EndObject();
      }
      writer.EndArray();
    } else {
      writer.MemberNull("event_count");
      writer.MemberNull("data_collections");
    }
    writer.MemberInt("ts_ms", FloorDiv(event.commit_time_ns, 1000000));
    writer.EndObject();
    if (!include_schema_) return writer.Take();
    JsonWriter schema;
    BeginStruct(schema);
    SimpleField(schema, "string", false, "status");
    SimpleField(schema, "string", false, "id");
    SimpleField(schema, "int64", true, "event_count");
    BeginArrayField(schema);
    BeginStruct(schema);
    SimpleField(schema, "string", false, "data_collection");
    SimpleField(schema, "int64", false, "event_count");
    schema.EndArray();  // the items' struct has no name
    schema.Key("optional");
    schema.Bool(false);
    schema.EndObject();
    EndArrayField(schema, true, "data_collections");
    SimpleField(schema, "int64", false, "ts_ms");
    EndStruct(schema, false, "io.debezium.connector.common.TransactionMetadataValue", 1, "");
    return Wrap(schema.Take(), writer.Take());
  }

  // Debezium's heartbeat value {"ts_ms":..}, plus eddy's `source` (the position the stream has
  // reached).
  std::string RenderHeartbeat(const model::ChangeEvent& event) const {
    JsonWriter writer;
    writer.BeginObject();
    writer.MemberInt("ts_ms", FloorDiv(event.capture_time_ns, 1000000));
    writer.Key("source");
    WriteSource(writer, event);
    writer.EndObject();
    if (!include_schema_) return writer.Take();
    JsonWriter schema;
    BeginStruct(schema);
    SimpleField(schema, "int64", false, "ts_ms");
    WriteSourceSchema(schema, event.position.postgres() != nullptr);
    EndStruct(schema, false, "io.debezium.connector.common.Heartbeat", 1, "");
    return Wrap(schema.Take(), writer.Take());
  }

  void WriteImage(JsonWriter& writer, const model::Row* row) const {
    if (!row) {
      writer.Null();
      return;
    }
    writer.BeginObject();
    for (const model::Field& field : *row) {
      writer.Key(field.name);
      WriteValue(writer, field.value);
    }
    writer.EndObject();
  }

  void WriteValue(JsonWriter& writer, const model::Value& value) const {
    WriteDebeziumValue(writer, value, options_);
  }

  void WriteSource(JsonWriter& writer, const model::ChangeEvent& event) const {
    writer.BeginObject();
    writer.Member("version", kSourceVersion);
    writer.Member("connector", model::ConnectorName(event.source.connector));
    writer.Member("name", event.source.server_name);
    writer.MemberInt("ts_ms", FloorDiv(event.commit_time_ns, 1000000));
    writer.MemberInt("ts_us", FloorDiv(event.commit_time_ns, 1000));
    writer.MemberInt("ts_ns", event.commit_time_ns);
    writer.Member("snapshot", SnapshotText(event.source.snapshot));
    writer.Member("db", event.table.database);
    if (const PostgresPosition* pg = event.position.postgres()) {
      writer.Member("sequence", "[\"" + std::to_string(pg->commit_end_lsn.value()) + "\",\"" +
                                    std::to_string(pg->change_lsn.value()) + "\"]");
      writer.Member("schema", event.table.schema);
      writer.Member("table", event.table.name);
      writer.Key("txId");
      if (AllDigits(event.transaction_id)) {
        writer.Int(std::strtoll(event.transaction_id.c_str(), nullptr, 10));
      } else {
        writer.Null();
      }
      writer.Key("lsn");
      writer.Uint(pg->change_lsn.value());
      writer.MemberNull("xmin");
    } else {
      writer.MemberNull("sequence");
      writer.Member("table", event.table.name);
      const MysqlPosition* my = event.position.mysql();
      writer.Key("server_id");
      writer.Uint(my ? my->server_id : 0);
      writer.Key("gtid");
      if (my && !my->gtid.empty()) {
        writer.String(my->gtid.text);
      } else {
        writer.Null();
      }
      writer.Member("file", my ? std::string_view(my->end.file) : std::string_view());
      writer.Key("pos");
      writer.Uint(my ? my->end.offset : 0);
      writer.Key("row");
      writer.Uint(event.source.mysql_row);
      writer.Key("thread");
      writer.Uint(event.source.mysql_thread_id);
      writer.Key("query");
      if (event.source.query.empty()) {
        writer.Null();
      } else {
        writer.String(event.source.query);
      }
    }
    writer.EndObject();
  }

  static std::string_view SnapshotText(model::SnapshotMarker marker) {
    switch (marker) {
      case model::SnapshotMarker::kFalse: return "false";
      case model::SnapshotMarker::kTrue: return "true";
      case model::SnapshotMarker::kFirst: return "first";
      case model::SnapshotMarker::kLast: return "last";
      case model::SnapshotMarker::kIncremental: return "incremental";
    }
    return "false";
  }

  // --- schema part (Kafka Connect JsonConverter with schemas.enable=true) ---

  static void FieldHeader(JsonWriter& writer, std::string_view type, bool optional,
                          std::string_view field) {
    writer.Member("type", type);
    writer.Key("optional");
    writer.Bool(optional);
    if (!field.empty()) writer.Member("field", field);
  }

  static void Named(JsonWriter& writer, std::string_view name) {
    writer.Member("name", name);
    writer.MemberInt("version", 1);
  }

  // A struct schema is BeginStruct, its field schemas, then EndStruct with the struct's own
  // members: {"type":"struct","fields":[...],"optional":..,"name":..[,"version":..][,"field":..]}
  // (version left out when 0, field when empty).
  static void BeginStruct(JsonWriter& writer) {
    writer.BeginObject();
    writer.Member("type", "struct");
    writer.Key("fields");
    writer.BeginArray();
  }
  static void EndStruct(JsonWriter& writer, bool optional, std::string_view name, int version,
                        std::string_view field) {
    writer.EndArray();
    writer.Key("optional");
    writer.Bool(optional);
    writer.Member("name", name);
    if (version > 0) writer.MemberInt("version", version);
    if (!field.empty()) writer.Member("field", field);
    writer.EndObject();
  }
  // An array field's schema is BeginArrayField, the items' schema, then EndArrayField:
  // {"type":"array","items":{...},"optional":..,"field":..}.
  static void BeginArrayField(JsonWriter& writer) {
    writer.BeginObject();
    writer.Member("type", "array");
    writer.Key("items");
  }
  static void EndArrayField(JsonWriter& writer, bool optional, std::string_view field) {
    writer.Key("optional");
    writer.Bool(optional);
    writer.Member("field", field);
    writer.EndObject();
  }

  // Schema of one value; `sample` is a non-null value of the column when one is known, and
  // `column` the column in the source catalog when the caller knows the table's schema.
  void WriteValueSchema(JsonWriter& writer, const model::Value* sample, bool optional,
                        std::string_view field, const model::Column* column = nullptr) const {
    writer.BeginObject();
    ValueType type = sample ? sample->type() : ValueType::kText;
    switch (type) {
      case ValueType::kBool: FieldHeader(writer, "boolean", optional, field); break;
      case ValueType::kInt64:
      case ValueType::kUint64: FieldHeader(writer, ConnectIntegerType(column), optional, field); break;
      case ValueType::kFloat32: FieldHeader(writer, "float", optional, field); break;
      case ValueType::kFloat64: FieldHeader(writer, "double", optional, field); break;
      case ValueType::kDecimal:
        if (options_.decimal_handling == DecimalHandling::kPrecise) {
          FieldHeader(writer, "bytes", optional, field);
          Named(writer, "org.apache.kafka.connect.data.Decimal");
          writer.Key("parameters");
          writer.BeginObject();
          writer.Member("scale", std::to_string(DecimalScale(sample->Get<model::DecimalValue>().text)));
          writer.EndObject();
        } else {
          FieldHeader(writer, options_.decimal_handling == DecimalHandling::kString ? "string" : "double",
                      optional, field);
        }
        break;
      case ValueType::kBytes: FieldHeader(writer, "bytes", optional, field); break;
      case ValueType::kDate:
        FieldHeader(writer, "int32", optional, field);
        Named(writer, "io.debezium.time.Date");
        break;
      case ValueType::kTime:
        FieldHeader(writer, "int64", optional, field);
        Named(writer, "io.debezium.time.MicroTime");
        break;
      case ValueType::kTimeTz:
        FieldHeader(writer, "string", optional, field);
        Named(writer, "io.debezium.time.ZonedTime");
        break;
      case ValueType::kTimestamp:
        FieldHeader(writer, "int64", optional, field);
        Named(writer, "io.debezium.time.MicroTimestamp");
        break;
      case ValueType::kTimestampTz:
        FieldHeader(writer, "string", optional, field);
        Named(writer, "io.debezium.time.ZonedTimestamp");
        break;
      case ValueType::kInterval:
        FieldHeader(writer, "int64", optional, field);
        Named(writer, "io.debezium.time.MicroDuration");
        break;
      case ValueType::kUuid:
        FieldHeader(writer, "string", optional, field);
        Named(writer, "io.debezium.data.Uuid");
        break;
      case ValueType::kJson:
        FieldHeader(writer, "string", optional, field);
        Named(writer, "io.debezium.data.Json");
        break;
      case ValueType::kEnum:
        FieldHeader(writer, "string", optional, field);
        Named(writer, "io.debezium.data.Enum");
        break;
      case ValueType::kBits: {
        const std::string& bits = sample->Get<model::BitsValue>().bits;
        if (bits.size() == 1) {
          FieldHeader(writer, "boolean", optional, field);
        } else {
          FieldHeader(writer, "bytes", optional, field);
          Named(writer, "io.debezium.data.Bits");
          writer.Key("parameters");
          writer.BeginObject();
          writer.Member("length", std::to_string(bits.size()));
          writer.EndObject();
        }
        break;
      }
      case ValueType::kArray: {
        FieldHeader(writer, "array", optional, field);
        const model::Value* element = nullptr;
        for (const model::Value& candidate : sample->Get<model::ArrayValue>().elements) {
          if (!candidate.is_null()) {
            element = &candidate;
            break;
          }
        }
        writer.Key("items");
        WriteValueSchema(writer, element, true, "");
        break;
      }
      default: FieldHeader(writer, "string", optional, field); break;
    }
    writer.EndObject();
  }

  void WriteRowSchema(JsonWriter& writer, const model::ChangeEvent& event, const Images& images,
                      std::string_view field, const std::string& prefix,
                      const model::TableSchema* table_schema) const {
    // Columns in image order; a column's type comes from its first non-null value in either
    // image (without the catalog schema, an always-null column is declared as string).
    std::vector<std::string> names;
    std::map<std::string, const model::Value*> samples;
    for (const model::Row* image : {images.after(), images.before()}) {
      if (image == nullptr) continue;
      for (const model::Field& f : *image) {
        auto [it, inserted] = samples.emplace(f.name, nullptr);
        if (inserted) names.push_back(f.name);
        if (it->second == nullptr && !f.value.is_null() && !f.value.is_unavailable()) it->second = &f.value;
      }
    }
    BeginStruct(writer);
    for (const std::string& column : names) {
      bool is_key = model::FindField(event.key, column) != nullptr;
      WriteValueSchema(writer, samples[column], !is_key, column,
                       table_schema ? table_schema->FindColumn(column) : nullptr);
    }
    EndStruct(writer, true, prefix + ".Value", 0, field);
  }

  static void SimpleField(JsonWriter& writer, std::string_view type, bool optional,
                          std::string_view name) {
    writer.BeginObject();
    FieldHeader(writer, type, optional, name);
    writer.EndObject();
  }

  // The schema of the `source` struct (field "source").
  static void WriteSourceSchema(JsonWriter& writer, bool postgres) {
    BeginStruct(writer);
    auto simple = [&](std::string_view type, bool optional, std::string_view name) {
      SimpleField(writer, type, optional, name);
    };
    simple("string", false, "version");
    simple("string", false, "connector");
    simple("string", false, "name");
    simple("int64", false, "ts_ms");
    simple("int64", true, "ts_us");
    simple("int64", true, "ts_ns");
    writer.BeginObject();
    FieldHeader(writer, "string", true, "snapshot");
    writer.Member("name", "io.debezium.data.Enum");
    writer.MemberInt("version", 1);
    writer.Key("parameters");
    writer.BeginObject();
    writer.Member("allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental");
    writer.EndObject();
    writer.Member("default", "false");
    writer.EndObject();
    simple("string", false, "db");
    simple("string", true, "sequence");
    if (postgres) {
      simple("string", false, "schema");
      simple("string", false, "table");
      simple("int64", true, "txId");
      simple("int64", true, "lsn");
      simple("int64", true, "xmin");
    } else {
      simple("string", true, "table");
      simple("int64", false, "server_id");
      simple("string", true, "gtid");
      simple("string", false, "file");
      simple("int64", false, "pos");
      simple("int32", false, "row");
      simple("int64", true, "thread");
      simple("string", true, "query");
    }
    EndStruct(
        writer, false,
        postgres ? "io.debezium.connector.postgresql.Source" : "io.debezium.connector.mysql.Source",
        0, "source");
  }

  void WriteEnvelopeSchema(JsonWriter& writer, const model::ChangeEvent& event,
                           const Images& images, const model::TableSchema* table_schema) const {
    std::string prefix = event.source.server_name.empty() ? std::string("eddy") : event.source.server_name;
    if (!event.table.schema.empty()) prefix += "." + event.table.schema;
    else prefix += "." + event.table.database;
    prefix += "." + event.table.name;
    bool postgres = event.position.postgres() != nullptr;

    BeginStruct(writer);
    if (event.op != model::Operation::kMessage) {
      WriteRowSchema(writer, event, images, "before", prefix, table_schema);
      WriteRowSchema(writer, event, images, "after", prefix, table_schema);
    }
    WriteSourceSchema(writer, postgres);
    auto simple = [&](std::string_view type, bool optional, std::string_view name) {
      SimpleField(writer, type, optional, name);
    };
    if (event.op != model::Operation::kMessage) {
      BeginStruct(writer);
      simple("string", false, "id");
      simple("int64", false, "total_order");
      simple("int64", false, "data_collection_order");
      EndStruct(writer, true, "event.block", 1, "transaction");
    }
    simple("string", false, "op");
    simple("int64", true, "ts_ms");
    simple("int64", true, "ts_us");
    simple("int64", true, "ts_ns");
    if (event.message) {
      BeginStruct(writer);
      simple("string", false, "prefix");
      simple("bytes", true, "content");
      EndStruct(writer, true, "io.debezium.connector.postgresql.Message", 0, "message");
    }
    EndStruct(writer, false, prefix + ".Envelope", 2, "");
  }

  bool include_schema_;
  RendererOptions options_;
};

}  // namespace

std::unique_ptr<Renderer> MakeDebeziumRenderer(bool include_schema, const RendererOptions& options) {
  return std::make_unique<DebeziumRenderer>(include_schema, options);
}

void WriteDebeziumValue(JsonWriter& writer, const model::Value& value,
                        const RendererOptions& options) {
  WriteDebeziumValueImpl(writer, value, options);
}

std::string_view DebeziumIntegerType(const model::Column* column) {
  return ConnectIntegerType(column);
}

std::string RenderDebeziumKey(const model::Row& fields, std::string_view schema_name,
                              bool include_schema, int schema_version,
                              const RendererOptions& options,
                              const model::TableSchema* table_schema) {
  return DebeziumRenderer(include_schema, options)
      .RenderKey(fields, schema_name, schema_version, table_schema);
}

}  // namespace eddy::format

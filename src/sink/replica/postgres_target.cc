#include "sink/replica/postgres_target.h"

#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <string_view>

#include "consume/sink_settings.h"
#include "sink/replica/replica_destination.h"
#include "sink/replica/source_type.h"
#include "sink/replica/sql_text.h"

namespace eddy::sink::replica {
namespace {

using model::ConnectorKind;
using model::ValueType;

// PostgreSQL's built-in type names (pg_catalog typname) that exist in every target database:
// a source column of one of them keeps its type exactly.
const std::set<std::string, std::less<>>& BuiltinTypeNames() {
  static const std::set<std::string, std::less<>> names = {"bool",
                                                           "bytea",
                                                           "char",
                                                           "name",
                                                           "int8",
                                                           "int2",
                                                           "int4",
                                                           "text",
                                                           "oid",
                                                           "json",
                                                           "xml",
                                                           "point",
                                                           "lseg",
                                                           "path",
                                                           "box",
                                                           "polygon",
                                                           "line",
                                                           "cidr",
                                                           "float4",
                                                           "float8",
                                                           "circle",
                                                           "macaddr8",
                                                           "money",
                                                           "macaddr",
                                                           "inet",
                                                           "bpchar",
                                                           "varchar",
                                                           "date",
                                                           "time",
                                                           "timestamp",
                                                           "timestamptz",
                                                           "interval",
                                                           "timetz",
                                                           "bit",
                                                           "varbit",
                                                           "numeric",
                                                           "uuid",
                                                           "pg_lsn",
                                                           "tsvector",
                                                           "tsquery",
                                                           "jsonb",
                                                           "jsonpath",
                                                           "int4range",
                                                           "numrange",
                                                           "tsrange",
                                                           "tstzrange",
                                                           "daterange",
                                                           "int8range",
                                                           "int4multirange",
                                                           "nummultirange",
                                                           "tsmultirange",
                                                           "tstzmultirange",
                                                           "datemultirange",
                                                           "int8multirange",
                                                           "txid_snapshot",
                                                           "pg_snapshot",
                                                           "regclass",
                                                           "regtype",
                                                           "regproc"};
  return names;
}

std::string Modifier(const model::Column& column, std::string_view base) {
  std::string type(base);
  if (base == "varchar" || base == "bpchar" || base == "bit" || base == "varbit") {
    if (column.length) type += "(" + std::to_string(*column.length) + ")";
  } else if (base == "numeric") {
    if (column.precision) {
      type += "(" + std::to_string(*column.precision);
      if (column.scale) type += "," + std::to_string(*column.scale);
      type += ")";
    }
  } else if (base == "time" || base == "timetz" || base == "timestamp" || base == "timestamptz" ||
             base == "interval") {
    if (column.precision) type += "(" + std::to_string(*column.precision) + ")";
  }
  return type;
}

Result<std::string> MapPostgresType(const model::Column& column) {
  std::string_view name = column.source_type;
  if (column.type == ValueType::kArray) {
    if (name.starts_with("_") && BuiltinTypeNames().contains(name.substr(1))) {
      return std::string(name.substr(1)) + "[]";
    }
    return std::string("text[]");
  }
  if (column.type == ValueType::kEnum) return std::string("text");  // labels: see the docs
  if (BuiltinTypeNames().contains(name)) return Modifier(column, name);
  // Domains arrive as their base type; anything else (user enums, composites, extension
  // types) has no guaranteed twin in the target: its text form, kept exactly.
  return std::string("text");
}

Result<std::string> MapMysqlType(const model::Column& column) {
  SourceTypeName t = SplitSourceType(column.source_type);
  const std::string& b = t.base;
  if (b == "tinyint") return std::string("int2");
  if (b == "smallint") return std::string(t.is_unsigned ? "int4" : "int2");
  if (b == "mediumint") return std::string("int4");
  if (b == "int" || b == "integer") return std::string(t.is_unsigned ? "int8" : "int4");
  if (b == "bigint") return std::string(t.is_unsigned ? "numeric(20,0)" : "int8");
  if (b == "year") return std::string("int2");
  if (b == "float") return std::string("float4");
  if (b == "double" || b == "real") return std::string("float8");
  if (b == "decimal" || b == "numeric") {
    int precision = t.first.value_or(column.precision.value_or(10));
    int scale = t.second.value_or(column.scale.value_or(0));
    return "numeric(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
  }
  if (b == "date") return std::string("date");
  if (b == "datetime" || b == "timestamp") {
    int fsp = t.first.value_or(column.precision.value_or(0));
    return std::string(b == "datetime" ? "timestamp(" : "timestamptz(") + std::to_string(fsp) + ")";
  }
  // MySQL TIME is a signed duration up to ±838:59:59, beyond PostgreSQL's time of day.
  if (b == "time") return std::string("interval");
  if (b == "bit") return std::string("varbit");
  if (b == "json") return std::string("json");
  if (b == "char" || b == "varchar") {
    if (column.length)
      return (b == "char" ? "bpchar(" : "varchar(") + std::to_string(*column.length) + ")";
    if (t.first) return (b == "char" ? "bpchar(" : "varchar(") + std::to_string(*t.first) + ")";
    return std::string("text");
  }
  switch (column.type) {
    case ValueType::kBytes:
      return std::string("bytea");  // binary, blobs, geometry (WKB)
    case ValueType::kText:
    case ValueType::kEnum:
    case ValueType::kTypedText:
      return std::string("text");  // *text, enum, set
    case ValueType::kInt64:
      return std::string("int8");
    case ValueType::kUint64:
      return std::string("numeric(20,0)");
    case ValueType::kFloat32:
      return std::string("float4");
    case ValueType::kFloat64:
      return std::string("float8");
    case ValueType::kDecimal:
      return std::string("numeric");
    case ValueType::kJson:
      return std::string("json");
    default:
      break;
  }
  return InvalidArgument("column '" + column.name + "' has MySQL type '" + column.source_type +
                         "', which has no PostgreSQL mapping; leave the table out of the "
                         "stream (--tables) or map it with a view");
}

// "YYYY-MM-DD" of a day count, with " BC" returned separately (PostgreSQL puts it last).
std::string DateText(int64_t days, bool* bc) {
  model::CivilDate date = model::CivilFromDays(days);
  int64_t year = date.year;
  *bc = year <= 0;
  if (*bc) year = 1 - year;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02d", static_cast<long long>(year), date.month,
                date.day);
  return buffer;
}

// "HH:MM:SS[.ffffff]" of microseconds within a day (or beyond 24 h for MySQL durations).
std::string TimeOfDayText(int64_t micros) {
  std::string out;
  AppendClock(out, micros / 1'000'000);
  int64_t fraction = micros % 1'000'000;
  if (fraction != 0) {
    char buffer[24];
    std::snprintf(buffer, sizeof buffer, ".%06lld", static_cast<long long>(fraction));
    out += buffer;
  }
  return out;
}

std::string TimestampText(int64_t micros, std::string_view zone_suffix) {
  DayAndMicros split = SplitEpochMicros(micros);
  bool bc = false;
  std::string out = DateText(split.days, &bc);
  out += ' ';
  out += TimeOfDayText(split.micros);
  out += zone_suffix;
  if (bc) out += " BC";
  return out;
}

std::string FloatText(double value, bool is_float32) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[64];
  auto result = is_float32
                    ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(value))
                    : std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string HexBytes(std::string_view data) {
  std::string out = "\\x";
  out.reserve(2 + data.size() * 2);
  AppendHex(out, data);
  return out;
}

Result<TextValue> RenderScalar(const model::Value& value, const model::Column& column,
                               ConnectorKind source, bool in_array) {
  using model::TemporalKind;
  switch (value.type()) {
    case ValueType::kNull:
      return TextValue();
    case ValueType::kBool:
      return TextValue(value.Get<bool>() ? "t" : "f");
    case ValueType::kInt64:
      return TextValue(std::to_string(value.Get<int64_t>()));
    case ValueType::kUint64:
      return TextValue(std::to_string(value.Get<uint64_t>()));
    case ValueType::kFloat32:
      return TextValue(FloatText(value.Get<float>(), true));
    case ValueType::kFloat64:
      return TextValue(FloatText(value.Get<double>(), false));
    case ValueType::kDecimal:
      return TextValue(value.Get<model::DecimalValue>().text);
    case ValueType::kText: {
      const std::string& text = value.Get<std::string>();
      if (text.find('\0') != std::string::npos) {
        return InvalidArgument("column '" + column.name +
                               "' holds text with a NUL character, which PostgreSQL text "
                               "cannot store");
      }
      return TextValue(text);
    }
    case ValueType::kBytes:
      return TextValue(HexBytes(value.Get<model::BytesValue>().data));
    case ValueType::kDate: {
      const auto& date = value.Get<model::DateValue>();
      if (date.kind == TemporalKind::kPositiveInfinity) return TextValue("infinity");
      if (date.kind == TemporalKind::kNegativeInfinity) return TextValue("-infinity");
      if (date.kind == TemporalKind::kZero) return TextValue();  // MySQL zero date: NULL
      bool bc = false;
      std::string text = DateText(date.days, &bc);
      if (bc) text += " BC";
      return TextValue(text);
    }
    case ValueType::kTime: {
      int64_t micros = value.Get<model::TimeValue>().micros;
      if (source != ConnectorKind::kPostgres || micros < 0) {
        // interval text: MySQL TIME durations (may be negative or beyond 24 h).
        std::string text = micros < 0 ? "-" : "";
        text += TimeOfDayText(micros < 0 ? -micros : micros);
        return TextValue(text);
      }
      return TextValue(TimeOfDayText(micros));
    }
    case ValueType::kTimeTz: {
      const auto& time = value.Get<model::TimeTzValue>();
      std::string text = TimeOfDayText(time.micros);
      int32_t offset = time.utc_offset_seconds;
      text += offset < 0 ? '-' : '+';
      if (offset < 0) offset = -offset;
      AppendTwoDigits(text, offset / 3600);
      text += ':';
      AppendTwoDigits(text, (offset / 60) % 60);
      if (offset % 60 != 0) {
        text += ':';
        AppendTwoDigits(text, offset % 60);
      }
      return TextValue(text);
    }
    case ValueType::kTimestamp: {
      const auto& ts = value.Get<model::TimestampValue>();
      if (ts.kind == TemporalKind::kPositiveInfinity) return TextValue("infinity");
      if (ts.kind == TemporalKind::kNegativeInfinity) return TextValue("-infinity");
      if (ts.kind == TemporalKind::kZero) return TextValue();
      return TextValue(TimestampText(ts.micros, ""));
    }
    case ValueType::kTimestampTz: {
      const auto& ts = value.Get<model::TimestampTzValue>();
      if (ts.kind == TemporalKind::kPositiveInfinity) return TextValue("infinity");
      if (ts.kind == TemporalKind::kNegativeInfinity) return TextValue("-infinity");
      if (ts.kind == TemporalKind::kZero) return TextValue();
      return TextValue(TimestampText(ts.micros, "+00"));
    }
    case ValueType::kInterval: {
      const auto& interval = value.Get<model::IntervalValue>();
      return TextValue(std::to_string(interval.months) + " mons " + std::to_string(interval.days) +
                       " days " + std::to_string(interval.micros) + " microseconds");
    }
    case ValueType::kUuid:
      return TextValue(value.Get<model::UuidValue>().ToString());
    case ValueType::kJson:
      return TextValue(value.Get<model::JsonValue>().text);
    case ValueType::kEnum:
      return TextValue(value.Get<model::EnumValue>().label);
    case ValueType::kBits:
      return TextValue(value.Get<model::BitsValue>().bits);
    case ValueType::kArray: {
      // PostgreSQL's array literal with every element quoted: {"a","b",NULL,{...}}.
      auto element = [&](const model::Value& e) { return RenderScalar(e, column, source, true); };
      EDDY_ASSIGN_OR_RETURN(std::string text,
                            ArrayText(value.Get<model::ArrayValue>(), element, true));
      return TextValue(text);
    }
    case ValueType::kTypedText: {
      const auto& typed = value.Get<model::TypedTextValue>();
      // MySQL dates with a zero month or day ('2020-00-00') arrive as their text: PostgreSQL
      // has no such date, so they land as NULL like the all-zero date (docs/sinks/replica.md).
      if (source != ConnectorKind::kPostgres &&
          (typed.type_name == "date" || typed.type_name == "datetime" ||
           typed.type_name == "timestamp")) {
        return TextValue();
      }
      return TextValue(typed.text);
    }
    case ValueType::kUnavailable:
      break;
  }
  (void)in_array;
  return Internal("column '" + column.name +
                  "': an unchanged (unavailable) value reached "
                  "the renderer");
}

}  // namespace

std::string PostgresDialect::QuoteIdentifier(std::string_view name) const {
  return QuoteDoubling(name, '"');
}

std::string PostgresDialect::QuoteLiteral(std::string_view text) const {
  return QuoteDoubling(text, '\'');
}

Result<std::string> PostgresDialect::MapType(const model::Column& column,
                                             ConnectorKind source) const {
  if (source == ConnectorKind::kPostgres) return MapPostgresType(column);
  if (source == ConnectorKind::kMysql || source == ConnectorKind::kMariadb) {
    return MapMysqlType(column);
  }
  return InvalidArgument("column '" + column.name +
                         "': the source engine is unknown, so its "
                         "type '" +
                         column.source_type + "' cannot be mapped");
}

Result<TextValue> PostgresDialect::RenderValue(const model::Value& value,
                                               const model::Column& column,
                                               ConnectorKind source) const {
  return RenderScalar(value, column, source, false);
}

std::string PostgresDialect::CreateTable(const TargetTable& table,
                                         const std::vector<TargetColumn>& columns,
                                         const std::vector<std::string>& primary_key) const {
  return CreateTableStatement(*this, table, columns, primary_key, /*say_null=*/false);
}

std::string PostgresDialect::AddColumn(const TargetTable& table, const TargetColumn& column) const {
  // NOT NULL columns added later would refuse the existing rows; the source filled them with
  // its own default, which reaches the target as the rows change.
  return "ALTER TABLE " + QualifiedName(table) + " ADD COLUMN IF NOT EXISTS " +
         QuoteIdentifier(column.name) + " " + column.type;
}

std::string PostgresDialect::AlterColumnType(const TargetTable& table,
                                             const TargetColumn& column) const {
  return "ALTER TABLE " + QualifiedName(table) + " ALTER COLUMN " + QuoteIdentifier(column.name) +
         " TYPE " + column.type;
}

std::string PostgresDialect::SetNullable(const TargetTable& table,
                                         const TargetColumn& column) const {
  return "ALTER TABLE " + QualifiedName(table) + " ALTER COLUMN " + QuoteIdentifier(column.name) +
         (column.nullable ? " DROP NOT NULL" : " SET NOT NULL");
}

std::string PostgresDialect::ReplacePrimaryKey(const TargetTable& table,
                                               const std::vector<std::string>& primary_key) const {
  // The key constraint's name is whatever the table got (created here: TABLE_pkey; by hand:
  // anything), so it is looked up; the block runs as one statement.
  const std::string name = QuoteLiteral(QualifiedName(table));
  std::string sql =
      "DO $eddy_pk$ DECLARE c text; BEGIN SELECT conname INTO c FROM pg_constraint WHERE "
      "conrelid = " +
      name +
      "::regclass AND contype = 'p'; IF c IS NOT NULL THEN EXECUTE "
      "format('ALTER TABLE %s DROP CONSTRAINT %I', " +
      name + "::regclass, c); END IF;";
  if (!primary_key.empty()) {
    sql += " ALTER TABLE " + QualifiedName(table) + " ADD PRIMARY KEY (" +
           IdentifierList(*this, primary_key, ", ") + ");";
  }
  sql += " END $eddy_pk$";
  return sql;
}

std::string PostgresDialect::RenameTable(const TargetTable& from, const TargetTable& to) const {
  if (from.space != to.space) return "";
  return "ALTER TABLE IF EXISTS " + QualifiedName(from) + " RENAME TO " + QuoteIdentifier(to.name);
}

std::string PostgresDialect::SelectColumns(const TargetTable& table) const {
  return "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
         "CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END FROM pg_attribute a "
         "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = " +
         QuoteLiteral(table.space) + " AND c.relname = " + QuoteLiteral(table.name) +
         " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
}

std::string PostgresDialect::Upsert(const TargetTable& table,
                                    const std::vector<std::string>& columns,
                                    const std::vector<std::string>& key_columns,
                                    const std::vector<TextRow>& rows) const {
  std::string sql = InsertValues(*this, table, columns, rows);
  if (key_columns.empty()) return sql;
  sql += " ON CONFLICT (" + IdentifierList(*this, key_columns, ",") + ") DO ";
  std::string sets;
  for (const std::string& column : NonKeyColumns(columns, key_columns)) {
    if (!sets.empty()) sets += ',';
    sets += QuoteIdentifier(column) + "=EXCLUDED." + QuoteIdentifier(column);
  }
  sql += sets.empty() ? "NOTHING" : "UPDATE SET " + sets;
  return sql;
}

std::string PostgresDialect::Delete(const TargetTable& table,
                                    const std::vector<std::string>& key_columns,
                                    const std::vector<TextRow>& keys) const {
  // A row constructor of one column is just the column: (a) IN (('1'),('2')) works for both.
  std::string sql = "DELETE FROM " + QualifiedName(table) + " WHERE (" +
                    IdentifierList(*this, key_columns, ",") + ") IN (";
  for (size_t r = 0; r < keys.size(); ++r) {
    if (r) sql += ',';
    AppendLiteralRow(*this, keys[r], sql);
  }
  sql += ")";
  return sql;
}

std::string PostgresDialect::DeleteOneRow(const TargetTable& table,
                                          const std::vector<std::string>& columns,
                                          const TextRow& row) const {
  std::string where;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) where += " AND ";
    where += QuoteIdentifier(columns[i]);
    if (row[i]) {
      where += " = " + QuoteLiteral(*row[i]);
    } else {
      where += " IS NULL";
    }
  }
  return "DELETE FROM " + QualifiedName(table) + " WHERE ctid = (SELECT ctid FROM " +
         QualifiedName(table) + (where.empty() ? "" : " WHERE " + where) + " LIMIT 1)";
}

std::string PostgresDialect::Truncate(const TargetTable& table) const {
  return "TRUNCATE " + QualifiedName(table);
}

std::string PostgresDialect::CreateCheckpointTable(std::string_view space) const {
  return "CREATE TABLE IF NOT EXISTS " + CheckpointTableName(space) +
         " (sink_name varchar(128) PRIMARY KEY, checkpoint text NOT NULL, "
         "updated_at timestamptz NOT NULL DEFAULT now())";
}

std::string PostgresDialect::UpsertCheckpoint(std::string_view space, std::string_view sink,
                                              std::string_view checkpoint) const {
  return "INSERT INTO " + CheckpointTableName(space) +
         " (sink_name, checkpoint, updated_at) VALUES (" + QuoteLiteral(sink) + ", " +
         QuoteLiteral(checkpoint) +
         ", now()) ON CONFLICT (sink_name) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, "
         "updated_at = EXCLUDED.updated_at";
}

// ---------------------------------------------------------------------------------------------
// The connection.

namespace {

// SQLSTATE classes (PostgreSQL Appendix A) onto eddy's codes, as target.h requires.
Status StatusFromSqlState(std::string_view state, const std::string& message) {
  std::string text = message + " (SQLSTATE " + std::string(state) + ")";
  if (state.starts_with("08") || state.starts_with("57P") || state == "53300" || state == "53400" ||
      state == "40001" || state == "40P01" || state == "55P03" || state == "57014" ||
      state.starts_with("58")) {
    return Unavailable(text);
  }
  if (state == "28000" || state == "28P01" || state == "42501") return PermissionDenied(text);
  return FailedPrecondition(text);
}

std::string Trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

class PostgresConnection final : public TargetConnection {
 public:
  explicit PostgresConnection(PGconn* connection) : connection_(connection) {}
  ~PostgresConnection() override { PQfinish(connection_); }

  Status Begin() override { return Execute("BEGIN"); }
  Status Commit() override { return Execute("COMMIT"); }
  void Rollback() override {
    if (PQstatus(connection_) != CONNECTION_OK) return;
    PQclear(PQexec(connection_, "ROLLBACK"));
  }

  Status Execute(const std::string& sql) override {
    PGresult* result = PQexec(connection_, sql.c_str());
    Status status = Check(result, PGRES_COMMAND_OK, PGRES_TUPLES_OK);
    PQclear(result);
    return status;
  }

  Result<std::vector<TextRow>> Query(const std::string& sql) override {
    PGresult* result = PQexec(connection_, sql.c_str());
    Status status = Check(result, PGRES_TUPLES_OK, PGRES_TUPLES_OK);
    if (!status.ok()) {
      PQclear(result);
      return status;
    }
    std::vector<TextRow> rows;
    int count = PQntuples(result);
    int fields = PQnfields(result);
    rows.reserve(count);
    for (int r = 0; r < count; ++r) {
      TextRow row;
      row.reserve(fields);
      for (int f = 0; f < fields; ++f) {
        if (PQgetisnull(result, r, f)) {
          row.emplace_back();
        } else {
          row.emplace_back(std::string(PQgetvalue(result, r, f), PQgetlength(result, r, f)));
        }
      }
      rows.push_back(std::move(row));
    }
    PQclear(result);
    return rows;
  }

  Status BulkLoad(const TargetTable& table, const std::vector<std::string>& columns,
                  const std::vector<TextRow>& rows) override {
    PostgresDialect dialect;
    std::string sql = "COPY " + dialect.QualifiedName(table) + " (" +
                      IdentifierList(dialect, columns, ",") + ") FROM STDIN";
    PGresult* result = PQexec(connection_, sql.c_str());
    Status started = Check(result, PGRES_COPY_IN, PGRES_COPY_IN);
    PQclear(result);
    EDDY_RETURN_IF_ERROR(started);
    // COPY's text format: tab-separated, \N for NULL, backslash escapes for \ tab LF CR.
    std::string buffer;
    buffer.reserve(1 << 20);
    auto flush = [&]() -> Status {
      if (buffer.empty()) return Status::Ok();
      if (PQputCopyData(connection_, buffer.data(), static_cast<int>(buffer.size())) != 1) {
        return Unavailable("COPY into " + table.ToString() + ": " +
                           Trimmed(PQerrorMessage(connection_)));
      }
      buffer.clear();
      return Status::Ok();
    };
    Status sent;
    for (const TextRow& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) buffer += '\t';
        if (!row[i]) {
          buffer += "\\N";
          continue;
        }
        AppendBulkEscaped(buffer, *row[i]);
      }
      buffer += '\n';
      if (buffer.size() >= (1 << 20)) {
        sent = flush();
        if (!sent.ok()) break;
      }
    }
    if (sent.ok()) sent = flush();
    if (PQputCopyEnd(connection_, sent.ok() ? nullptr : "eddy: sending rows failed") != 1) {
      return Unavailable("COPY into " + table.ToString() + ": " +
                         Trimmed(PQerrorMessage(connection_)));
    }
    Status status;
    while (PGresult* end = PQgetResult(connection_)) {
      if (status.ok()) status = Check(end, PGRES_COMMAND_OK, PGRES_COMMAND_OK);
      PQclear(end);
    }
    EDDY_RETURN_IF_ERROR(sent);
    return status;
  }

 private:
  Status Check(PGresult* result, ExecStatusType want, ExecStatusType also) {
    ExecStatusType got = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (got == want || got == also) return Status::Ok();
    if (PQstatus(connection_) != CONNECTION_OK) {
      return Unavailable("the connection to the PostgreSQL target was lost: " +
                         Trimmed(PQerrorMessage(connection_)));
    }
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string message =
        Trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(connection_));
    if (message.starts_with("ERROR:  ")) message = message.substr(8);
    if (state == nullptr) return Unavailable("PostgreSQL target: " + message);
    return StatusFromSqlState(state, message);
  }

  PGconn* connection_;
};

// libpq's connection parameters passed through; `options` sets server settings for the
// sink's session (e.g. "-c lock_timeout=5s -c statement_timeout=60s").
constexpr std::array<std::string_view, 7> kLibpqKeys = {
    "sslmode",         "sslrootcert",      "sslcert", "sslkey",
    "connect_timeout", "application_name", "options"};

std::string DisplayUrl(std::string_view base) {
  size_t scheme = base.find("://");
  if (scheme == std::string_view::npos) return std::string(base);
  size_t at = base.find('@', scheme + 3);
  if (at == std::string_view::npos) return std::string(base);
  std::string_view userinfo = base.substr(scheme + 3, at - scheme - 3);
  size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) return std::string(base);
  return std::string(base.substr(0, scheme + 3)) + std::string(userinfo.substr(0, colon)) +
         std::string(base.substr(at));
}

}  // namespace

Result<Target> MakePostgresTarget(const std::string& url,
                                  const std::map<std::string, std::string>& settings) {
  std::string base = url.substr(0, url.find('?'));
  if (!base.starts_with("postgresql://") && !base.starts_with("postgres://")) {
    return InvalidArgument("sink URL '" + DisplayUrl(base) +
                           "': the scheme is not postgresql:// (write "
                           "postgresql://USER:PASSWORD@HOST:PORT/DATABASE?schema=SCHEMA)");
  }
  size_t path = base.find('/', base.find("://") + 3);
  if (path == std::string::npos || path + 1 >= base.size()) {
    return InvalidArgument("sink URL '" + DisplayUrl(base) +
                           "' names no database: write postgresql://USER:PASSWORD@HOST:PORT/"
                           "DATABASE (the database the replica tables go to)");
  }
  std::vector<std::pair<std::string, std::string>> params = {{"dbname", base}};
  std::string schema = "public";
  for (const auto& [key, value] : settings) {
    if (key == "schema") {
      if (value.empty()) {
        return InvalidArgument(
            "postgresql sink setting 'schema' is empty; name the target "
            "schema (default public)");
      }
      schema = value;
      continue;
    }
    bool libpq = false;
    for (std::string_view own : kLibpqKeys) libpq = libpq || key == own;
    if (libpq) {
      params.emplace_back(key, value);
    } else if (!IsReplicaSetting(key) && !consume::IsRunnerSetting(key)) {
      return InvalidArgument(
          "unknown postgresql sink setting '" + key +
          "'; it knows schema, table_name, tables, create_tables, sslmode, "
          "sslrootcert, sslcert, sslkey, connect_timeout, application_name, options "
          "and the sink settings of docs/sinks/replica.md");
    }
  }
  bool has_timeout = false;
  for (auto& [key, value] : params) has_timeout = has_timeout || key == "connect_timeout";
  if (!has_timeout) params.emplace_back("connect_timeout", "10");
  params.emplace_back("application_name", "eddy-replica");
  std::string display = DisplayUrl(base) + "?schema=" + schema;

  Target target;
  target.dialect = std::make_unique<PostgresDialect>();
  target.default_space = schema;
  target.display_url = display;
  target.connect = [params, display]() -> Result<std::unique_ptr<TargetConnection>> {
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [key, value] : params) {
      keys.push_back(key.c_str());
      values.push_back(value.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* connection = PQconnectdbParams(keys.data(), values.data(), 1);
    if (connection == nullptr) return Unavailable("connecting to " + display + ": out of memory");
    if (PQstatus(connection) != CONNECTION_OK) {
      std::string message = Trimmed(PQerrorMessage(connection));
      PQfinish(connection);
      if (message.find("password authentication failed") != std::string::npos ||
          message.find("no password supplied") != std::string::npos ||
          message.find("role \"") != std::string::npos) {
        return PermissionDenied("connecting to " + display + ": " + message +
                                "; check the user and password in the sink URL");
      }
      if (message.find("database \"") != std::string::npos &&
          message.find("does not exist") != std::string::npos) {
        return FailedPrecondition("connecting to " + display + ": " + message +
                                  "; create the database or fix the URL's path");
      }
      if (message.find("invalid") != std::string::npos &&
          message.find("URI") != std::string::npos) {
        return InvalidArgument("sink URL " + display + ": " + message);
      }
      return Unavailable("connecting to " + display + ": " + message +
                         "; check that the server runs and the host and port are right");
    }
    PGresult* result = PQexec(connection,
                              "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD'; "
                              "SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'; "
                              "SET extra_float_digits = 3; SET standard_conforming_strings = on");
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (!ok) {
      std::string message = Trimmed(PQerrorMessage(connection));
      PQfinish(connection);
      return Unavailable("setting up the session on " + display + ": " + message);
    }
    return std::unique_ptr<TargetConnection>(new PostgresConnection(connection));
  };
  return target;
}

Result<std::unique_ptr<consume::Destination>> MakePostgresDestination(
    const consume::SinkSpec& spec) {
  return MakeReplicaDestination(spec, &MakePostgresTarget);
}

}  // namespace eddy::sink::replica

#include "source/mysql/snapshot.h"

#include <mysql.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/integer_text.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "model/datetime_text.h"
#include "model/event.h"
#include "model/event_codec.h"
#include "source/mysql/column_type.h"
#include "source/mysql/schema_history.h"
#include "source/snapshot_records.h"

namespace eddy::source::mysql {
namespace {

using model::Value;
using model::ValueType;

bool IsSystemDatabase(std::string_view database) {
  return database == "mysql" || database == "information_schema" ||
         database == "performance_schema" || database == "sys";
}

Result<int64_t> ParseInt(std::string_view text, std::string_view what) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Corruption("snapshot value '" + std::string(text) + "' is not a valid " +
                      std::string(what));
  }
  return value;
}

Result<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Corruption("snapshot value '" + std::string(text) + "' is not an unsigned integer");
  }
  return value;
}

// "123456" fraction digits (1..6) -> microseconds.
Result<int64_t> ParseFraction(std::string_view digits) {
  if (digits.empty() || digits.size() > 6)
    return Corruption("bad fraction '" + std::string(digits) + "'");
  EDDY_ASSIGN_OR_RETURN(int64_t v, ParseInt(digits, "fraction"));
  for (size_t i = digits.size(); i < 6; ++i) v *= 10;
  return v;
}

struct DateParts {
  int64_t year = 0, month = 0, day = 0;
};

Result<DateParts> ParseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return Corruption("snapshot date '" + std::string(text) + "' is not YYYY-MM-DD");
  }
  DateParts parts;
  EDDY_ASSIGN_OR_RETURN(parts.year, ParseInt(text.substr(0, 4), "year"));
  EDDY_ASSIGN_OR_RETURN(parts.month, ParseInt(text.substr(5, 2), "month"));
  EDDY_ASSIGN_OR_RETURN(parts.day, ParseInt(text.substr(8, 2), "day"));
  return parts;
}

bool IsCivil(const DateParts& d) {
  return d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= 31;
}

// "hh:mm:ss[.ffffff]" (hours may have 3 digits) -> microseconds (non-negative).
Result<int64_t> ParseClock(std::string_view text) {
  size_t colon1 = text.find(':');
  size_t colon2 = text.find(':', colon1 + 1);
  if (colon1 == std::string_view::npos || colon2 == std::string_view::npos) {
    return Corruption("snapshot time '" + std::string(text) + "' is not hh:mm:ss");
  }
  EDDY_ASSIGN_OR_RETURN(int64_t hours, ParseInt(text.substr(0, colon1), "hour"));
  EDDY_ASSIGN_OR_RETURN(int64_t minutes,
                        ParseInt(text.substr(colon1 + 1, colon2 - colon1 - 1), "minute"));
  std::string_view seconds_text = text.substr(colon2 + 1);
  int64_t micros = 0;
  size_t dot = seconds_text.find('.');
  if (dot != std::string_view::npos) {
    EDDY_ASSIGN_OR_RETURN(micros, ParseFraction(seconds_text.substr(dot + 1)));
    seconds_text = seconds_text.substr(0, dot);
  }
  EDDY_ASSIGN_OR_RETURN(int64_t seconds, ParseInt(seconds_text, "second"));
  return ((hours * 60 + minutes) * 60 + seconds) * 1'000'000 + micros;
}

std::string QuoteIdentifier(std::string_view name) { return localdb::QuoteMysqlIdentifier(name); }

// The snapshot into the log as one log transaction ending at the snapshot's position, for the
// sequential and the parallel snapshot alike (PostgreSQL's shape): parts of at most
// kSnapshotPartRecords records (fewer when snapshot_chunk_size is smaller), each written to the
// transaction on a thread of its own while the next part is read and encoded, so the append
// thread frames a part while it is still in the cache; its records come back to the writer for
// reuse. Nothing is visible until Commit: a snapshot interrupted by a crash or an error leaves
// no trace (the appender aborts when destroyed uncommitted). A snapshot that fits in one part is
// a single AppendTransaction.
class SnapshotTransaction {
 public:
  SnapshotTransaction(log::Stream& stream, SnapshotRecordWriter& writer, size_t chunk_rows)
      : stream_(stream),
        writer_(writer),
        part_records_(std::clamp<size_t>(chunk_rows, 1, kSnapshotPartRecords)) {
    part_.reserve(part_records_);
  }

  // The part being filled (SnapshotRecordWriter::Add / AddEncoded / Finish append to it).
  std::vector<log::AppendRecord>& part() { return part_; }
  bool part_full() const { return part_.size() >= part_records_; }

  // Hands the part to the append thread (waiting for the one in flight) and starts a new one.
  [[nodiscard]] Status WritePart() {
    if (part_.empty()) return Status::Ok();
    if (appender_ == nullptr) {
      EDDY_ASSIGN_OR_RETURN(appender_, stream_.BeginTransaction());
      thread_.emplace(
          [this](std::vector<log::AppendRecord>& part) { return appender_->AppendReusing(&part); });
    }
    EDDY_RETURN_IF_ERROR(thread_->Submit(part_));
    writer_.Recycle(part_);
    part_.reserve(part_records_);
    return Status::Ok();
  }

  // Writes the last part and makes the whole transaction durable and visible, ending at
  // `position` (after SnapshotRecordWriter::Finish).
  [[nodiscard]] Status Commit(const SourcePosition& position) {
    if (appender_ == nullptr) {
      auto result = stream_.AppendTransaction(std::move(part_), position);
      part_.clear();
      return result.status();
    }
    EDDY_RETURN_IF_ERROR(WritePart());
    EDDY_RETURN_IF_ERROR(thread_->Wait());
    return appender_->Commit(position).status();
  }

 private:
  log::Stream& stream_;
  SnapshotRecordWriter& writer_;
  const size_t part_records_;
  std::vector<log::AppendRecord> part_;
  std::unique_ptr<log::TransactionAppender> appender_;
  // After appender_: destroyed first, so an early return waits for the part in flight before
  // the appender aborts.
  std::optional<SnapshotAppendThread> thread_;
};

}  // namespace

Result<SnapshotTable> DescribeSnapshotTable(localdb::MariadbSession& session,
                                            const model::TableId& table, bool mariadb) {
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows column_rows,
      session.Query("SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME,''), "
                    "IS_NULLABLE, IFNULL(NUMERIC_PRECISION,0), IFNULL(NUMERIC_SCALE,0), "
                    "IFNULL(DATETIME_PRECISION,0), IFNULL(COLLATION_NAME,'') "
                    "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
                    session.Quote(table.database) + " AND TABLE_NAME = " +
                    session.Quote(table.name) + " ORDER BY ORDINAL_POSITION"));
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows key_rows,
      session.Query("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE "
                    "CONSTRAINT_NAME = 'PRIMARY' AND TABLE_SCHEMA = " +
                    session.Quote(table.database) + " AND TABLE_NAME = " +
                    session.Quote(table.name) + " ORDER BY ORDINAL_POSITION"));
  SnapshotTable described;
  described.schema.table = table;
  for (const auto& row : column_rows.rows) {
    SnapshotColumn column = DescribeSnapshotColumn(
        row[0].value_or(""), row[1].value_or(""), row[2].value_or(""), row[3].value_or(""),
        row[4].value_or("") == "YES", std::atoi(row[5].value_or("0").c_str()),
        std::atoi(row[6].value_or("0").c_str()), std::atoi(row[7].value_or("0").c_str()), mariadb);
    model::Column model_column;
    model_column.name = column.name;
    model_column.source_type = column.source_type;
    model_column.type = column.type;
    model_column.nullable = column.nullable;
    model_column.declared_type =
        DeclaredTypeFromColumnType(row[1].value_or(""), row[2].value_or(""), row[3].value_or(""));
    if (!column.binary) model_column.collation = row[8].value_or("");
    described.schema.columns.push_back(std::move(model_column));
    described.columns.push_back(std::move(column));
  }
  for (const auto& row : key_rows.rows) {
    std::string name = row[0].value_or("");
    for (size_t i = 0; i < described.columns.size(); ++i) {
      if (described.columns[i].name != name) continue;
      described.key_indexes.push_back(i);
      described.schema.columns[i].primary_key_ordinal =
          static_cast<int>(described.key_indexes.size());
      described.schema.primary_key.push_back(name);
    }
  }
  return described;
}

std::string SnapshotSelect(const model::TableId& table,
                           const std::vector<SnapshotColumn>& columns) {
  std::string select = "SELECT ";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) select += ", ";
    const std::string name = QuoteIdentifier(columns[i].name);
    if (columns[i].type == ValueType::kFloat32 || columns[i].type == ValueType::kFloat64) {
      // The text protocol prints FLOAT with 6 significant digits and any zero as "0". FLOAT
      // widened to DOUBLE (exact) prints as the shortest text that reads back to the same
      // double, which narrows back to the stored float bit for bit; a zero whose sign is
      // negative (ATAN2(-0, -1) is -pi) is sent as "-0".
      select += "IF(" + name + " = 0 AND ATAN2(" + name + ", -1) < 0, '-0', CAST(" + name +
                " AS DOUBLE))";
    } else {
      select += name;
    }
  }
  select += " FROM " + QuoteIdentifier(table.database) + "." + QuoteIdentifier(table.name);
  return select;
}

SnapshotColumn DescribeSnapshotColumn(const std::string& name, const std::string& data_type,
                                      const std::string& column_type,
                                      const std::string& character_set, bool nullable,
                                      int numeric_precision, int numeric_scale, int fsp,
                                      bool mariadb) {
  (void)mariadb;
  SnapshotColumn column;
  column.name = name;
  column.data_type = data_type;
  column.column_type = column_type;
  column.nullable = nullable;
  column.fsp = fsp;
  column.is_unsigned = column_type.find("unsigned") != std::string::npos;
  const std::string suffix = column.is_unsigned ? " unsigned" : "";
  const std::string& t = data_type;
  auto with_fsp = [&](const std::string& base) {
    return fsp > 0 ? base + "(" + std::to_string(fsp) + ")" : base;
  };
  if (t == "tinyint" || t == "smallint" || t == "mediumint" || t == "int" || t == "bigint") {
    column.type = column.is_unsigned ? ValueType::kUint64 : ValueType::kInt64;
    column.source_type = t + suffix;
  } else if (t == "year") {
    column.type = ValueType::kInt64;
    column.source_type = "year";
  } else if (t == "float") {
    column.type = ValueType::kFloat32;
    column.source_type = "float" + suffix;
  } else if (t == "double" || t == "real") {
    column.type = ValueType::kFloat64;
    column.source_type = "double" + suffix;
  } else if (t == "decimal" || t == "numeric") {
    column.type = ValueType::kDecimal;
    column.source_type = "decimal(" + std::to_string(numeric_precision) + "," +
                         std::to_string(numeric_scale) + ")" + suffix;
  } else if (t == "date") {
    column.type = ValueType::kDate;
    column.source_type = "date";
  } else if (t == "time") {
    column.type = ValueType::kTime;
    column.source_type = with_fsp("time");
  } else if (t == "datetime") {
    column.type = ValueType::kTimestamp;
    column.source_type = with_fsp("datetime");
  } else if (t == "timestamp") {
    column.type = ValueType::kTimestampTz;
    column.source_type = with_fsp("timestamp");
  } else if (t == "bit") {
    column.type = ValueType::kBits;
    column.source_type = "bit";
  } else if (t == "json") {
    column.type = ValueType::kJson;
    column.source_type = "json";
  } else if (t == "enum") {
    column.type = ValueType::kEnum;
    column.source_type = "enum";
  } else if (t == "set") {
    column.type = ValueType::kTypedText;
    column.source_type = "set";
  } else if (t == "geometry" || t == "point" || t == "linestring" || t == "polygon" ||
             t == "multipoint" || t == "multilinestring" || t == "multipolygon" ||
             t == "geometrycollection") {
    column.type = ValueType::kBytes;
    column.source_type = "geometry";
    column.binary = true;
  } else if (t == "binary" || t == "varbinary" || t == "tinyblob" || t == "blob" ||
             t == "mediumblob" || t == "longblob") {
    column.type = ValueType::kBytes;
    column.source_type = t;
    column.binary = true;
  } else if (character_set == "binary") {
    column.type = ValueType::kBytes;
    column.binary = true;
    column.source_type = t == "char" ? "binary" : t == "varchar" ? "varbinary" : t;
  } else {
    column.type = ValueType::kText;
    column.source_type = t;  // char, varchar, tinytext, text, mediumtext, longtext
  }
  return column;
}

namespace {
// A DATETIME or TIMESTAMP value's text (session time_zone '+00:00'): its kind and micros since
// 1970; not `representable` for a DATETIME whose date is not a civil one (ParseTextValue keeps
// its text).
struct ParsedDatetime {
  model::TemporalKind kind = model::TemporalKind::kFinite;
  int64_t micros = 0;
  bool representable = true;
};
Result<ParsedDatetime> ParseDatetime(const SnapshotColumn& column, std::string_view text) {
  ParsedDatetime parsed;
  // The common shape without the general parse below (which gives the same micros for it).
  if (std::optional<int64_t> micros = model::ParseDatetimeTextMicros(text)) {
    parsed.micros = *micros;
    return parsed;
  }
  if (text.size() < 19 || text[10] != ' ') {
    return Corruption("snapshot datetime '" + std::string(text) + "' is malformed");
  }
  EDDY_ASSIGN_OR_RETURN(DateParts d, ParseDate(text.substr(0, 10)));
  EDDY_ASSIGN_OR_RETURN(int64_t clock, ParseClock(text.substr(11)));
  if (d.year == 0 && d.month == 0 && d.day == 0 && clock == 0) {
    parsed.kind = model::TemporalKind::kZero;
    return parsed;
  }
  if (column.type != ValueType::kTimestampTz && !IsCivil(d)) {
    parsed.representable = false;
    return parsed;
  }
  parsed.micros = model::DaysFromCivil(model::CivilDate{d.year, static_cast<int>(d.month),
                                                        static_cast<int>(d.day)}) *
                      86400000000LL +
                  clock;
  return parsed;
}
}  // namespace

Result<Value> ParseTextValue(const SnapshotColumn& column, std::string_view text) {
  switch (column.type) {
    case ValueType::kInt64: {
      EDDY_ASSIGN_OR_RETURN(int64_t v, ParseInt(text, "integer"));
      return Value::Int64(v);
    }
    case ValueType::kUint64: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, ParseUint(text));
      return Value::Uint64(v);
    }
    case ValueType::kFloat32: {
      // Read as a double, then narrowed: SnapshotSelect widens FLOAT to DOUBLE, whose text
      // round-trips; a direct strtof of a rounded decimal could land on a neighbouring float.
      std::string copy(text);
      char* end = nullptr;
      double v = std::strtod(copy.c_str(), &end);
      if (end != copy.c_str() + copy.size()) return Corruption("bad float '" + copy + "'");
      return Value::Float32(static_cast<float>(v));
    }
    case ValueType::kFloat64: {
      std::string copy(text);
      char* end = nullptr;
      double v = std::strtod(copy.c_str(), &end);
      if (end != copy.c_str() + copy.size()) return Corruption("bad double '" + copy + "'");
      return Value::Float64(v);
    }
    case ValueType::kDecimal: {
      if (!model::DecimalValue::IsWellFormed(text)) {
        return Corruption("snapshot decimal '" + std::string(text) + "' is malformed");
      }
      return Value::Decimal(std::string(text));
    }
    case ValueType::kDate: {
      EDDY_ASSIGN_OR_RETURN(DateParts d, ParseDate(text));
      if (d.year == 0 && d.month == 0 && d.day == 0) {
        return Value::Date(model::DateValue{model::TemporalKind::kZero, 0});
      }
      if (!IsCivil(d)) return Value::TypedText("date", std::string(text));
      return Value::Date(
          model::DateValue::FromCivil(d.year, static_cast<int>(d.month), static_cast<int>(d.day)));
    }
    case ValueType::kTimestamp:
    case ValueType::kTimestampTz: {
      EDDY_ASSIGN_OR_RETURN(ParsedDatetime parsed, ParseDatetime(column, text));
      if (!parsed.representable) return Value::TypedText("datetime", std::string(text));
      if (column.type == ValueType::kTimestampTz) {
        return Value::TimestampTz(model::TimestampTzValue{parsed.kind, parsed.micros});
      }
      return Value::Timestamp(model::TimestampValue{parsed.kind, parsed.micros});
    }
    case ValueType::kTime: {
      bool negative = !text.empty() && text[0] == '-';
      EDDY_ASSIGN_OR_RETURN(int64_t micros, ParseClock(negative ? text.substr(1) : text));
      return Value::Time(negative ? -micros : micros);
    }
    case ValueType::kBits: {
      // The text protocol sends BIT(M) as (M+7)/8 big-endian bytes; M from column_type.
      size_t open = column.column_type.find('(');
      int64_t bits =
          open == std::string::npos ? 1 : std::atoi(column.column_type.c_str() + open + 1);
      if (bits < 1 || bits > 64) return Corruption("bad BIT type " + column.column_type);
      uint64_t v = 0;
      for (char c : text) v = (v << 8) | static_cast<uint8_t>(c);
      std::string out(static_cast<size_t>(bits), '0');
      for (int64_t i = 0; i < bits; ++i) {
        if (v & (uint64_t{1} << i)) out[static_cast<size_t>(bits - 1 - i)] = '1';
      }
      return Value::Bits(std::move(out));
    }
    case ValueType::kJson:
      return Value::Json(std::string(text));
    case ValueType::kEnum:
      return Value::Enum(std::string(text));
    case ValueType::kTypedText:
      return Value::TypedText("set", std::string(text));
    case ValueType::kBytes:
      return Value::Bytes(std::string(text));
    default:
      return Value::Text(std::string(text));
  }
}

Status EncodeTextColumn(const SnapshotColumn& column, const char* value, unsigned long length,
                        std::string& out) {
  ByteAppender appender(out);
  return EncodeTextColumn(column, value, length, appender);
}

Status EncodeTextColumn(const SnapshotColumn& column, const char* value, unsigned long length,
                        ByteAppender& out) {
  if (value == nullptr) {
    out.PutByte(static_cast<uint8_t>(ValueType::kNull));  // model::EncodeValue(Value::Null())
    return Status::Ok();
  }
  // The most common types are written without a model::Value (and a string copy) in between:
  // the bytes model::EncodeValue writes for ParseTextValue's value.
  const std::string_view text(value, length);
  switch (column.type) {
    case ValueType::kText:
      out.PutByte(static_cast<uint8_t>(ValueType::kText));
      out.PutLengthPrefixed(text);
      return Status::Ok();
    case ValueType::kInt64: {
      int64_t number = 0;
      if (!ParseInt64Text(text, number)) break;  // the general path has the error
      out.PutByte(static_cast<uint8_t>(ValueType::kInt64));
      out.PutVarintSigned64(number);
      return Status::Ok();
    }
    case ValueType::kTimestamp:
    case ValueType::kTimestampTz: {
      Result<ParsedDatetime> parsed = ParseDatetime(column, text);
      if (!parsed.ok() || !parsed->representable) break;
      out.PutByte(static_cast<uint8_t>(column.type));
      out.PutByte(static_cast<uint8_t>(parsed->kind));
      out.PutVarintSigned64(parsed->micros);
      return Status::Ok();
    }
    default:
      break;
  }
  Result<Value> parsed = ParseTextValue(column, text);
  if (!parsed.ok()) return parsed.status().WithContext("column " + column.name);
  std::string encoded;
  model::EncodeValue(*parsed, encoded);
  out.Append(encoded);
  return Status::Ok();
}

Status EncodeTextRow(const std::vector<SnapshotColumn>& columns, const char* const* row,
                     const unsigned long* lengths, SnapshotRowEncoding& encoding) {
  encoding.Clear();
  for (size_t i = 0; i < columns.size(); ++i) {
    EDDY_RETURN_IF_ERROR(EncodeTextColumn(columns[i], row[i], lengths[i], encoding.values()));
    encoding.EndValue();
  }
  return Status::Ok();
}

Result<MysqlPosition> Snapshotter::Run(
    const std::function<void(const SnapshotProgress&)>& on_progress) {
  if (options_.parallelism > 1) return RunParallel(on_progress);
  auto log = logging::Get("mysql");
  EDDY_ASSIGN_OR_RETURN(localdb::MariadbSession session,
                        localdb::MariadbSession::Connect(options_.endpoint));
  EDDY_RETURN_IF_ERROR(session.Execute("SET NAMES utf8mb4"));
  EDDY_RETURN_IF_ERROR(session.Execute("SET SESSION time_zone = '+00:00'"));
  EDDY_RETURN_IF_ERROR(session.Execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));

  MysqlPosition position;
  if (options_.mariadb) {
    EDDY_RETURN_IF_ERROR(session.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"));
    EDDY_ASSIGN_OR_RETURN(localdb::SqlRows status,
                          session.Query("SHOW STATUS LIKE 'binlog_snapshot_%'"));
    for (const auto& row : status.rows) {
      std::string name = row[0].value_or("");
      if (name == "Binlog_snapshot_file") position.end.file = row[1].value_or("");
      if (name == "Binlog_snapshot_position") {
        position.end.offset = std::strtoull(row[1].value_or("0").c_str(), nullptr, 10);
      }
    }
    if (position.end.file.empty()) {
      return FailedPrecondition(
          "the server reports no binlog_snapshot_file: binary logging "
          "must be on (log_bin) for a consistent snapshot");
    }
    auto gtid = session.Query("SELECT BINLOG_GTID_POS(" + session.Quote(position.end.file) + ", " +
                              std::to_string(position.end.offset) + ")");
    if (gtid.ok() && !gtid->rows.empty()) position.gtid.text = gtid->rows[0][0].value_or("");
  } else {
    // MySQL: no snapshot status variables; hold a global read lock only while reading the
    // position.
    EDDY_RETURN_IF_ERROR(session.Execute("FLUSH TABLES WITH READ LOCK"));
    EDDY_RETURN_IF_ERROR(session.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"));
    auto status = session.Query("SHOW MASTER STATUS");
    Status unlock = session.Execute("UNLOCK TABLES");
    if (!status.ok()) return status.status();
    EDDY_RETURN_IF_ERROR(unlock);
    if (status->rows.empty())
      return FailedPrecondition("SHOW MASTER STATUS is empty: log_bin is off");
    position.end.file = status->Get(0, "File").value_or("");
    position.end.offset =
        std::strtoull(status->Get(0, "Position").value_or("0").c_str(), nullptr, 10);
    position.gtid.text = status->Get(0, "Executed_Gtid_Set").value_or("");
  }
  {
    auto server_id = session.Query("SELECT @@server_id");
    if (server_id.ok() && !server_id->rows.empty()) {
      position.server_id = static_cast<uint32_t>(
          std::strtoul(server_id->rows[0][0].value_or("0").c_str(), nullptr, 10));
    }
  }
  log->info("mysql snapshot started position={} gtid={}", position.end.ToString(),
            position.gtid.text);

  // Tables to copy.
  std::set<std::string> filter(options_.tables.begin(), options_.tables.end());
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows table_rows,
      session.Query("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
                    "WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, "
                    "TABLE_NAME"));
  std::vector<model::TableId> tables;
  for (const auto& row : table_rows.rows) {
    std::string database = row[0].value_or("");
    std::string name = row[1].value_or("");
    if (IsSystemDatabase(database)) continue;
    if (!filter.empty() && filter.count(database + "." + name) == 0) continue;
    tables.push_back(model::TableId{database, "", name});
  }
  SnapshotProgress progress;
  progress.tables = tables.size();
  on_progress(progress);

  const int64_t snapshot_ns = SystemClock::Instance().NowNanos();
  const SourcePosition snapshot_position(position);
  // Rows go straight from the text protocol's values to encoded records
  // (source/snapshot_records.h): no model::Row or ChangeEvent per row.
  model::ChangeEvent shared;
  shared.position = snapshot_position;
  shared.commit_time_ns = snapshot_ns;
  shared.transaction_id = "snapshot:" + position.end.ToString();
  shared.source.connector =
      options_.mariadb ? model::ConnectorKind::kMariadb : model::ConnectorKind::kMysql;
  shared.source.server_name = options_.server_name;
  SnapshotRecordWriter writer(std::move(shared));
  SnapshotTransaction appender(*stream_, writer, options_.chunk_rows);
  std::vector<log::AppendRecord>& chunk = appender.part();
  for (const model::TableId& table : tables) {
    if (cancelled_) return Aborted("snapshot cancelled");
    progress.table = table.QualifiedName();
    EDDY_ASSIGN_OR_RETURN(SnapshotTable described,
                          DescribeSnapshotTable(session, table, options_.mariadb));
    std::vector<SnapshotColumn>& columns = described.columns;
    model::TableSchema& schema = described.schema;
    if (options_.schemas != nullptr) {
      SetTypeModifiers(schema);
      Result<uint32_t> version = options_.schemas->AssignVersion(schema);
      if (!version.ok()) {
        return version.status().WithContext("recording the schema of " + table.QualifiedName());
      }
      schema.version = *version;
    } else if (options_.history != nullptr) {
      EDDY_RETURN_IF_ERROR(options_.history->AssignVersion(schema, position.end));
    }
    std::vector<std::string> names;
    for (const SnapshotColumn& column : columns) names.push_back(column.name);
    SnapshotRowEncoding encoding(table, names, described.key_indexes);
    writer.SetTable(table, schema.version, SystemClock::Instance().NowNanos());

    std::string select = SnapshotSelect(table, columns);
    MYSQL* mysql = session.raw();
    if (mysql_real_query(mysql, select.data(), select.size()) != 0) {
      return Unavailable("snapshot of " + table.QualifiedName() + ": " + mysql_error(mysql));
    }
    MYSQL_RES* result = mysql_use_result(mysql);
    if (result == nullptr) {
      return Unavailable("snapshot of " + table.QualifiedName() + ": " + mysql_error(mysql));
    }
    std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> result_guard(result, mysql_free_result);
    if (mysql_num_fields(result) != columns.size()) {
      return FailedPrecondition("snapshot of " + table.QualifiedName() +
                                ": the table's columns changed while reading its schema");
    }
    while (MYSQL_ROW row = mysql_fetch_row(result)) {
      if (cancelled_) return Aborted("snapshot cancelled");
      // Straight into the chunk's next record (no per-row buffer); `encoding` gives the names
      // and key.
      const unsigned long* lengths = mysql_fetch_lengths(result);
      Status encoded = writer.AddEncoded(
          encoding,
          [&](size_t i, ByteAppender& out) {
            return EncodeTextColumn(columns[i], row[i], lengths[i], out);
          },
          chunk);
      if (!encoded.ok()) return encoded.WithContext("snapshot of " + table.QualifiedName());
      if (appender.part_full()) {
        EDDY_RETURN_IF_ERROR(appender.WritePart());
        writer.SetTable(table, schema.version, SystemClock::Instance().NowNanos());
      }
      progress.rows++;
      if (progress.rows % 10000 == 0) on_progress(progress);
    }
    if (mysql_errno(mysql) != 0) {
      return Unavailable("snapshot of " + table.QualifiedName() +
                         " interrupted: " + mysql_error(mysql));
    }
    progress.tables_done++;
    on_progress(progress);
    log->info("mysql snapshot table done table={} rows_total={}", table.QualifiedName(),
              progress.rows);
  }
  EDDY_RETURN_IF_ERROR(writer.Finish(chunk));
  EDDY_RETURN_IF_ERROR(appender.Commit(snapshot_position));
  EDDY_RETURN_IF_ERROR(session.Execute("COMMIT"));
  on_progress(progress);
  log->info("mysql snapshot finished rows={} tables={} position={}", progress.rows, progress.tables,
            position.end.ToString());
  return position;
}

std::string KeyAfterCondition(localdb::MariadbSession& session,
                              const std::vector<std::string>& key_names,
                              const std::vector<std::string>& key) {
  std::string after;
  for (size_t k = 0; k < key_names.size(); ++k) {
    std::string term;
    for (size_t j = 0; j < k; ++j) {
      term += localdb::QuoteMysqlIdentifier(key_names[j]) + " = " + session.Quote(key[j]) + " AND ";
    }
    term += localdb::QuoteMysqlIdentifier(key_names[k]) + " > " + session.Quote(key[k]);
    after += (k > 0 ? " OR (" : "(") + term + ")";
  }
  return "(" + after + ")";
}

std::string KeyAtMostCondition(localdb::MariadbSession& session,
                               const std::vector<std::string>& key_names,
                               const std::vector<std::string>& key) {
  // Some column below with the ones before it equal, or all equal.
  std::string at_most;
  for (size_t k = 0; k <= key_names.size(); ++k) {
    std::string term;
    for (size_t j = 0; j < k && j < key_names.size(); ++j) {
      term += (j > 0 ? " AND " : "") + localdb::QuoteMysqlIdentifier(key_names[j]) + " = " +
              session.Quote(key[j]);
    }
    if (k < key_names.size()) {
      term += std::string(k > 0 ? " AND " : "") + localdb::QuoteMysqlIdentifier(key_names[k]) +
              " < " + session.Quote(key[k]);
    }
    at_most += (k > 0 ? " OR (" : "(") + term + ")";
  }
  return "(" + at_most + ")";
}

Result<std::vector<std::vector<std::string>>> KeyRangeBoundaries(
    localdb::MariadbSession& session, const model::TableId& table,
    const std::vector<std::string>& key_names, const std::string& condition, size_t parts,
    size_t min_rows) {
  std::vector<std::vector<std::string>> boundaries;
  if (key_names.empty() || parts < 2) return boundaries;
  std::string key_list;
  for (const std::string& name : key_names) {
    key_list += (key_list.empty() ? "" : ", ") + localdb::QuoteMysqlIdentifier(name);
  }
  std::string from = " FROM " + localdb::QuoteMysqlIdentifier(table.database) + "." +
                     localdb::QuoteMysqlIdentifier(table.name);
  std::string filter = condition.empty() ? "" : "(" + condition + ")";
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows counted,
      session.Query("SELECT COUNT(*)" + from + (filter.empty() ? "" : " WHERE " + filter)));
  uint64_t rows = counted.rows.empty() ? 0 : std::stoull(counted.rows[0][0].value_or("0"));
  uint64_t wanted = std::min<uint64_t>(parts, rows / std::max<size_t>(min_rows, 1));
  if (wanted < 2) return boundaries;
  uint64_t step = rows / wanted;
  for (uint64_t part = 1; part < wanted; ++part) {
    std::vector<std::string> where;
    if (!filter.empty()) where.push_back(filter);
    if (!boundaries.empty())
      where.push_back(KeyAfterCondition(session, key_names, boundaries.back()));
    std::string select = "SELECT " + key_list + from;
    for (size_t i = 0; i < where.size(); ++i) select += (i == 0 ? " WHERE " : " AND ") + where[i];
    select += " ORDER BY " + key_list + " LIMIT " + std::to_string(step - 1) + ", 1";
    EDDY_ASSIGN_OR_RETURN(localdb::SqlRows found, session.Query(select));
    if (found.rows.empty()) break;
    std::vector<std::string> key;
    for (const auto& value : found.rows[0]) key.push_back(value.value_or(""));
    boundaries.push_back(std::move(key));
  }
  return boundaries;
}

namespace {

// How often MariaDB's connections start their snapshots again when their binlog positions
// differ (a commit landed between two starts) before the global read lock is taken instead.
constexpr int kLockFreeAttempts = 5;
// Rows per batch handed from a reading connection to the appending thread, and batches queued.
constexpr size_t kBatchRows = 1000;
constexpr size_t kQueuedBatches = 16;

Result<localdb::MariadbSession> OpenSnapshotSession(const localdb::SqlEndpoint& endpoint) {
  EDDY_ASSIGN_OR_RETURN(localdb::MariadbSession session,
                        localdb::MariadbSession::Connect(endpoint));
  EDDY_RETURN_IF_ERROR(session.Execute("SET NAMES utf8mb4"));
  EDDY_RETURN_IF_ERROR(session.Execute("SET SESSION time_zone = '+00:00'"));
  EDDY_RETURN_IF_ERROR(session.Execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
  return session;
}

// MariaDB: the binlog position the session's consistent snapshot corresponds to.
Result<BinlogPosition> SnapshotBinlogPosition(localdb::MariadbSession& session) {
  BinlogPosition position;
  EDDY_ASSIGN_OR_RETURN(localdb::SqlRows status,
                        session.Query("SHOW STATUS LIKE 'binlog_snapshot_%'"));
  for (const auto& row : status.rows) {
    std::string name = row[0].value_or("");
    if (name == "Binlog_snapshot_file") position.file = row[1].value_or("");
    if (name == "Binlog_snapshot_position") {
      position.offset = std::strtoull(row[1].value_or("0").c_str(), nullptr, 10);
    }
  }
  if (position.file.empty()) {
    return FailedPrecondition(
        "the server reports no binlog_snapshot_file: binary logging must be on (log_bin) for a "
        "consistent snapshot");
  }
  return position;
}

// Starts a consistent snapshot on every session, all of them the same view, and returns the
// binlog position that view corresponds to (the method: snapshot.h).
Result<MysqlPosition> StartConsistentSnapshots(std::vector<localdb::MariadbSession>& sessions,
                                               bool mariadb) {
  auto log = logging::Get("mysql");
  MysqlPosition position;
  bool agreed = false;
  if (mariadb) {
    for (int attempt = 0; attempt < kLockFreeAttempts && !agreed; ++attempt) {
      std::vector<BinlogPosition> positions;
      for (localdb::MariadbSession& session : sessions) {
        EDDY_RETURN_IF_ERROR(session.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"));
        EDDY_ASSIGN_OR_RETURN(BinlogPosition at, SnapshotBinlogPosition(session));
        positions.push_back(std::move(at));
      }
      agreed = std::all_of(positions.begin(), positions.end(), [&](const BinlogPosition& at) {
        return at.file == positions.front().file && at.offset == positions.front().offset;
      });
      if (agreed) {
        position.end = positions.front();
      } else {
        for (localdb::MariadbSession& session : sessions) {
          EDDY_RETURN_IF_ERROR(session.Execute("ROLLBACK"));
        }
      }
    }
    if (!agreed) {
      log->info(
          "mysql snapshot: the connections' snapshot positions differed {} times (a busy "
          "server); taking a global read lock while they start",
          kLockFreeAttempts);
    }
  }
  if (!agreed) {
    // No transaction commits while the lock is held: every snapshot started under it sees the
    // state at the position read under it. The lock is held for milliseconds.
    localdb::MariadbSession& first = sessions.front();
    Status locked = first.Execute("FLUSH TABLES WITH READ LOCK");
    if (!locked.ok()) {
      return FailedPrecondition(
          "a parallel snapshot needs FLUSH TABLES WITH READ LOCK (the RELOAD privilege) to "
          "start its connections at one point: " +
          locked.message() + " (grant RELOAD, or set source.snapshot_parallelism = 1)");
    }
    Status started = Status::Ok();
    for (localdb::MariadbSession& session : sessions) {
      started = session.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
      if (!started.ok()) break;
    }
    Result<BinlogPosition> at = BinlogPosition{};
    Result<localdb::SqlRows> master = localdb::SqlRows{};
    if (started.ok()) {
      if (mariadb) {
        at = SnapshotBinlogPosition(first);
      } else {
        master = first.Query("SHOW MASTER STATUS");
      }
    }
    Status unlock = first.Execute("UNLOCK TABLES");
    EDDY_RETURN_IF_ERROR(started);
    EDDY_RETURN_IF_ERROR(unlock);
    if (mariadb) {
      if (!at.ok()) return at.status();
      position.end = std::move(*at);
    } else {
      if (!master.ok()) return master.status();
      if (master->rows.empty()) {
        return FailedPrecondition("SHOW MASTER STATUS is empty: log_bin is off");
      }
      position.end.file = master->Get(0, "File").value_or("");
      position.end.offset =
          std::strtoull(master->Get(0, "Position").value_or("0").c_str(), nullptr, 10);
      position.gtid.text = master->Get(0, "Executed_Gtid_Set").value_or("");
    }
  }
  localdb::MariadbSession& first = sessions.front();
  if (mariadb) {
    auto gtid = first.Query("SELECT BINLOG_GTID_POS(" + first.Quote(position.end.file) + ", " +
                            std::to_string(position.end.offset) + ")");
    if (gtid.ok() && !gtid->rows.empty()) position.gtid.text = gtid->rows[0][0].value_or("");
  }
  auto server_id = first.Query("SELECT @@server_id");
  if (server_id.ok() && !server_id->rows.empty()) {
    position.server_id = static_cast<uint32_t>(
        std::strtoul(server_id->rows[0][0].value_or("0").c_str(), nullptr, 10));
  }
  return position;
}

}  // namespace

Result<MysqlPosition> Snapshotter::RunParallel(
    const std::function<void(const SnapshotProgress&)>& on_progress) {
  auto log = logging::Get("mysql");
  const size_t workers = options_.parallelism;
  std::vector<localdb::MariadbSession> sessions;
  for (size_t i = 0; i < workers; ++i) {
    EDDY_ASSIGN_OR_RETURN(localdb::MariadbSession session, OpenSnapshotSession(options_.endpoint));
    sessions.push_back(std::move(session));
  }
  EDDY_ASSIGN_OR_RETURN(MysqlPosition position,
                        StartConsistentSnapshots(sessions, options_.mariadb));
  log->info("mysql snapshot started position={} gtid={} connections={}", position.end.ToString(),
            position.gtid.text, workers);
  localdb::MariadbSession& first = sessions.front();

  // The tables, described and versioned on this thread; large ones split into key ranges
  // (counted inside the snapshot, so the ranges cover exactly its rows).
  std::set<std::string> filter(options_.tables.begin(), options_.tables.end());
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows table_rows,
      first.Query("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
                  "WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME"));
  struct Table {
    SnapshotTable described;
    std::vector<std::string> names;  // column names, for SnapshotRowEncoding
    std::string select;
    size_t units = 0;
  };
  struct Unit {
    size_t table = 0;
    std::string where;  // "" or " WHERE <key range>"
  };
  std::vector<Table> tables;
  std::vector<Unit> units;
  for (const auto& row : table_rows.rows) {
    std::string database = row[0].value_or("");
    std::string name = row[1].value_or("");
    if (IsSystemDatabase(database)) continue;
    if (!filter.empty() && filter.count(database + "." + name) == 0) continue;
    model::TableId id{database, "", name};
    Table table;
    EDDY_ASSIGN_OR_RETURN(table.described, DescribeSnapshotTable(first, id, options_.mariadb));
    model::TableSchema& schema = table.described.schema;
    if (options_.schemas != nullptr) {
      SetTypeModifiers(schema);
      Result<uint32_t> version = options_.schemas->AssignVersion(schema);
      if (!version.ok()) {
        return version.status().WithContext("recording the schema of " + id.QualifiedName());
      }
      schema.version = *version;
    } else if (options_.history != nullptr) {
      EDDY_RETURN_IF_ERROR(options_.history->AssignVersion(schema, position.end));
    }
    table.select = SnapshotSelect(id, table.described.columns);
    for (const SnapshotColumn& column : table.described.columns) table.names.push_back(column.name);
    std::vector<std::string> key_names;
    for (size_t index : table.described.key_indexes) {
      key_names.push_back(table.described.columns[index].name);
    }
    EDDY_ASSIGN_OR_RETURN(
        std::vector<std::vector<std::string>> boundaries,
        KeyRangeBoundaries(first, id, key_names, "", workers, options_.chunk_rows));
    size_t index = tables.size();
    for (size_t i = 0; i <= boundaries.size(); ++i) {
      std::vector<std::string> where;
      if (i > 0) where.push_back(KeyAfterCondition(first, key_names, boundaries[i - 1]));
      if (i < boundaries.size())
        where.push_back(KeyAtMostCondition(first, key_names, boundaries[i]));
      std::string clause;
      for (size_t w = 0; w < where.size(); ++w) clause += (w == 0 ? " WHERE " : " AND ") + where[w];
      units.push_back(Unit{index, std::move(clause)});
    }
    table.units = boundaries.size() + 1;
    tables.push_back(std::move(table));
  }
  SnapshotProgress progress;
  progress.tables = tables.size();
  on_progress(progress);

  // Reading connections -> bounded queue -> this thread, which appends.
  // Rows encoded by a reader (SnapshotRowEncoding::Finish): partition key, key and after rows.
  struct Batch {
    size_t table = 0;
    std::vector<std::pair<std::string, std::string>> rows;
    bool unit_end = false;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Batch> queue;
  Status failure = Status::Ok();
  bool stop = false;
  size_t running = workers;
  std::atomic<size_t> next_unit{0};
  const int64_t snapshot_ns = SystemClock::Instance().NowNanos();
  auto push = [&](Batch batch) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop || queue.size() < kQueuedBatches; });
    if (stop) return false;
    queue.push_back(std::move(batch));
    cv.notify_all();
    return true;
  };
  auto fail = [&](Status status) {
    std::lock_guard lock(mu);
    if (failure.ok()) failure = std::move(status);
    stop = true;
    cv.notify_all();
  };
  auto read = [&](localdb::MariadbSession* session) {
    while (true) {
      size_t index = next_unit.fetch_add(1);
      if (index >= units.size() || cancelled_) break;
      const Unit& unit = units[index];
      const Table& table = tables[unit.table];
      const model::TableId& id = table.described.schema.table;
      const std::vector<SnapshotColumn>& columns = table.described.columns;
      std::string select = table.select + unit.where;
      MYSQL* mysql = session->raw();
      if (mysql_real_query(mysql, select.data(), select.size()) != 0) {
        return fail(Unavailable("snapshot of " + id.QualifiedName() + ": " + mysql_error(mysql)));
      }
      MYSQL_RES* result = mysql_use_result(mysql);
      if (result == nullptr) {
        return fail(Unavailable("snapshot of " + id.QualifiedName() + ": " + mysql_error(mysql)));
      }
      std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> result_guard(result, mysql_free_result);
      if (mysql_num_fields(result) != columns.size()) {
        return fail(FailedPrecondition("snapshot of " + id.QualifiedName() +
                                       ": the table's columns changed while reading its schema"));
      }
      SnapshotRowEncoding encoding(id, table.names, table.described.key_indexes);
      Batch batch{unit.table, {}, false};
      batch.rows.reserve(kBatchRows);
      while (MYSQL_ROW row = mysql_fetch_row(result)) {
        if (cancelled_) return fail(Aborted("snapshot cancelled"));
        Status encoded = EncodeTextRow(columns, row, mysql_fetch_lengths(result), encoding);
        auto& [key, rows] = batch.rows.emplace_back();
        if (encoded.ok()) encoded = encoding.Finish(key, rows);
        if (!encoded.ok()) return fail(encoded.WithContext("snapshot of " + id.QualifiedName()));
        if (batch.rows.size() >= kBatchRows) {
          if (!push(std::move(batch))) return;
          batch = Batch{unit.table, {}, false};
          batch.rows.reserve(kBatchRows);
        }
      }
      if (mysql_errno(mysql) != 0) {
        return fail(Unavailable("snapshot of " + id.QualifiedName() +
                                " interrupted: " + mysql_error(mysql)));
      }
      batch.unit_end = true;
      if (!push(std::move(batch))) return;
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < workers; ++i) {
    threads.emplace_back([&, i] {
      NameCurrentThread("mysql-snap-" + std::to_string(i));
      read(&sessions[i]);
      std::lock_guard lock(mu);
      --running;
      cv.notify_all();
    });
  }

  // Numbered and encoded here as the sequential snapshot does (source/snapshot_records.h).
  const SourcePosition snapshot_position(position);
  model::ChangeEvent shared;
  shared.position = snapshot_position;
  shared.commit_time_ns = snapshot_ns;
  shared.transaction_id = "snapshot:" + position.end.ToString();
  shared.source.connector =
      options_.mariadb ? model::ConnectorKind::kMariadb : model::ConnectorKind::kMysql;
  shared.source.server_name = options_.server_name;
  SnapshotRecordWriter writer(std::move(shared));
  SnapshotTransaction appender(*stream_, writer, options_.chunk_rows);
  std::vector<log::AppendRecord>& chunk = appender.part();
  std::vector<size_t> units_left(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) units_left[i] = tables[i].units;
  Status appended = Status::Ok();
  while (appended.ok()) {
    Batch batch;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !queue.empty() || running == 0 || stop; });
      if (stop || (queue.empty() && running == 0)) break;
      batch = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    const model::TableSchema& schema = tables[batch.table].described.schema;
    writer.SetTable(schema.table, schema.version, SystemClock::Instance().NowNanos());
    for (const auto& [key, rows] : batch.rows) {
      writer.Add(key, rows, chunk);
      if (appender.part_full()) {
        appended = appender.WritePart();
        if (!appended.ok()) break;
      }
    }
    progress.rows += batch.rows.size();
    progress.table = schema.table.QualifiedName();
    if (batch.unit_end && --units_left[batch.table] == 0) {
      progress.tables_done++;
      log->info("mysql snapshot table done table={} rows_total={}", progress.table, progress.rows);
    }
    on_progress(progress);
  }
  if (!appended.ok()) fail(appended);
  for (std::thread& thread : threads) thread.join();
  if (!failure.ok()) return failure;
  if (cancelled_) return Aborted("snapshot cancelled");
  EDDY_RETURN_IF_ERROR(writer.Finish(chunk));
  EDDY_RETURN_IF_ERROR(appender.Commit(snapshot_position));
  for (localdb::MariadbSession& session : sessions) EDDY_RETURN_IF_ERROR(session.Execute("COMMIT"));
  on_progress(progress);
  log->info("mysql snapshot finished rows={} tables={} position={} connections={}", progress.rows,
            progress.tables, position.end.ToString(), workers);
  return position;
}

}  // namespace eddy::source::mysql

#include "sink/opensearch/bulk.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "aws/sigv4.h"
#include "format/json.h"
#include "format/renderers.h"
#include "format/value_text.h"

namespace eddy::sink::opensearch {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

// A decimal text that is also a JSON number ("-12.30"; not "1.", ".5" or "NaN").
bool IsJsonNumber(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  size_t digits = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == digits) return false;
  if (text[digits] == '0' && i - digits > 1) return false;
  if (i < text.size() && text[i] == '.') {
    size_t fraction = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == fraction) return false;
  }
  return i == text.size();
}

// One key value as text (see DocumentId).
std::string KeyText(const model::Value& value) {
  using model::ValueType;
  switch (value.type()) {
    case ValueType::kBool:
      return value.Get<bool>() ? "true" : "false";
    case ValueType::kInt64:
      return std::to_string(value.Get<int64_t>());
    case ValueType::kUint64:
      return std::to_string(value.Get<uint64_t>());
    case ValueType::kDecimal:
      return value.Get<model::DecimalValue>().text;
    case ValueType::kText:
      return value.Get<std::string>();
    case ValueType::kBytes:
      return format::Base64Encode(value.Get<model::BytesValue>().data);
    case ValueType::kDate:
      return format::FormatDate(value.Get<model::DateValue>());
    case ValueType::kTime:
      return format::FormatTime(value.Get<model::TimeValue>().micros);
    case ValueType::kTimeTz:
      return format::FormatTimeTz(value.Get<model::TimeTzValue>());
    case ValueType::kTimestamp:
      return format::FormatTimestamp(value.Get<model::TimestampValue>());
    case ValueType::kTimestampTz:
      return format::FormatTimestampTz(value.Get<model::TimestampTzValue>());
    case ValueType::kUuid:
      return value.Get<model::UuidValue>().ToString();
    case ValueType::kEnum:
      return value.Get<model::EnumValue>().label;
    case ValueType::kBits:
      return value.Get<model::BitsValue>().bits;
    case ValueType::kTypedText:
      return value.Get<model::TypedTextValue>().text;
    default: {  // floats, intervals, json, arrays: their native JSON text
      format::JsonWriter writer;
      format::WriteNativeValue(writer, value);
      return writer.Take();
    }
  }
}

std::string_view Text(simdjson::dom::element object, const char* key) {
  std::string_view value;
  if (object[key].get(value) != simdjson::SUCCESS) return {};
  return value;
}

// The error of an item or a reply: {"type":..,"reason":..} or a plain string.
void ReadError(simdjson::dom::element error, std::string* type, std::string* reason) {
  std::string_view text;
  if (error.get(text) == simdjson::SUCCESS) {
    *type = "error";
    *reason = std::string(text.substr(0, 1000));
    return;
  }
  if (!error.is_object()) return;
  *type = std::string(Text(error, "type").substr(0, 200));
  *reason = std::string(Text(error, "reason").substr(0, 1000));
  if (type->empty()) *type = "error";
}

void AppendTwoDigits(std::string& out, int64_t value) {
  out.push_back(static_cast<char>('0' + value / 10 % 10));
  out.push_back(static_cast<char>('0' + value % 10));
}

void AppendYear(std::string& out, int64_t year) {
  std::string digits = std::to_string(year < 0 ? -year : year);
  if (year < 0) out.push_back('m');  // '-' would read as a separator
  if (digits.size() < 4) out.append(4 - digits.size(), '0');
  out += digits;
}

void WriteMapping(format::JsonWriter& writer, const model::Column& column, DecimalMode decimals) {
  model::ValueType type =
      column.type == model::ValueType::kArray ? column.element_type : column.type;
  writer.BeginObject();
  switch (type) {
    case model::ValueType::kBool:
      writer.Member("type", "boolean");
      break;
    case model::ValueType::kInt64:
      writer.Member("type", "long");
      break;
    case model::ValueType::kUint64:
      writer.Member("type", "unsigned_long");
      break;
    case model::ValueType::kFloat32:
      writer.Member("type", "float");
      break;
    case model::ValueType::kFloat64:
      writer.Member("type", "double");
      break;
    case model::ValueType::kDecimal:
      if (decimals == DecimalMode::kString) {
        writer.Member("type", "keyword");
      } else if (column.scale.has_value() && *column.scale >= 0 && *column.scale <= 9 &&
                 column.precision.has_value() && *column.precision <= 15) {
        writer.Member("type", "scaled_float");
        int64_t factor = 1;
        for (int32_t i = 0; i < *column.scale; ++i) factor *= 10;
        writer.MemberInt("scaling_factor", factor);
      } else {
        writer.Member("type", "double");
      }
      break;
    case model::ValueType::kBytes:
      writer.Member("type", "binary");
      break;
    case model::ValueType::kDate:
    case model::ValueType::kTimestamp:
    case model::ValueType::kTimestampTz:
      writer.Member("type", "date");
      break;
    case model::ValueType::kJson:
      writer.Member("type", "object");
      writer.Key("enabled");
      writer.Bool(false);
      break;
    default:  // text, enum, uuid, time, timetz, interval, bits, typed text
      writer.Member("type", "keyword");
      break;
  }
  writer.EndObject();
}

}  // namespace

std::string_view ActionName(ActionKind kind) {
  return kind == ActionKind::kIndex ? "index" : "delete";
}

void AppendBulkAction(const BulkAction& action, std::string* out) {
  format::JsonWriter writer = format::JsonWriter::Appending(std::move(*out));
  writer.BeginObject();
  writer.Key(ActionName(action.kind));
  writer.BeginObject();
  writer.Member("_index", action.index);
  writer.Member("_id", action.id);
  writer.Key("version");
  writer.Uint(action.version);
  writer.Member("version_type", kVersionType);
  writer.EndObject();
  writer.EndObject();
  *out = writer.Take();
  out->push_back('\n');
  if (action.kind == ActionKind::kIndex) {
    *out += action.source;
    out->push_back('\n');
  }
}

Result<std::vector<BulkItemResult>> ParseBulkResponse(std::string_view body, size_t expected) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element document;
  simdjson::dom::array items;
  if (parser.parse(padded).get(document) != simdjson::SUCCESS || !document.is_object()) {
    return Corruption("the _bulk reply is not JSON: " + std::string(body.substr(0, 200)));
  }
  if (document["items"].get_array().get(items) != simdjson::SUCCESS) {
    if (expected == 0) return std::vector<BulkItemResult>();
    return Corruption("the _bulk reply has no items array: " + std::string(body.substr(0, 200)));
  }
  std::vector<BulkItemResult> results;
  results.reserve(expected);
  for (simdjson::dom::element item : items) {
    simdjson::dom::object wrapper;
    if (item.get_object().get(wrapper) != simdjson::SUCCESS || wrapper.size() != 1) {
      return Corruption("a _bulk reply item is not an object with one action member");
    }
    if (results.size() == expected) break;  // counted below
    BulkItemResult result;
    simdjson::dom::element inner;
    for (auto [name, value] : wrapper) {
      result.action = std::string(name.substr(0, 32));
      inner = value;
    }
    int64_t status = 0;
    if (!inner.is_object() || inner["status"].get(status) != simdjson::SUCCESS || status < 100 ||
        status > 599) {
      return Corruption("a _bulk reply item has no HTTP status");
    }
    result.status = static_cast<int>(status);
    simdjson::dom::element error;
    if (inner["error"].get(error) == simdjson::SUCCESS) {
      ReadError(error, &result.error_type, &result.error_reason);
    }
    results.push_back(std::move(result));
  }
  if (results.size() != expected || items.size() != expected) {
    return Corruption("the _bulk reply has " + std::to_string(items.size()) + " items for " +
                      std::to_string(expected) + " actions sent");
  }
  return results;
}

ItemOutcome ClassifyItem(ActionKind kind, const BulkItemResult& item) {
  if (item.status == 200 || item.status == 201) return ItemOutcome::kApplied;
  if (item.status == 409) return ItemOutcome::kApplied;
  if (item.status == 404 && kind == ActionKind::kDelete &&
      (item.error_type.empty() || item.error_type == "not_found")) {
    return ItemOutcome::kApplied;
  }
  if (item.status == 429 || item.status >= 500) return ItemOutcome::kRetriable;
  return ItemOutcome::kPermanent;
}

Result<uint64_t> ExternalVersion(const SourcePosition& position, uint64_t ordinal) {
  if (const PostgresPosition* postgres = position.postgres()) {
    uint64_t lsn = postgres->commit_end_lsn.value();
    if (lsn == 0 || lsn >= (uint64_t{1} << (63 - kPostgresOrdinalBits))) {
      return InvalidArgument("the change's PostgreSQL position " + position.ToString() +
                             " gives no external version (a commit LSN from 1 to 2^47 is needed)");
    }
    uint64_t low = std::min<uint64_t>(ordinal, (uint64_t{1} << kPostgresOrdinalBits) - 1);
    return (lsn << kPostgresOrdinalBits) | low;
  }
  if (const MysqlPosition* mysql = position.mysql()) {
    std::string_view file = mysql->end.file;
    size_t dot = file.rfind('.');
    std::string_view suffix = dot == std::string_view::npos ? file : file.substr(dot + 1);
    uint64_t number = 0;
    auto [end, error] = std::from_chars(suffix.data(), suffix.data() + suffix.size(), number);
    if (suffix.empty() || error != std::errc() || end != suffix.data() + suffix.size() ||
        number >= (uint64_t{1} << 20) || mysql->end.offset >= (uint64_t{1} << 32)) {
      return InvalidArgument("the change's binlog position " + position.ToString() +
                             " gives no external version (a binlog file name ending in a number "
                             "below 2^20 and an offset below 2^32 are needed)");
    }
    uint64_t low = std::min<uint64_t>(ordinal, (uint64_t{1} << kMysqlOrdinalBits) - 1);
    return (((number << 32) | mysql->end.offset) << kMysqlOrdinalBits) | low;
  }
  return InvalidArgument(
      "the record has no source position; the opensearch sink needs a CDC stream (eddy run "
      "--source ...)");
}

Result<std::string> DocumentId(const model::Row& key) {
  if (key.empty()) {
    return InvalidArgument(
        "the table has no primary key (or replica identity), so its rows have no document "
        "_id; add a primary key or leave the table out of the sink (filter)");
  }
  std::string id;
  for (size_t i = 0; i < key.size(); ++i) {
    const model::Value& value = key[i].value;
    if (value.is_null() || value.is_unavailable()) {
      return InvalidArgument("key column '" + key[i].name + "' is NULL; it cannot make an _id");
    }
    std::string text = KeyText(value);
    if (key.size() == 1) {
      id = std::move(text);
      break;
    }
    if (i > 0) id.push_back('|');
    for (char c : text) {
      if (c == '|' || c == '\\') id.push_back('\\');
      id.push_back(c);
    }
  }
  if (id.empty()) return InvalidArgument("the key renders as an empty _id");
  if (id.size() > kMaxIdBytes) id = "sha256:" + aws::Sha256Hex(id);
  return id;
}

Result<model::Row> KeyOf(const model::Row& row, const model::Row& key_names) {
  model::Row key;
  key.reserve(key_names.size());
  for (const model::Field& field : key_names) {
    const model::Value* value = model::FindField(row, field.name);
    if (value == nullptr) return NotFound("the row image lacks key column '" + field.name + "'");
    key.push_back({field.name, *value});
  }
  return key;
}

std::string IndexName(const IndexTemplate& index, IndexRotation rotation,
                      const model::TableId& table, int64_t arrival_nanos) {
  std::string name;
  auto substitute = [&name](std::string_view text) {
    for (char c : text) {
      if (c >= 'A' && c <= 'Z') {
        name.push_back(static_cast<char>(c - 'A' + 'a'));
      } else if (c == '\\' || c == '/' || c == '*' || c == '?' || c == '"' || c == '<' ||
                 c == '>' || c == '|' || c == ' ' || c == ',' || c == '#' || c == ':' ||
                 static_cast<unsigned char>(c) < 0x20) {
        name.push_back('_');
      } else {
        name.push_back(c);
      }
    }
  };
  for (const IndexTemplate::Piece& piece : index.pieces) {
    switch (piece.part) {
      case IndexTemplate::Part::kLiteral:
        name += piece.text;
        break;
      case IndexTemplate::Part::kDatabase:
        substitute(table.database);
        break;
      case IndexTemplate::Part::kSchema:
        substitute(table.schema);
        break;
      case IndexTemplate::Part::kTable:
        substitute(table.name);
        break;
    }
  }
  if (name.empty() || name.front() == '-' || name.front() == '_' || name.front() == '+') {
    name.insert(0, "x");
  }
  if (rotation == IndexRotation::kNoRotation) return name;
  int64_t seconds = format::FloorDiv(arrival_nanos, kNanosPerSecond);
  int64_t days = format::FloorDiv(seconds, 86'400);
  int64_t hour = format::FloorMod(seconds, 86'400) / 3600;
  model::CivilDate date = model::CivilFromDays(days);
  name.push_back('-');
  AppendYear(name, date.year);
  switch (rotation) {
    case IndexRotation::kOneHour:
      name.push_back('-');
      AppendTwoDigits(name, date.month);
      name.push_back('-');
      AppendTwoDigits(name, date.day);
      name.push_back('-');
      AppendTwoDigits(name, hour);
      break;
    case IndexRotation::kOneDay:
      name.push_back('-');
      AppendTwoDigits(name, date.month);
      name.push_back('-');
      AppendTwoDigits(name, date.day);
      break;
    case IndexRotation::kOneWeek: {
      // strftime's %U: weeks start on Sunday; days before the year's first Sunday are week 0.
      int64_t year_day = days - model::DaysFromCivil(model::CivilDate{date.year, 1, 1});
      int64_t weekday = format::FloorMod(days + 4, 7);  // 1970-01-01 was a Thursday; 0 = Sunday
      name += "-w";
      AppendTwoDigits(name, (year_day + 7 - weekday) / 7);
      break;
    }
    case IndexRotation::kOneMonth:
      name.push_back('-');
      AppendTwoDigits(name, date.month);
      break;
    case IndexRotation::kNoRotation:
      break;
  }
  return name;
}

void WriteDocument(const model::Row& row, DecimalMode decimals, std::string* out) {
  format::JsonWriter writer(std::move(*out));
  if (decimals == DecimalMode::kString) {
    format::WriteNativeRow(writer, row);
  } else {
    writer.BeginObject();
    for (const model::Field& field : row) {
      writer.Key(field.name);
      const auto* decimal = field.value.TryGet<model::DecimalValue>();
      if (decimal != nullptr && IsJsonNumber(decimal->text)) {
        writer.RawJson(decimal->text);
      } else {
        format::WriteNativeValue(writer, field.value);
      }
    }
    writer.EndObject();
  }
  *out = writer.Take();
}

std::string IndexCreationBody(const model::TableSchema& schema, DecimalMode decimals) {
  format::JsonWriter writer;
  writer.BeginObject();
  writer.Key("mappings");
  writer.BeginObject();
  writer.Key("properties");
  writer.BeginObject();
  for (const model::Column& column : schema.columns) {
    writer.Key(column.name);
    WriteMapping(writer, column, decimals);
  }
  writer.EndObject();
  writer.EndObject();
  writer.EndObject();
  return writer.Take();
}

std::string FailedDocumentLine(const BulkAction& action, const BulkItemResult& item, int attempts,
                               int64_t arrival_millis, int64_t now_millis) {
  std::string raw;
  AppendBulkAction(action, &raw);
  format::JsonWriter message;
  message.BeginObject();
  message.Member("type", item.error_type);
  message.Member("reason", item.error_reason);
  message.EndObject();
  format::JsonWriter writer;
  writer.BeginObject();
  writer.MemberInt("attemptsMade", attempts);
  writer.MemberInt("arrivalTimestamp", arrival_millis);
  writer.Member("errorCode", std::to_string(item.status));
  writer.Member("errorMessage", message.str());
  writer.MemberInt("attemptEndingTimestamp", now_millis);
  writer.Member("esDocumentId", action.id);
  writer.Member("esIndexName", action.index);
  writer.Member("esTypeName", "");
  writer.MemberBase64("rawData", raw);
  writer.EndObject();
  std::string line = writer.Take();
  line.push_back('\n');
  return line;
}

Status ErrorFromReply(std::string_view request, int http_status, std::string_view body,
                      std::string_view endpoint) {
  std::string type;
  std::string reason;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element document;
  simdjson::dom::element error;
  if (parser.parse(padded).get(document) == simdjson::SUCCESS && document.is_object() &&
      document["error"].get(error) == simdjson::SUCCESS) {
    ReadError(error, &type, &reason);
  }
  std::string what = "OpenSearch " + std::string(request) + " at " + std::string(endpoint) +
                     " answered HTTP " + std::to_string(http_status);
  if (!type.empty()) what += " " + type;
  if (!reason.empty()) what += ": " + reason;
  if (type.empty() && !body.empty()) {
    std::string excerpt(body.substr(0, 200));
    for (char& c : excerpt) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    what += ": " + excerpt;
  }
  if (http_status == 429 || http_status >= 500) return Unavailable(what);
  if (http_status == 401) {
    return PermissionDenied(what +
                            "; check the user and password (the sink URL's USER:PASSWORD@ or "
                            "the username and password settings)");
  }
  if (http_status == 403) {
    return PermissionDenied(what +
                            "; the user needs the indices:data/write/bulk and "
                            "indices:admin/create permissions on the sink's indexes");
  }
  if (http_status == 413) {
    return FailedPrecondition(what +
                              "; lower bulk_max_bytes below the server's http.max_content_length");
  }
  return FailedPrecondition(what);
}

}  // namespace eddy::sink::opensearch

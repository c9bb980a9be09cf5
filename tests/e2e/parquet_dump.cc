// Prints every row of a Parquet file as read by eddy's Parquet reader (parquet/reader.h), for
// tests/e2e/parquet_reader_foreign.mjs to compare with what DuckDB reads from the same file.
//
//   parquet_dump FILE   ->  one JSON array per row: each value as a string (or null):
//     integers and decimals as decimal text, booleans true/false, floats %.17g, text as is,
//     bytes as upper-case hex, dates as days since 1970-01-01, times and timestamps as
//     microseconds, UUIDs in canonical form.
// Exit 1 with the reader's error on stderr when the file cannot be read.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "io/file_system.h"
#include "parquet/reader.h"

namespace {

std::string Json(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out += escape;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string Text(const eddy::model::Value& value) {
  using eddy::model::ValueType;
  char buffer[64];
  switch (value.type()) {
    case ValueType::kBool:
      return value.Get<bool>() ? "true" : "false";
    case ValueType::kInt64:
      return std::to_string(value.Get<int64_t>());
    case ValueType::kUint64:
      return std::to_string(value.Get<uint64_t>());
    case ValueType::kFloat32:
      std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<double>(value.Get<float>()));
      return buffer;
    case ValueType::kFloat64:
      std::snprintf(buffer, sizeof buffer, "%.17g", value.Get<double>());
      return buffer;
    case ValueType::kDecimal:
      return value.Get<eddy::model::DecimalValue>().text;
    case ValueType::kText:
      return value.Get<std::string>();
    case ValueType::kJson:
      return value.Get<eddy::model::JsonValue>().text;
    case ValueType::kBytes: {
      std::string hex;
      for (unsigned char c : value.Get<eddy::model::BytesValue>().data) {
        std::snprintf(buffer, sizeof buffer, "%02X", c);
        hex += buffer;
      }
      return hex;
    }
    case ValueType::kDate:
      return std::to_string(value.Get<eddy::model::DateValue>().days);
    case ValueType::kTime:
      return std::to_string(value.Get<eddy::model::TimeValue>().micros);
    case ValueType::kTimestamp:
      return std::to_string(value.Get<eddy::model::TimestampValue>().micros);
    case ValueType::kTimestampTz:
      return std::to_string(value.Get<eddy::model::TimestampTzValue>().micros);
    case ValueType::kUuid:
      return value.Get<eddy::model::UuidValue>().ToString();
    default:
      return value.DebugString();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: parquet_dump FILE\n");
    return 2;
  }
  auto bytes = eddy::io::DefaultFileSystem()->ReadFile(argv[1]);
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s\n", bytes.status().ToString().c_str());
    return 1;
  }
  auto reader = eddy::parquet::ParquetReader::Open(*bytes);
  if (!reader.ok()) {
    std::fprintf(stderr, "%s\n", reader.status().ToString().c_str());
    return 1;
  }
  auto rows = reader->ReadRows();
  if (!rows.ok()) {
    std::fprintf(stderr, "%s\n", rows.status().ToString().c_str());
    return 1;
  }
  std::string out;
  for (const eddy::model::Row& row : *rows) {
    out += '[';
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      out += row[i].value.is_null() ? "null" : Json(Text(row[i].value));
    }
    out += "]\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

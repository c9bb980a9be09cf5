// Test helpers: hand-built binlog events (header, checksum, TABLE_MAP with optional metadata,
// QUERY bodies, MariaDB compressed payloads). Header-only; for tests and fuzz seeds only.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "source/mysql/binlog_event.h"

namespace eddy::source::mysql::testutil {

inline std::string Le(uint64_t v, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

inline std::string LengthEncoded(uint64_t v) {
  if (v < 251) return std::string(1, static_cast<char>(v));
  if (v < 65536) return "\xfc" + Le(v, 2);
  if (v < (1u << 24)) return "\xfd" + Le(v, 3);
  return "\xfe" + Le(v, 8);
}

// A whole event: header + body (+ CRC32 when `checksum`).
inline std::string BuildEvent(EventType type, const std::string& body, uint32_t log_pos,
                              bool checksum, uint32_t server_id = 1, uint32_t timestamp = 1700000000,
                              uint16_t flags = 0) {
  uint32_t size = static_cast<uint32_t>(kEventHeaderSize + body.size() + (checksum ? 4 : 0));
  std::string event = Le(timestamp, 4) + std::string(1, static_cast<char>(type)) +
                      Le(server_id, 4) + Le(size, 4) + Le(log_pos, 4) + Le(flags, 2) + body;
  if (checksum) event += Le(BinlogCrc32(event), 4);
  return event;
}

// Post-header lengths as MariaDB 10.11 writes them (index = type - 1), enough for our types.
inline std::string PostHeaderTable() {
  std::string table(171, '\0');
  table[static_cast<size_t>(EventType::kQuery) - 1] = 13;
  table[static_cast<size_t>(EventType::kRotate) - 1] = 8;
  table[static_cast<size_t>(EventType::kFormatDescription) - 1] = 84;
  table[static_cast<size_t>(EventType::kTableMap) - 1] = 8;
  for (int t : {23, 24, 25}) table[static_cast<size_t>(t) - 1] = 8;
  for (int t : {30, 31, 32}) table[static_cast<size_t>(t) - 1] = 10;
  table[static_cast<size_t>(EventType::kAnnotateRows) - 1] = 0;
  table[static_cast<size_t>(EventType::kMariadbGtid) - 1] = 19;
  table[static_cast<size_t>(EventType::kGtidList) - 1] = 4;
  table[static_cast<size_t>(EventType::kQueryCompressed) - 1] = 13;
  for (int t : {166, 167, 168}) table[static_cast<size_t>(t) - 1] = 8;
  return table;
}

inline std::string BuildFormatDescription(const std::string& version, bool checksum,
                                          uint32_t log_pos = 256) {
  std::string body = Le(4, 2);
  std::string name = version;
  name.resize(50, '\0');
  body += name + Le(0, 4) + std::string(1, static_cast<char>(kEventHeaderSize)) + PostHeaderTable();
  body.push_back(static_cast<char>(checksum ? kChecksumAlgorithmCrc32 : kChecksumAlgorithmOff));
  return BuildEvent(EventType::kFormatDescription, body, log_pos, checksum);
}

// QUERY body with a sql_mode status variable; `query` appended after the db name.
inline std::string BuildQueryBody(uint32_t thread_id, const std::string& database,
                                  const std::string& query) {
  std::string status = std::string(1, '\x01') + Le(0x100, 8);  // Q_SQL_MODE_CODE
  return Le(thread_id, 4) + Le(0, 4) + std::string(1, static_cast<char>(database.size())) +
         Le(0, 2) + Le(status.size(), 2) + status + database + std::string(1, '\0') + query;
}

inline std::string CompressMariadb(const std::string& data) {
  uLongf bound = compressBound(static_cast<uLong>(data.size()));
  std::string out(bound, '\0');
  compress(reinterpret_cast<Bytef*>(out.data()), &bound,
           reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()));
  out.resize(bound);
  // Header: 0x80 | 4 length bytes, big-endian uncompressed length.
  std::string header(1, static_cast<char>(0x84));
  for (int i = 3; i >= 0; --i) header.push_back(static_cast<char>(data.size() >> (8 * i)));
  return header + out;
}

class TableMapBuilder {
 public:
  TableMapBuilder(uint64_t table_id, std::string database, std::string table)
      : table_id_(table_id), database_(std::move(database)), table_(std::move(table)) {}

  void Add(ColumnType type, const std::string& metadata, bool nullable) {
    types_.push_back(static_cast<char>(type));
    metadata_ += metadata;
    nullable_.push_back(nullable);
  }
  // Bits for numeric columns, in order.
  void Signedness(const std::vector<bool>& unsigned_bits) {
    std::string bitmap((unsigned_bits.size() + 7) / 8, '\0');
    for (size_t i = 0; i < unsigned_bits.size(); ++i) {
      if (unsigned_bits[i]) bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (0x80 >> (i % 8)));
    }
    Field(1, bitmap);
  }
  void DefaultCharset(uint64_t collation, const std::vector<std::pair<uint64_t, uint64_t>>& overrides) {
    std::string value = LengthEncoded(collation);
    for (auto [index, id] : overrides) value += LengthEncoded(index) + LengthEncoded(id);
    Field(2, value);
  }
  void ColumnCharsets(const std::vector<uint64_t>& collations) {
    std::string value;
    for (uint64_t id : collations) value += LengthEncoded(id);
    Field(3, value);
  }
  void EnumAndSetDefaultCharset(uint64_t collation) { Field(10, LengthEncoded(collation)); }
  void Names(const std::vector<std::string>& names) {
    std::string value;
    for (const auto& name : names) value += LengthEncoded(name.size()) + name;
    Field(4, value);
  }
  void EnumValues(const std::vector<std::vector<std::string>>& columns) { StringValues(6, columns); }
  void SetValues(const std::vector<std::vector<std::string>>& columns) { StringValues(5, columns); }
  void PrimaryKey(const std::vector<uint64_t>& columns) {
    std::string value;
    for (uint64_t c : columns) value += LengthEncoded(c);
    Field(8, value);
  }

  std::string Body() const {
    std::string body = Le(table_id_, 6) + Le(1, 2);
    body += std::string(1, static_cast<char>(database_.size())) + database_ + std::string(1, '\0');
    body += std::string(1, static_cast<char>(table_.size())) + table_ + std::string(1, '\0');
    body += LengthEncoded(types_.size()) + types_;
    body += LengthEncoded(metadata_.size()) + metadata_;
    std::string nulls((nullable_.size() + 7) / 8, '\0');
    for (size_t i = 0; i < nullable_.size(); ++i) {
      if (nullable_[i]) nulls[i / 8] = static_cast<char>(nulls[i / 8] | (1 << (i % 8)));
    }
    return body + nulls + optional_;
  }

 private:
  void Field(uint8_t type, const std::string& value) {
    optional_ += std::string(1, static_cast<char>(type)) + LengthEncoded(value.size()) + value;
  }
  void StringValues(uint8_t type, const std::vector<std::vector<std::string>>& columns) {
    std::string value;
    for (const auto& labels : columns) {
      value += LengthEncoded(labels.size());
      for (const auto& label : labels) value += LengthEncoded(label.size()) + label;
    }
    Field(type, value);
  }

  uint64_t table_id_;
  std::string database_;
  std::string table_;
  std::string types_;
  std::string metadata_;
  std::vector<bool> nullable_;
  std::string optional_;
};

}  // namespace eddy::source::mysql::testutil

#include "source/mysql/binlog_event.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <tuple>

#include "model/event_codec.h"

namespace eddy::source::mysql {
namespace {

// Prefixes a parser error with the event type and the byte offset inside the body.
Status EventError(uint8_t type, const ByteReader& reader, const Status& status) {
  return status.WithContext("binlog event " + EventTypeName(type) + " at body byte " +
                            std::to_string(reader.consumed()));
}
Status EventError(uint8_t type, size_t offset, const std::string& what) {
  return Corruption("binlog event " + EventTypeName(type) + " at body byte " +
                    std::to_string(offset) + ": " + what);
}

#define EDDY_EVENT_ASSIGN(declaration, expression, type, reader)            \
  auto EDDY_CONCAT(event_result_, __LINE__) = (expression);                 \
  if (!EDDY_CONCAT(event_result_, __LINE__).ok())                           \
    return EventError(type, reader, EDDY_CONCAT(event_result_, __LINE__).status()); \
  declaration = std::move(EDDY_CONCAT(event_result_, __LINE__)).value()

bool BitSetLsb(std::string_view bitmap, size_t index) {
  return (static_cast<uint8_t>(bitmap[index / 8]) >> (index % 8)) & 1;
}
bool BitSetMsb(std::string_view bitmap, size_t index) {
  return (static_cast<uint8_t>(bitmap[index / 8]) >> (7 - index % 8)) & 1;
}

// "10.11.6-MariaDB-log" -> (10, 11, 6).
std::tuple<int, int, int> ParseVersion(std::string_view version) {
  int parts[3] = {0, 0, 0};
  size_t part = 0;
  for (char c : version) {
    if (c >= '0' && c <= '9') {
      parts[part] = parts[part] * 10 + (c - '0');
      if (parts[part] > 100000) break;
    } else if (c == '.' && part < 2) {
      ++part;
    } else {
      break;
    }
  }
  return {parts[0], parts[1], parts[2]};
}

Result<std::string_view> ReadLengthEncodedBytes(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint64_t length, ReadLengthEncoded(reader));
  return reader.ReadBytes(length);
}

// Optional metadata field types of TABLE_MAP (binlog_row_metadata).
enum OptionalMetadata : uint8_t {
  kSignedness = 1,
  kDefaultCharset = 2,
  kColumnCharset = 3,
  kColumnName = 4,
  kSetStrValue = 5,
  kEnumStrValue = 6,
  kGeometryType = 7,
  kSimplePrimaryKey = 8,
  kPrimaryKeyWithPrefix = 9,
  kEnumAndSetDefaultCharset = 10,
  kEnumAndSetColumnCharset = 11,
  kColumnVisibility = 12,
};

// Applies a DEFAULT_CHARSET-style field (default collation + (index, collation) overrides) to
// the columns selected by `selected`.
template <typename Select>
Status ApplyDefaultCharset(std::string_view value, std::vector<ColumnInfo>& columns,
                           Select selected) {
  ByteReader reader(value);
  EDDY_ASSIGN_OR_RETURN(uint64_t default_collation, ReadLengthEncoded(reader));
  std::vector<ColumnInfo*> targets;
  for (ColumnInfo& column : columns) {
    if (selected(column)) targets.push_back(&column);
  }
  for (ColumnInfo* column : targets) column->collation = static_cast<uint32_t>(default_collation);
  while (!reader.empty()) {
    EDDY_ASSIGN_OR_RETURN(uint64_t index, ReadLengthEncoded(reader));
    EDDY_ASSIGN_OR_RETURN(uint64_t collation, ReadLengthEncoded(reader));
    if (index >= targets.size()) {
      return Corruption("charset override for column " + std::to_string(index) + " of " +
                        std::to_string(targets.size()));
    }
    targets[index]->collation = static_cast<uint32_t>(collation);
  }
  return Status::Ok();
}

template <typename Select>
Status ApplyColumnCharset(std::string_view value, std::vector<ColumnInfo>& columns,
                          Select selected) {
  ByteReader reader(value);
  for (ColumnInfo& column : columns) {
    if (!selected(column)) continue;
    EDDY_ASSIGN_OR_RETURN(uint64_t collation, ReadLengthEncoded(reader));
    column.collation = static_cast<uint32_t>(collation);
  }
  return Status::Ok();
}

Status ApplyStringValues(std::string_view value, std::vector<ColumnInfo>& columns,
                         uint8_t real_type) {
  ByteReader reader(value);
  for (ColumnInfo& column : columns) {
    if (column.real_type != real_type) continue;
    EDDY_ASSIGN_OR_RETURN(uint64_t count, ReadLengthEncoded(reader));
    if (count > reader.remaining()) {
      return Corruption("ENUM/SET with " + std::to_string(count) + " values in " +
                        std::to_string(reader.remaining()) + " bytes");
    }
    column.enum_values.clear();
    column.enum_values.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      EDDY_ASSIGN_OR_RETURN(std::string_view label, ReadLengthEncodedBytes(reader));
      column.enum_values.emplace_back(label);
    }
  }
  return Status::Ok();
}

Status ApplyOptionalMetadata(uint8_t field, std::string_view value, TableMapEvent& table,
                             bool mariadb) {
  std::vector<ColumnInfo>& columns = table.columns;
  switch (field) {
    case kSignedness: {
      size_t numeric = 0;
      for (ColumnInfo& column : columns) {
        // MariaDB's YEAR is a numeric field (always flagged unsigned); MySQL skips it.
        bool counted = column.IsNumeric() ||
                       (mariadb && column.type == static_cast<uint8_t>(ColumnType::kYear));
        if (!counted) continue;
        if (numeric / 8 >= value.size()) return Corruption("SIGNEDNESS bitmap too short");
        column.is_unsigned = BitSetMsb(value, numeric);
        ++numeric;
      }
      table.has_signedness = true;
      return Status::Ok();
    }
    // MariaDB gives GEOMETRY columns (blobs with the binary collation) an entry among the
    // character columns; MySQL does not. Skipping it there shifted every later column's
    // collation by one (a TEXT column after a GEOMETRY one came out binary).
    case kDefaultCharset:
      return ApplyDefaultCharset(value, columns, [mariadb](const ColumnInfo& c) {
        return c.IsCharacter() ||
               (mariadb && c.real_type == static_cast<uint8_t>(ColumnType::kGeometry));
      });
    case kColumnCharset:
      return ApplyColumnCharset(value, columns, [mariadb](const ColumnInfo& c) {
        return c.IsCharacter() ||
               (mariadb && c.real_type == static_cast<uint8_t>(ColumnType::kGeometry));
      });
    case kEnumAndSetDefaultCharset:
      return ApplyDefaultCharset(value, columns,
                                 [](const ColumnInfo& c) { return c.IsEnumOrSet(); });
    case kEnumAndSetColumnCharset:
      return ApplyColumnCharset(value, columns,
                                [](const ColumnInfo& c) { return c.IsEnumOrSet(); });
    case kColumnName: {
      ByteReader reader(value);
      for (ColumnInfo& column : columns) {
        EDDY_ASSIGN_OR_RETURN(std::string_view name, ReadLengthEncodedBytes(reader));
        column.name = std::string(name);
      }
      table.has_column_names = true;
      return Status::Ok();
    }
    case kSetStrValue:
      return ApplyStringValues(value, columns, static_cast<uint8_t>(ColumnType::kSet));
    case kEnumStrValue:
      return ApplyStringValues(value, columns, static_cast<uint8_t>(ColumnType::kEnum));
    case kGeometryType: {
      ByteReader reader(value);
      for (ColumnInfo& column : columns) {
        if (column.real_type != static_cast<uint8_t>(ColumnType::kGeometry)) continue;
        EDDY_ASSIGN_OR_RETURN(uint64_t geometry, ReadLengthEncoded(reader));
        column.geometry_type = static_cast<uint32_t>(geometry);
      }
      return Status::Ok();
    }
    case kSimplePrimaryKey:
    case kPrimaryKeyWithPrefix: {
      ByteReader reader(value);
      table.primary_key.clear();
      while (!reader.empty()) {
        EDDY_ASSIGN_OR_RETURN(uint64_t index, ReadLengthEncoded(reader));
        if (index >= columns.size()) {
          return Corruption("primary key column " + std::to_string(index) + " of " +
                            std::to_string(columns.size()));
        }
        table.primary_key.push_back(static_cast<uint32_t>(index));
        if (field == kPrimaryKeyWithPrefix) {
          EDDY_ASSIGN_OR_RETURN(uint64_t prefix, ReadLengthEncoded(reader));
          (void)prefix;
        }
      }
      return Status::Ok();
    }
    case kColumnVisibility: {
      for (size_t i = 0; i < columns.size(); ++i) {
        if (i / 8 >= value.size()) return Corruption("COLUMN_VISIBILITY bitmap too short");
        columns[i].visible = BitSetMsb(value, i);
      }
      return Status::Ok();
    }
    default:
      return Status::Ok();  // newer fields are skippable by design (TLV)
  }
}

}  // namespace

std::string EventTypeName(uint8_t type) {
  switch (static_cast<EventType>(type)) {
    case EventType::kUnknown: return "UNKNOWN";
    case EventType::kQuery: return "QUERY";
    case EventType::kStop: return "STOP";
    case EventType::kRotate: return "ROTATE";
    case EventType::kIntvar: return "INTVAR";
    case EventType::kRand: return "RAND";
    case EventType::kUserVar: return "USER_VAR";
    case EventType::kFormatDescription: return "FORMAT_DESCRIPTION";
    case EventType::kXid: return "XID";
    case EventType::kTableMap: return "TABLE_MAP";
    case EventType::kWriteRowsV1: return "WRITE_ROWS_V1";
    case EventType::kUpdateRowsV1: return "UPDATE_ROWS_V1";
    case EventType::kDeleteRowsV1: return "DELETE_ROWS_V1";
    case EventType::kIncident: return "INCIDENT";
    case EventType::kHeartbeat: return "HEARTBEAT";
    case EventType::kRowsQuery: return "ROWS_QUERY";
    case EventType::kWriteRowsV2: return "WRITE_ROWS";
    case EventType::kUpdateRowsV2: return "UPDATE_ROWS";
    case EventType::kDeleteRowsV2: return "DELETE_ROWS";
    case EventType::kMysqlGtid: return "GTID";
    case EventType::kMysqlAnonymousGtid: return "ANONYMOUS_GTID";
    case EventType::kMysqlPreviousGtids: return "PREVIOUS_GTIDS";
    case EventType::kMysqlTransactionContext: return "TRANSACTION_CONTEXT";
    case EventType::kMysqlViewChange: return "VIEW_CHANGE";
    case EventType::kMysqlXaPrepare: return "XA_PREPARE";
    case EventType::kMysqlPartialUpdateRows: return "PARTIAL_UPDATE_ROWS";
    case EventType::kMysqlTransactionPayload: return "TRANSACTION_PAYLOAD";
    case EventType::kMysqlHeartbeatV2: return "HEARTBEAT_V2";
    case EventType::kAnnotateRows: return "ANNOTATE_ROWS";
    case EventType::kBinlogCheckpoint: return "BINLOG_CHECKPOINT";
    case EventType::kMariadbGtid: return "MARIADB_GTID";
    case EventType::kGtidList: return "GTID_LIST";
    case EventType::kStartEncryption: return "START_ENCRYPTION";
    case EventType::kQueryCompressed: return "QUERY_COMPRESSED";
    case EventType::kWriteRowsCompressedV1: return "WRITE_ROWS_COMPRESSED_V1";
    case EventType::kUpdateRowsCompressedV1: return "UPDATE_ROWS_COMPRESSED_V1";
    case EventType::kDeleteRowsCompressedV1: return "DELETE_ROWS_COMPRESSED_V1";
    case EventType::kWriteRowsCompressedV2: return "WRITE_ROWS_COMPRESSED";
    case EventType::kUpdateRowsCompressedV2: return "UPDATE_ROWS_COMPRESSED";
    case EventType::kDeleteRowsCompressedV2: return "DELETE_ROWS_COMPRESSED";
  }
  return "TYPE_" + std::to_string(type);
}

uint32_t BinlogCrc32(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large inputs in pieces.
  while (!bytes.empty()) {
    size_t piece = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(piece));
    bytes.remove_prefix(piece);
  }
  return static_cast<uint32_t>(crc);
}

Result<EventHeader> ParseEventHeader(std::string_view event) {
  if (event.size() < kEventHeaderSize) {
    return Corruption("binlog event of " + std::to_string(event.size()) +
                      " bytes is shorter than the 19-byte header");
  }
  ByteReader reader(event);
  EventHeader header;
  header.timestamp = reader.ReadFixed32().value();
  header.type = reader.ReadFixed8().value();
  header.server_id = reader.ReadFixed32().value();
  header.event_size = reader.ReadFixed32().value();
  header.log_pos = reader.ReadFixed32().value();
  header.flags = reader.ReadFixed16().value();
  if (header.event_size != event.size()) {
    return Corruption("binlog event " + EventTypeName(header.type) + " declares " +
                      std::to_string(header.event_size) + " bytes but " +
                      std::to_string(event.size()) + " arrived");
  }
  return header;
}

uint8_t FormatDescriptionEvent::PostHeaderLength(uint8_t type, uint8_t fallback) const {
  if (type >= 1 && static_cast<size_t>(type) <= post_header_lengths.size()) {
    return post_header_lengths[type - 1];
  }
  return fallback;
}

bool FormatDescriptionEvent::IsMariadb() const {
  return server_version.find("MariaDB") != std::string::npos ||
         server_version.find("mariadb") != std::string::npos;
}

Result<FormatDescriptionEvent> ParseFormatDescription(std::string_view event) {
  constexpr uint8_t kType = static_cast<uint8_t>(EventType::kFormatDescription);
  EDDY_ASSIGN_OR_RETURN(EventHeader header, ParseEventHeader(event));
  if (header.type != kType) return Corruption("not a FORMAT_DESCRIPTION event");
  std::string_view body = event.substr(kEventHeaderSize);
  ByteReader reader(body);
  FormatDescriptionEvent fde;
  EDDY_EVENT_ASSIGN(fde.binlog_version, reader.ReadFixed16(), kType, reader);
  EDDY_EVENT_ASSIGN(std::string_view version, reader.ReadBytes(50), kType, reader);
  fde.server_version = std::string(version.substr(0, version.find('\0')));
  EDDY_EVENT_ASSIGN(fde.create_timestamp, reader.ReadFixed32(), kType, reader);
  EDDY_EVENT_ASSIGN(fde.header_length, reader.ReadFixed8(), kType, reader);
  if (fde.binlog_version != 4) {
    return EventError(kType, 0, "binlog version " + std::to_string(fde.binlog_version) +
                                    " is not supported (only v4, MySQL 5.0+ / MariaDB)");
  }
  if (fde.header_length != kEventHeaderSize) {
    return EventError(kType, 56, "common header length " + std::to_string(fde.header_length) +
                                     " (expected 19)");
  }
  // Servers from MySQL 5.6.1 / MariaDB 5.3 on append the checksum algorithm byte (and, unless
  // it is OFF, a CRC) after the post-header length table.
  auto [major, minor, patch] = ParseVersion(fde.server_version);
  bool mariadb = fde.IsMariadb();
  bool has_algorithm = mariadb ? std::make_tuple(major, minor, patch) >= std::make_tuple(5, 3, 0)
                               : std::make_tuple(major, minor, patch) >= std::make_tuple(5, 6, 1);
  std::string_view table = reader.rest();
  if (has_algorithm) {
    if (table.empty()) return EventError(kType, reader.consumed(), "missing checksum algorithm");
    // The algorithm byte sits before the 4-byte CRC when there is one, else at the very end.
    uint8_t algorithm_with_crc =
        table.size() >= 5 ? static_cast<uint8_t>(table[table.size() - 5]) : 0xFF;
    uint8_t algorithm_last = static_cast<uint8_t>(table.back());
    if (algorithm_with_crc == kChecksumAlgorithmCrc32 && table.size() >= 5) {
      fde.checksum_algorithm = kChecksumAlgorithmCrc32;
      uint32_t stored = DecodeFixed32(table.data() + table.size() - 4);
      uint32_t computed = BinlogCrc32(event.substr(0, event.size() - 4));
      if (stored != computed && (header.flags & kEventFlagBinlogInUse) != 0) {
        // The server sets LOG_EVENT_BINLOG_IN_USE_F in the file's FDE after computing its
        // checksum (and clears it on close): the CRC covers the header without that flag.
        std::string copy(event.substr(0, event.size() - 4));
        copy[17] = static_cast<char>(static_cast<uint8_t>(copy[17]) & ~kEventFlagBinlogInUse);
        computed = BinlogCrc32(copy);
      }
      if (stored != computed) {
        return EventError(kType, body.size() - 4, "checksum mismatch (stored " +
                                                      std::to_string(stored) + ", computed " +
                                                      std::to_string(computed) + ")");
      }
      table = table.substr(0, table.size() - 5);
    } else if (algorithm_last == kChecksumAlgorithmOff || algorithm_last == 0xFF) {
      fde.checksum_algorithm = kChecksumAlgorithmOff;
      table = table.substr(0, table.size() - 1);
    } else {
      return EventError(kType, body.size() - 1,
                        "unknown checksum algorithm " + std::to_string(algorithm_last));
    }
  }
  fde.post_header_lengths.assign(table.begin(), table.end());
  return fde;
}

Result<FramedEvent> BinlogDecoder::Frame(std::string_view event) {
  EDDY_ASSIGN_OR_RETURN(EventHeader header, ParseEventHeader(event));
  FramedEvent framed;
  framed.header = header;
  framed.raw = event;
  if (header.type == static_cast<uint8_t>(EventType::kFormatDescription)) {
    EDDY_ASSIGN_OR_RETURN(FormatDescriptionEvent fde, ParseFormatDescription(event));
    format_ = std::move(fde);
    has_format_ = true;
    size_t trailer = format_.checksum_algorithm == kChecksumAlgorithmCrc32 ? kChecksumSize : 0;
    framed.body = event.substr(kEventHeaderSize, event.size() - kEventHeaderSize - trailer);
    return framed;
  }
  bool checksum = has_format_ ? format_.checksum_algorithm == kChecksumAlgorithmCrc32
                              : expect_checksum_;
  std::string_view body = event.substr(kEventHeaderSize);
  if (checksum) {
    if (body.size() < kChecksumSize) {
      return Corruption("binlog event " + EventTypeName(header.type) +
                        " too short for its checksum (" + std::to_string(event.size()) +
                        " bytes)");
    }
    uint32_t stored = DecodeFixed32(event.data() + event.size() - kChecksumSize);
    uint32_t computed = BinlogCrc32(event.substr(0, event.size() - kChecksumSize));
    if (stored != computed) {
      // Before the first FDE the artificial ROTATE may come without a checksum.
      if (!has_format_ && header.type == static_cast<uint8_t>(EventType::kRotate)) {
        framed.body = body;
        return framed;
      }
      return Corruption("binlog event " + EventTypeName(header.type) +
                        " checksum mismatch (stored " + std::to_string(stored) + ", computed " +
                        std::to_string(computed) + ", log_pos " +
                        std::to_string(header.log_pos) + ")");
    }
    body.remove_suffix(kChecksumSize);
  }
  framed.body = body;
  return framed;
}

void BinlogDecoder::RememberTableMap(TableMapEvent table) {
  uint64_t id = table.table_id;
  tables_.insert_or_assign(id, std::move(table));
}

const TableMapEvent* BinlogDecoder::FindTableMap(uint64_t table_id) const {
  auto it = tables_.find(table_id);
  return it == tables_.end() ? nullptr : &it->second;
}

Result<RotateEvent> ParseRotate(std::string_view body, uint8_t post_header_length) {
  constexpr uint8_t kType = static_cast<uint8_t>(EventType::kRotate);
  ByteReader reader(body);
  RotateEvent rotate;
  if (post_header_length >= 8) {
    EDDY_EVENT_ASSIGN(rotate.position, reader.ReadFixed64(), kType, reader);
    EDDY_EVENT_ASSIGN(std::string_view skip, reader.ReadBytes(post_header_length - 8u), kType,
                      reader);
    (void)skip;
  } else {
    rotate.position = 4;
  }
  rotate.next_file = std::string(reader.rest());
  if (rotate.next_file.empty()) return EventError(kType, reader.consumed(), "empty file name");
  return rotate;
}

Result<QueryEvent> ParseQuery(uint8_t type, std::string_view body, uint8_t post_header_length) {
  ByteReader reader(body);
  QueryEvent query;
  if (post_header_length < 11) {
    return EventError(type, 0, "post-header length " + std::to_string(post_header_length) +
                                   " below 11");
  }
  EDDY_EVENT_ASSIGN(query.thread_id, reader.ReadFixed32(), type, reader);
  EDDY_EVENT_ASSIGN(query.exec_time, reader.ReadFixed32(), type, reader);
  EDDY_EVENT_ASSIGN(uint8_t database_length, reader.ReadFixed8(), type, reader);
  EDDY_EVENT_ASSIGN(query.error_code, reader.ReadFixed16(), type, reader);
  uint16_t status_length = 0;
  if (post_header_length >= 13) {
    EDDY_EVENT_ASSIGN(status_length, reader.ReadFixed16(), type, reader);
    EDDY_EVENT_ASSIGN(std::string_view extra, reader.ReadBytes(post_header_length - 13u), type,
                      reader);
    (void)extra;
  }
  EDDY_EVENT_ASSIGN(std::string_view status, reader.ReadBytes(status_length), type, reader);
  // Status variables we use; stop at the first unknown code (their lengths are code-specific).
  {
    ByteReader vars(status);
    while (!vars.empty()) {
      uint8_t code = vars.ReadFixed8().value();
      bool known = true;
      switch (code) {
        case 0: {  // Q_FLAGS2_CODE
          if (!vars.ReadFixed32().ok()) known = false;
          break;
        }
        case 1: {  // Q_SQL_MODE_CODE
          auto mode = vars.ReadFixed64();
          if (mode.ok()) query.sql_mode = *mode; else known = false;
          break;
        }
        case 2: {  // Q_CATALOG_CODE (old): u8 len + catalog + NUL
          auto length = vars.ReadFixed8();
          if (!length.ok() || !vars.ReadBytes(*length + 1u).ok()) known = false;
          break;
        }
        case 3: {  // Q_AUTO_INCREMENT
          if (!vars.ReadBytes(4).ok()) known = false;
          break;
        }
        case 4: {  // Q_CHARSET_CODE
          if (!vars.ReadBytes(6).ok()) known = false;
          break;
        }
        case 5: {  // Q_TIME_ZONE_CODE
          auto length = vars.ReadFixed8();
          auto zone = length.ok() ? vars.ReadBytes(*length) : Result<std::string_view>(length.status());
          if (zone.ok()) query.time_zone = std::string(*zone); else known = false;
          break;
        }
        case 6: {  // Q_CATALOG_NZ_CODE
          auto length = vars.ReadFixed8();
          if (!length.ok() || !vars.ReadBytes(*length).ok()) known = false;
          break;
        }
        case 7: {  // Q_LC_TIME_NAMES_CODE
          if (!vars.ReadBytes(2).ok()) known = false;
          break;
        }
        case 8: {  // Q_CHARSET_DATABASE_CODE
          if (!vars.ReadBytes(2).ok()) known = false;
          break;
        }
        case 9: {  // Q_TABLE_MAP_FOR_UPDATE_CODE
          if (!vars.ReadBytes(8).ok()) known = false;
          break;
        }
        default:
          known = false;
      }
      if (!known) break;
    }
  }
  EDDY_EVENT_ASSIGN(std::string_view database, reader.ReadBytes(database_length), type, reader);
  query.database = std::string(database);
  EDDY_EVENT_ASSIGN(uint8_t terminator, reader.ReadFixed8(), type, reader);
  if (terminator != 0) return EventError(type, reader.consumed() - 1, "database name not NUL-terminated");
  if (type == static_cast<uint8_t>(EventType::kQueryCompressed)) {
    auto inflated = InflateMariadbPayload(reader.rest());
    if (!inflated.ok()) return EventError(type, reader, inflated.status());
    query.query = std::move(*inflated);
  } else {
    query.query = std::string(reader.rest());
  }
  return query;
}

Result<XidEvent> ParseXid(std::string_view body) {
  ByteReader reader(body);
  XidEvent xid;
  EDDY_EVENT_ASSIGN(xid.xid, reader.ReadFixed64(), static_cast<uint8_t>(EventType::kXid), reader);
  return xid;
}

std::string MariadbGtidEvent::Text() const {
  return std::to_string(domain) + "-" + std::to_string(server_id) + "-" + std::to_string(sequence);
}

Result<MariadbGtidEvent> ParseMariadbGtid(std::string_view body, uint32_t header_server_id) {
  constexpr uint8_t kType = static_cast<uint8_t>(EventType::kMariadbGtid);
  ByteReader reader(body);
  MariadbGtidEvent gtid;
  gtid.server_id = header_server_id;
  EDDY_EVENT_ASSIGN(gtid.sequence, reader.ReadFixed64(), kType, reader);
  EDDY_EVENT_ASSIGN(gtid.domain, reader.ReadFixed32(), kType, reader);
  EDDY_EVENT_ASSIGN(gtid.flags, reader.ReadFixed8(), kType, reader);
  if (gtid.flags & kGtidFlagGroupCommitId) {
    EDDY_EVENT_ASSIGN(uint64_t commit_id, reader.ReadFixed64(), kType, reader);
    gtid.commit_id = commit_id;
  }
  return gtid;
}

Result<GtidListEvent> ParseGtidList(std::string_view body) {
  constexpr uint8_t kType = static_cast<uint8_t>(EventType::kGtidList);
  ByteReader reader(body);
  GtidListEvent list;
  EDDY_EVENT_ASSIGN(uint32_t raw_count, reader.ReadFixed32(), kType, reader);
  uint32_t count = raw_count & 0x0FFFFFFF;
  list.flags = static_cast<uint8_t>(raw_count >> 28);
  if (static_cast<uint64_t>(count) * 16 > reader.remaining()) {
    return EventError(kType, reader.consumed(), std::to_string(count) + " GTIDs do not fit in " +
                                                    std::to_string(reader.remaining()) + " bytes");
  }
  list.gtids.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    GtidTriple triple;
    triple.domain = reader.ReadFixed32().value();
    triple.server_id = reader.ReadFixed32().value();
    triple.sequence = reader.ReadFixed64().value();
    list.gtids.push_back(triple);
  }
  return list;
}

std::string MysqlGtidEvent::Text() const { return sid + ":" + std::to_string(gno); }

Result<MysqlGtidEvent> ParseMysqlGtid(std::string_view body) {
  constexpr uint8_t kType = static_cast<uint8_t>(EventType::kMysqlGtid);
  ByteReader reader(body);
  MysqlGtidEvent gtid;
  EDDY_EVENT_ASSIGN(gtid.flags, reader.ReadFixed8(), kType, reader);
  EDDY_EVENT_ASSIGN(std::string_view sid, reader.ReadBytes(16), kType, reader);
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) gtid.sid.push_back('-');
    uint8_t b = static_cast<uint8_t>(sid[i]);
    gtid.sid.push_back(kHex[b >> 4]);
    gtid.sid.push_back(kHex[b & 15]);
  }
  EDDY_EVENT_ASSIGN(uint64_t gno, reader.ReadFixed64(), kType, reader);
  gtid.gno = static_cast<int64_t>(gno);
  return gtid;
}

Result<std::string> ParseAnnotateRows(uint8_t type, std::string_view body) {
  if (type == static_cast<uint8_t>(EventType::kRowsQuery)) {
    // MySQL ROWS_QUERY: u8 length (truncated to 255, ignored) + text.
    if (body.empty()) return EventError(type, 0, "empty body");
    return std::string(body.substr(1));
  }
  return std::string(body);
}

Result<std::string> InflateMariadbPayload(std::string_view payload, uint64_t max_size) {
  if (payload.empty()) return Corruption("compressed payload is empty");
  uint8_t header = static_cast<uint8_t>(payload[0]);
  size_t length_bytes = header & 0x07;
  if ((header & 0xE0) != 0x80 || length_bytes < 1 || length_bytes > 4) {
    return Corruption("compressed payload header byte " + std::to_string(header) +
                      " is not 0x80 | length size (1..4)");
  }
  if (payload.size() < 1 + length_bytes) return Corruption("compressed payload truncated");
  uint64_t length = 0;
  for (size_t i = 0; i < length_bytes; ++i) length = (length << 8) | static_cast<uint8_t>(payload[1 + i]);
  if (length > max_size) {
    return ResourceExhausted("compressed payload inflates to " + std::to_string(length) +
                             " bytes, above the limit of " + std::to_string(max_size));
  }
  std::string_view compressed = payload.substr(1 + length_bytes);
  std::string out(length, '\0');
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) return Internal("zlib inflateInit failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&stream, Z_FINISH);
  size_t produced = out.size() - stream.avail_out;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END || produced != length) {
    return Corruption("compressed payload does not inflate to its declared " +
                      std::to_string(length) + " bytes (zlib status " + std::to_string(rc) +
                      ", produced " + std::to_string(produced) + ")");
  }
  return out;
}

Result<TableMapEvent> ParseTableMap(std::string_view body, uint8_t post_header_length,
                                    bool mariadb) {
  constexpr uint8_t kType = static_cast<uint8_t>(EventType::kTableMap);
  ByteReader reader(body);
  TableMapEvent table;
  size_t id_size = post_header_length == 6 ? 4 : 6;
  EDDY_EVENT_ASSIGN(table.table_id, ReadLittleEndian(reader, id_size), kType, reader);
  EDDY_EVENT_ASSIGN(table.flags, reader.ReadFixed16(), kType, reader);
  if (post_header_length > id_size + 2) {
    EDDY_EVENT_ASSIGN(std::string_view skip, reader.ReadBytes(post_header_length - id_size - 2),
                      kType, reader);
    (void)skip;
  }
  EDDY_EVENT_ASSIGN(uint8_t database_length, reader.ReadFixed8(), kType, reader);
  EDDY_EVENT_ASSIGN(std::string_view database, reader.ReadBytes(database_length + 1u), kType,
                    reader);
  table.database = std::string(database.substr(0, database_length));
  EDDY_EVENT_ASSIGN(uint8_t table_length, reader.ReadFixed8(), kType, reader);
  EDDY_EVENT_ASSIGN(std::string_view name, reader.ReadBytes(table_length + 1u), kType, reader);
  table.table = std::string(name.substr(0, table_length));
  EDDY_EVENT_ASSIGN(uint64_t column_count, ReadLengthEncoded(reader), kType, reader);
  if (column_count > reader.remaining() || column_count > 4096) {
    return EventError(kType, reader.consumed(),
                      std::to_string(column_count) + " columns do not fit in the event");
  }
  EDDY_EVENT_ASSIGN(std::string_view types, reader.ReadBytes(column_count), kType, reader);
  EDDY_EVENT_ASSIGN(uint64_t metadata_length, ReadLengthEncoded(reader), kType, reader);
  EDDY_EVENT_ASSIGN(std::string_view metadata, reader.ReadBytes(metadata_length), kType, reader);
  EDDY_EVENT_ASSIGN(std::string_view nullable, reader.ReadBytes((column_count + 7) / 8), kType,
                    reader);
  table.columns.resize(column_count);
  ByteReader meta_reader(metadata);
  for (size_t i = 0; i < column_count; ++i) {
    ColumnInfo& column = table.columns[i];
    column.type = static_cast<uint8_t>(types[i]);
    int meta_length = MetadataLength(column.type);
    if (static_cast<size_t>(meta_length) > meta_reader.remaining()) {
      return EventError(kType, reader.consumed(),
                        "column " + std::to_string(i) + " (" + ColumnTypeName(column.type) +
                            ") metadata runs past the metadata block");
    }
    if (meta_length == 1) {
      column.metadata = meta_reader.ReadFixed8().value();
    } else if (meta_length == 2) {
      uint8_t b0 = meta_reader.ReadFixed8().value();
      uint8_t b1 = meta_reader.ReadFixed8().value();
      bool big_endian = column.type == static_cast<uint8_t>(ColumnType::kString) ||
                        column.type == static_cast<uint8_t>(ColumnType::kEnum) ||
                        column.type == static_cast<uint8_t>(ColumnType::kSet);
      column.metadata = big_endian ? static_cast<uint16_t>((b0 << 8) | b1)
                                   : static_cast<uint16_t>(b0 | (b1 << 8));
    }
    if (column.type == static_cast<uint8_t>(ColumnType::kEnum) ||
        column.type == static_cast<uint8_t>(ColumnType::kSet)) {
      column.real_type = column.type;
      column.metadata = column.metadata & 0xFF;
    } else {
      ResolveRealType(column);
    }
    column.nullable = BitSetLsb(nullable, i);
  }
  if (!meta_reader.empty()) {
    return EventError(kType, reader.consumed(),
                      std::to_string(meta_reader.remaining()) + " unused metadata bytes");
  }
  // Optional metadata: TLV fields to the end of the body.
  while (!reader.empty()) {
    EDDY_EVENT_ASSIGN(uint8_t field, reader.ReadFixed8(), kType, reader);
    EDDY_EVENT_ASSIGN(std::string_view value, ReadLengthEncodedBytes(reader), kType, reader);
    Status status = ApplyOptionalMetadata(field, value, table, mariadb);
    if (!status.ok()) {
      return EventError(kType, reader,
                        status.WithContext("optional metadata field " + std::to_string(field)));
    }
  }
  for (ColumnInfo& column : table.columns) {
    if (column.IsCharacter() || column.IsEnumOrSet()) {
      column.charset = std::string(CharsetOfCollation(column.collation));
    }
    if (column.type == static_cast<uint8_t>(ColumnType::kGeometry) ||
        column.type == static_cast<uint8_t>(ColumnType::kJson)) {
      column.charset = "binary";
    }
  }
  return table;
}

bool IsRowsEvent(uint8_t type) {
  return (type >= 23 && type <= 25) || (type >= 30 && type <= 32) || (type >= 166 && type <= 171);
}

namespace {

struct RowsShape {
  RowsKind kind;
  bool v2;
  bool compressed;
};

RowsShape ShapeOf(uint8_t type) {
  switch (type) {
    case 23: return {RowsKind::kWrite, false, false};
    case 24: return {RowsKind::kUpdate, false, false};
    case 25: return {RowsKind::kDelete, false, false};
    case 30: return {RowsKind::kWrite, true, false};
    case 31: return {RowsKind::kUpdate, true, false};
    case 32: return {RowsKind::kDelete, true, false};
    case 166: return {RowsKind::kWrite, false, true};
    case 167: return {RowsKind::kUpdate, false, true};
    case 168: return {RowsKind::kDelete, false, true};
    case 169: return {RowsKind::kWrite, true, true};
    case 170: return {RowsKind::kUpdate, true, true};
    default: return {RowsKind::kDelete, true, true};
  }
}

// Decodes one row image into `image`, reusing its storage (values are assigned in place).
Status DecodeRowImage(ByteReader& reader, const TableMapEvent& table, std::string_view present,
                      size_t present_count, RowImage& image) {
  EDDY_ASSIGN_OR_RETURN(std::string_view nulls, reader.ReadBytes((present_count + 7) / 8));
  image.resize(table.columns.size());
  size_t present_index = 0;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (!BitSetLsb(present, i)) {
      image[i].reset();
      continue;
    }
    bool is_null = BitSetLsb(nulls, present_index++);
    if (is_null) {
      image[i] = model::Value::Null();
      continue;
    }
    auto value = DecodeColumnValue(table.columns[i], reader);
    if (!value.ok()) {
      const ColumnInfo& column = table.columns[i];
      return value.status().WithContext(
          "column " + std::to_string(i) + (column.name.empty() ? "" : " (" + column.name + ")") +
          " of " + table.database + "." + table.table);
    }
    image[i] = std::move(*value);
  }
  return Status::Ok();
}

// Room for `bytes` more bytes at `at` in `buffer` (which only grows: its tail is scratch).
inline char* Room(std::string& buffer, size_t at, size_t bytes) {
  if (buffer.size() - at < bytes) buffer.resize(std::max(buffer.size() * 2, at + bytes + 256));
  return buffer.data() + at;
}

inline char* PutVarintAt(char* out, uint64_t value) {
  while (value >= 0x80) {
    *out++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<char>(value);
  return out;
}

constexpr size_t kMaxVarintBytes = 10;

Status EncodeRowImage(ByteReader& reader, const TableMapEvent& table, std::string_view present,
                      size_t present_count, const RowEncodePlan& plan, std::string& scratch,
                      EncodedRowImage& image) {
  EDDY_ASSIGN_OR_RETURN(std::string_view nulls, reader.ReadBytes((present_count + 7) / 8));
  const size_t columns = table.columns.size();
  image.field_offsets.resize(columns + 1);
  image.value_offsets.resize(columns);
  image.missing = 0;
  std::string& buffer = image.fields;
  size_t at = 0;  // the encoding's end in `buffer`
  size_t present_index = 0;
  for (size_t i = 0; i < columns; ++i) {
    image.field_offsets[i] = static_cast<uint32_t>(at);
    if (!BitSetLsb(present, i)) {
      image.value_offsets[i] = static_cast<uint32_t>(at);
      ++image.missing;
      continue;
    }
    const RowEncodePlan::Column& column = plan.columns[i];
    const std::string_view rest = reader.rest();
    // The prefix plus any fixed-size value, or a string's tag and length.
    size_t room = column.prefix.size() + 1 + kMaxVarintBytes;
    size_t string_length = 0;
    const bool is_null = BitSetLsb(nulls, present_index++);
    ColumnEncoding encoding = is_null ? ColumnEncoding::kGeneral : column.encoding;
    if (encoding == ColumnEncoding::kUtf8String) {
      if (rest.size() < column.length_bytes) {
        encoding = ColumnEncoding::kGeneral;
      } else {
        string_length = static_cast<uint8_t>(rest[0]);
        if (column.length_bytes == 2) string_length |= size_t{static_cast<uint8_t>(rest[1])} << 8;
        if (rest.size() - column.length_bytes < string_length ||
            !IsValidUtf8(rest.substr(column.length_bytes, string_length))) {
          encoding = ColumnEncoding::kGeneral;
        } else {
          room += string_length;
        }
      }
    } else if ((encoding == ColumnEncoding::kSignedInteger ||
                encoding == ColumnEncoding::kUnsignedInteger) &&
               rest.size() < column.width) {
      encoding = ColumnEncoding::kGeneral;
    } else if (encoding == ColumnEncoding::kDouble && rest.size() < 8) {
      encoding = ColumnEncoding::kGeneral;
    }
    char* out = Room(buffer, at, room);
    if (!column.prefix.empty()) std::memcpy(out, column.prefix.data(), column.prefix.size());
    out += column.prefix.size();
    image.value_offsets[i] = static_cast<uint32_t>(at + column.prefix.size());
    const char* in = rest.data();
    if (is_null) {
      *out++ = static_cast<char>(model::ValueType::kNull);  // EncodeValue(Value::Null())
      at = static_cast<size_t>(out - buffer.data());
      continue;
    }
    switch (encoding) {
      case ColumnEncoding::kSignedInteger:
      case ColumnEncoding::kUnsignedInteger: {
        const size_t width = column.width;
        uint64_t raw = 0;
        for (size_t b = 0; b < width; ++b) raw |= uint64_t{static_cast<uint8_t>(in[b])} << (8 * b);
        (void)reader.TakeVerified(width);
        if (encoding == ColumnEncoding::kUnsignedInteger) {
          *out++ = static_cast<char>(model::ValueType::kUint64);
          out = PutVarintAt(out, raw);
        } else {
          if (width < 8) {
            const uint64_t sign_bit = uint64_t{1} << (width * 8 - 1);
            if ((raw & sign_bit) != 0) raw |= ~((sign_bit << 1) - 1);
          }
          const int64_t value = static_cast<int64_t>(raw);
          *out++ = static_cast<char>(model::ValueType::kInt64);
          out = PutVarintAt(
              out, (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
        }
        break;
      }
      case ColumnEncoding::kDouble:
        *out++ = static_cast<char>(model::ValueType::kFloat64);
        std::memcpy(out, in, 8);  // binlog DOUBLE and the encoding's fixed64: little-endian
        out += 8;
        (void)reader.TakeVerified(8);
        break;
      case ColumnEncoding::kUtf8String:
        *out++ = static_cast<char>(model::ValueType::kText);
        out = PutVarintAt(out, string_length);
        std::memcpy(out, in + column.length_bytes, string_length);
        out += string_length;
        (void)reader.TakeVerified(column.length_bytes + string_length);
        break;
      case ColumnEncoding::kGeneral: {
        at = static_cast<size_t>(out - buffer.data());
        scratch.clear();
        Status status = EncodeColumnValue(table.columns[i], reader, scratch);
        if (!status.ok()) {
          const ColumnInfo& info = table.columns[i];
          return status.WithContext("column " + std::to_string(i) +
                                    (info.name.empty() ? "" : " (" + info.name + ")") + " of " +
                                    table.database + "." + table.table);
        }
        out = Room(buffer, at, scratch.size());
        std::memcpy(out, scratch.data(), scratch.size());
        out += scratch.size();
        break;
      }
    }
    at = static_cast<size_t>(out - buffer.data());
  }
  image.field_offsets[columns] = static_cast<uint32_t>(at);
  return Status::Ok();
}

size_t CountBits(std::string_view bitmap, size_t width) {
  size_t count = 0;
  for (size_t i = 0; i < width; ++i) count += BitSetLsb(bitmap, i) ? 1 : 0;
  return count;
}

}  // namespace

Result<uint64_t> PeekRowsTableId(std::string_view body, uint8_t post_header_length) {
  ByteReader reader(body);
  return ReadLittleEndian(reader, post_header_length == 6 ? 4 : 6);
}

Status RowsEventReader::Open(uint8_t type, std::string_view body, uint8_t post_header_length,
                             const TableMapEvent& table) {
  if (!IsRowsEvent(type)) return EventError(type, 0, "not a rows event");
  RowsShape shape = ShapeOf(type);
  type_ = type;
  table_ = &table;
  header_ = RowsEvent{};
  inflated_.clear();
  ByteReader reader(body);
  header_.kind = shape.kind;
  size_t id_size = post_header_length == 6 ? 4 : 6;
  EDDY_EVENT_ASSIGN(header_.table_id, ReadLittleEndian(reader, id_size), type, reader);
  EDDY_EVENT_ASSIGN(header_.flags, reader.ReadFixed16(), type, reader);
  size_t fixed = id_size + 2;
  if (shape.v2) {
    EDDY_EVENT_ASSIGN(uint16_t extra_length, reader.ReadFixed16(), type, reader);
    if (extra_length < 2) return EventError(type, reader.consumed(), "extra data length below 2");
    EDDY_EVENT_ASSIGN(std::string_view extra, reader.ReadBytes(extra_length - 2u), type, reader);
    (void)extra;
    fixed += 2;
  }
  if (post_header_length > fixed && !shape.v2) {
    EDDY_EVENT_ASSIGN(std::string_view skip, reader.ReadBytes(post_header_length - fixed), type,
                      reader);
    (void)skip;
  }
  if (header_.table_id != table.table_id) {
    return EventError(type, 0, "table id " + std::to_string(header_.table_id) +
                                   " does not match the table map's " +
                                   std::to_string(table.table_id));
  }
  EDDY_EVENT_ASSIGN(uint64_t width, ReadLengthEncoded(reader), type, reader);
  if (width != table.columns.size()) {
    return EventError(type, reader.consumed(),
                      "rows event has " + std::to_string(width) + " columns but the table map of " +
                          table.database + "." + table.table + " has " +
                          std::to_string(table.columns.size()));
  }
  header_.column_count = static_cast<uint32_t>(width);
  size_t bitmap_size = (width + 7) / 8;
  EDDY_EVENT_ASSIGN(present_, reader.ReadBytes(bitmap_size), type, reader);
  present_after_ = present_;
  if (shape.kind == RowsKind::kUpdate) {
    EDDY_EVENT_ASSIGN(present_after_, reader.ReadBytes(bitmap_size), type, reader);
  }
  present_count_ = CountBits(present_, width);
  present_after_count_ = CountBits(present_after_, width);

  std::string_view data = reader.rest();
  if (shape.compressed) {
    auto result = InflateMariadbPayload(data);
    if (!result.ok()) return EventError(type, reader, result.status());
    inflated_ = std::move(*result);
    data = inflated_;
  }
  data_offset_ = reader.consumed();
  rows_ = ByteReader(data);
  return Status::Ok();
}

Status RowsEventReader::Next(RowImage& first, RowImage& second) {
  Status status = DecodeRowImage(rows_, *table_, present_, present_count_, first);
  if (!status.ok()) return EventError(type_, data_offset_ + rows_.consumed(), status.message());
  if (header_.kind == RowsKind::kUpdate) {
    status = DecodeRowImage(rows_, *table_, present_after_, present_after_count_, second);
    if (!status.ok()) return EventError(type_, data_offset_ + rows_.consumed(), status.message());
  }
  return Status::Ok();
}

Result<RowEncodePlan> RowEncodePlan::For(const TableMapEvent& table,
                                         const std::vector<std::string>* field_prefixes) {
  if (field_prefixes != nullptr && field_prefixes->size() != table.columns.size()) {
    return InvalidArgument("field prefixes for " + std::to_string(field_prefixes->size()) +
                           " columns, the table has " + std::to_string(table.columns.size()));
  }
  RowEncodePlan plan;
  plan.columns.resize(table.columns.size());
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const ColumnInfo& info = table.columns[i];
    Column& column = plan.columns[i];
    column.encoding = ColumnEncodingOf(info);
    column.width = static_cast<uint8_t>(IntegerColumnWidth(info.real_type));
    column.length_bytes = info.metadata < 256 ? 1 : 2;
    if (field_prefixes != nullptr) column.prefix = (*field_prefixes)[i];
  }
  return plan;
}

Status RowsEventReader::NextEncoded(EncodedRowImage& first, EncodedRowImage& second,
                                    const std::vector<std::string>* field_prefixes) {
  EDDY_ASSIGN_OR_RETURN(RowEncodePlan plan, RowEncodePlan::For(*table_, field_prefixes));
  return NextEncoded(first, second, plan);
}

Status RowsEventReader::NextEncoded(EncodedRowImage& first, EncodedRowImage& second,
                                    const RowEncodePlan& plan) {
  if (plan.columns.size() != table_->columns.size()) {
    return InvalidArgument("row encode plan for " + std::to_string(plan.columns.size()) +
                           " columns, the table has " + std::to_string(table_->columns.size()));
  }
  Status status = EncodeRowImage(rows_, *table_, present_, present_count_, plan, scratch_, first);
  if (!status.ok()) return EventError(type_, data_offset_ + rows_.consumed(), status.message());
  if (header_.kind == RowsKind::kUpdate) {
    status = EncodeRowImage(rows_, *table_, present_after_, present_after_count_, plan, scratch_,
                            second);
    if (!status.ok()) return EventError(type_, data_offset_ + rows_.consumed(), status.message());
  }
  return Status::Ok();
}

Result<RowsEvent> ParseRowsEvent(uint8_t type, std::string_view body, uint8_t post_header_length,
                                 const TableMapEvent& table) {
  RowsEventReader reader;
  EDDY_RETURN_IF_ERROR(reader.Open(type, body, post_header_length, table));
  RowsEvent rows = reader.header();
  RowImage before;
  RowImage after;
  while (!reader.done()) {
    EDDY_RETURN_IF_ERROR(reader.Next(before, after));
    rows.rows.push_back(std::move(before));
    if (rows.kind == RowsKind::kUpdate) rows.rows.push_back(std::move(after));
    before.clear();
    after.clear();
  }
  return rows;
}

}  // namespace eddy::source::mysql

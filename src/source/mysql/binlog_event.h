// MySQL/MariaDB binlog events: framing (common header, CRC32 checksum) and the bodies capture
// needs, decoded from untrusted bytes. Spec: docs/formats/types-mysql.md and
// /work/shared/reference notes (binlog layouts); design: docs/design/mysql-capture.md.
//
// Event layout (binlog v4), integers little-endian unless marked BE:
//
//   +-----------+------+-----------+------------+---------+-------+------ ... ----+----------+
//   | timestamp | type | server_id | event_size | log_pos | flags | post-header + | CRC32    |
//   |    u32    |  u8  |    u32    |    u32     |   u32   |  u16  | body          | (opt, u32)|
//   +-----------+------+-----------+------------+---------+-------+------ ... ----+----------+
//    0           4      5           9            13        17      19
//
// event_size counts every byte including the checksum; log_pos is the offset just after the
// event in its binlog file (0 for artificial events). The checksum is zlib CRC-32 over the
// header and body; whether it is present is told by the FORMAT_DESCRIPTION event of the file.
//
// Every parser here is bounds-checked and returns Corruption naming the event type and the byte
// offset within the event on malformed input; none of them crashes or reads out of bounds.
// Thread safety: free functions are reentrant; BinlogDecoder is single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "model/value.h"
#include "source/mysql/binlog_types.h"

namespace eddy::source::mysql {

// Event type codes (the byte at offset 4). Serialized by the server; values never change.
enum class EventType : uint8_t {
  kUnknown = 0,
  kQuery = 2,
  kStop = 3,
  kRotate = 4,
  kIntvar = 5,
  kRand = 13,
  kUserVar = 14,
  kFormatDescription = 15,
  kXid = 16,
  kTableMap = 19,
  kWriteRowsV1 = 23,
  kUpdateRowsV1 = 24,
  kDeleteRowsV1 = 25,
  kIncident = 26,
  kHeartbeat = 27,
  kRowsQuery = 29,  // MySQL binlog_rows_query_log_events
  kWriteRowsV2 = 30,
  kUpdateRowsV2 = 31,
  kDeleteRowsV2 = 32,
  kMysqlGtid = 33,
  kMysqlAnonymousGtid = 34,
  kMysqlPreviousGtids = 35,
  kMysqlTransactionContext = 36,
  kMysqlViewChange = 37,
  kMysqlXaPrepare = 38,
  kMysqlPartialUpdateRows = 39,
  kMysqlTransactionPayload = 40,
  kMysqlHeartbeatV2 = 41,
  kAnnotateRows = 160,  // MariaDB: the SQL text of the following rows events
  kBinlogCheckpoint = 161,
  kMariadbGtid = 162,
  kGtidList = 163,
  kStartEncryption = 164,
  kQueryCompressed = 165,
  kWriteRowsCompressedV1 = 166,
  kUpdateRowsCompressedV1 = 167,
  kDeleteRowsCompressedV1 = 168,
  kWriteRowsCompressedV2 = 169,
  kUpdateRowsCompressedV2 = 170,
  kDeleteRowsCompressedV2 = 171,
};

// "QUERY", "TABLE_MAP", ... or "TYPE_<n>" for codes this build does not name.
std::string EventTypeName(uint8_t type);

inline constexpr size_t kEventHeaderSize = 19;
inline constexpr size_t kChecksumSize = 4;
inline constexpr uint16_t kEventFlagBinlogInUse = 0x0001;  // LOG_EVENT_BINLOG_IN_USE_F (FDE)
inline constexpr uint16_t kEventFlagArtificial = 0x0020;  // LOG_EVENT_ARTIFICIAL_F
inline constexpr uint8_t kChecksumAlgorithmOff = 0;
inline constexpr uint8_t kChecksumAlgorithmCrc32 = 1;
// table_id 0xFFFFFF in a rows event with STMT_END: "free every table map" (dummy event).
inline constexpr uint16_t kRowsFlagStatementEnd = 0x0001;

// MariaDB GTID event flags.
inline constexpr uint8_t kGtidFlagStandalone = 0x01;
inline constexpr uint8_t kGtidFlagGroupCommitId = 0x02;
inline constexpr uint8_t kGtidFlagTransactional = 0x04;
inline constexpr uint8_t kGtidFlagDdl = 0x20;
inline constexpr uint8_t kGtidFlagPreparedXa = 0x40;
inline constexpr uint8_t kGtidFlagCompletedXa = 0x80;

struct EventHeader {
  uint32_t timestamp = 0;  // seconds since the Unix epoch (statement start)
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t event_size = 0;
  uint32_t log_pos = 0;  // end offset of the event in its file; 0 for artificial events
  uint16_t flags = 0;
};

// Parses the 19-byte common header; checks event_size against the bytes given.
Result<EventHeader> ParseEventHeader(std::string_view event);

struct FormatDescriptionEvent {
  uint16_t binlog_version = 4;
  std::string server_version;  // "10.11.6-MariaDB-log"
  uint32_t create_timestamp = 0;
  uint8_t header_length = kEventHeaderSize;
  // post_header_lengths[type - 1] is the post-header length of event type `type`.
  std::vector<uint8_t> post_header_lengths;
  uint8_t checksum_algorithm = kChecksumAlgorithmOff;

  // Post-header length of `type`; `fallback` when the FDE does not list it.
  uint8_t PostHeaderLength(uint8_t type, uint8_t fallback) const;
  bool IsMariadb() const;
};

// Parses a whole FORMAT_DESCRIPTION event (header included, checksum included if any) and
// verifies its own checksum when it declares CRC32.
Result<FormatDescriptionEvent> ParseFormatDescription(std::string_view event);

struct RotateEvent {
  uint64_t position = 0;
  std::string next_file;
};

struct QueryEvent {
  uint32_t thread_id = 0;
  uint32_t exec_time = 0;
  uint16_t error_code = 0;
  std::string database;
  std::string query;
  // From status variables when present.
  std::optional<uint64_t> sql_mode;
  std::optional<std::string> time_zone;
};

struct XidEvent {
  uint64_t xid = 0;
};

// MariaDB GTID event: opens an event group. The GTID is domain-server-sequence, with the
// server id taken from the event header.
struct MariadbGtidEvent {
  uint64_t sequence = 0;
  uint32_t domain = 0;
  uint32_t server_id = 0;
  uint8_t flags = 0;
  std::optional<uint64_t> commit_id;
  std::string Text() const;  // "0-1-42"
};

struct GtidTriple {
  uint32_t domain = 0;
  uint32_t server_id = 0;
  uint64_t sequence = 0;
  bool operator==(const GtidTriple&) const = default;
};

struct GtidListEvent {
  std::vector<GtidTriple> gtids;
  uint8_t flags = 0;  // upper 4 bits of the count
};

// MySQL GTID event (also ANONYMOUS_GTID).
struct MysqlGtidEvent {
  uint8_t flags = 0;
  std::string sid;  // "3e11fa47-71ca-11e1-9e33-c80aa9429562"
  int64_t gno = 0;
  std::string Text() const;  // "<sid>:<gno>"
};

// One column as the table map describes it, with its optional metadata applied.
struct TableMapEvent {
  uint64_t table_id = 0;
  uint16_t flags = 0;
  std::string database;
  std::string table;
  std::vector<ColumnInfo> columns;
  // Column indexes of the primary key in key order (from SIMPLE_PRIMARY_KEY or
  // PRIMARY_KEY_WITH_PREFIX); empty when the table has none or metadata was not logged.
  std::vector<uint32_t> primary_key;
  // True when the optional metadata carried column names (binlog_row_metadata=FULL).
  bool has_column_names = false;
  bool has_signedness = false;
};

// Decodes a TABLE_MAP body (after the common header, without the checksum).
// `post_header_length` is 6 (old 4-byte table ids) or 8. `mariadb`: the server is MariaDB,
// whose SIGNEDNESS bitmap also has a bit for YEAR columns (MySQL's does not).
Result<TableMapEvent> ParseTableMap(std::string_view body, uint8_t post_header_length,
                                    bool mariadb = true);

enum class RowsKind : uint8_t { kWrite = 1, kUpdate = 2, kDelete = 3 };

// One row image: a value per table column; std::nullopt where the image does not include the
// column (MINIMAL/NOBLOB row images), which is not the same as NULL.
using RowImage = std::vector<std::optional<model::Value>>;

// A row image in the change-event encoding: per column, the caller's prefix for it (an
// encoded field name; see NextEncoded) and then model::EncodeValue of the value, as
// EncodeColumnValue writes it, one column after another in `fields`. Column i's bytes are
// fields[field_offsets[i], field_offsets[i + 1]), its value starting at value_offsets[i]. A
// column the image does not include (MINIMAL/NOBLOB) has an empty range (every encoded value,
// NULL included, takes at least one byte). `fields` may be longer than the encoding (its tail
// is scratch room, kept so that rows are written without a length check per byte): the
// encoding is encoded(), size() bytes.
struct EncodedRowImage {
  std::string fields;
  std::vector<uint32_t> field_offsets;  // column count + 1 entries
  std::vector<uint32_t> value_offsets;  // column count entries
  size_t missing = 0;                   // columns the image does not include
  size_t size() const { return field_offsets.empty() ? 0 : field_offsets.back(); }
  std::string_view encoded() const { return std::string_view(fields.data(), size()); }
  bool Has(size_t column) const { return field_offsets[column + 1] > field_offsets[column]; }
  std::string_view Field(size_t column) const {
    return std::string_view(fields).substr(field_offsets[column],
                                           field_offsets[column + 1] - field_offsets[column]);
  }
  std::string_view Value(size_t column) const {
    return std::string_view(fields).substr(value_offsets[column],
                                           field_offsets[column + 1] - value_offsets[column]);
  }
};

// What NextEncoded needs per column of one table map, worked out once per TABLE_MAP rather
// than per value (capture keeps it with its cached table): how the column's values are
// encoded (binlog_types.h ColumnEncoding) and the bytes written before each (its encoded
// field name, or nothing). Holds no reference to the table map.
struct RowEncodePlan {
  struct Column {
    ColumnEncoding encoding = ColumnEncoding::kGeneral;
    uint8_t width = 0;         // integers: bytes in the row
    uint8_t length_bytes = 0;  // strings: bytes of the length before the data (1 or 2)
    std::string prefix;
  };
  std::vector<Column> columns;
  // `field_prefixes`: one per column of `table`, or nullptr for none.
  static Result<RowEncodePlan> For(const TableMapEvent& table,
                                   const std::vector<std::string>* field_prefixes);
};

struct RowsEvent {
  RowsKind kind = RowsKind::kWrite;
  uint64_t table_id = 0;
  uint16_t flags = 0;
  uint32_t column_count = 0;
  // For kWrite: after images; kDelete: before images; kUpdate: before/after pairs in `rows`
  // as rows[2k] = before, rows[2k+1] = after.
  std::vector<RowImage> rows;
  bool statement_end() const { return (flags & kRowsFlagStatementEnd) != 0; }
};

// True for every rows event type (v1, v2, MariaDB compressed).
bool IsRowsEvent(uint8_t type);

// Decodes a rows event body against the table map it refers to (`table` must have the same
// table id; the caller looks it up with PeekRowsTableId). Compressed events are inflated.
Result<RowsEvent> ParseRowsEvent(uint8_t type, std::string_view body, uint8_t post_header_length,
                                 const TableMapEvent& table);
// Decodes a rows event one row at a time into caller-owned images that keep their storage
// from row to row (no allocation per row once the values have capacity); ParseRowsEvent is
// this plus a vector. Open validates the header against `table` (same table id, same column
// count) and inflates compressed events; `body` and `table` must outlive the reader's use.
class RowsEventReader {
 public:
  RowsEventReader() = default;
  RowsEventReader(const RowsEventReader&) = delete;  // rows_ may point into inflated_
  RowsEventReader& operator=(const RowsEventReader&) = delete;

  [[nodiscard]] Status Open(uint8_t type, std::string_view body, uint8_t post_header_length,
                            const TableMapEvent& table);
  // kind, table id, flags and column count (`rows` stays empty).
  const RowsEvent& header() const { return header_; }
  bool done() const { return rows_.empty(); }
  // Decodes the next row: `first` is the after image of a write and the before image of an
  // update or a delete; `second` is the after image of an update (untouched otherwise).
  [[nodiscard]] Status Next(RowImage& first, RowImage& second);
  // The same, with the images in the event encoding (no model::Value for common types);
  // `field_prefixes` (one per column, e.g. the encoded column names) go before each value,
  // or nothing when null.
  [[nodiscard]] Status NextEncoded(EncodedRowImage& first, EncodedRowImage& second,
                                   const std::vector<std::string>* field_prefixes = nullptr);
  // The same with the plan made once for the table map (RowEncodePlan::For with the same
  // table and prefixes): the fast way, byte for byte the same images.
  [[nodiscard]] Status NextEncoded(EncodedRowImage& first, EncodedRowImage& second,
                                   const RowEncodePlan& plan);

 private:
  uint8_t type_ = 0;
  const TableMapEvent* table_ = nullptr;
  RowsEvent header_;
  std::string_view present_;
  std::string_view present_after_;
  size_t present_count_ = 0;
  size_t present_after_count_ = 0;
  std::string inflated_;
  std::string scratch_;  // a value of a column the plan's fast paths do not write
  size_t data_offset_ = 0;
  ByteReader rows_{std::string_view()};
};

// The table id of a rows event, to find its table map first.
Result<uint64_t> PeekRowsTableId(std::string_view body, uint8_t post_header_length);

Result<RotateEvent> ParseRotate(std::string_view body, uint8_t post_header_length);
Result<QueryEvent> ParseQuery(uint8_t type, std::string_view body, uint8_t post_header_length);
Result<XidEvent> ParseXid(std::string_view body);
Result<MariadbGtidEvent> ParseMariadbGtid(std::string_view body, uint32_t header_server_id);
Result<GtidListEvent> ParseGtidList(std::string_view body);
Result<MysqlGtidEvent> ParseMysqlGtid(std::string_view body);
// ANNOTATE_ROWS / ROWS_QUERY: the SQL text.
Result<std::string> ParseAnnotateRows(uint8_t type, std::string_view body);

// MariaDB compressed payload: u8 header (0x80 | number of BE length bytes, 1..4), BE
// uncompressed length, zlib stream. Refuses payloads above `max_size` bytes.
Result<std::string> InflateMariadbPayload(std::string_view payload,
                                          uint64_t max_size = uint64_t{1} << 32);

// Binlog CRC-32 (zlib's polynomial), used for event checksums.
uint32_t BinlogCrc32(std::string_view bytes);

// One event ready for its body parser: header plus the body without the checksum.
struct FramedEvent {
  EventHeader header;
  std::string_view body;  // after the header (and for FDE: includes the algorithm byte)
  std::string_view raw;   // the whole event, checksum included
};

// Framing state across a stream of events: the current file's format description (which says
// whether events carry a checksum and gives post-header lengths) and the table maps.
class BinlogDecoder {
 public:
  // `expect_checksum`: the checksum algorithm negotiated for the connection, used for events
  // before the first FORMAT_DESCRIPTION (the artificial ROTATE).
  explicit BinlogDecoder(bool expect_checksum = true) : expect_checksum_(expect_checksum) {}

  // Splits `event` into header and body, verifying its checksum. A FORMAT_DESCRIPTION event
  // replaces the format state.
  Result<FramedEvent> Frame(std::string_view event);

  const FormatDescriptionEvent& format() const { return format_; }
  bool has_format() const { return has_format_; }
  uint8_t PostHeaderLength(uint8_t type, uint8_t fallback) const {
    return format_.PostHeaderLength(type, fallback);
  }

  // Table maps by id, kept until a new map with the same id or Reset.
  void RememberTableMap(TableMapEvent table);
  const TableMapEvent* FindTableMap(uint64_t table_id) const;
  void ClearTableMaps() { tables_.clear(); }

 private:
  bool expect_checksum_;
  bool has_format_ = false;
  FormatDescriptionEvent format_;
  std::map<uint64_t, TableMapEvent> tables_;
};

}  // namespace eddy::source::mysql

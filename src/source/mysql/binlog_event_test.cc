#include "source/mysql/binlog_event.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <tuple>

#include "model/event_codec.h"
#include "source/mysql/binlog_test_util.h"

namespace eddy::source::mysql {
namespace {

using model::Value;
using testutil::BuildEvent;
using testutil::Le;
using testutil::TableMapBuilder;

// NextEncoded with a RowEncodePlan (capture's fast path) must write, after each column's
// prefix, exactly model::EncodeValue of what Next() decodes, consume the same rows, and fail
// where Next() fails with the same message.
void ExpectEncodedMatchesDecoded(uint8_t type, std::string_view body, uint8_t post_header,
                                 const TableMapEvent& table) {
  std::vector<std::string> prefixes;
  for (size_t i = 0; i < table.columns.size(); ++i)
    prefixes.push_back("<" + std::to_string(i) + ">");
  auto plan = RowEncodePlan::For(table, &prefixes);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  RowsEventReader decoder;
  RowsEventReader encoder;
  Status opened = decoder.Open(type, body, post_header, table);
  ASSERT_EQ(encoder.Open(type, body, post_header, table).ok(), opened.ok());
  if (!opened.ok()) return;
  RowImage first;
  RowImage second;
  EncodedRowImage encoded_first;
  EncodedRowImage encoded_second;
  auto expect_same = [&](const RowImage& image, const EncodedRowImage& encoded) {
    std::string expected;
    for (size_t i = 0; i < image.size(); ++i) {
      if (!image[i].has_value()) {
        EXPECT_FALSE(encoded.Has(i)) << i;
        continue;
      }
      expected += prefixes[i];
      model::EncodeValue(*image[i], expected);
    }
    EXPECT_EQ(encoded.encoded(), expected) << table.table;
  };
  while (!decoder.done()) {
    ASSERT_FALSE(encoder.done());
    Status decoded = decoder.Next(first, second);
    Status encoded = encoder.NextEncoded(encoded_first, encoded_second, *plan);
    ASSERT_EQ(decoded.ok(), encoded.ok()) << decoded.ToString() << " vs " << encoded.ToString();
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.ToString(), encoded.ToString());
      return;
    }
    expect_same(first, encoded_first);
    if (decoder.header().kind == RowsKind::kUpdate) expect_same(second, encoded_second);
  }
  EXPECT_TRUE(encoder.done());
}

TEST(BinlogEvent, HeaderAndChecksum) {
  std::string event = BuildEvent(EventType::kXid, Le(77, 8), /*log_pos=*/500, /*checksum=*/true);
  BinlogDecoder decoder(true);
  auto framed = decoder.Frame(event);
  ASSERT_TRUE(framed.ok()) << framed.status().ToString();
  EXPECT_EQ(framed->header.type, static_cast<uint8_t>(EventType::kXid));
  EXPECT_EQ(framed->header.log_pos, 500u);
  EXPECT_EQ(framed->header.server_id, 1u);
  EXPECT_EQ(ParseXid(framed->body)->xid, 77u);

  // One flipped bit anywhere fails the checksum.
  for (size_t i = 0; i < event.size(); ++i) {
    if (i >= 9 && i < 13) continue;  // event_size: caught as a size mismatch instead
    std::string bad = event;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    auto result = decoder.Frame(bad);
    ASSERT_FALSE(result.ok()) << "byte " << i;
    EXPECT_EQ(result.status().code(), ErrorCode::kCorruption);
  }
  // Size mismatch and short input.
  EXPECT_FALSE(decoder.Frame(event.substr(0, event.size() - 1)).ok());
  EXPECT_FALSE(decoder.Frame(event.substr(0, 10)).ok());
}

TEST(BinlogEvent, FormatDescriptionDecidesChecksums) {
  BinlogDecoder decoder(true);
  std::string fde = testutil::BuildFormatDescription("10.11.6-MariaDB-log", true);
  auto framed = decoder.Frame(fde);
  ASSERT_TRUE(framed.ok()) << framed.status().ToString();
  EXPECT_TRUE(decoder.has_format());
  EXPECT_TRUE(decoder.format().IsMariadb());
  EXPECT_EQ(decoder.format().checksum_algorithm, kChecksumAlgorithmCrc32);
  EXPECT_EQ(decoder.PostHeaderLength(static_cast<uint8_t>(EventType::kTableMap), 0), 8);
  EXPECT_EQ(decoder.PostHeaderLength(static_cast<uint8_t>(EventType::kQuery), 0), 13);

  BinlogDecoder plain(true);
  ASSERT_TRUE(plain.Frame(testutil::BuildFormatDescription("8.0.36", false)).ok());
  EXPECT_EQ(plain.format().checksum_algorithm, kChecksumAlgorithmOff);
  std::string xid = BuildEvent(EventType::kXid, Le(5, 8), 100, false);
  auto body = plain.Frame(xid);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->body.size(), 8u);
}

TEST(BinlogEvent, RotateGtidGtidListQuery) {
  auto rotate = ParseRotate(Le(4, 8) + "mysql-bin.000007", 8);
  ASSERT_TRUE(rotate.ok());
  EXPECT_EQ(rotate->position, 4u);
  EXPECT_EQ(rotate->next_file, "mysql-bin.000007");
  EXPECT_FALSE(ParseRotate(Le(4, 8), 8).ok());

  auto gtid = ParseMariadbGtid(Le(42, 8) + Le(3, 4) + std::string(1, '\x03') + Le(9, 8), 7);
  ASSERT_TRUE(gtid.ok());
  EXPECT_EQ(gtid->Text(), "3-7-42");
  EXPECT_EQ(gtid->commit_id, 9u);
  EXPECT_TRUE(gtid->flags & kGtidFlagStandalone);
  EXPECT_FALSE(ParseMariadbGtid(Le(42, 8), 7).ok());

  auto list = ParseGtidList(Le(2, 4) + Le(0, 4) + Le(1, 4) + Le(10, 8) + Le(1, 4) + Le(2, 4) + Le(20, 8));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->gtids.size(), 2u);
  EXPECT_EQ(list->gtids[1], (GtidTriple{1, 2, 20}));
  EXPECT_FALSE(ParseGtidList(Le(0x0FFFFFFF, 4)).ok());

  std::string sid = "\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62";
  auto mysql_gtid = ParseMysqlGtid(std::string(1, '\x01') + sid + Le(23, 8));
  ASSERT_TRUE(mysql_gtid.ok());
  EXPECT_EQ(mysql_gtid->Text(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");

  std::string query = testutil::BuildQueryBody(99, "shop", "ALTER TABLE t ADD c INT");
  auto parsed = ParseQuery(static_cast<uint8_t>(EventType::kQuery), query, 13);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->thread_id, 99u);
  EXPECT_EQ(parsed->database, "shop");
  EXPECT_EQ(parsed->query, "ALTER TABLE t ADD c INT");
  EXPECT_EQ(parsed->sql_mode, 0x100u);
  for (size_t cut = 0; cut < 19; ++cut) {
    EXPECT_FALSE(ParseQuery(static_cast<uint8_t>(EventType::kQuery), query.substr(0, cut), 13).ok());
  }
}

TEST(BinlogEvent, CompressedQuery) {
  std::string text = "CREATE TABLE compressed_table (id INT PRIMARY KEY, padding TEXT)";
  std::string body = testutil::BuildQueryBody(1, "db", "");
  body += testutil::CompressMariadb(text);
  auto parsed = ParseQuery(static_cast<uint8_t>(EventType::kQueryCompressed), body, 13);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->query, text);
  // Declared length that does not match the stream.
  std::string lying = testutil::CompressMariadb(text);
  lying[2] = static_cast<char>(lying[2] + 1);
  EXPECT_FALSE(InflateMariadbPayload(lying).ok());
  EXPECT_FALSE(InflateMariadbPayload("\x81").ok());
  EXPECT_FALSE(InflateMariadbPayload("\x10\x01\x00").ok());
}

TableMapEvent SampleTable() {
  TableMapBuilder builder(17, "shop", "orders");
  builder.Add(ColumnType::kLong, "", false);                             // id int unsigned
  builder.Add(ColumnType::kVarchar, Le(200, 2), true);                   // name varchar(50)
  builder.Add(ColumnType::kNewDecimal, std::string("\x0a\x02", 2), true);  // total decimal(10,2)
  builder.Add(ColumnType::kTiny, "", true);                              // qty tinyint
  builder.Add(ColumnType::kString, std::string("\xf7\x01", 2), true);    // status enum
  builder.Add(ColumnType::kBlob, std::string("\x02", 1), true);          // notes text
  builder.Signedness({true, false, false});   // id unsigned; total, qty signed
  builder.DefaultCharset(45, {});             // utf8mb4 for name, notes
  builder.EnumAndSetDefaultCharset(45);
  builder.Names({"id", "name", "total", "qty", "status", "notes"});
  builder.EnumValues({{"new", "paid", "shipped"}});
  builder.PrimaryKey({0});
  auto table = ParseTableMap(builder.Body(), 8);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? *table : TableMapEvent{};
}

// MariaDB lists a GEOMETRY column among the character columns of the charset metadata (with
// the binary collation); MySQL does not. A TEXT column after it must keep its own charset.
TEST(BinlogEvent, MariadbCountsGeometryAmongCharacterColumns) {
  for (bool default_form : {true, false}) {
    TableMapBuilder builder(18, "shop", "places");
    builder.Add(ColumnType::kLong, "", false);                     // id int
    builder.Add(ColumnType::kGeometry, std::string("\x04", 1), true);  // g geometry
    builder.Add(ColumnType::kBlob, std::string("\x02", 1), true);      // note text
    if (default_form) {
      builder.DefaultCharset(45, {{0, 63}});  // utf8mb4; the first character column binary
    } else {
      builder.ColumnCharsets({63, 45});
    }
    builder.Names({"id", "g", "note"});
    auto table = ParseTableMap(builder.Body(), 8, /*mariadb=*/true);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_EQ(table->columns.size(), 3u);
    EXPECT_EQ(table->columns[2].charset, "utf8mb4") << "default form " << default_form;
    EXPECT_EQ(table->columns[2].SourceTypeName(), "text");
    EXPECT_EQ(table->columns[2].ValueType(), model::ValueType::kText);
  }
}

TEST(BinlogEvent, TableMapWithFullMetadata) {
  TableMapEvent table = SampleTable();
  EXPECT_EQ(table.table_id, 17u);
  EXPECT_EQ(table.database, "shop");
  EXPECT_EQ(table.table, "orders");
  ASSERT_EQ(table.columns.size(), 6u);
  EXPECT_TRUE(table.has_column_names);
  EXPECT_EQ(table.columns[0].name, "id");
  EXPECT_TRUE(table.columns[0].is_unsigned);
  EXPECT_FALSE(table.columns[0].nullable);
  EXPECT_FALSE(table.columns[2].is_unsigned);
  EXPECT_FALSE(table.columns[3].is_unsigned);
  EXPECT_EQ(table.columns[1].charset, "utf8mb4");
  EXPECT_EQ(table.columns[5].charset, "utf8mb4");
  EXPECT_EQ(table.columns[4].real_type, static_cast<uint8_t>(ColumnType::kEnum));
  EXPECT_EQ(table.columns[4].enum_values, (std::vector<std::string>{"new", "paid", "shipped"}));
  EXPECT_EQ(table.primary_key, (std::vector<uint32_t>{0}));
  EXPECT_EQ(table.columns[0].SourceTypeName(), "int unsigned");
  EXPECT_EQ(table.columns[2].SourceTypeName(), "decimal(10,2)");
  EXPECT_EQ(table.columns[5].SourceTypeName(), "text");
}

std::string SampleRow(uint32_t id, const std::string& name, bool null_total) {
  // null bitmap over 6 present columns: bit 2 = total.
  std::string row;
  row.push_back(static_cast<char>(null_total ? 0x04 : 0x00));
  row += Le(id, 4);
  row += std::string(1, static_cast<char>(name.size())) + name;
  if (!null_total) row += std::string("\x80\x00\x00\x01\x05", 5);  // 1.05
  row += std::string(1, '\xff');                                  // qty -1
  row += std::string(1, '\x02');                                  // paid
  row += Le(2, 2) + "hi";
  return row;
}

TEST(BinlogEvent, RowsEventsV1AndV2) {
  TableMapEvent table = SampleTable();
  std::string prefix = Le(17, 6) + Le(kRowsFlagStatementEnd, 2);
  std::string columns = std::string("\x06\x3f", 2);
  // WRITE v1 with two rows.
  std::string write = prefix + columns + SampleRow(4294967295u, "ann", false) + SampleRow(2, "", true);
  auto rows = ParseRowsEvent(static_cast<uint8_t>(EventType::kWriteRowsV1), write, 8, table);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_TRUE(rows->statement_end());
  const RowImage& first = rows->rows[0];
  EXPECT_EQ(*first[0], Value::Uint64(4294967295u));
  EXPECT_EQ(*first[1], Value::Text("ann"));
  EXPECT_EQ(*first[2], Value::Decimal("1.05"));
  EXPECT_EQ(*first[3], Value::Int64(-1));
  EXPECT_EQ(*first[4], Value::Enum("paid"));
  EXPECT_EQ(*first[5], Value::Text("hi"));
  EXPECT_EQ(*rows->rows[1][2], Value::Null());

  // UPDATE v2 (extra data with 2-byte length that counts itself) with a before/after pair.
  std::string update = prefix + Le(2, 2) + columns + std::string("\x3f", 1) +
                       SampleRow(1, "old", false) + SampleRow(1, "new", false);
  auto updated = ParseRowsEvent(static_cast<uint8_t>(EventType::kUpdateRowsV2), update, 10, table);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  ASSERT_EQ(updated->rows.size(), 2u);
  EXPECT_EQ(*updated->rows[0][1], Value::Text("old"));
  EXPECT_EQ(*updated->rows[1][1], Value::Text("new"));

  // MINIMAL-style image: only column 0 present -> others are absent, not NULL.
  std::string partial = prefix + std::string("\x06\x01", 2) + std::string("\x00", 1) + Le(9, 4);
  auto minimal = ParseRowsEvent(static_cast<uint8_t>(EventType::kDeleteRowsV1), partial, 8, table);
  ASSERT_TRUE(minimal.ok()) << minimal.status().ToString();
  EXPECT_EQ(*minimal->rows[0][0], Value::Uint64(9));
  EXPECT_FALSE(minimal->rows[0][1].has_value());

  // Compressed v1 (MariaDB): rows after the bitmaps are zlib-compressed.
  std::string compressed = prefix + columns + testutil::CompressMariadb(SampleRow(3, "zip", false));
  auto inflated = ParseRowsEvent(static_cast<uint8_t>(EventType::kWriteRowsCompressedV1), compressed, 8, table);
  ASSERT_TRUE(inflated.ok()) << inflated.status().ToString();
  EXPECT_EQ(*inflated->rows[0][1], Value::Text("zip"));

  // Every truncation of a rows event is an error, never a crash.
  for (const auto& [type, body, post] :
       {std::tuple(EventType::kWriteRowsV1, write, 8),
        std::tuple(EventType::kUpdateRowsV2, update, 10),
        std::tuple(EventType::kDeleteRowsV1, partial, 8),
        std::tuple(EventType::kWriteRowsCompressedV1, compressed, 8)}) {
    ExpectEncodedMatchesDecoded(static_cast<uint8_t>(type), body, static_cast<uint8_t>(post),
                                table);
  }
  for (size_t cut = 0; cut < write.size(); ++cut) {
    ExpectEncodedMatchesDecoded(static_cast<uint8_t>(EventType::kWriteRowsV1), write.substr(0, cut),
                                8, table);
    auto result = ParseRowsEvent(static_cast<uint8_t>(EventType::kWriteRowsV1),
                                 write.substr(0, cut), 8, table);
    if (result.ok()) {
      // Cutting exactly between rows leaves a valid event with fewer rows.
      EXPECT_LT(result->rows.size(), 2u);
    } else {
      EXPECT_EQ(result.status().code(), ErrorCode::kCorruption) << result.status().ToString();
      EXPECT_NE(result.status().message().find("WRITE_ROWS_V1"), std::string::npos);
    }
  }
  // Column-count mismatch with the table map.
  std::string wrong = prefix + std::string("\x05\x1f", 2);
  EXPECT_FALSE(ParseRowsEvent(static_cast<uint8_t>(EventType::kWriteRowsV1), wrong, 8, table).ok());
}

TEST(BinlogEvent, TableMapTruncationsFailCleanly) {
  TableMapBuilder builder(5, "d", "t");
  builder.Add(ColumnType::kLong, "", false);
  builder.Add(ColumnType::kVarchar, Le(10, 2), true);
  builder.Names({"a", "b"});
  std::string body = builder.Body();
  ASSERT_TRUE(ParseTableMap(body, 8).ok());
  for (size_t cut = 0; cut < body.size(); ++cut) {
    auto result = ParseTableMap(body.substr(0, cut), 8);
    if (!result.ok()) {
      EXPECT_NE(result.status().message().find("TABLE_MAP"), std::string::npos)
          << result.status().ToString();
    }
  }
}

}  // namespace
}  // namespace eddy::source::mysql

namespace eddy::source::mysql {
namespace {

// A real MariaDB 10.11 binlog (log_bin_compress=ON, so QUERY/rows events are compressed when
// large enough), stored as the fuzz seed fuzz/corpus/binlog/mariadb_10_11_whole_file.bin
// (one flag byte, then the file's events). Produced by scripts in the design doc.
TEST(BinlogEvent, DecodesARealMariadbBinlog) {
  const char* source_dir = std::getenv("EDDY_SOURCE_DIR");
  std::string path = std::string(source_dir ? source_dir : EDDY_SOURCE_DIR_FALLBACK) +
                     "/fuzz/corpus/binlog/mariadb_10_11_whole_file.bin";
  FILE* file = std::fopen(path.c_str(), "rb");
  ASSERT_NE(file, nullptr) << path;
  std::string data;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) data.append(buffer, n);
  std::fclose(file);
  std::string_view input(data);
  input.remove_prefix(1);

  BinlogDecoder decoder(true);
  std::map<uint8_t, int> seen;
  std::vector<std::string> queries;
  std::map<std::string, std::vector<RowsEvent>> rows_by_table;
  while (!input.empty()) {
    ASSERT_GE(input.size(), kEventHeaderSize);
    uint32_t size = DecodeFixed32(input.data() + 9);
    auto framed = decoder.Frame(input.substr(0, size));
    ASSERT_TRUE(framed.ok()) << framed.status().ToString();
    input.remove_prefix(size);
    uint8_t type = framed->header.type;
    seen[type]++;
    uint8_t post = decoder.PostHeaderLength(type, 8);
    if (type == static_cast<uint8_t>(EventType::kQuery) ||
        type == static_cast<uint8_t>(EventType::kQueryCompressed)) {
      auto query = ParseQuery(type, framed->body, post);
      ASSERT_TRUE(query.ok()) << query.status().ToString();
      queries.push_back(query->query);
    } else if (type == static_cast<uint8_t>(EventType::kTableMap)) {
      auto table = ParseTableMap(framed->body, post);
      ASSERT_TRUE(table.ok()) << table.status().ToString();
      EXPECT_TRUE(table->has_column_names);
      decoder.RememberTableMap(*table);
    } else if (type == static_cast<uint8_t>(EventType::kMariadbGtid)) {
      ASSERT_TRUE(ParseMariadbGtid(framed->body, framed->header.server_id).ok());
    } else if (type == static_cast<uint8_t>(EventType::kGtidList)) {
      ASSERT_TRUE(ParseGtidList(framed->body).ok());
    } else if (IsRowsEvent(type)) {
      auto id = PeekRowsTableId(framed->body, post);
      ASSERT_TRUE(id.ok());
      const TableMapEvent* table = decoder.FindTableMap(*id);
      ASSERT_NE(table, nullptr);
      auto rows = ParseRowsEvent(type, framed->body, post, *table);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      ExpectEncodedMatchesDecoded(type, framed->body, post, *table);
      rows_by_table[table->table].push_back(std::move(*rows));
    }
  }
  EXPECT_TRUE(decoder.format().IsMariadb());
  EXPECT_EQ(decoder.format().checksum_algorithm, kChecksumAlgorithmCrc32);
  // Compressed QUERY and compressed rows events are both present and decoded.
  EXPECT_GT(seen[static_cast<uint8_t>(EventType::kQueryCompressed)], 0);
  EXPECT_GT(seen[static_cast<uint8_t>(EventType::kWriteRowsCompressedV1)], 0);
  EXPECT_GT(seen[static_cast<uint8_t>(EventType::kAnnotateRows)], 0);
  bool saw_create = false;
  for (const auto& q : queries) saw_create |= q.find("CREATE TABLE t (id INT PRIMARY KEY") == 0;
  EXPECT_TRUE(saw_create);

  // First insert into t: values as inserted.
  ASSERT_FALSE(rows_by_table["t"].empty());
  const RowImage& first = rows_by_table["t"][0].rows[0];
  EXPECT_EQ(*first[0], Value::Int64(1));
  EXPECT_EQ(*first[1], Value::Uint64(4294967295u));
  EXPECT_EQ(*first[2], Value::Decimal("-123456789.123"));
  EXPECT_EQ(*first[3], Value::Float32(1.5f));
  EXPECT_EQ(*first[4], Value::Float64(-2.25e100));
  EXPECT_EQ(*first[5], Value::Int64(2024));
  EXPECT_EQ(*first[6], Value::Date(model::DateValue::FromCivil(2024, 2, 29)));
  EXPECT_EQ(*first[7], Value::Time(-((12 * 3600 + 34 * 60 + 56) * 1000000LL + 789000)));
  EXPECT_EQ(*first[10], Value::Bits("101010101010"));
  // (The shell that wrote this binlog passed '\u00e9' and '\xe9' through literally.)
  std::string repeated;
  for (int i = 0; i < 50; ++i) repeated += "u00e9";
  EXPECT_EQ(*first[12], Value::Text(repeated));
  EXPECT_EQ(*first[13], Value::Text("cafxe9"));
  EXPECT_EQ(*first[16], Value::Enum("y"));
  EXPECT_EQ(*first[17], Value::TypedText("set", "p,r"));
  EXPECT_EQ(*first[18], Value::Text("{\"a\":[1,2]}"));  // MariaDB JSON is LONGTEXT

  // YEAR before an unsigned INT: the signedness bitmap must not count YEAR.
  for (const char* name : {"yr2"}) {
    ASSERT_FALSE(rows_by_table[name].empty()) << name;
    const RowImage& row = rows_by_table[name][0].rows[0];
    EXPECT_EQ(*row[0], Value::Int64(2000));
    EXPECT_EQ(*row[1], Value::Uint64(4294967295u)) << name;
    EXPECT_EQ(*row[2], Value::Int64(-1)) << name;
  }
}

}  // namespace
}  // namespace eddy::source::mysql

#include "source/snapshot_records.h"

#include <gtest/gtest.h>

namespace eddy::source {
namespace {

using model::ChangeEvent;
using model::Field;
using model::Row;
using model::SnapshotMarker;
using model::Value;

ChangeEvent Shared() {
  ChangeEvent shared;
  shared.position = SourcePosition(PostgresPosition{Lsn(0x1234), Lsn(0x1234)});
  shared.commit_time_ns = 1'700'000'000'000'000'000;
  shared.transaction_id = "snapshot:0/1234";
  shared.source.connector = model::ConnectorKind::kPostgres;
  shared.source.server_name = "server";
  return shared;
}

// The record the ChangeEvent way: what the writer must produce byte for byte.
log::AppendRecord Expected(const model::TableId& table, uint32_t version, int64_t capture, Row key,
                           Row after, uint64_t ordinal, SnapshotMarker marker) {
  ChangeEvent event = Shared();
  event.op = model::Operation::kRead;
  event.table = table;
  event.schema_version = version;
  event.capture_time_ns = capture;
  event.key = std::move(key);
  event.after = std::move(after);
  event.ordinal_in_transaction = ordinal;
  event.source.snapshot = marker;
  log::AppendRecord record;
  record.partition_key = event.PartitionKey();
  record.payload = model::EncodeEvent(event);
  return record;
}

// How the row reaches the writer: its Finish bytes, the encoding itself, or each value encoded
// straight into the record (AddEncoded).
enum class How { kFinishBytes, kInPlace, kEncoded };

void AddRow(SnapshotRowEncoding& encoding, SnapshotRecordWriter& writer, const Row& row,
            std::vector<log::AppendRecord>& out, How how = How::kFinishBytes) {
  if (how == How::kEncoded) {
    auto encode = [&](size_t column, ByteAppender& bytes) -> Status {
      std::string value;
      model::EncodeValue(row[column].value, value);
      bytes.Append(value);
      return Status::Ok();
    };
    ASSERT_TRUE(writer.AddEncoded(encoding, encode, out).ok());
    return;
  }
  encoding.Clear();
  for (const Field& field : row) {
    model::EncodeValue(field.value, encoding.values());
    encoding.EndValue();
  }
  if (how == How::kInPlace) {
    ASSERT_TRUE(writer.Add(encoding, out).ok());
    return;
  }
  std::string key;
  std::string rows;
  ASSERT_TRUE(encoding.Finish(key, rows).ok());
  writer.Add(key, rows, out);
}

TEST(SnapshotRecords, ByteForByteTheEncodedEvents) {
  const model::TableId orders{"db", "public", "orders"};
  const model::TableId notes{"db", "public", "notes"};
  SnapshotRecordWriter writer(Shared());
  std::vector<log::AppendRecord> out;
  // orders (id, name) keyed by id; notes (a, b, c) keyed by (c, a).
  SnapshotRowEncoding order_rows(orders, {"id", "name"}, {0});
  SnapshotRowEncoding note_rows(notes, {"a", "b", "c"}, {2, 0});
  std::vector<Row> order_values = {{{"id", Value::Int64(1)}, {"name", Value::Text("one")}},
                                   {{"id", Value::Int64(-2)}, {"name", Value::Null()}}};
  Row note = {{"a", Value::Text("x\ty")}, {"b", Value::Bool(true)}, {"c", Value::Int64(7)}};
  writer.SetTable(orders, 3, 100);
  for (const Row& row : order_values) AddRow(order_rows, writer, row, out);
  EXPECT_EQ(out.size(), 1u);  // the last row is held back
  writer.SetTable(notes, 1, 200);
  AddRow(note_rows, writer, note, out, How::kInPlace);
  ASSERT_TRUE(writer.Finish(out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(writer.rows(), 3u);

  std::vector<log::AppendRecord> expected = {
      Expected(orders, 3, 100, {order_values[0][0]}, order_values[0], 0, SnapshotMarker::kFirst),
      Expected(orders, 3, 100, {order_values[1][0]}, order_values[1], 1, SnapshotMarker::kTrue),
      Expected(notes, 1, 200, {note[2], note[0]}, note, 2, SnapshotMarker::kLast)};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(out[i].partition_key, expected[i].partition_key) << i;
    EXPECT_EQ(out[i].payload, expected[i].payload) << i;
    EXPECT_TRUE(out[i].position.empty()) << i;
  }
}

// AddEncoded writes the bytes Add does: key columns out of column order, a NULL, and a key
// of more columns than the writer keeps inline.
TEST(SnapshotRecords, EncodedStraightIntoTheRecordGetsTheSameBytes) {
  const model::TableId notes{"db", "public", "notes"};
  const model::TableId wide{"db", "public", "wide"};
  SnapshotRowEncoding note_rows(notes, {"a", "b", "c"}, {2, 0});
  SnapshotRowEncoding wide_rows(wide, {"k1", "k2", "k3", "k4", "k5", "v"}, {4, 3, 2, 1, 0});
  std::vector<Row> note_values = {
      {{"a", Value::Text("x\ty")}, {"b", Value::Bool(true)}, {"c", Value::Int64(7)}},
      {{"a", Value::Text("")}, {"b", Value::Null()}, {"c", Value::Int64(-1)}}};
  Row wide_row = {{"k1", Value::Int64(1)},  {"k2", Value::Text("two")},
                  {"k3", Value::Uint64(3)}, {"k4", Value::Text("four")},
                  {"k5", Value::Int64(-5)}, {"v", Value::Text(std::string(300, 'v'))}};
  for (How how : {How::kInPlace, How::kEncoded}) {
    SnapshotRecordWriter writer(Shared());
    std::vector<log::AppendRecord> out;
    writer.SetTable(notes, 2, 50);
    for (const Row& row : note_values) AddRow(note_rows, writer, row, out, how);
    writer.SetTable(wide, 4, 60);
    AddRow(wide_rows, writer, wide_row, out, how);
    ASSERT_TRUE(writer.Finish(out).ok());
    ASSERT_EQ(out.size(), 3u);
    std::vector<log::AppendRecord> expected = {
        Expected(notes, 2, 50, {note_values[0][2], note_values[0][0]}, note_values[0], 0,
                 SnapshotMarker::kFirst),
        Expected(notes, 2, 50, {note_values[1][2], note_values[1][0]}, note_values[1], 1,
                 SnapshotMarker::kTrue),
        Expected(wide, 4, 60, {wide_row[4], wide_row[3], wide_row[2], wide_row[1], wide_row[0]},
                 wide_row, 2, SnapshotMarker::kLast)};
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(out[i].partition_key, expected[i].partition_key) << i;
      EXPECT_EQ(out[i].payload, expected[i].payload) << i;
    }
  }
}

TEST(SnapshotRecords, OneRowIsFirstAndNoRowsIsNothing) {
  const model::TableId table{"db", "", "t"};
  SnapshotRecordWriter writer(Shared());
  std::vector<log::AppendRecord> out;
  ASSERT_TRUE(writer.Finish(out).ok());
  EXPECT_TRUE(out.empty());
  SnapshotRowEncoding encoding(table, {"k"}, {});
  writer.SetTable(table, 1, 5);
  Row row = {{"k", Value::Text("only")}};
  AddRow(encoding, writer, row, out);
  ASSERT_TRUE(writer.Finish(out).ok());
  ASSERT_EQ(out.size(), 1u);
  log::AppendRecord expected = Expected(table, 1, 5, {}, row, 0, SnapshotMarker::kFirst);
  EXPECT_EQ(out[0].partition_key, expected.partition_key);
  EXPECT_EQ(out[0].payload, expected.payload);
}

TEST(SnapshotRecords, MissingValuesAreAnError) {
  SnapshotRowEncoding encoding(model::TableId{"db", "", "t"}, {"a", "b"}, {0});
  encoding.Clear();
  model::EncodeValue(Value::Int64(1), encoding.values());
  encoding.EndValue();
  std::string key;
  std::string rows;
  Status status = encoding.Finish(key, rows);
  EXPECT_EQ(status.code(), ErrorCode::kFailedPrecondition);
}

// Records handed back by the log (their memory kept, contents stale) are refilled with the
// same bytes fresh records get.
TEST(SnapshotRecords, RecycledRecordsGetTheSameBytes) {
  const model::TableId table{"db", "public", "t"};
  SnapshotRowEncoding encoding(table, {"id", "name"}, {0});
  auto rows = [](int from) {
    std::vector<Row> values;
    for (int i = from; i < from + 4; ++i) {
      values.push_back({{"id", Value::Int64(i)}, {"name", Value::Text(std::string(i, 'n'))}});
    }
    return values;
  };
  SnapshotRecordWriter fresh(Shared());
  SnapshotRecordWriter recycling(Shared());
  std::vector<log::AppendRecord> expected;
  std::vector<log::AppendRecord> out;
  fresh.SetTable(table, 1, 9);
  recycling.SetTable(table, 1, 9);
  for (int batch = 0; batch < 3; ++batch) {
    for (const Row& row : rows(1 + 4 * batch)) {
      AddRow(encoding, fresh, row, expected);
      AddRow(encoding, recycling, row, out, static_cast<How>(batch % 3));
    }
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].partition_key, expected[expected.size() - out.size() + i].partition_key);
      EXPECT_EQ(out[i].payload, expected[expected.size() - out.size() + i].payload);
    }
    for (auto& record : out) record.payload += "stale";  // what the log may leave behind
    recycling.Recycle(out);
    EXPECT_TRUE(out.empty());
  }
  ASSERT_TRUE(fresh.Finish(expected).ok());
  ASSERT_TRUE(recycling.Finish(out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, expected.back().payload);
}

// The thread appends the batches in order, one at a time, hands each batch's records back on
// the next Submit, and reports the first failure on every later call.
TEST(SnapshotAppendThread, AppendsInOrderAndHandsRecordsBack) {
  std::vector<std::string> appended;  // touched by the thread only while a batch is in flight
  int calls = 0;
  SnapshotAppendThread thread([&](std::vector<log::AppendRecord>& batch) -> Status {
    ++calls;
    for (const auto& record : batch) appended.push_back(record.payload);
    if (calls == 3) return IoError("disk full (simulated)");
    return Status::Ok();
  });
  auto batch_of = [](int first, int count) {
    std::vector<log::AppendRecord> batch(count);
    for (int i = 0; i < count; ++i) batch[i].payload = std::to_string(first + i);
    return batch;
  };
  std::vector<log::AppendRecord> batch = batch_of(0, 2);
  size_t written = 99;
  ASSERT_TRUE(thread.Submit(batch, &written).ok());
  EXPECT_TRUE(batch.empty());  // nothing appended before the first batch
  EXPECT_EQ(written, 0u);
  batch = batch_of(2, 3);
  ASSERT_TRUE(thread.Submit(batch, &written).ok());
  EXPECT_EQ(written, 2u);
  ASSERT_EQ(batch.size(), 2u);  // the first batch's records, back for reuse
  EXPECT_EQ(batch[0].payload, "0");
  ASSERT_TRUE(thread.Wait(&written).ok());
  EXPECT_EQ(written, 3u);
  EXPECT_EQ(appended, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  batch = batch_of(5, 1);
  ASSERT_TRUE(thread.Submit(batch).ok());  // the third call fails
  EXPECT_EQ(thread.Wait().code(), ErrorCode::kIoError);
  batch = batch_of(6, 1);
  EXPECT_EQ(thread.Submit(batch).code(), ErrorCode::kIoError);
  EXPECT_EQ(batch.size(), 1u);  // not taken
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace eddy::source

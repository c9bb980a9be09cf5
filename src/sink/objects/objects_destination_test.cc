#include "sink/objects/objects_destination.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <map>

#include "io/fault_file_system.h"
#include "model/event_codec.h"
#include "objstore/local_object_store.h"
#include "sink/objects/object_encoder.h"

namespace eddy::sink::objects {
namespace {

// 2026-12-04T17:05:09Z
constexpr int64_t kArrival = 1'796'403'909'000'000'000;

consume::SinkRecord Record(uint64_t sequence, std::string_view table, int64_t arrival = kArrival) {
  consume::SinkRecord record;
  record.shard_index = 0;
  record.shard_id = "shardId-000000000000";
  record.sequence = SequenceNumber(sequence);
  record.sequence_number = std::to_string(sequence);
  record.partition_key = "k" + std::to_string(sequence);
  record.arrival_nanos = arrival + static_cast<int64_t>(sequence) * 1'000'000;
  record.data = table.empty()
                    ? R"({"op":"c","source":{},"after":{"id":)" + std::to_string(sequence) + "}}"
                    : R"({"op":"c","source":{"table":")" + std::string(table) +
                          R"("},"after":{"id":)" + std::to_string(sequence) + "}}";
  return record;
}

consume::SinkBatch Batch(const std::vector<consume::SinkRecord>& records) {
  consume::SinkBatch batch;
  batch.sink_name = "lake";
  batch.stream_name = "orders";
  batch.records = records;
  for (const auto& record : records) batch.data_bytes += record.data.size();
  return batch;
}

std::string Gunzip(const std::string& bytes) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

class ObjectsDestinationTest : public ::testing::Test {
 protected:
  std::unique_ptr<consume::Destination> Make(std::map<std::string, std::string> settings,
                                             std::string url = "file:///lake") {
    consume::SinkSpec spec;
    spec.name = "lake";
    spec.stream = "orders";
    spec.url = std::move(url);
    spec.settings = std::move(settings);
    auto destination = MakeObjectsDestinationWithStore(
        spec, std::make_unique<objstore::LocalObjectStore>("/lake", &fs_));
    EXPECT_TRUE(destination.ok()) << destination.status().ToString();
    EXPECT_TRUE((*destination)->Open().ok());
    return std::move(destination).value();
  }

  // key -> content of every object.
  std::map<std::string, std::string> Objects() {
    std::map<std::string, std::string> objects;
    auto page = store_.List("", "", "", 10'000);
    EXPECT_TRUE(page.ok());
    for (const auto& object : page->objects) objects[object.key] = *store_.Get(object.key);
    return objects;
  }

  // Every line of every object, counted.
  std::map<std::string, int> Lines() {
    std::map<std::string, int> lines;
    for (const auto& [key, content] : Objects()) {
      size_t start = 0;
      while (start < content.size()) {
        size_t end = content.find('\n', start);
        lines[content.substr(start, end - start)]++;
        start = end + 1;
      }
    }
    return lines;
  }

  io::FaultInjectionFileSystem fs_;
  objstore::LocalObjectStore store_{"/lake", &fs_};
};

TEST_F(ObjectsDestinationTest, FirehoseDefaultLayout) {
  auto destination = Make({{"buffer_size_mb", "7"}, {"buffer_interval", "60"}});
  auto batching = destination->Batching();
  ASSERT_TRUE(batching.has_value());
  EXPECT_EQ(batching->batch_bytes, 7u << 20);
  EXPECT_EQ(batching->window, std::chrono::seconds(60));
  auto outcome = destination->Deliver(Batch({Record(1, "a"), Record(2, "b")}));
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 2u);
  auto objects = Objects();
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects.begin()->first,
            "2026/12/04/17/orders-1-2026-12-04-17-05-09-000000-00000000000000000001.json");
  EXPECT_EQ(objects.begin()->second, Record(1, "a").data + "\n" + Record(2, "b").data + "\n");
}

TEST_F(ObjectsDestinationTest, HivePartitionsAndTheErrorPrefix) {
  auto destination =
      Make({{"prefix", "table=!{partitionKeyFromQuery:source.table}/dt=!{timestamp:yyyy-MM-dd}/"},
            {"compression", "GZIP"}});
  auto outcome =
      destination->Deliver(Batch({Record(1, "a"), Record(2, "b"), Record(3, "a"), Record(4, "")}));
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  auto objects = Objects();
  ASSERT_EQ(objects.size(), 3u);
  std::string a =
      "table=a/dt=2026-12-04/orders-1-2026-12-04-17-05-09-000000-00000000000000000001.json.gz";
  ASSERT_TRUE(objects.count(a));
  EXPECT_EQ(Gunzip(objects[a]), Record(1, "a").data + "\n" + Record(3, "a").data + "\n");
  std::string b =
      "table=b/dt=2026-12-04/orders-1-2026-12-04-17-05-09-000000-00000000000000000002.json.gz";
  ASSERT_TRUE(objects.count(b));
  std::string error =
      "processing-failed/2026/12/04/17/"
      "orders-1-2026-12-04-17-05-09-000000-00000000000000000004.json.gz";
  ASSERT_TRUE(objects.count(error));
  std::string line = Gunzip(objects[error]);
  EXPECT_NE(line.find("\"errorCode\":\"PartitionKeyQueryFailed\""), std::string::npos) << line;
  EXPECT_NE(line.find("source.table"), std::string::npos) << line;
  EXPECT_NE(line.find("\"sequenceNumber\":\"4\""), std::string::npos) << line;
}

TEST_F(ObjectsDestinationTest, ZstdObjects) {
  auto destination = Make({{"compression", "ZSTD"}});
  ASSERT_TRUE(destination->Deliver(Batch({Record(1, "a")})).failure.ok());
  auto objects = Objects();
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_TRUE(objects.begin()->first.ends_with(".json.zst"));
  const std::string& frame = objects.begin()->second;
  std::string out(ZSTD_getFrameContentSize(frame.data(), frame.size()), '\0');
  ASSERT_EQ(ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size()), out.size());
  EXPECT_EQ(out, Record(1, "a").data + "\n");
}

// A flush interrupted before its checkpoint is delivered again from the checkpoint, cut at
// other boundaries (the runner's batching is time-dependent): every record still ends up in
// exactly one object.
TEST_F(ObjectsDestinationTest, RedeliveryAtOtherBoundariesLeavesNoDuplicate) {
  std::map<std::string, std::string> settings = {
      {"prefix", "t=!{partitionKeyFromQuery:source.table}/"}};
  std::vector<consume::SinkRecord> records;
  for (uint64_t i = 1; i <= 30; ++i) records.push_back(Record(i, i % 3 == 0 ? "x" : "y"));
  auto slice = [&](size_t from, size_t to) {
    return Batch(std::vector<consume::SinkRecord>(records.begin() + from, records.begin() + to));
  };
  {
    auto first = Make(settings);
    ASSERT_TRUE(first->Deliver(slice(0, 5)).failure.ok());   // acknowledged, checkpointed
    ASSERT_TRUE(first->Deliver(slice(5, 17)).failure.ok());  // written, then a crash
  }
  for (auto cut : {std::pair<size_t, size_t>{5, 9}, {9, 13}}) {  // shorter batches this time
    auto again = Make(settings);
    ASSERT_TRUE(again->Deliver(slice(cut.first, cut.second)).failure.ok());
  }
  {
    auto again = Make(settings);
    ASSERT_TRUE(again->Deliver(slice(13, 30)).failure.ok());  // a longer one
  }
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 30u);
  for (const auto& record : records) EXPECT_EQ(lines[record.data], 1) << record.data;
}

TEST_F(ObjectsDestinationTest, AFailingStoreIsRetriableAndNothingIsAcknowledged) {
  auto destination = Make({});
  fs_.InjectFault(io::FaultOperation::kRename, IoError("injected: read-only file system"));
  auto outcome = destination->Deliver(Batch({Record(1, "a")}));
  EXPECT_EQ(outcome.acknowledged, 0u);
  EXPECT_TRUE(outcome.failure.IsRetriable()) << outcome.failure.ToString();
  EXPECT_NE(outcome.failure.message().find("file:///lake/2026/12/04/17/"), std::string::npos)
      << outcome.failure.ToString();
  EXPECT_TRUE(Objects().empty());
  outcome = destination->Deliver(Batch({Record(1, "a")}));
  EXPECT_EQ(outcome.acknowledged, 1u);
  EXPECT_EQ(Objects().size(), 1u);
}

TEST_F(ObjectsDestinationTest, OpenFailsOnAPathThatIsAFile) {
  ASSERT_TRUE(fs_.WriteFileAtomically("/lake", "not a directory").ok());
  consume::SinkSpec spec;
  spec.name = "lake";
  spec.stream = "orders";
  spec.url = "file:///lake";
  auto destination = MakeObjectsDestinationWithStore(
      spec, std::make_unique<objstore::LocalObjectStore>("/lake", &fs_));
  ASSERT_TRUE(destination.ok());
  Status opened = (*destination)->Open();
  EXPECT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("/lake"), std::string::npos) << opened.ToString();
}

// A row change of `table` (schema `version`: version 2 has a second column) as the runner
// hands it over for format=parquet: decoded event, recorded schema, native JSON data.
consume::SinkRecord RowRecord(uint64_t sequence, std::string_view table, uint32_t version,
                              bool with_schema = true) {
  consume::SinkRecord record = Record(sequence, table);
  auto event = std::make_shared<model::ChangeEvent>();
  event->op = model::Operation::kInsert;
  event->table = {"shop", "public", std::string(table)};
  event->schema_version = version;
  event->commit_time_ns = kArrival;
  event->transaction_id = "7";
  event->after = model::Row{{"id", model::Value::Int64(static_cast<int64_t>(sequence))}};
  auto schema = std::make_shared<model::TableSchema>();
  schema->table = event->table;
  schema->version = version;
  model::Column id;
  id.name = "id";
  id.type = model::ValueType::kInt64;
  id.source_type = "bigint";
  schema->columns.push_back(id);
  if (version >= 2) {
    model::Column note;
    note.name = "note";
    note.type = model::ValueType::kText;
    note.source_type = "text";
    schema->columns.push_back(note);  // NULL in every row: still a column of the file
  }
  record.event = std::move(event);
  if (with_schema) record.table_schema = std::move(schema);
  return record;
}

TEST_F(ObjectsDestinationTest, ParquetOneFilePerTableAndSchemaVersion) {
  auto destination =
      Make({{"format", "parquet"}, {"prefix", "table=!{partitionKeyFromQuery:source.table}/"}});
  consume::SinkRecord marker = Record(6, "a");  // not a row change: no row in any file
  auto marker_event = std::make_shared<model::ChangeEvent>();
  marker_event->op = model::Operation::kSchemaChange;
  marker.event = std::move(marker_event);
  auto outcome = destination->Deliver(
      Batch({RowRecord(1, "a", 1), RowRecord(2, "b", 1), RowRecord(3, "a", 1), RowRecord(4, "a", 2),
             RowRecord(5, "a", 2), marker, RowRecord(7, "a", 2, /*with_schema=*/false)}));
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 7u);
  auto objects = Objects();
  std::vector<std::string> keys;
  for (const auto& [key, content] : objects) keys.push_back(key);
  const std::string hour = "2026/12/04/17/";
  const std::string stamp = "orders-1-2026-12-04-17-05-09-000000-0000000000000000000";
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "format-conversion-failed/2026/12/04/17/" + stamp + "7.json",
                      "table=a/" + hour + stamp + "1.parquet",  // version 1: records 1 and 3
                      "table=a/" + hour + stamp + "4.parquet",  // version 2: a new file
                      "table=b/" + hour + stamp + "2.parquet",
                  }));
  for (const auto& [key, content] : objects) {
    if (!key.ends_with(".parquet")) continue;
    ASSERT_GE(content.size(), 12u) << key;
    EXPECT_EQ(content.substr(0, 4), "PAR1") << key;
    EXPECT_EQ(content.substr(content.size() - 4), "PAR1") << key;
  }
  // Version 2's file declares the column that is NULL in every row.
  ASSERT_TRUE(objects.count("table=a/" + hour + stamp + "4.parquet"));
  EXPECT_NE(objects["table=a/" + hour + stamp + "4.parquet"].find("note"), std::string::npos);
  EXPECT_EQ(objects["table=a/" + hour + stamp + "1.parquet"].find("note"), std::string::npos);
  const std::string& error = objects["format-conversion-failed/2026/12/04/17/" + stamp + "7.json"];
  EXPECT_NE(error.find("DataFormatConversion.SchemaMissing"), std::string::npos) << error;
}

// Parquet files are laid out from the decoded events: the runner renders records only for a
// prefix that reads their fields, and an error line renders an unrendered record itself.
TEST_F(ObjectsDestinationTest, ParquetNeedsNoRenderingUnlessThePrefixReadsFields) {
  EXPECT_TRUE(Make({})->UsesRenderedData());
  EXPECT_TRUE(
      Make({{"format", "parquet"}, {"prefix", "table=!{partitionKeyFromQuery:source.table}/"}})
          ->UsesRenderedData());
  auto destination = Make({{"format", "parquet"}});
  EXPECT_FALSE(destination->UsesRenderedData());
  consume::SinkRecord unrendered = RowRecord(7, "a", 1, /*with_schema=*/false);
  unrendered.data.clear();
  auto outcome = destination->Deliver(Batch({unrendered}));
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 1u);
  auto objects = Objects();
  ASSERT_EQ(objects.size(), 1u);
  const std::string& error = objects.begin()->second;
  EXPECT_NE(error.find("DataFormatConversion.SchemaMissing"), std::string::npos) << error;
  // base64 of the native JSON, which begins with {"type":" (eyJ0eXBlIjoi in base64).
  EXPECT_NE(error.find("\"rawData\":\"eyJ0eXBlIjoi"), std::string::npos) << error;
}

// `record` as the runner hands it to a destination that TakesStoredEvents: the event in its
// stored encoding, no decoded event.
consume::SinkRecord Stored(consume::SinkRecord record) {
  record.stored_event = model::EncodeEvent(*record.event);
  record.event.reset();
  return record;
}

// Stored events (what the runner hands over for format=parquet) give the same objects, byte
// for byte, as decoded events: rows, files per schema, the error output and its rawData.
TEST_F(ObjectsDestinationTest, ParquetFromStoredEventsEqualsParquetFromDecodedEvents) {
  EXPECT_TRUE(Make({{"format", "parquet"}})->TakesStoredEvents());
  EXPECT_FALSE(Make({})->TakesStoredEvents());
  consume::SinkRecord marker = Record(6, "a");
  auto marker_event = std::make_shared<model::ChangeEvent>();
  marker_event->op = model::Operation::kSchemaChange;
  marker_event->table = {"shop", "public", "a"};
  marker.event = std::move(marker_event);
  std::vector<consume::SinkRecord> records = {RowRecord(1, "a", 1),
                                              RowRecord(2, "b", 1),
                                              RowRecord(3, "a", 1),
                                              RowRecord(4, "a", 2),
                                              RowRecord(5, "a", 2),
                                              marker,
                                              RowRecord(7, "a", 2, /*with_schema=*/false)};
  for (auto& record : records) record.data.clear();  // not rendered
  ASSERT_TRUE(Make({{"format", "parquet"}})->Deliver(Batch(records)).failure.ok());
  auto decoded = Objects();
  for (const auto& [key, content] : decoded) ASSERT_TRUE(store_.Delete(key).ok()) << key;
  ASSERT_TRUE(Objects().empty());
  std::vector<consume::SinkRecord> stored;
  for (const auto& record : records) stored.push_back(Stored(record));
  auto outcome = Make({{"format", "parquet"}})->Deliver(Batch(stored));
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, records.size());
  EXPECT_EQ(Objects(), decoded);
  EXPECT_EQ(decoded.size(), 4u);  // a (v1), a (v2), b and the error object of record 7
}

// Destination::Stage: a flush encoded while the runner gathered it writes the same objects,
// byte for byte, as the same batch delivered unstaged; a batch other than the staged one (a
// retry, a bisected part) and a flush with error-output records are written from their records.
TEST_F(ObjectsDestinationTest, StagedParquetFlushesWriteTheSameObjects) {
  EXPECT_FALSE(Make({})->StagesRecords());
  EXPECT_FALSE(Make({{"format", "parquet"}, {"prefix", "t=!{partitionKeyFromQuery:source.table}/"}})
                   ->StagesRecords());
  std::vector<consume::SinkRecord> records;
  for (uint64_t i = 1; i <= 9; ++i) {
    records.push_back(Stored(RowRecord(i, i % 3 == 0 ? "b" : "a", i > 6 ? 2 : 1)));
    records.back().data.clear();
  }
  auto take = [&]() {
    auto objects = Objects();
    for (const auto& [key, content] : objects) EXPECT_TRUE(store_.Delete(key).ok()) << key;
    return objects;
  };
  auto deliver = [&](consume::Destination& destination,
                     const std::vector<consume::SinkRecord>& batch) {
    auto outcome = destination.Deliver(Batch(batch));
    EXPECT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
    EXPECT_EQ(outcome.acknowledged, batch.size());
  };
  const std::vector<consume::SinkRecord> head(records.begin(), records.begin() + 4);
  const std::vector<consume::SinkRecord> tail(records.begin() + 4, records.end());

  deliver(*Make({{"format", "parquet"}}), records);
  const auto unstaged = take();
  EXPECT_EQ(unstaged.size(), 4u);  // a v1 (1, 2, 4, 5), b v1 (3, 6), a v2 (7, 8), b v2 (9)
  deliver(*Make({{"format", "parquet"}}), head);
  const auto unstaged_head = take();

  auto destination = Make({{"format", "parquet"}});
  ASSERT_TRUE(destination->StagesRecords());
  destination->Stage(0, head, /*first=*/true);
  destination->Stage(0, tail, /*first=*/false);
  deliver(*destination, records);
  EXPECT_EQ(take(), unstaged);

  // Staged the whole flush, delivered a part (as after a failure and bisection); then the
  // rest, unstaged.
  destination->Stage(0, head, /*first=*/true);
  destination->Stage(0, tail, /*first=*/false);
  deliver(*destination, head);
  EXPECT_EQ(take(), unstaged_head);
  // An abandoned gathering (staged, never delivered) is replaced by the next first slice.
  destination->Stage(0, tail, /*first=*/true);
  destination->Stage(0, records, /*first=*/true);
  deliver(*destination, records);
  EXPECT_EQ(take(), unstaged);

  // A record without a table schema goes to the error output, staged or not.
  std::vector<consume::SinkRecord> with_error = records;
  with_error.push_back(Stored(RowRecord(10, "a", 2, /*with_schema=*/false)));
  with_error.back().data.clear();
  deliver(*Make({{"format", "parquet"}}), with_error);
  const auto unstaged_with_error = take();
  EXPECT_EQ(unstaged_with_error.size(), 5u);
  destination->Stage(0, with_error, /*first=*/true);
  deliver(*destination, with_error);
  EXPECT_EQ(take(), unstaged_with_error);
}

// The runner reads only the header of a Parquet sink's records (TakesStoredEvents): a stored
// event whose rows do not decode fails the flush permanently, naming the record and the fix,
// and writes nothing.
TEST_F(ObjectsDestinationTest, ParquetRecordThatDoesNotDecodeFailsTheFlush) {
  std::vector<consume::SinkRecord> records = {Stored(RowRecord(1, "a", 1)),
                                              Stored(RowRecord(2, "a", 1))};
  records[1].stored_event.resize(records[1].stored_event.size() - 3);  // a cut row
  for (auto& record : records) record.data.clear();
  for (bool staged : {false, true}) {
    auto destination = Make({{"format", "parquet"}});
    if (staged) destination->Stage(0, records, /*first=*/true);
    auto outcome = destination->Deliver(Batch(records));
    EXPECT_EQ(outcome.acknowledged, 0u);
    EXPECT_EQ(outcome.failure.code(), ErrorCode::kCorruption) << outcome.failure.ToString();
    EXPECT_FALSE(outcome.failure.IsRetriable());
    EXPECT_NE(outcome.failure.message().find("record 2 of shardId-000000000000"), std::string::npos)
        << outcome.failure.ToString();
    EXPECT_NE(outcome.failure.message().find("eddy sink reset --name lake --to"), std::string::npos)
        << outcome.failure.ToString();
    EXPECT_TRUE(Objects().empty());
  }
}

TEST_F(ObjectsDestinationTest, ParquetRedeliveryReplacesTheSameObjects) {
  std::map<std::string, std::string> settings = {{"format", "parquet"}, {"compression", "zstd"}};
  {
    auto first = Make(settings);
    ASSERT_TRUE(
        first->Deliver(Batch({RowRecord(1, "a", 1), RowRecord(2, "a", 1), RowRecord(3, "b", 1)}))
            .failure.ok());
  }
  auto before = Objects();
  auto again = Make(settings);
  ASSERT_TRUE(
      again->Deliver(Batch({RowRecord(1, "a", 1), RowRecord(2, "a", 1), RowRecord(3, "b", 1)}))
          .failure.ok());
  EXPECT_EQ(Objects(), before);  // the same keys and the same bytes
  EXPECT_EQ(before.size(), 2u);
}

// Every member of a gzip file, decompressed and concatenated (as gunzip reads it); `members`
// counts them.
std::string GunzipMembers(const std::string& bytes, int* members) {
  std::string out;
  size_t offset = 0;
  *members = 0;
  while (offset < bytes.size()) {
    z_stream stream{};
    EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
    std::string buffer(8 << 20, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + offset));
    stream.avail_in = static_cast<uInt>(bytes.size() - offset);
    stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
    stream.avail_out = static_cast<uInt>(buffer.size());
    int result = inflate(&stream, Z_FINISH);
    EXPECT_EQ(result, Z_STREAM_END);
    if (result != Z_STREAM_END) break;
    out.append(buffer.data(), stream.total_out);
    offset += stream.total_in;
    inflateEnd(&stream);
    ++*members;
  }
  return out;
}

// Without partition fields a record joins the group of the record before it when both arrived
// in the same second (and, for Parquet, share the table schema); records that go back and
// forth between hours and tables still land in their own objects, in order.
TEST_F(ObjectsDestinationTest, RecordsFindTheirGroupAcrossSecondsHoursAndTables) {
  constexpr int64_t kHour = 3'600'000'000'000;
  auto lines = Make({});
  auto outcome = lines->Deliver(
      Batch({Record(1, "a"), Record(2, "a", kArrival + 1'000'000'000),
             Record(3, "a", kArrival + kHour), Record(4, "a"), Record(5, "a", kArrival + kHour)}));
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 5u);
  auto objects = Objects();
  const std::string first =
      "2026/12/04/17/orders-1-2026-12-04-17-05-09-000000-00000000000000000001.json";
  const std::string second =
      "2026/12/04/18/orders-1-2026-12-04-18-05-09-000000-00000000000000000003.json";
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[first],
            Record(1, "a").data + "\n" + Record(2, "a").data + "\n" + Record(4, "a").data + "\n");
  EXPECT_EQ(objects[second], Record(3, "a").data + "\n" + Record(5, "a").data + "\n");

  for (const auto& [key, content] : objects) ASSERT_TRUE(store_.Delete(key).ok());
  auto parquet = Make({{"format", "parquet"}});
  consume::SinkRecord a1 = RowRecord(1, "a", 1);
  consume::SinkRecord a2 = RowRecord(2, "a", 1);
  a2.table_schema = a1.table_schema;  // the runner hands one schema object to a table's records
  consume::SinkRecord b3 = RowRecord(3, "b", 1);
  consume::SinkRecord a4 = RowRecord(4, "a", 1);
  a4.table_schema = a1.table_schema;
  consume::SinkRecord a5 = RowRecord(5, "a", 1);  // an equal schema in another object
  outcome = parquet->Deliver(Batch({a1, a2, b3, a4, a5}));
  ASSERT_TRUE(outcome.failure.ok()) << outcome.failure.ToString();
  EXPECT_EQ(outcome.acknowledged, 5u);
  std::vector<std::string> keys;
  for (const auto& [key, content] : Objects()) keys.push_back(key);
  const std::string stamp = "2026/12/04/17/orders-1-2026-12-04-17-05-09-000000-0000000000000000000";
  EXPECT_EQ(keys, (std::vector<std::string>{stamp + "1.parquet", stamp + "3.parquet"}));
}

TEST(GzipCompressTest, LargeInputsAreMembersThatReadAsOneStream) {
  std::string text;
  for (int i = 0; text.size() < 3 * kGzipMemberBytes + 12345; ++i) {
    text += R"({"op":"c","after":{"id":)" + std::to_string(i * 7919 % 100003) + "}}\n";
  }
  auto gzip = GzipCompress(text, kDefaultGzipLevel);
  ASSERT_TRUE(gzip.ok()) << gzip.status().ToString();
  int members = 0;
  EXPECT_EQ(GunzipMembers(*gzip, &members), text);
  EXPECT_EQ(members, 4);
  auto small = GzipCompress("one line\n", 9);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(GunzipMembers(*small, &members), "one line\n");
  EXPECT_EQ(members, 1);
  auto empty = GzipCompress("", kDefaultGzipLevel);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(GunzipMembers(*empty, &members), "");

  auto zstd = ZstdCompress(text, kDefaultZstdLevel);
  ASSERT_TRUE(zstd.ok()) << zstd.status().ToString();
  std::string out(ZSTD_getFrameContentSize(zstd->data(), zstd->size()), '\0');
  ASSERT_EQ(ZSTD_decompress(out.data(), out.size(), zstd->data(), zstd->size()), text.size());
  EXPECT_EQ(out, text);
}

}  // namespace
}  // namespace eddy::sink::objects

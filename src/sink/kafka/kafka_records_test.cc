#include "sink/kafka/kafka_records.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "model/event_codec.h"

namespace eddy::sink::kafka {
namespace {

KafkaSettings Settings(std::string format = "debezium-schema") {
  consume::SinkSpec spec;
  spec.name = "k";
  spec.url = "kafka://127.0.0.1:9092";
  spec.settings = {{"topic_prefix", "shop"}, {"format", std::move(format)}};
  auto settings = ParseKafkaSettings(spec);
  EXPECT_TRUE(settings.ok()) << settings.status().ToString();
  return *settings;
}

model::Row Row2(int64_t id, std::string name) {
  return {model::Field{"id", model::Value::Int64(id)},
          model::Field{"name", model::Value::Text(std::move(name))}};
}

// The messages Map appends view the record's rendered data (in the sink the batch outlives
// them), so the records made here stay alive until the test binary exits.
const consume::SinkRecord& Record(model::ChangeEvent event, std::string data = "{\"v\":1}") {
  static std::deque<consume::SinkRecord> records;
  consume::SinkRecord& record = records.emplace_back();
  record.data = std::move(data);
  record.event = std::make_shared<const model::ChangeEvent>(std::move(event));
  return record;
}

// Record bytes the messages view; lives as long as the records above.
MessageArena& Arena() {
  static MessageArena arena;
  return arena;
}

// Views the arena returned stay valid and unchanged while it lives: across chunk boundaries,
// for records larger than a chunk, after the arena moved, and after Clear (which reuses the
// chunks for new records, not for the views taken before it).
TEST(MessageArenaTest, ViewsStayValidAcrossChunksMovesAndClear) {
  std::mt19937_64 random(7);
  auto text = [&](size_t size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>('a' + random() % 26);
    return bytes;
  };
  for (int round = 0; round < 2; ++round) {
    MessageArena arena;
    std::vector<std::pair<std::string_view, std::string>> added;
    size_t expected_bytes = 0;
    for (int i = 0; i < 3000; ++i) {
      // Mostly small records, some near and above a chunk (1 MiB), some empty parts.
      const size_t size = i % 500 == 7  ? (size_t{1} << 20) + random() % 4096
                          : i % 97 == 3 ? (size_t{1} << 20) - random() % 64
                                        : random() % 2000;
      std::string first = text(size / 3);
      std::string second = i % 5 == 0 ? std::string() : text(size / 3);
      std::string third = text(size - size / 3 - second.size());
      std::string_view view =
          i % 2 == 0 ? arena.Add(first + second + third) : arena.Add(first, second, third);
      added.emplace_back(view, first + second + third);
      expected_bytes += first.size() + second.size() + third.size();
    }
    EXPECT_EQ(arena.bytes(), expected_bytes);
    MessageArena moved = std::move(arena);
    for (const auto& [view, bytes] : added) ASSERT_EQ(view, bytes);
    // The moved-from arena is empty and usable.
    EXPECT_EQ(arena.bytes(), 0u);  // NOLINT(bugprone-use-after-move): documented as empty
    EXPECT_EQ(arena.Add("after the move"), "after the move");
    if (round == 1) {
      moved.Clear();
      EXPECT_EQ(moved.bytes(), 0u);
      for (int i = 0; i < 1000; ++i) {
        std::string bytes = text(random() % 3000);
        ASSERT_EQ(moved.Add(bytes), bytes);
      }
    }
  }
}

model::ChangeEvent PostgresEvent(model::Operation op) {
  model::ChangeEvent event;
  event.op = op;
  event.table = {"shopdb", "public", "orders"};
  event.source.connector = model::ConnectorKind::kPostgres;
  event.source.server_name = "shop";
  PostgresPosition position;
  position.commit_end_lsn = Lsn(100);
  position.change_lsn = Lsn(90);
  event.position = SourcePosition(position);
  return event;
}

// Kafka Connect JsonConverter with schemas.enable=true writes a Debezium key struct as
// {"schema":{"type":"struct","fields":[...],"optional":false,"name":...},"payload":{...}}
// with Jackson's compact output (no spaces), fields in the order of the struct.
constexpr std::string_view kGoldenKeyWithSchema =
    R"({"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],)"
    R"("optional":false,"name":"shop.public.orders.Key"},"payload":{"id":7}})";
constexpr std::string_view kGoldenKeyPayloadOnly = R"({"id":7})";

TEST(KafkaRecords, InsertGoesToDebeziumTopicWithJsonConverterKey) {
  auto mapper = RecordMapper::Make(Settings());
  ASSERT_TRUE(mapper.ok());
  auto event = PostgresEvent(model::Operation::kInsert);
  event.after = Row2(7, "a");
  event.key = {model::Field{"id", model::Value::Int64(7)}};
  std::vector<KafkaMessage> out;
  EXPECT_TRUE(mapper->Map(Record(event), &Arena(), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "shop.public.orders");
  EXPECT_EQ(*out[0].key, kGoldenKeyWithSchema);
  EXPECT_EQ(*out[0].value, "{\"v\":1}");
  EXPECT_TRUE(out[0].headers.empty());

  auto payload_only = RecordMapper::Make(Settings("debezium"));
  out.clear();
  EXPECT_TRUE(payload_only->Map(Record(event), &Arena(), &out).ok());
  EXPECT_EQ(*out[0].key, kGoldenKeyPayloadOnly);
}

// With the table's catalog schema, integer key columns get Debezium's widths: int16 for
// smallint (and MySQL tinyint), int32 for integer and mediumint, and one size up for unsigned
// MySQL types; bigint stays int64. The same types appear in the value's envelope schema.
TEST(KafkaRecords, KeyIntegerWidthsFollowTheSourceColumnTypes) {
  auto mapper = RecordMapper::Make(Settings());
  ASSERT_TRUE(mapper.ok());
  struct Case {
    std::string source_type;
    std::string connect_type;
  };
  for (const Case& c : std::vector<Case>{{"int2", "int16"},
                                         {"int4", "int32"},
                                         {"int8", "int64"},
                                         {"smallint", "int16"},
                                         {"integer", "int32"},
                                         {"tinyint", "int16"},
                                         {"tinyint unsigned", "int16"},
                                         {"smallint unsigned", "int32"},
                                         {"mediumint", "int32"},
                                         {"mediumint unsigned", "int32"},
                                         {"int", "int32"},
                                         {"int unsigned", "int64"},
                                         {"bigint unsigned", "int64"}}) {
    auto schema = std::make_shared<model::TableSchema>();
    schema->table = {"shopdb", "public", "orders"};
    model::Column id;
    id.name = "id";
    id.source_type = c.source_type;
    id.type = model::ValueType::kInt64;
    id.nullable = false;
    id.primary_key_ordinal = 1;
    schema->columns.push_back(id);
    schema->primary_key = {"id"};
    auto event = PostgresEvent(model::Operation::kInsert);
    event.after = Row2(7, "a");
    event.key = {model::Field{"id", model::Value::Int64(7)}};
    consume::SinkRecord record = Record(event);
    record.table_schema = schema;
    std::vector<KafkaMessage> out;
    EXPECT_TRUE(mapper->Map(record, &Arena(), &out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(
        *out[0].key,
        R"({"schema":{"type":"struct","fields":[{"type":")" + c.connect_type +
            R"(","optional":false,"field":"id"}],"optional":false,"name":"shop.public.orders.Key"},"payload":{"id":7}})")
        << c.source_type;
  }
}

TEST(KafkaRecords, MysqlTopicUsesDatabaseAndKeyColumnsOverride) {
  consume::SinkSpec spec;
  spec.name = "k";
  spec.url = "kafka://h:1";
  spec.settings = {
      {"topic_prefix", "my"}, {"format", "debezium"}, {"message.key.columns", "inv\\.items:name"}};
  auto settings = ParseKafkaSettings(spec);
  ASSERT_TRUE(settings.ok());
  auto mapper = RecordMapper::Make(*settings);
  model::ChangeEvent event;
  event.op = model::Operation::kInsert;
  event.table = {"inv", "", "items"};
  event.after = Row2(1, "x\"y");
  event.key = {model::Field{"id", model::Value::Int64(1)}};
  std::vector<KafkaMessage> out;
  EXPECT_TRUE(mapper->Map(Record(event), &Arena(), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "my.inv.items");
  EXPECT_EQ(*out[0].key, R"({"name":"x\"y"})");
}

TEST(KafkaRecords, EachTableKeepsItsOwnTopicAndKeyColumnsAcrossRecords) {
  // What a table's records share (topic, key schema name, key columns rule) is derived once per
  // table; records of two tables interleaved, and a copy of the mapper, still get each table's.
  consume::SinkSpec spec;
  spec.name = "k";
  spec.url = "kafka://h:1";
  spec.settings = {{"topic_prefix", "my"},
                   {"format", "debezium-schema"},
                   {"message.key.columns", "inv\\.items:name"}};
  auto settings = ParseKafkaSettings(spec);
  ASSERT_TRUE(settings.ok());
  auto made = RecordMapper::Make(*settings);
  ASSERT_TRUE(made.ok());
  RecordMapper copy = *made;
  for (const RecordMapper* mapper : {&*made, &copy}) {
    std::vector<KafkaMessage> out;
    for (int i = 1; i <= 3; ++i) {
      for (const char* table : {"items", "orders"}) {
        model::ChangeEvent event;
        event.op = model::Operation::kInsert;
        event.table = {"inv", "", table};
        event.after = Row2(i, "n" + std::to_string(i));
        event.key = {model::Field{"id", model::Value::Int64(i)}};
        EXPECT_TRUE(mapper->Map(Record(event), &Arena(), &out).ok());
      }
    }
    ASSERT_EQ(out.size(), 6u);
    for (int i = 0; i < 3; ++i) {
      const KafkaMessage& item = out[2 * i];
      const KafkaMessage& order = out[2 * i + 1];
      EXPECT_EQ(item.topic, "my.inv.items");
      EXPECT_EQ(order.topic, "my.inv.orders");
      std::string n = std::to_string(i + 1);
      EXPECT_NE(item.key->find(R"("name":"my.inv.items.Key"},"payload":{"name":"n)" + n + R"("})"),
                std::string::npos)
          << *item.key;
      EXPECT_NE(order.key->find(R"("name":"my.inv.orders.Key"},"payload":{"id":)" + n + "}"),
                std::string::npos)
          << *order.key;
      EXPECT_EQ(*item.value, "{\"v\":1}");
    }
  }
}

TEST(KafkaRecords, KeylessTableHasNullKey) {
  auto mapper = RecordMapper::Make(Settings());
  auto event = PostgresEvent(model::Operation::kInsert);
  event.after = Row2(1, "a");
  std::vector<KafkaMessage> out;
  EXPECT_TRUE(mapper->Map(Record(event), &Arena(), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].key.has_value());
}

TEST(KafkaRecords, DeleteIsFollowedByTombstoneUnlessOff) {
  auto mapper = RecordMapper::Make(Settings("debezium"));
  auto event = PostgresEvent(model::Operation::kDelete);
  event.before = Row2(7, "a");
  event.key = {model::Field{"id", model::Value::Int64(7)}};
  std::vector<KafkaMessage> out;
  EXPECT_TRUE(mapper->Map(Record(event), &Arena(), &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(*out[0].key, kGoldenKeyPayloadOnly);
  EXPECT_TRUE(out[0].value.has_value());
  EXPECT_EQ(*out[1].key, kGoldenKeyPayloadOnly);
  EXPECT_FALSE(out[1].value.has_value());

  KafkaSettings no_tombstones = Settings("debezium");
  no_tombstones.tombstones_on_delete = false;
  out.clear();
  EXPECT_TRUE(RecordMapper::Make(no_tombstones)->Map(Record(event), &Arena(), &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(KafkaRecords, PrimaryKeyChangeBecomesDeleteTombstoneCreate) {
  auto mapper = RecordMapper::Make(Settings("debezium"));
  auto event = PostgresEvent(model::Operation::kUpdate);
  event.before = Row2(7, "a");
  event.after = Row2(8, "a");
  event.key = {model::Field{"id", model::Value::Int64(8)}};
  std::vector<KafkaMessage> out;
  EXPECT_TRUE(mapper->Map(Record(event), &Arena(), &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(*out[0].key, R"({"id":7})");
  ASSERT_EQ(out[0].headers.size(), 1u);
  EXPECT_EQ(out[0].headers[0].name, "__debezium.newkey");
  EXPECT_EQ(out[0].headers[0].value, R"({"id":8})");
  EXPECT_NE(out[0].value->find(R"("op":"d")"), std::string::npos) << *out[0].value;
  EXPECT_NE(out[0].value->find(R"("after":null)"), std::string::npos) << *out[0].value;
  EXPECT_FALSE(out[1].value.has_value());
  EXPECT_EQ(*out[1].key, R"({"id":7})");
  EXPECT_EQ(*out[2].key, R"({"id":8})");
  EXPECT_EQ(out[2].headers[0].name, "__debezium.oldkey");
  EXPECT_EQ(out[2].headers[0].value, R"({"id":7})");
  EXPECT_NE(out[2].value->find(R"("op":"c")"), std::string::npos) << *out[2].value;
  EXPECT_NE(out[2].value->find(R"("before":null)"), std::string::npos) << *out[2].value;
}

TEST(KafkaRecords, UpdateWithSameKeyIsOneRecord) {
  auto mapper = RecordMapper::Make(Settings("debezium"));
  auto event = PostgresEvent(model::Operation::kUpdate);
  event.before = Row2(7, "a");
  event.after = Row2(7, "b");
  event.key = {model::Field{"id", model::Value::Int64(7)}};
  std::vector<KafkaMessage> out;
  EXPECT_TRUE(mapper->Map(Record(event), &Arena(), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value, "{\"v\":1}");
}

TEST(KafkaRecords, OtherTopics) {
  auto mapper = RecordMapper::Make(Settings());
  std::vector<KafkaMessage> out;
  model::ChangeEvent begin;
  begin.op = model::Operation::kTransactionBegin;
  begin.transaction_id = "571:100";
  EXPECT_TRUE(mapper->Map(Record(begin), &Arena(), &out).ok());
  model::ChangeEvent heartbeat;
  heartbeat.op = model::Operation::kHeartbeat;
  EXPECT_TRUE(mapper->Map(Record(heartbeat), &Arena(), &out).ok());
  model::ChangeEvent ddl;
  ddl.op = model::Operation::kSchemaChange;
  ddl.table = {"inv", "", "items"};
  ddl.position = SourcePosition(MysqlPosition{});
  EXPECT_TRUE(mapper->Map(Record(ddl), &Arena(), &out).ok());
  auto pg_ddl = PostgresEvent(model::Operation::kSchemaChange);
  EXPECT_TRUE(mapper->Map(Record(pg_ddl), &Arena(), &out)
                  .ok());  // PostgreSQL: Debezium has no schema change topic
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].topic, "shop.transaction");
  EXPECT_EQ(
      *out[0].key,
      R"({"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],)"
      R"("optional":false,"name":"io.debezium.connector.common.TransactionMetadataKey","version":1},)"
      R"("payload":{"id":"571:100"}})");
  EXPECT_EQ(out[1].topic, "__debezium-heartbeat.shop");
  EXPECT_EQ(
      *out[1].key,
      R"({"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],)"
      R"("optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},)"
      R"("payload":{"serverName":"shop"}})");
  EXPECT_EQ(out[2].topic, "shop");
  EXPECT_EQ(
      *out[2].key,
      R"({"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"databaseName"}],)"
      R"("optional":false,"name":"io.debezium.connector.mysql.SchemaChangeKey","version":1},)"
      R"("payload":{"databaseName":"inv"}})");
}

TEST(KafkaRecords, SkippedOperations) {
  KafkaSettings settings = Settings("debezium");
  auto truncate = PostgresEvent(model::Operation::kTruncate);
  std::vector<KafkaMessage> out;
  EXPECT_TRUE(RecordMapper::Make(settings)->Map(Record(truncate), &Arena(), &out).ok());
  EXPECT_TRUE(out.empty());  // Debezium skips truncates by default
  settings.skipped_operations = "u";
  EXPECT_TRUE(RecordMapper::Make(settings)->Map(Record(truncate), &Arena(), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].key.has_value());
  auto update = PostgresEvent(model::Operation::kUpdate);
  update.after = Row2(1, "a");
  update.key = {model::Field{"id", model::Value::Int64(1)}};
  EXPECT_TRUE(RecordMapper::Make(settings)->Map(Record(update), &Arena(), &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(KafkaRecords, TopicTemplate) {
  KafkaSettings settings = Settings();
  settings.topic_template = "{prefix}.all-{schema}.{table}";
  auto mapper = RecordMapper::Make(settings);
  EXPECT_EQ(mapper->TableTopic({"db", "public", "order lines"}), "shop.all-public.order_lines");
  settings.topic_template = "everything";
  EXPECT_EQ(RecordMapper::Make(settings)->TableTopic({"db", "public", "x"}), "everything");
}

// A row change handed over encoded (SinkRecord::stored_event, the runner's fast hand-off)
// maps to the same Kafka records, byte for byte, as the decoded event with the value the
// runner rendered: inserts, updates, deletes (and their tombstones), primary-key changes,
// keyless tables and custom key columns (the general path), with and without schemas.
TEST(KafkaRecords, EncodedRowChangesMapAsDecodedOnes) {
  std::vector<model::ChangeEvent> events;
  for (model::Operation op : {model::Operation::kInsert, model::Operation::kUpdate,
                              model::Operation::kDelete, model::Operation::kRead}) {
    model::ChangeEvent event = PostgresEvent(op);
    event.key = {model::Field{"id", model::Value::Int64(7)}};
    if (op != model::Operation::kInsert && op != model::Operation::kRead) {
      event.before = Row2(7, "old \"quoted\"");
    }
    if (op != model::Operation::kDelete) event.after = Row2(7, "new");
    events.push_back(event);
    if (op == model::Operation::kUpdate) {
      model::ChangeEvent key_change = event;
      key_change.after = Row2(8, "moved");
      events.push_back(key_change);  // a primary-key change
      model::ChangeEvent no_before = event;
      no_before.before.reset();
      events.push_back(no_before);
    }
    model::ChangeEvent keyless = event;
    keyless.key.clear();
    events.push_back(keyless);
  }
  for (std::string format : {"debezium", "debezium-schema"}) {
    for (bool custom_key : {false, true}) {
      KafkaSettings settings = Settings(format);
      if (custom_key) {
        consume::SinkSpec spec;
        spec.name = "k";
        spec.url = "kafka://127.0.0.1:9092";
        spec.settings = {{"topic_prefix", "shop"},
                         {"format", format},
                         {"message.key.columns", "public\\.orders:name"}};
        settings = *ParseKafkaSettings(spec);
      }
      auto mapper = RecordMapper::Make(settings);
      ASSERT_TRUE(mapper.ok());
      EXPECT_TRUE(mapper->RendersEncoded());
      auto renderer = format::MakeRenderer(format);
      ASSERT_TRUE(renderer.ok());
      for (size_t i = 0; i < events.size(); ++i) {
        SCOPED_TRACE(format + (custom_key ? " custom key " : " ") + std::to_string(i));
        std::vector<KafkaMessage> decoded;
        ASSERT_TRUE(mapper
                        ->Map(Record(events[i], (*renderer)->Render(
                                                    events[i], format::ViewType::kNewAndOldImages)),
                              &Arena(), &decoded)
                        .ok());
        static std::deque<consume::SinkRecord> encoded_records;
        consume::SinkRecord& encoded = encoded_records.emplace_back();
        model::EncodeEvent(events[i], encoded.stored_event);
        std::vector<KafkaMessage> fast;
        ASSERT_TRUE(mapper->Map(encoded, &Arena(), &fast).ok());
        ASSERT_EQ(fast.size(), decoded.size());
        for (size_t m = 0; m < fast.size(); ++m) {
          EXPECT_EQ(fast[m].topic, decoded[m].topic);
          EXPECT_EQ(fast[m].key, decoded[m].key);
          EXPECT_EQ(fast[m].value, decoded[m].value);
          ASSERT_EQ(fast[m].headers.size(), decoded[m].headers.size());
          for (size_t h = 0; h < fast[m].headers.size(); ++h) {
            EXPECT_EQ(fast[m].headers[h].name, decoded[m].headers[h].name);
            EXPECT_EQ(fast[m].headers[h].value, decoded[m].headers[h].value);
          }
        }
      }
    }
  }
  // Undecodable bytes are an error naming the record, not a crash.
  consume::SinkRecord broken;
  broken.stored_event = "\x01\x01";
  broken.sequence_number = "49";
  std::vector<KafkaMessage> out;
  Status status = RecordMapper::Make(Settings())->Map(broken, &Arena(), &out);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("record 49"), std::string::npos) << status.ToString();
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace eddy::sink::kafka

#include "model/testing.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

namespace eddy::model::testing {

namespace {

template <typename T>
T Pick(std::mt19937_64& random, std::initializer_list<T> choices) {
  return *(choices.begin() + random() % choices.size());
}

std::string RandomString(std::mt19937_64& random) {
  switch (random() % 6) {
    case 0: return "";
    case 1: return "plain";
    case 2: return "quote\" backslash\\ newline\n tab\t nul" + std::string(1, '\0') + " bell\x07";
    case 3: return "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // é € 😀
    case 4: return "bad \xff\xfe utf8 \xc3";
    default: {
      std::string s(random() % 40, ' ');
      for (char& c : s) c = static_cast<char>(random() % 256);
      return s;
    }
  }
}

int64_t RandomInt(std::mt19937_64& random) {
  switch (random() % 4) {
    case 0: return static_cast<int64_t>(random() % 1000) - 500;
    case 1: return Pick<int64_t>(random, {std::numeric_limits<int64_t>::min(),
                                          std::numeric_limits<int64_t>::max(),
                                          (int64_t{1} << 53) + 1, -(int64_t{1} << 53) - 1});
    default: return static_cast<int64_t>(random());
  }
}

TemporalKind RandomKind(std::mt19937_64& random) {
  return random() % 5 == 0 ? static_cast<TemporalKind>(random() % 4) : TemporalKind::kFinite;
}

Row RandomRow(std::mt19937_64& random, size_t columns) {
  Row row;
  for (size_t i = 0; i < columns; ++i) {
    row.push_back(Field{"c" + std::to_string(i), RandomValue(random)});
  }
  return row;
}

}  // namespace

Value RandomValue(std::mt19937_64& random, int max_depth) {
  auto type = static_cast<ValueType>(random() % 22);
  if (type == ValueType::kArray && max_depth <= 0) type = ValueType::kInt64;
  switch (type) {
    case ValueType::kNull: return Value::Null();
    case ValueType::kBool: return Value::Bool(random() % 2 == 0);
    case ValueType::kInt64: return Value::Int64(RandomInt(random));
    case ValueType::kUint64: return Value::Uint64(random());
    case ValueType::kFloat32:
      return Value::Float32(Pick<float>(random, {1.5f, -0.0f, std::numeric_limits<float>::infinity(),
                                                 std::numeric_limits<float>::quiet_NaN(), 3.4e38f}));
    case ValueType::kFloat64:
      return Value::Float64(Pick<double>(random, {0.1, -1e308, 5e-324,
                                                  -std::numeric_limits<double>::infinity(),
                                                  std::numeric_limits<double>::quiet_NaN()}));
    case ValueType::kDecimal:
      return Value::Decimal(Pick<const char*>(random, {"0", "-12.3400", "NaN", "Infinity",
                                                       "-Infinity",
                                                       "123456789012345678901234567890.5"}));
    case ValueType::kText: return Value::Text(RandomString(random));
    case ValueType::kBytes: return Value::Bytes(RandomString(random));
    case ValueType::kDate:
      return Value::Date(DateValue{RandomKind(random),
                                   random() % 4 == 0 ? static_cast<int32_t>(random())
                                                     : static_cast<int32_t>(static_cast<int64_t>(random() % 5000000) - 2500000)});
    // One in four temporal values is an arbitrary 64-bit count: decoders hand renderers
    // whatever the bytes say, and rendering must stay defined for all of it.
    case ValueType::kTime:
      return Value::Time(random() % 4 == 0 ? RandomInt(random)
                                           : static_cast<int64_t>(random() % 6039999999999) - 3019999999999);
    case ValueType::kTimeTz:
      return Value::TimeTz(TimeTzValue{
          random() % 4 == 0 ? RandomInt(random) : static_cast<int64_t>(random() % 86400000000),
          random() % 4 == 0 ? static_cast<int32_t>(random())
                            : static_cast<int32_t>(random() % 93600) - 46800});
    case ValueType::kTimestamp:
      return Value::Timestamp(TimestampValue{RandomKind(random), random() % 4 == 0 ? RandomInt(random) : RandomInt(random) / 1000});
    case ValueType::kTimestampTz:
      return Value::TimestampTz(TimestampTzValue{RandomKind(random), random() % 4 == 0 ? RandomInt(random) : RandomInt(random) / 1000});
    case ValueType::kInterval:
      return Value::Interval(IntervalValue{static_cast<int32_t>(RandomInt(random)),
                                           static_cast<int32_t>(RandomInt(random)),
                                           RandomInt(random)});
    case ValueType::kUuid: {
      UuidValue uuid;
      for (auto& b : uuid.bytes) b = static_cast<uint8_t>(random());
      return Value::Uuid(uuid);
    }
    case ValueType::kJson:
      return Value::Json(Pick<const char*>(random, {"{\"a\":[1,2.5,null,true]}", "[]", "\"s\"",
                                                    "12345678901234567890123", "{not json"}));
    case ValueType::kEnum: return Value::Enum(RandomString(random));
    case ValueType::kBits: return Value::Bits(Pick<const char*>(random, {"", "1", "10100101"}));
    case ValueType::kArray: {
      std::vector<Value> elements;
      size_t count = random() % 4;
      for (size_t i = 0; i < count; ++i) elements.push_back(RandomValue(random, max_depth - 1));
      return Value::Array(std::move(elements));
    }
    case ValueType::kTypedText:
      return Value::TypedText(Pick<const char*>(random, {"inet", "money", "int4range", "xml"}),
                              RandomString(random));
    case ValueType::kUnavailable: return Value::Unavailable();
  }
  return Value::Null();
}

ChangeEvent RandomEvent(std::mt19937_64& random) {
  ChangeEvent event;
  event.op = static_cast<Operation>(1 + random() % static_cast<int>(kLastOperation));
  event.table = TableId{RandomString(random), random() % 2 ? "public" : "", "t" + std::to_string(random() % 100)};
  size_t columns = 1 + random() % 6;
  Row row = RandomRow(random, columns);
  event.key = Row(row.begin(), row.begin() + 1);
  switch (event.op) {
    case Operation::kInsert:
    case Operation::kRead:
      event.after = row;
      break;
    case Operation::kUpdate:
      event.after = row;
      if (random() % 2) event.before = RandomRow(random, columns);
      break;
    case Operation::kDelete:
      event.before = row;
      break;
    case Operation::kTruncate:
      event.key.clear();
      break;
    case Operation::kMessage:
      event.key.clear();
      event.message = LogicalMessage{RandomString(random), RandomString(random), random() % 2 == 0};
      break;
    case Operation::kSchemaChange: {
      event.key.clear();
      SchemaChange change;
      change.kind = static_cast<SchemaChangeKind>(random() %
                                                  (static_cast<int>(kLastSchemaChangeKind) + 1));
      change.ddl = "ALTER TABLE " + event.table.name + " ADD COLUMN " + RandomString(random);
      if (change.kind == SchemaChangeKind::kRenameTable) change.previous_name = RandomString(random);
      if (random() % 2) {
        TableSchema schema;
        schema.table = event.table;
        schema.version = static_cast<uint32_t>(random() % 5);
        for (size_t i = 0; i < columns; ++i) {
          Column column;
          column.name = row[i].name;
          column.source_type = Pick<const char*>(random, {"int", "varchar", "numeric", "text[]"});
          column.type = static_cast<ValueType>(random() % (static_cast<int>(ValueType::kUnavailable) + 1));
          column.element_type = column.type == ValueType::kArray ? ValueType::kInt64 : ValueType::kNull;
          column.nullable = random() % 2 == 0;
          column.primary_key_ordinal = i == 0 ? 1 : 0;
          if (random() % 2) column.length = static_cast<int32_t>(random() % 1000);
          if (random() % 2) column.precision = static_cast<int32_t>(random() % 38);
          if (random() % 2) column.scale = -static_cast<int32_t>(random() % 10);
          if (random() % 2)
            column.declared_type = Pick<const char*>(random, {"varchar(20)", "enum('a','b''c')"});
          if (random() % 2)
            column.collation = Pick<const char*>(random, {"latin1_swedish_ci", "utf8mb4_bin"});
          schema.columns.push_back(std::move(column));
        }
        schema.primary_key = {row[0].name};
        change.table_schema = std::move(schema);
      }
      event.schema_change = std::move(change);
      break;
    }
    case Operation::kTransactionBegin:
    case Operation::kHeartbeat:
      event.key.clear();
      event.table = TableId{};
      break;
    case Operation::kTransactionEnd: {
      event.key.clear();
      event.table = TableId{};
      TransactionSummary summary;
      size_t collections = random() % 4;
      for (size_t i = 0; i < collections; ++i) {
        uint64_t count = 1 + random() % 100;
        summary.data_collections.push_back({"public.t" + std::to_string(i), count});
        summary.event_count += count;
      }
      event.transaction_summary = std::move(summary);
      break;
    }
  }
  if (IsRowChange(event.op) && random() % 3 == 0) {
    uint64_t total = 1 + random() % 1000;
    event.transaction_order = TransactionOrder{total, 1 + random() % total};
  }
  if (random() % 2) {
    event.position = SourcePosition(PostgresPosition{Lsn(random()), Lsn(random())});
    event.source.connector = ConnectorKind::kPostgres;
    event.transaction_id = std::to_string(random() % 100000);
  } else {
    MysqlPosition position;
    position.server_id = static_cast<uint32_t>(random());
    position.end = BinlogPosition{"mysql-bin.00000" + std::to_string(random() % 10), random() % 100000};
    if (random() % 2) position.gtid = Gtid{"0-1-" + std::to_string(random() % 1000)};
    event.position = SourcePosition(std::move(position));
    event.source.connector = random() % 2 ? ConnectorKind::kMysql : ConnectorKind::kMariadb;
    event.source.mysql_thread_id = random() % 1000;
    event.source.mysql_row = static_cast<uint32_t>(random() % 10);
    if (random() % 3 == 0) event.source.query = "INSERT INTO t VALUES (1)";
  }
  event.source.server_name = random() % 2 ? "server1" : "";
  event.source.snapshot = static_cast<SnapshotMarker>(random() % 5);
  event.commit_time_ns = RandomInt(random);
  event.capture_time_ns = RandomInt(random);
  event.ordinal_in_transaction = random() % 1000;
  event.schema_version = static_cast<uint32_t>(random() % 5);
  return event;
}

uint64_t TestSeed() {
  uint64_t seed;
  if (const char* env = std::getenv("EDDY_TEST_SEED"); env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    seed = (static_cast<uint64_t>(std::random_device()()) << 32) | std::random_device()();
  }
  std::fprintf(stderr, "seed=%llu (replay with EDDY_TEST_SEED=%llu)\n",
               static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace eddy::model::testing

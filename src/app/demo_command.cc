// `eddy demo`: the main job on embedded defaults. Starts a throwaway PostgreSQL 15 and
// MariaDB 10.11, creates retail_trans on both, runs a generator of inserts/updates/deletes,
// and runs ONE engine, configured as `eddy run` is with two `[[source]]`s (postgres and
// mariadb), their streams (retail-postgres and retail-mariadb) and sinks, on the same
// engine/supervisor `eddy run` uses: it captures both databases into a change log in a
// temporary directory, serves the Kinesis/DynamoDB Streams API on 127.0.0.1,
// prints the changes as they arrive and the aws CLI / boto3 commands that read them, and stops
// cleanly on Ctrl-C (or after --duration), leaving nothing running.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "app/commands.h"
#include "app/record_printer.h"
#include "app/shutdown.h"
#include "app/sink_destinations.h"
#include "base/logging.h"
#include "consume/stream_reader.h"
#include "demo/demo_databases.h"
#include "demo/local_function.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/sink_config.h"
#include "sink/kafka/mock_cluster.h"
#include "source/source_url.h"

namespace eddy::app {
namespace {

struct DemoFlags {
  std::string api_listen = "127.0.0.1:4567";
  std::string data_dir;  // empty: a temporary directory, removed at the end
  std::string format = "native";
  double rate = 5;
  int duration_seconds = 0;  // 0: until Ctrl-C
  bool quiet = false;        // do not print every change
  std::string log_level = "warn";
  uint64_t seed = 1;
};

constexpr const char* kPostgresStream = "retail-postgres";
constexpr const char* kMariadbStream = "retail-mariadb";
// The engine's two `[[source]]`s (each stream names its source).
constexpr const char* kPostgresSource = "postgres";
constexpr const char* kMariadbSource = "mariadb";

void PrintInstructions(uint16_t port, const std::string& function_dir, const std::string& log_dir) {
  std::printf(R"(
eddy demo is running: PostgreSQL and MariaDB each get a stream of inserts, updates and deletes
on retail_trans; one eddy engine captures both (two [[source]]s, as eddy run --config takes
them) and serves them on http://127.0.0.1:%u
  curl -s http://127.0.0.1:%u/admin/v1/sources

Read the changes with the aws CLI:
  export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url http://127.0.0.1:%u kinesis list-streams
  aws --endpoint-url http://127.0.0.1:%u kinesis list-shards --stream-name %s
  ITERATOR=$(aws --endpoint-url http://127.0.0.1:%u kinesis get-shard-iterator \
      --stream-name %s --shard-id shardId-000000000000 \
      --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
  aws --endpoint-url http://127.0.0.1:%u kinesis get-records --shard-iterator "$ITERATOR"

or with boto3:
  python3 - <<'PY'
  import boto3, json
  kinesis = boto3.client("kinesis", endpoint_url="http://127.0.0.1:%u", region_name="us-east-1",
                         aws_access_key_id="demo", aws_secret_access_key="demo")
  for shard in kinesis.list_shards(StreamName="%s")["Shards"]:
      it = kinesis.get_shard_iterator(StreamName="%s", ShardId=shard["ShardId"],
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
      for record in kinesis.get_records(ShardIterator=it, Limit=10)["Records"]:
          print(json.loads(record["Data"]))
  PY

Every change is also pushed, as AWS Lambda's Kinesis event, to a local function (the webhook
sink, eddy run --sink webhook+http://...); it appends each event it receives to a file:
  tail -n 1 %s/%s.jsonl | python3 -m json.tool | head -30
  eddy sink list --data-dir %s

Changes as they arrive (Ctrl-C stops the demo and removes everything it started):
)",
              port, port, port, port, kPostgresStream, port, kPostgresStream, port, port,
              kMariadbStream, kMariadbStream, function_dir.c_str(), kPostgresStream,
              log_dir.c_str());
  std::fflush(stdout);
}

int Demo(const DemoFlags& flags) {
  logging::Configure(flags.log_level, logging::Format::kText);
  ShutdownSignal& shutdown = ShutdownSignal::Install();
  auto fail = [](const std::string& what, const Status& status) {
    std::fprintf(stderr, "eddy demo: %s: %s\n", what.c_str(), status.message().c_str());
    return kExitFailure;
  };

  std::string data_dir = flags.data_dir;
  bool remove_data_dir = false;
  if (data_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "eddy-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      return fail("creating a data directory", IoError(std::strerror(errno)));
    data_dir = pattern;
    remove_data_dir = true;
  }

  std::fprintf(stderr, "eddy demo: starting PostgreSQL 15 and MariaDB 10.11 ...\n");
  demo::DemoOptions demo_options;
  demo_options.rate_per_second = flags.rate;
  demo_options.seed = flags.seed;
  auto databases = demo::DemoDatabases::Start(demo_options);
  if (!databases.ok()) return fail("starting the databases", databases.status());

  // One engine config, as `eddy run --config` takes it: two [[source]]s, a stream of each, and
  // the sinks below.
  std::string mariadb_database;
  {
    auto url = source::ParseSourceUrl((*databases)->mariadb_capture_url());
    if (!url.ok()) return fail("parsing a capture URL", url.status());
    mariadb_database = url->database;
  }
  engine::EngineConfig config;
  config.data_dir = data_dir + "/log";
  config.api.listen = flags.api_listen;
  {
    // PostgreSQL: the superuser, since creating a publication needs table ownership (in
    // production an administrator creates it once; eddy check says so).
    engine::SourceConfig postgres;
    postgres.name = kPostgresSource;
    postgres.url = (*databases)->postgres_url();
    engine::SourceConfig mariadb;
    mariadb.name = kMariadbSource;
    mariadb.url = (*databases)->mariadb_capture_url();
    mariadb.server_id = 4400;
    config.sources = {postgres, mariadb};
  }
  for (const char* name : {kPostgresStream, kMariadbStream}) {
    bool postgres = name == std::string(kPostgresStream);
    engine::StreamConfig stream;
    stream.name = name;
    stream.source = postgres ? kPostgresSource : kMariadbSource;
    stream.format = flags.format;
    stream.shards = 2;
    // Only the demo table: the capture users are not superusers, and a publication FOR ALL
    // TABLES needs one.
    stream.tables = {(postgres ? std::string("public") : mariadb_database) + ".retail_trans"};
    config.streams.push_back(stream);
  }
  // The webhook sink's embedded default: a local function that takes Lambda's Kinesis events
  // (demo/local_function.h); each stream is pushed to it and lands in <data>/function/.
  auto function = demo::LocalFunction::Start(data_dir + "/function");
  if (!function.ok()) return fail("starting the local function", function.status());
  for (const char* name : {kPostgresStream, kMariadbStream}) {
    std::string url = "webhook+" + (*function)->base_url() + "/" + name + "?name=function-" + name +
                      "&stream=" + name + "&max_batching_window=1";
    auto sink = engine::ParseSinkUrl(url, config.sinks.size() + 1);
    if (!sink.ok()) return fail("configuring the webhook sink", sink.status());
    config.sinks.push_back(std::move(*sink));
  }
  // The objects sink's embedded default: JSON lines objects in Firehose's layout under
  // <data>/objects/, Hive-style by stream, table and day, flushed every 10 seconds.
  for (const char* name : {kPostgresStream, kMariadbStream}) {
    std::string url = "file://" + data_dir + "/objects?name=objects-" + std::string(name) +
                      "&stream=" + name + "&buffer_interval=10&compression=GZIP&prefix=stream%3D" +
                      name +
                      "/table%3D!%7BpartitionKeyFromQuery%3Asource.table%7D"
                      "/dt%3D!%7Btimestamp%3Ayyyy-MM-dd%7D/";
    auto sink = engine::ParseSinkUrl(url, config.sinks.size() + 1);
    if (!sink.ok()) return fail("configuring the objects sink", sink.status());
    config.sinks.push_back(std::move(*sink));
  }
  // Its Parquet sibling: one Parquet file per table per flush under <data>/parquet/, typed from
  // the source catalog, Hive-style by stream and table.
  for (const char* name : {kPostgresStream, kMariadbStream}) {
    std::string url = "file://" + data_dir + "/parquet?name=parquet-" + std::string(name) +
                      "&stream=" + name + "&format=parquet&buffer_interval=10&prefix=stream%3D" +
                      name + "/table%3D!%7BpartitionKeyFromQuery%3Asource.table%7D/";
    auto sink = engine::ParseSinkUrl(url, config.sinks.size() + 1);
    if (!sink.ok()) return fail("configuring the Parquet objects sink", sink.status());
    config.sinks.push_back(std::move(*sink));
  }
  // The Iceberg sink's embedded default: an Iceberg v2 table per source table under
  // <data>/iceberg/ (hadoop catalog), updates and deletes applied, a snapshot every 10 seconds.
  for (const char* name : {kPostgresStream, kMariadbStream}) {
    std::string url = "iceberg+file://" + data_dir + "/iceberg?name=iceberg-" + std::string(name) +
                      "&stream=" + name + "&commit_interval=10";
    auto sink = engine::ParseSinkUrl(url, config.sinks.size() + 1);
    if (!sink.ok()) return fail("configuring the Iceberg sink", sink.status());
    config.sinks.push_back(std::move(*sink));
  }
  // The Kafka sink's embedded default: librdkafka's mock cluster started in this process
  // (Debian ships no Kafka broker; sink/kafka/mock_cluster.h), each stream published to topics
  // named as Debezium names them, exactly once (a Kafka transaction per batch). kcat reads them
  // while the demo runs; the cluster's log is in memory and ends with the demo.
  auto kafka = sink::kafka::MockCluster::Start(1);
  if (!kafka.ok()) return fail("starting the embedded Kafka cluster", kafka.status());
  for (const char* name : {kPostgresStream, kMariadbStream}) {
    std::string url = "kafka://" + (*kafka)->bootstrap() + "?name=kafka-" + std::string(name) +
                      "&stream=" + name + "&topic_prefix=" + name + "&format=debezium";
    auto sink = engine::ParseSinkUrl(url, config.sinks.size() + 1);
    if (!sink.ok()) return fail("configuring the Kafka sink", sink.status());
    config.sinks.push_back(std::move(*sink));
  }
  if (Status status = engine::ValidateForRun(config); !status.ok()) {
    return fail("checking the demo's configuration", status);
  }
  // The engine `eddy run` runs: the log, the API, both captures and every sink under one
  // supervisor.
  auto engine = engine::Engine::Start(config, MakeSinkServices());
  if (!engine.ok()) return fail("starting the engine", engine.status());
  if (Status status = (*databases)->StartWorkload(); !status.ok()) {
    return fail("starting the workload", status);
  }
  std::printf(
      R"(Every change also lands in JSON lines objects in Firehose's layout (the objects sink,
eddy run --sink file://... or s3://...), a gzip file per table and flush every 10 seconds:
  find %s/objects -name '*.json.gz' | sort | tail -3
  find %s/objects -name '*.json.gz' -exec zcat {} + | jq -c '{op, after}' | tail -5
  # DuckDB: SELECT op, after FROM read_ndjson('%s/objects/**/*.json.gz', hive_partitioning=true)

)",
      data_dir.c_str(), data_dir.c_str(), data_dir.c_str());
  std::printf(
      R"(And in Parquet (format=parquet), a file per table and flush, columns typed from the
source catalog plus _eddy_op, _eddy_commit_time, _eddy_position, _eddy_transaction_id:
  duckdb -c "SELECT stream, _eddy_op, count(*) FROM read_parquet('%s/parquet/**/*.parquet', hive_partitioning=true, union_by_name=true) GROUP BY ALL"

)",
      data_dir.c_str());
  std::printf(
      R"txt(And in Iceberg v2 tables mirroring the source tables (iceberg+file://...), a snapshot
every 10 seconds with updates and deletes applied; icebird (npm) reads the current state:
  find %s/iceberg -name version-hint.text
  cd tests/e2e && node iceberg_read.mjs "$(dirname "$(dirname "$(find %s/iceberg -name version-hint.text | head -1)")")" trans_id | jq '.versions[-1].rows | length'

)txt",
      data_dir.c_str(), data_dir.c_str());
  {
    const std::string& brokers = (*kafka)->bootstrap();
    std::string postgres_topic = std::string(kPostgresStream) + ".public.retail_trans";
    std::string mariadb_topic =
        std::string(kMariadbStream) + "." + mariadb_database + ".retail_trans";
    std::printf(
        R"txt(And in Kafka topics named as Debezium names them (kafka://..., Debezium's envelope, exactly
once: a Kafka transaction per batch), on an embedded Kafka: librdkafka's mock cluster at
%s (in memory; it stops with the demo). kcat reads them while the demo runs:
  kcat -L -b %s
  kcat -C -b %s -t %s -o beginning -e -q -X isolation.level=read_committed -f '%%k %%s\n' | tail -3
  kcat -C -b %s -t %s -o beginning -e -q -X isolation.level=read_committed | tail -3

)txt",
        brokers.c_str(), brokers.c_str(), brokers.c_str(), postgres_topic.c_str(), brokers.c_str(),
        mariadb_topic.c_str());
  }
  std::fflush(stdout);
  PrintInstructions((*engine)->api_port(), (*function)->dir(), config.data_dir);

  struct Follower {
    std::string name;
    std::string prefix;
    std::unique_ptr<consume::StreamReader> reader;
    RecordPrinter printer;
  };
  std::vector<Follower> followers;
  for (const char* name : {kPostgresStream, kMariadbStream}) {
    auto stream = (*engine)->store()->GetStream(name);
    if (!stream.ok()) return fail("opening a stream", stream.status());
    auto printer = RecordPrinter::Create((*stream)->Describe(), RecordPrinterOptions{});
    if (!printer.ok()) return fail("following a stream", printer.status());
    auto reader = consume::StreamReader::Open(*stream, consume::StreamReaderOptions{});
    if (!reader.ok()) return fail("following a stream", reader.status());
    std::string prefix = name == std::string(kPostgresStream) ? "[postgres] " : "[mariadb]  ";
    followers.push_back(Follower{name, std::move(prefix), std::move(*reader), std::move(*printer)});
  }

  int exit_code = kExitOk;
  auto deadline = flags.duration_seconds > 0 ? std::chrono::steady_clock::now() +
                                                   std::chrono::seconds(flags.duration_seconds)
                                             : std::chrono::steady_clock::time_point::max();
  uint64_t printed = 0;
  while (!shutdown.requested() && std::chrono::steady_clock::now() < deadline) {
    std::string out;
    for (Follower& follower : followers) {
      // Every record durable now, one prefixed line each.
      Status status = Status::Ok();
      std::vector<consume::ReadRecord> batch;
      do {
        batch.clear();
        status = follower.reader->Next(&batch);
        for (size_t i = 0; status.ok() && i < batch.size(); ++i) {
          size_t before = out.size();
          out += follower.prefix;
          status = follower.printer.AppendLine(batch[i], &out);
          if (out.size() == before + follower.prefix.size()) {
            out.resize(before);  // the format has no record for this event
            continue;
          }
          ++printed;
          if (flags.quiet) out.resize(before);
        }
      } while (status.ok() && !batch.empty());
      if (!status.ok()) {
        fail("reading " + follower.name, status);
        exit_code = kExitFailure;
      }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    if (exit_code != kExitOk) break;
    if (auto ended = (*engine)->WaitForCaptureEnd(std::chrono::milliseconds(0))) {
      fail("capture for " + ended->first + " ended", ended->second);
      exit_code = kExitFailure;
      break;
    }
    // Short waits keep both streams moving; shutdown is checked between them.
    followers.front()
        .reader->WaitForCommit(std::chrono::steady_clock::now() + std::chrono::milliseconds(100))
        .IgnoreError();
  }

  std::fprintf(stderr, "\neddy demo: stopping ...\n");
  for (const auto& line : (*engine)->ProgressLines()) {
    std::fprintf(stderr, "eddy demo: %s\n", line.c_str());
  }
  // The engine stops its captures before the log; the databases stop after the captures.
  followers.clear();
  if (Status status = (*engine)->Stop(); !status.ok()) {
    fail("stopping", status);
    exit_code = kExitFailure;
  }
  (*function)->Stop();
  std::fprintf(stderr, "eddy demo: the local function received %llu events with %llu records\n",
               static_cast<unsigned long long>((*function)->events()),
               static_cast<unsigned long long>((*function)->records()));
  auto postgres_counts = (*databases)->postgres_counts();
  auto mariadb_counts = (*databases)->mariadb_counts();
  if (Status status = (*databases)->Stop(); !status.ok()) {
    fail("workload", status);
    exit_code = kExitFailure;
  }
  std::fprintf(stderr,
               "eddy demo: postgres workload inserts=%llu updates=%llu deletes=%llu; mariadb "
               "workload inserts=%llu updates=%llu deletes=%llu; %llu change records printed\n",
               static_cast<unsigned long long>(postgres_counts.inserts),
               static_cast<unsigned long long>(postgres_counts.updates),
               static_cast<unsigned long long>(postgres_counts.deletes),
               static_cast<unsigned long long>(mariadb_counts.inserts),
               static_cast<unsigned long long>(mariadb_counts.updates),
               static_cast<unsigned long long>(mariadb_counts.deletes),
               static_cast<unsigned long long>(printed));
  if (remove_data_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir, ignored);
  }
  std::fprintf(stderr, "eddy demo: stopped; nothing left running\n");
  return exit_code;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<DemoFlags>();
  auto* command = app.add_subcommand(
      "demo",
      "The main job on embedded defaults: throwaway PostgreSQL and MariaDB, a workload, "
      "capture, the stream API, changes printed as they arrive");
  command->add_option("--api-listen", flags->api_listen,
                      "HOST:PORT of the API (default 127.0.0.1:4567)");
  command->add_option("--data-dir", flags->data_dir,
                      "Keep the change log here (default: a temporary directory)");
  command->add_option("--format", flags->format, "native|debezium|dms|dynamodb");
  command->add_option("--rate", flags->rate, "Changes per second per database (default 5)");
  command->add_option("--duration", flags->duration_seconds,
                      "Stop after this many seconds (default: at Ctrl-C)");
  command->add_flag("--quiet", flags->quiet, "Do not print every change");
  command->add_option("--log-level", flags->log_level, "trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  command->add_option("--seed", flags->seed, "Workload seed");
  command->callback([&runner, flags] { runner = [flags] { return Demo(*flags); }; });
}

}  // namespace eddy::app

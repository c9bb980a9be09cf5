// SinkRunner against a real change log (on the in-memory fault-injecting file system) read by
// the StreamReader, an in-memory CheckpointStore and a scriptable fake Destination. No test sleeps
// to wait: each waits on the runner's status with a deadline.
#include "consume/sink_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "base/metrics.h"
#include "format/renderer.h"
#include "io/fault_file_system.h"
#include "log/stream_tags.h"
#include "model/event_codec.h"
#include "model/testing.h"
#include "schema/schema_history.h"

namespace eddy::consume {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr auto kWait = std::chrono::seconds(20);

// ---- An in-memory CheckpointStore.
class MemoryCheckpointStore final : public CheckpointStore {
 public:
  Result<ConsumerState> Load(const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = states_.find(name);
    if (it == states_.end()) return NotFound("no consumer " + name);
    return it->second;
  }
  Status Save(const ConsumerState& state) override {
    std::lock_guard lock(mu_);
    states_[state.name] = state;
    ++saves_;
    saved_.notify_all();
    return Status::Ok();
  }
  uint64_t saves() {
    std::lock_guard lock(mu_);
    return saves_;
  }
  // Waits until the saved state of `name` satisfies `predicate`.
  bool WaitForSaved(const std::string& name,
                    const std::function<bool(const ConsumerState&)>& predicate) {
    std::unique_lock lock(mu_);
    return saved_.wait_for(lock, kWait, [&] {
      auto it = states_.find(name);
      return it != states_.end() && predicate(it->second);
    });
  }
  Status Remove(const std::string& name) override {
    std::lock_guard lock(mu_);
    states_.erase(name);
    return Status::Ok();
  }
  Result<std::vector<ConsumerState>> List() override {
    std::lock_guard lock(mu_);
    std::vector<ConsumerState> list;
    for (const auto& [name, state] : states_) list.push_back(state);
    return list;
  }
  Result<log::RetentionHolds> Holds(const std::string&) override { return log::RetentionHolds{}; }

  // What `eddy sink pause|resume|reset` does: records a request in the stored state.
  void Request(const std::string& name, ControlRequest request, log::StartPosition to = {}) {
    std::lock_guard lock(mu_);
    states_[name].request = request;
    states_[name].reset_to = to;
  }

 private:
  std::mutex mu_;
  std::map<std::string, ConsumerState> states_;
  std::condition_variable saved_;
  uint64_t saves_ = 0;
};

// ---- A scriptable destination that records what it acknowledged.
class FakeDestination final : public Destination {
 public:
  struct Shared {
    std::mutex mu;
    std::condition_variable changed;
    // Every acknowledged record: (partition key, sequence), in acknowledgement order.
    std::vector<std::pair<std::string, uint64_t>> acknowledged;
    std::map<std::string, int> in_flight_keys;  // keys of Deliver calls now running
    bool overlapping_keys = false;              // two concurrent calls shared a key
    uint64_t calls = 0;
    bool closed = false;
    bool opened = false;
    // Behaviour, changeable while running.
    std::function<DeliveryOutcome(const SinkBatch&, uint64_t call)> answer;
    Status open_error;
    bool uses_rendered_data = true;    // Destination::UsesRenderedData
    bool takes_stored_events = false;  // Destination::TakesStoredEvents
    bool renders_encoded = false;      // Destination::RendersEncodedRowChanges
    bool stages = false;               // Destination::StagesRecords
    bool reads_id_text = true;         // Destination::ReadsRecordIdText
    // Stage calls: the sequences staged since the last `first` slice, the slices' sizes, and
    // every Deliver's check that its batch is exactly what was staged (cleared by Deliver).
    std::vector<uint64_t> staged;
    std::vector<size_t> staged_slices;
    uint64_t stage_calls = 0;
    uint64_t deliveries_as_staged = 0;   // batches equal to the staged records
    uint64_t deliveries_not_staged = 0;  // batches with nothing staged (retries)
    uint64_t deliveries_mismatched = 0;  // staged records that differ from the batch: a bug
  };

  explicit FakeDestination(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  bool UsesRenderedData() const override {
    std::lock_guard lock(shared_->mu);
    return shared_->uses_rendered_data;
  }

  bool TakesStoredEvents() const override {
    std::lock_guard lock(shared_->mu);
    return shared_->takes_stored_events;
  }

  bool RendersEncodedRowChanges() const override {
    std::lock_guard lock(shared_->mu);
    return shared_->renders_encoded;
  }

  bool StagesRecords() const override {
    std::lock_guard lock(shared_->mu);
    return shared_->stages;
  }

  bool ReadsRecordIdText() const override {
    std::lock_guard lock(shared_->mu);
    return shared_->reads_id_text;
  }

  void Stage(size_t /*lane*/, const std::vector<SinkRecord>& records, bool first) override {
    std::lock_guard lock(shared_->mu);
    if (first) {
      shared_->staged.clear();
      shared_->staged_slices.clear();
    }
    for (const auto& record : records) shared_->staged.push_back(record.sequence.value());
    shared_->staged_slices.push_back(records.size());
    ++shared_->stage_calls;
    shared_->changed.notify_all();
  }

  Status Open() override {
    std::lock_guard lock(shared_->mu);
    shared_->opened = true;
    return shared_->open_error;
  }

  DeliveryOutcome Deliver(const SinkBatch& batch) override {
    std::function<DeliveryOutcome(const SinkBatch&, uint64_t)> answer;
    uint64_t call = 0;
    {
      std::lock_guard lock(shared_->mu);
      call = shared_->calls++;
      answer = shared_->answer;
      if (shared_->stages) {
        std::vector<uint64_t> sequences;
        for (const auto& record : batch.records) sequences.push_back(record.sequence.value());
        if (shared_->staged.empty()) {
          ++shared_->deliveries_not_staged;
        } else if (shared_->staged == sequences) {
          ++shared_->deliveries_as_staged;
        } else {
          ++shared_->deliveries_mismatched;
        }
        shared_->staged.clear();
      }
      std::set<std::string> keys;
      for (const auto& record : batch.records) keys.insert(record.partition_key);
      for (const auto& key : keys) {
        if (shared_->in_flight_keys[key]++ > 0) shared_->overlapping_keys = true;
      }
    }
    DeliveryOutcome outcome;
    if (answer) {
      outcome = answer(batch, call);
    } else {
      outcome.acknowledged = batch.records.size();
    }
    std::lock_guard lock(shared_->mu);
    std::set<std::string> keys;
    for (const auto& record : batch.records) keys.insert(record.partition_key);
    for (const auto& key : keys) --shared_->in_flight_keys[key];
    for (size_t i = 0; i < std::min(outcome.acknowledged, batch.records.size()); ++i) {
      shared_->acknowledged.emplace_back(batch.records[i].partition_key,
                                         batch.records[i].sequence.value());
    }
    shared_->changed.notify_all();
    return outcome;
  }

  Status Close() override {
    std::lock_guard lock(shared_->mu);
    shared_->closed = true;
    return Status::Ok();
  }

 private:
  std::shared_ptr<Shared> shared_;
};

class SinkRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::LogStoreOptions options;
    options.file_system = &fs_;
    options.clock = &clock_;
    auto store = log::LogStore::Open("/data", options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    log::StreamOptions stream_options;
    stream_options.shard_count = 4;
    auto stream = store_->CreateStream("s", stream_options);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    stream_ = *stream;
    destination_ = std::make_shared<FakeDestination::Shared>();
  }

  // Appends `count` records over `keys` keys; key k's records carry increasing payloads.
  void Append(int count, int keys = 10) {
    std::vector<log::AppendRecord> records;
    for (int i = 0; i < count; ++i) {
      log::AppendRecord record;
      record.partition_key = "key-" + std::to_string(i % keys);
      record.payload = "{\"n\":" + std::to_string(appended_++) + "}";
      records.push_back(std::move(record));
    }
    auto appended = stream_->AppendRecords(std::move(records));
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  }

  SinkSpec Spec(std::map<std::string, std::string> settings = {}) {
    SinkSpec spec;
    spec.name = "hook";
    spec.stream = "s";
    spec.url = "fake://user:secret@receiver/path?token=abc";
    spec.data_dir = "/data";
    spec.settings = std::move(settings);
    return spec;
  }

  SinkRunnerOptions Options() {
    SinkRunnerOptions options;
    options.clock = &clock_;
    options.file_system = &fs_;
    options.backoff.initial = milliseconds(1);
    options.backoff.max = milliseconds(5);
    options.control_interval = milliseconds(20);
    options.idle_wait = milliseconds(20);
    return options;
  }

  std::unique_ptr<SinkRunner> StartRunner(std::map<std::string, std::string> settings = {},
                                          std::optional<SinkRunnerOptions> options = {}) {
    SinkSpec spec = Spec(std::move(settings));
    auto parsed = ParseSinkSettings(spec);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (!parsed.ok()) return nullptr;
    auto runner = SinkRunner::Start(spec, *parsed, stream_, &checkpoints_,
                                    std::make_unique<FakeDestination>(destination_),
                                    options ? *options : Options());
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    return runner.ok() ? std::move(*runner) : nullptr;
  }

  bool WaitFor(SinkRunner& runner, const std::function<bool(const SinkStatus&)>& predicate) {
    return runner.WaitFor(predicate, steady_clock::now() + kWait);
  }
  static bool Delivered(SinkRunner& runner, uint64_t count) {
    return runner.WaitFor([&](const SinkStatus& s) { return s.delivered_records >= count; },
                          steady_clock::now() + kWait);
  }

  // For the stored-bytes hand-offs (Destination::RendersEncodedRowChanges, TakesStoredEvents):
  // appends six random row changes ("row-0".."row-5"), and a truncate ("row-6") when
  // `with_truncate`, to a new CDC stream; runs the sink with batch_size 1 and no retries while
  // the destination refuses row-5, which the runner must then decode and render for
  // on_failure (checked here). Returns what the destination received; `stored` gets each
  // key's stored bytes.
  std::vector<SinkRecord> DeliverWithRow5Refused(bool with_truncate,
                                                 std::map<std::string, std::string>* stored) {
    log::StreamOptions options;
    options.tags[std::string(log::kTagCdc)] = "true";
    auto cdc = store_->CreateStream("cdc", options);
    EXPECT_TRUE(cdc.ok()) << cdc.status().ToString();
    if (!cdc.ok()) return {};
    std::mt19937_64 random(model::testing::TestSeed());
    std::vector<log::AppendRecord> records;
    for (int i = 0; i < (with_truncate ? 7 : 6); ++i) {
      model::ChangeEvent event;
      if (i == 6) {
        event.op = model::Operation::kTruncate;
        event.table = {"db", "public", "t"};
      } else {
        do {
          event = model::testing::RandomEvent(random);
        } while (!model::IsRowChange(event.op) || event.message || event.schema_change ||
                 event.transaction_summary);
      }
      log::AppendRecord record;
      record.partition_key = "row-" + std::to_string(i);
      record.payload = model::EncodeEvent(event);
      (*stored)[record.partition_key] = record.payload;
      records.push_back(std::move(record));
    }
    EXPECT_TRUE((*cdc)->AppendRecords(std::move(records)).ok());

    std::mutex mu;
    std::vector<SinkRecord> received;
    destination_->answer = [&](const SinkBatch& batch, uint64_t) {
      std::lock_guard lock(mu);
      for (const auto& record : batch.records) {
        if (record.partition_key == "row-5") {
          return DeliveryOutcome{0, Unavailable("row 5 does not fit"), false};
        }
        received.push_back(record);
      }
      return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
    };
    SinkSpec spec = Spec({{"batch_size", "1"}, {"maximum_retry_attempts", "0"}});
    spec.stream = "cdc";
    auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), *cdc, &checkpoints_,
                                    std::make_unique<FakeDestination>(destination_), Options());
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    if (!runner.ok()) return {};
    const uint64_t delivered = with_truncate ? 6 : 5;
    EXPECT_TRUE(WaitFor(**runner, [&](const SinkStatus& s) {
      return s.delivered_records == delivered && s.failed_records == 1;
    }));
    EXPECT_TRUE((*runner)->Stop().ok());
    destination_->answer = nullptr;

    auto failures = fs_.ReadFile("/data/failures/hook.jsonl");
    EXPECT_TRUE(failures.ok()) << failures.status().ToString();
    if (failures.ok()) {
      EXPECT_EQ(std::count(failures->begin(), failures->end(), '\n'), 1);
      EXPECT_NE(failures->find("\"partitionKey\":\"row-5\""), std::string::npos);
      EXPECT_NE(failures->find("\"data\":{\""), std::string::npos) << *failures;
    }
    std::lock_guard lock(mu);
    return received;
  }

  std::vector<std::pair<std::string, uint64_t>> Acknowledged() {
    std::lock_guard lock(destination_->mu);
    return destination_->acknowledged;
  }

  // Every record acknowledged once and each key's records in sequence order.
  void ExpectOnceInKeyOrder(size_t expected_count) {
    auto acknowledged = Acknowledged();
    std::set<uint64_t> sequences;
    std::map<std::string, uint64_t> last_of_key;
    for (const auto& [key, sequence] : acknowledged) {
      EXPECT_TRUE(sequences.insert(sequence).second) << "delivered twice: " << sequence;
      auto& last = last_of_key[key];
      EXPECT_LT(last, sequence) << "key " << key << " out of order";
      last = sequence;
    }
    EXPECT_EQ(sequences.size(), expected_count);
  }

  io::FaultInjectionFileSystem fs_;
  ManualClock clock_;
  std::unique_ptr<log::LogStore> store_;
  std::shared_ptr<log::Stream> stream_;
  MemoryCheckpointStore checkpoints_;
  std::shared_ptr<FakeDestination::Shared> destination_;
  int appended_ = 0;
};

TEST_F(SinkRunnerTest, DeliversEveryRecordOnceInKeyOrderWithPartialAcknowledgements) {
  std::mt19937 random(7);
  std::mutex random_mu;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    std::lock_guard lock(random_mu);
    DeliveryOutcome outcome;
    outcome.acknowledged = std::uniform_int_distribution<size_t>(0, batch.records.size())(random);
    if (outcome.acknowledged < batch.records.size()) outcome.failure = Unavailable("busy");
    return outcome;
  };
  Append(300);
  auto runner = StartRunner({{"batch_size", "17"}});
  ASSERT_NE(runner, nullptr);
  ASSERT_TRUE(Delivered(*runner, 300));
  ASSERT_TRUE(runner->Stop().ok());
  ExpectOnceInKeyOrder(300);
  auto saved = checkpoints_.Load("hook");
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->delivered_records, 300u);
  EXPECT_EQ(saved->url, "fake://receiver/path");  // no credentials, no query
  for (const auto& shard : stream_->Describe().shards) {
    EXPECT_EQ(saved->checkpoint.shards.at(shard.index).next.value(),
              shard.last_sequence.value() + 1)
        << shard.id;
  }
}

TEST_F(SinkRunnerTest, BatchesCarryTheCheckpointAfterThem) {
  std::mutex mu;
  std::vector<Checkpoint> checkpoints;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    std::lock_guard lock(mu);
    checkpoints.push_back(batch.checkpoint_after);
    EXPECT_LE(batch.records.size(), 5u);
    uint64_t bytes = 0;
    for (const auto& record : batch.records) bytes += record.data.size();
    EXPECT_EQ(batch.data_bytes, bytes);
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  Append(20);
  auto runner = StartRunner({{"batch_size", "5"}});
  ASSERT_TRUE(Delivered(*runner, 20));
  ASSERT_TRUE(runner->Stop().ok());
  std::lock_guard lock(mu);
  ASSERT_FALSE(checkpoints.empty());
  EXPECT_EQ(checkpoints.back(), checkpoints_.Load("hook")->checkpoint);
}

TEST_F(SinkRunnerTest, RetriableFailuresImpairThenRecover) {
  std::atomic<bool> healthy{false};
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    if (!healthy) return DeliveryOutcome{0, Unavailable("connection refused"), false};
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  Append(30);
  auto runner = StartRunner();
  ASSERT_TRUE(
      WaitFor(*runner, [](const SinkStatus& s) { return s.state == SinkState::kImpaired; }));
  SinkStatus impaired = runner->status();
  EXPECT_NE(impaired.reason.find("connection refused"), std::string::npos) << impaired.reason;
  EXPECT_NE(impaired.reason.find("fails since"), std::string::npos) << impaired.reason;
  EXPECT_EQ(impaired.delivered_records, 0u);
  healthy = true;
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) {
    return s.state == SinkState::kActive && s.delivered_records == 30;
  }));
  EXPECT_TRUE(runner->status().reason.empty());
  ASSERT_TRUE(runner->Stop().ok());
  ExpectOnceInKeyOrder(30);
  std::string text = metrics::SerializeText();
  EXPECT_NE(text.find("eddy_sink_retries_total{sink=\"hook\",stream=\"s\"}"), std::string::npos);
  EXPECT_NE(
      text.find("eddy_sink_failures_total{reason=\"Unavailable\",sink=\"hook\",stream=\"s\"}"),
      std::string::npos);
}

TEST_F(SinkRunnerTest, PermanentFailureFailsAndKeepsTheCheckpoint) {
  destination_->answer = [&](const SinkBatch&, uint64_t) {
    return DeliveryOutcome{0, PermissionDenied("401 Unauthorized"), false};
  };
  Append(10);
  auto runner = StartRunner();
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return s.state == SinkState::kFailed; }));
  SinkStatus failed = runner->status();
  EXPECT_NE(failed.reason.find("401 Unauthorized"), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("eddy sink resume --name hook"), std::string::npos);
  EXPECT_EQ(failed.delivered_records, 0u);
  ASSERT_TRUE(runner->Stop().ok());
  auto saved = checkpoints_.Load("hook");
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->state, SinkState::kFailed);
  EXPECT_TRUE(saved->holds_retention);  // a restart retries it
  for (const auto& shard : stream_->Describe().shards) {
    if (shard.last_sequence.value() == 0) continue;
    auto it = saved->checkpoint.shards.find(shard.index);
    ASSERT_NE(it, saved->checkpoint.shards.end());
    EXPECT_LE(it->second.next, shard.last_sequence) << "moved past undelivered records";
  }
  EXPECT_TRUE(Acknowledged().empty());
  std::string text = metrics::SerializeText();
  EXPECT_NE(text.find("eddy_sink_state{sink=\"hook\",state=\"FAILED\",stream=\"s\"} 1"),
            std::string::npos);
}

TEST_F(SinkRunnerTest, RetryLimitAndBisectionSingleOutAPoisonRecordForOnFailure) {
  Append(40);
  // The record with payload n = 13 is rejected by the function every time.
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    for (size_t i = 0; i < batch.records.size(); ++i) {
      if (batch.records[i].data == R"({"n":13})") {
        return DeliveryOutcome{i, InvalidArgument("function error: bad record"), true};
      }
    }
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  auto runner = StartRunner({{"batch_size", "10"},
                             {"maximum_retry_attempts", "2"},
                             {"bisect_batch_on_function_error", "true"}});
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) {
    return s.delivered_records == 39 && s.failed_records == 1;
  }));
  ASSERT_TRUE(runner->Stop().ok());
  ExpectOnceInKeyOrder(39);
  auto failures = fs_.ReadFile("/data/failures/hook.jsonl");
  ASSERT_TRUE(failures.ok()) << failures.status().ToString();
  EXPECT_EQ(std::count(failures->begin(), failures->end(), '\n'), 1);
  EXPECT_NE(failures->find("\"condition\":\"RetryAttemptsExhausted\""), std::string::npos);
  EXPECT_NE(failures->find("function error: bad record"), std::string::npos);
  EXPECT_NE(failures->find("\"stream\":\"s\""), std::string::npos);
  EXPECT_NE(failures->find("\"shardId\":\"shardId-"), std::string::npos);
  EXPECT_NE(failures->find("\"sequenceNumber\":\""), std::string::npos);
  // A plain stream's record is its payload, as GetRecords returns it in Data.
  EXPECT_NE(failures->find("\"data\":{\"n\":13}"), std::string::npos);
  // Given up is not lost: the checkpoint moved past it.
  EXPECT_EQ(checkpoints_.Load("hook")->failed_records, 1u);
}

// Records carry their source positions as stored; the sink's last delivered position is the
// last delivered record's that has one, and a record given up on names its own.
TEST_F(SinkRunnerTest, RecordsCarryTheirSourcePositionsAndTheLastDeliveredOneIsKept) {
  std::vector<log::AppendRecord> records;
  for (int i = 0; i < 8; ++i) {
    log::AppendRecord record;
    record.partition_key = "key-" + std::to_string(i);
    record.payload = "{\"n\":" + std::to_string(i) + "}";
    if (i != 7) {  // the last one has none (a snapshot row, say)
      PostgresPosition position;
      position.commit_end_lsn = Lsn(1000 + 10 * i);
      position.change_lsn = Lsn(995 + 10 * i);
      record.position = SourcePosition(position);
    }
    records.push_back(std::move(record));
  }
  ASSERT_TRUE(stream_->AppendRecords(std::move(records)).ok());
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const SinkRecord& record = batch.records[i];
      const int n = std::stoi(record.data.substr(5));
      const SourcePosition position = SourcePositionOf(record);
      EXPECT_EQ(position.empty(), n == 7) << record.data;
      if (const PostgresPosition* pg = position.postgres()) {
        EXPECT_EQ(pg->commit_end_lsn.value(), static_cast<uint64_t>(1000 + 10 * n));
        EXPECT_EQ(pg->change_lsn.value(), static_cast<uint64_t>(995 + 10 * n));
      }
      if (n == 3) return DeliveryOutcome{i, InvalidArgument("function error: bad record"), true};
    }
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  auto runner = StartRunner({{"batch_size", "10"},
                             {"maximum_retry_attempts", "0"},
                             {"bisect_batch_on_function_error", "true"}});
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) {
    return s.delivered_records == 7 && s.failed_records == 1;
  }));
  const SinkStatus status = runner->status();
  const PostgresPosition* last = status.last_delivered_position.postgres();
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->commit_end_lsn.value(), 1060u);  // record 6's: record 7 has none
  ASSERT_TRUE(runner->Stop().ok());
  auto saved = checkpoints_.Load("hook");
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  ASSERT_NE(saved->last_delivered_position.postgres(), nullptr);
  EXPECT_EQ(saved->last_delivered_position.postgres()->commit_end_lsn.value(), 1060u);
  auto failures = fs_.ReadFile("/data/failures/hook.jsonl");
  ASSERT_TRUE(failures.ok()) << failures.status().ToString();
  PostgresPosition third;
  third.commit_end_lsn = Lsn(1030);
  third.change_lsn = Lsn(1025);
  EXPECT_NE(failures->find("\"sourcePosition\":\"" + SourcePosition(third).ToString() + "\""),
            std::string::npos)
      << *failures;
}

TEST_F(SinkRunnerTest, OnFailureHandlerHearsTheLastStatusAndTheAttempts) {
  Append(4, 1);
  destination_->answer = [&](const SinkBatch&, uint64_t) {
    DeliveryOutcome outcome{0, Unavailable("the endpoint answered HTTP 503"), false};
    outcome.protocol_status = 503;
    return outcome;
  };
  std::mutex mu;
  std::vector<std::tuple<std::string, int, uint32_t, size_t>> calls;
  SinkRunnerOptions options = Options();
  options.failure_handler = [&](const OnFailureTarget& target, const SinkBatch& given_up,
                                const Status&, const GiveUpContext& context) {
    EXPECT_EQ(target.url, "webhook+http://127.0.0.1:9/failed");
    std::lock_guard lock(mu);
    calls.emplace_back(std::string(context.condition), context.status_code, context.attempts,
                       given_up.records.size());
    return Status::Ok();
  };
  auto runner = StartRunner({{"batch_size", "10"},
                             {"maximum_retry_attempts", "2"},
                             {"on_failure", "webhook+http://127.0.0.1:9/failed"}},
                            options);
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return s.failed_records == 4; }));
  ASSERT_TRUE(runner->Stop().ok());
  std::lock_guard lock(mu);
  ASSERT_EQ(calls.size(), 1u);
  // The first try and two retries failed: three invocations, the last answered 503.
  EXPECT_EQ(calls[0], std::make_tuple(std::string("RetryAttemptsExhausted"), 503, 3u, size_t{4}));
}

TEST_F(SinkRunnerTest, GivenUpRecordsWaitWhileOnFailureCannotBeWritten) {
  Append(3, 3);
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    for (size_t i = 0; i < batch.records.size(); ++i) {
      if (batch.records[i].partition_key == "key-1") {
        return DeliveryOutcome{i, InvalidArgument("function error"), true};
      }
    }
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  // Appends to the failures file fail (a short write each, cut away again) until the test has
  // seen the sink IMPAIRED by them; then the disk recovers.
  fs_.InjectFault(io::FaultOperation::kAppend, IoError("injected: disk error"), "failures/", 0,
                  UINT32_MAX);
  auto runner =
      StartRunner({{"maximum_retry_attempts", "0"}, {"bisect_batch_on_function_error", "true"}});
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) {
    return s.state == SinkState::kImpaired &&
           s.reason.find("writing given-up records to /data/failures/hook.jsonl") !=
               std::string::npos;
  }));
  fs_.ClearFaults();
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) {
    return s.state == SinkState::kActive && s.failed_records == 1 && s.delivered_records == 2;
  }));
  ASSERT_TRUE(runner->Stop().ok());
  auto failures = fs_.ReadFile("/data/failures/hook.jsonl");
  ASSERT_TRUE(failures.ok()) << failures.status().ToString();
  EXPECT_EQ(std::count(failures->begin(), failures->end(), '\n'), 1);  // whole lines only
  EXPECT_EQ(failures->front(), '{');
}

TEST_F(SinkRunnerTest, MaximumRecordAgeGivesUpOldRecords) {
  destination_->answer = [&](const SinkBatch&, uint64_t) {
    return DeliveryOutcome{0, Timeout("no answer in 30s"), false};
  };
  Append(5, 5);
  auto runner = StartRunner({{"maximum_record_age", "60"}, {"on_failure", "old.jsonl"}});
  ASSERT_TRUE(
      WaitFor(*runner, [](const SinkStatus& s) { return s.state == SinkState::kImpaired; }));
  clock_.Advance(61'000'000'000);
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return s.failed_records == 5; }));
  ASSERT_TRUE(runner->Stop().ok());
  auto failures = fs_.ReadFile("/data/failures/old.jsonl");
  ASSERT_TRUE(failures.ok()) << failures.status().ToString();
  EXPECT_EQ(std::count(failures->begin(), failures->end(), '\n'), 5);
  EXPECT_NE(failures->find("MaximumRecordAgeExceeded"), std::string::npos);
}

TEST_F(SinkRunnerTest, RestartsFromTheCheckpoint) {
  Append(50);
  {
    auto runner = StartRunner({{"batch_size", "7"}});
    ASSERT_TRUE(Delivered(*runner, 50));
    ASSERT_TRUE(runner->Stop().ok());
  }
  Append(50);
  auto runner = StartRunner({{"batch_size", "7"}});
  ASSERT_TRUE(Delivered(*runner, 100));  // the saved count goes on
  ASSERT_TRUE(runner->Stop().ok());
  ExpectOnceInKeyOrder(100);  // nothing of the first 50 came again
}

TEST_F(SinkRunnerTest, ResumesFromTheLaterOfStoreAndDestinationCheckpoints) {
  Append(20);
  {
    auto runner = StartRunner();
    ASSERT_TRUE(Delivered(*runner, 20));
    ASSERT_TRUE(runner->Stop().ok());
  }
  // The store lost its position (an older copy); the destination's is current.
  ConsumerState state = *checkpoints_.Load("hook");
  Checkpoint current = state.checkpoint;
  for (auto& [shard, position] : state.checkpoint.shards) position.next = SequenceNumber(1);
  ASSERT_TRUE(checkpoints_.Save(state).ok());

  class CheckpointingDestination final : public Destination {
   public:
    explicit CheckpointingDestination(Checkpoint checkpoint, std::atomic<int>* delivered)
        : checkpoint_(std::move(checkpoint)), delivered_(delivered) {}
    Status Open() override { return Status::Ok(); }
    DeliveryOutcome Deliver(const SinkBatch& batch) override {
      *delivered_ += static_cast<int>(batch.records.size());
      return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
    }
    Result<std::optional<Checkpoint>> ReadCheckpoint() override {
      return std::optional<Checkpoint>(checkpoint_);
    }
    Status Close() override { return Status::Ok(); }

   private:
    Checkpoint checkpoint_;
    std::atomic<int>* delivered_;
  };
  std::atomic<int> delivered{0};
  Append(5);
  SinkSpec spec = Spec();
  auto runner =
      SinkRunner::Start(spec, *ParseSinkSettings(spec), stream_, &checkpoints_,
                        std::make_unique<CheckpointingDestination>(current, &delivered), Options());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(Delivered(**runner, 25));
  ASSERT_TRUE((*runner)->Stop().ok());
  EXPECT_EQ(delivered.load(), 5);
}

// A destination that commits the checkpoint with its data (as the Kafka sink does) must not
// undo a reset: the pre-reset checkpoint it still holds is of an earlier generation.
TEST_F(SinkRunnerTest, AResetIsNotUndoneByTheCheckpointTheDestinationHolds) {
  struct Committed {
    std::mutex mu;
    std::optional<Checkpoint> checkpoint;
    int delivered = 0;
  };
  class CommittingDestination final : public Destination {
   public:
    explicit CommittingDestination(Committed* committed) : committed_(committed) {}
    Status Open() override { return Status::Ok(); }
    DeliveryOutcome Deliver(const SinkBatch& batch) override {
      std::lock_guard lock(committed_->mu);
      committed_->delivered += static_cast<int>(batch.records.size());
      committed_->checkpoint = batch.checkpoint_after;  // with the data, atomically
      return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
    }
    Result<std::optional<Checkpoint>> ReadCheckpoint() override {
      std::lock_guard lock(committed_->mu);
      return committed_->checkpoint;
    }
    Status Close() override { return Status::Ok(); }

   private:
    Committed* committed_;
  };
  Committed committed;
  SinkSpec spec = Spec();
  auto start = [&] {
    auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), stream_, &checkpoints_,
                                    std::make_unique<CommittingDestination>(&committed), Options());
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    return std::move(runner).value();
  };
  Append(10);
  {
    auto runner = start();
    ASSERT_TRUE(Delivered(*runner, 10));
    ASSERT_TRUE(runner->Stop().ok());
  }
  checkpoints_.Request("hook", ControlRequest::kReset, log::StartPosition::TrimHorizon());
  {
    auto runner = start();
    ASSERT_TRUE(Delivered(*runner, 20));  // the 10 again, as the reset asked
    ASSERT_TRUE(runner->Stop().ok());
  }
  {
    std::lock_guard lock(committed.mu);
    EXPECT_EQ(committed.delivered, 20);
    ASSERT_TRUE(committed.checkpoint.has_value());
    EXPECT_EQ(committed.checkpoint->generation, 1u);
  }
  // The store's copy lost (an older one): the destination's post-reset checkpoint counts, and
  // nothing is delivered a third time.
  ConsumerState state = *checkpoints_.Load("hook");
  EXPECT_EQ(state.checkpoint.generation, 1u);
  state.checkpoint = Checkpoint{};
  ASSERT_TRUE(checkpoints_.Save(state).ok());
  Append(2);
  {
    auto runner = start();
    ASSERT_TRUE(Delivered(*runner, 22));
    ASSERT_TRUE(runner->Stop().ok());
  }
  std::lock_guard lock(committed.mu);
  EXPECT_EQ(committed.delivered, 22);
}

// A destination that commits the checkpoint with its data: the runner's file is a hint, saved
// once per control interval and on stop, not after every batch; a restart whose file lags
// resumes from the destination's checkpoint and delivers nothing twice.
TEST_F(SinkRunnerTest, ACheckpointCommittedWithTheDataMakesTheFileAHint) {
  struct Committed {
    std::mutex mu;
    std::optional<Checkpoint> checkpoint;
    int delivered = 0;
    int batches = 0;
  };
  class CommittingDestination final : public Destination {
   public:
    explicit CommittingDestination(Committed* committed) : committed_(committed) {}
    bool CommitsCheckpoint() const override { return true; }
    Status Open() override { return Status::Ok(); }
    DeliveryOutcome Deliver(const SinkBatch& batch) override {
      std::lock_guard lock(committed_->mu);
      committed_->delivered += static_cast<int>(batch.records.size());
      ++committed_->batches;
      committed_->checkpoint = batch.checkpoint_after;
      return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
    }
    Result<std::optional<Checkpoint>> ReadCheckpoint() override {
      std::lock_guard lock(committed_->mu);
      return committed_->checkpoint;
    }
    Status Close() override { return Status::Ok(); }

   private:
    Committed* committed_;
  };
  Committed committed;
  SinkSpec spec = Spec({{"batch_size", "5"}});
  auto start = [&](SinkRunnerOptions options) {
    auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), stream_, &checkpoints_,
                                    std::make_unique<CommittingDestination>(&committed), options);
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    return std::move(runner).value();
  };
  Append(100);
  // A control interval longer than the test: no hint is saved while it runs.
  SinkRunnerOptions slow = Options();
  slow.control_interval = std::chrono::hours(1);
  Checkpoint final_checkpoint;
  {
    auto runner = start(slow);
    ASSERT_TRUE(Delivered(*runner, 100));
    final_checkpoint = runner->status().checkpoint;
    {
      std::lock_guard lock(committed.mu);
      EXPECT_GE(committed.batches, 20);
      EXPECT_EQ(committed.checkpoint, final_checkpoint);
    }
    // Saved when it started, not once per batch.
    EXPECT_LT(checkpoints_.saves(), 5u);
    EXPECT_NE(checkpoints_.Load("hook")->checkpoint, final_checkpoint);
    ASSERT_TRUE(runner->Stop().ok());
    EXPECT_EQ(checkpoints_.Load("hook")->checkpoint, final_checkpoint);  // saved on stop
  }
  // With a short control interval the file catches up while the sink runs.
  Append(10);
  {
    auto runner = start(Options());
    ASSERT_TRUE(Delivered(*runner, 110));
    Checkpoint caught_up = runner->status().checkpoint;
    EXPECT_TRUE(checkpoints_.WaitForSaved(
        "hook", [&](const ConsumerState& state) { return state.checkpoint == caught_up; }));
    ASSERT_TRUE(runner->Stop().ok());
  }
  // The file lost what the destination holds (a crash before the next hint): the
  // destination's checkpoint decides; nothing is delivered twice.
  ConsumerState state = *checkpoints_.Load("hook");
  state.checkpoint = final_checkpoint;
  ASSERT_TRUE(checkpoints_.Save(state).ok());
  Append(3);
  {
    auto runner = start(Options());
    ASSERT_TRUE(Delivered(*runner, 113));
    ASSERT_TRUE(runner->Stop().ok());
  }
  std::lock_guard lock(committed.mu);
  EXPECT_EQ(committed.delivered, 113);
}

// A destination that commits the checkpoint only of batches of at least N records
// (CommitsCheckpointFromRecords, the Kafka sink): the file is a hint after those, and saved
// after every smaller batch as before.
TEST_F(SinkRunnerTest, LargeBatchesCommittedWithTheDataLeaveTheFileAHint) {
  class LargeBatchesCommit final : public Destination {
   public:
    size_t CommitsCheckpointFromRecords() const override { return 5; }
    Status Open() override { return Status::Ok(); }
    DeliveryOutcome Deliver(const SinkBatch& batch) override {
      return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
    }
    Status Close() override { return Status::Ok(); }
  };
  SinkRunnerOptions slow = Options();
  slow.control_interval = std::chrono::hours(1);  // no hint saved while the test runs
  auto start = [&](const SinkSpec& spec) {
    auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), stream_, &checkpoints_,
                                    std::make_unique<LargeBatchesCommit>(), slow);
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    return std::move(runner).value();
  };
  Append(100);
  {
    auto runner = start(Spec({{"batch_size", "5"}}));
    ASSERT_TRUE(Delivered(*runner, 100));
    EXPECT_LT(checkpoints_.saves(), 5u);  // 20 batches of 5: not one save each
    ASSERT_TRUE(runner->Stop().ok());
  }
  Append(10);
  uint64_t before = checkpoints_.saves();
  {
    auto runner = start(Spec({{"batch_size", "2"}}));
    ASSERT_TRUE(Delivered(*runner, 110));
    EXPECT_GE(checkpoints_.saves() - before, 5u);  // 5 batches of 2, each saved
    ASSERT_TRUE(runner->Stop().ok());
  }
}

TEST_F(SinkRunnerTest, PauseResumeAndReset) {
  auto runner = StartRunner();
  Append(10);
  ASSERT_TRUE(Delivered(*runner, 10));

  runner->Pause();
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return s.state == SinkState::kPaused; }));
  EXPECT_NE(runner->status().reason.find("paused"), std::string::npos);
  Append(10);
  // Paused: nothing more is delivered (a bounded wait that must run out).
  EXPECT_FALSE(runner->WaitFor([](const SinkStatus& s) { return s.delivered_records > 10; },
                               steady_clock::now() + milliseconds(200)));

  runner->Resume();
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) {
    return s.state == SinkState::kActive && s.delivered_records == 20;
  }));

  runner->Reset(log::StartPosition::TrimHorizon());
  ASSERT_TRUE(Delivered(*runner, 40));  // everything again
  EXPECT_EQ(Acknowledged().size(), 40u);

  runner->Reset(log::StartPosition::Latest());
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return !s.request_pending; }));
  Append(3);
  ASSERT_TRUE(Delivered(*runner, 43));
  ASSERT_TRUE(runner->Stop().ok());
  EXPECT_EQ(Acknowledged().size(), 43u);
}

TEST_F(SinkRunnerTest, ControlRequestsInTheStoredStateReachARunningSink) {
  auto runner = StartRunner();
  Append(4);
  ASSERT_TRUE(Delivered(*runner, 4));
  // Requests land between the sink's saves (see the CLI's re-issue for the window within one).
  ASSERT_TRUE(checkpoints_.WaitForSaved(
      "hook", [](const ConsumerState& state) { return state.delivered_records == 4; }));
  checkpoints_.Request("hook", ControlRequest::kPause);
  ASSERT_TRUE(checkpoints_.WaitForSaved("hook", [](const ConsumerState& state) {
    return state.state == SinkState::kPaused && state.request == ControlRequest::kNone;
  }));
  checkpoints_.Request("hook", ControlRequest::kReset, log::StartPosition::TrimHorizon());
  ASSERT_TRUE(Delivered(*runner, 8));
  ASSERT_TRUE(runner->Stop().ok());
  auto saved = checkpoints_.Load("hook");
  EXPECT_EQ(saved->request, ControlRequest::kNone);  // applied and cleared
  EXPECT_EQ(saved->state, SinkState::kActive);
}

TEST_F(SinkRunnerTest, ARequestRecordedWhileStoppedAppliesAtStart) {
  Append(6);
  {
    auto runner = StartRunner();
    ASSERT_TRUE(Delivered(*runner, 6));
    ASSERT_TRUE(runner->Stop().ok());
  }
  checkpoints_.Request("hook", ControlRequest::kPause);
  auto runner = StartRunner();
  EXPECT_EQ(runner->status().state, SinkState::kPaused);
  checkpoints_.Request("hook", ControlRequest::kResume);
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return s.state == SinkState::kActive; }));
  ASSERT_TRUE(runner->Stop().ok());
}

TEST_F(SinkRunnerTest, LanesKeepPerKeyOrderUnderConcurrency) {
  std::mt19937 random(11);
  std::mutex random_mu;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    int busy_micros = 0;
    size_t acknowledged = 0;
    {
      std::lock_guard lock(random_mu);
      busy_micros = std::uniform_int_distribution<int>(0, 200)(random);
      acknowledged = std::uniform_int_distribution<size_t>(0, batch.records.size())(random);
    }
    // The call takes a while, so the lanes overlap. Bounded by the clock, not by a count of
    // std::this_thread::yield(): each yield hands the core to whatever else runs (a build at
    // nice 19 beside the tests), which once made this test's 500 records take over a minute.
    auto busy_until = steady_clock::now() + std::chrono::microseconds(busy_micros);
    while (steady_clock::now() < busy_until) {
    }
    DeliveryOutcome outcome;
    outcome.acknowledged = acknowledged;
    if (acknowledged < batch.records.size()) outcome.failure = Unavailable("throttled");
    return outcome;
  };
  auto runner = StartRunner({{"batch_size", "8"}, {"parallelization_factor", "4"}});
  for (int round = 0; round < 10; ++round) Append(50, 23);
  // Every batch may be throttled and retried with backoff (1-5 ms here): under a sanitizer on
  // a loaded machine the 500 take longer than the usual wait.
  ASSERT_TRUE(runner->WaitFor([](const SinkStatus& s) { return s.delivered_records >= 500; },
                              steady_clock::now() + 3 * kWait));
  ASSERT_TRUE(runner->Stop().ok());
  ExpectOnceInKeyOrder(500);
  std::lock_guard lock(destination_->mu);
  EXPECT_FALSE(destination_->overlapping_keys) << "two lanes delivered one key at once";
}

TEST_F(SinkRunnerTest, FilteredRecordsAreSkippedAndCheckpointed) {
  SinkRunnerOptions options = Options();
  options.filter = [](const SinkRecord& record) { return record.partition_key != "key-0"; };
  Append(20, 2);
  auto runner = StartRunner({}, options);
  ASSERT_TRUE(Delivered(*runner, 10));
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return s.lag_records == 0; }));
  ASSERT_TRUE(runner->Stop().ok());
  for (const auto& [key, sequence] : Acknowledged()) EXPECT_EQ(key, "key-1");
  auto saved = checkpoints_.Load("hook");
  for (const auto& shard : stream_->Describe().shards) {
    if (shard.last_sequence.value() == 0) continue;
    EXPECT_EQ(saved->checkpoint.shards.at(shard.index).next.value(),
              shard.last_sequence.value() + 1);
  }
}

TEST_F(SinkRunnerTest, StopDrainsTheBatchInFlight) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  Append(5, 5);
  auto runner = StartRunner();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return entered; }));
  }
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    EXPECT_TRUE(runner->Stop().ok());
    stopped = true;
  });
  EXPECT_FALSE(stopped.load());  // waits for the batch
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  stopper.join();
  EXPECT_TRUE(stopped.load());
  std::lock_guard lock(destination_->mu);
  EXPECT_TRUE(destination_->closed);
  EXPECT_EQ(checkpoints_.Load("hook")->delivered_records, 5u);
}

TEST_F(SinkRunnerTest, BacklogLimitFailsTheSinkAndReleasesRetention) {
  destination_->answer = [&](const SinkBatch&, uint64_t) {
    return DeliveryOutcome{0, Unavailable("down"), false};
  };
  Append(3);
  auto runner = StartRunner({{"max_backlog", "1h"}});
  ASSERT_TRUE(
      WaitFor(*runner, [](const SinkStatus& s) { return s.state == SinkState::kImpaired; }));
  clock_.Advance(3601LL * 1'000'000'000);
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return s.state == SinkState::kFailed; }));
  SinkStatus failed = runner->status();
  EXPECT_NE(failed.reason.find("sink 'hook'"), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("max_backlog = 1h"), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("eddy sink reset --name hook"), std::string::npos);
  ASSERT_TRUE(runner->Stop().ok());
  EXPECT_FALSE(checkpoints_.Load("hook")->holds_retention);
  // A restart keeps it failed; a reset clears it.
  runner = StartRunner({{"max_backlog", "1h"}});
  EXPECT_EQ(runner->status().state, SinkState::kFailed);
  destination_->answer = nullptr;
  runner->Reset(log::StartPosition::TrimHorizon());
  ASSERT_TRUE(Delivered(*runner, 3));
  ASSERT_TRUE(runner->Stop().ok());
  EXPECT_TRUE(checkpoints_.Load("hook")->holds_retention);
}

TEST_F(SinkRunnerTest, StartFailsWhenTheDestinationCannotOpen) {
  destination_->open_error = Unavailable("connect to receiver:443: connection refused");
  SinkSpec spec = Spec();
  auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), stream_, &checkpoints_,
                                  std::make_unique<FakeDestination>(destination_), Options());
  ASSERT_FALSE(runner.ok());
  EXPECT_NE(runner.status().message().find("sink 'hook' (fake://receiver/path)"), std::string::npos)
      << runner.status().message();
  EXPECT_NE(runner.status().message().find("connection refused"), std::string::npos);
}

TEST_F(SinkRunnerTest, LatestStartSkipsWhatWasThere) {
  Append(10);
  auto runner = StartRunner({{"starting_position", "LATEST"}});
  Append(4);
  ASSERT_TRUE(Delivered(*runner, 4));
  ASSERT_TRUE(WaitFor(*runner, [](const SinkStatus& s) { return s.lag_records == 0; }));
  ASSERT_TRUE(runner->Stop().ok());
  EXPECT_EQ(Acknowledged().size(), 4u);
}

TEST_F(SinkRunnerTest, CdcRecordsAreRenderedInTheSinksFormatAndViewType) {
  log::StreamOptions options;
  options.tags[std::string(log::kTagCdc)] = "true";
  options.tags[std::string(log::kTagViewType)] = "NEW_IMAGE";
  auto cdc = store_->CreateStream("cdc", options);
  ASSERT_TRUE(cdc.ok()) << cdc.status().ToString();
  std::mt19937_64 random(model::testing::TestSeed());
  std::vector<model::ChangeEvent> events;
  std::vector<log::AppendRecord> records;
  for (int i = 0; i < 5; ++i) {
    model::ChangeEvent event;
    do {  // row changes: every format renders them
      event = model::testing::RandomEvent(random);
    } while (event.op != model::Operation::kInsert && event.op != model::Operation::kUpdate &&
             event.op != model::Operation::kDelete && event.op != model::Operation::kRead);
    events.push_back(std::move(event));
    log::AppendRecord record;
    record.partition_key = "row-" + std::to_string(i);
    record.payload = model::EncodeEvent(events.back());
    records.push_back(std::move(record));
  }
  ASSERT_TRUE((*cdc)->AppendRecords(std::move(records)).ok());

  std::mutex mu;
  std::vector<SinkRecord> received;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    std::lock_guard lock(mu);
    for (const auto& record : batch.records) received.push_back(record);
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  SinkSpec spec = Spec({{"format", "debezium"}});
  spec.stream = "cdc";
  auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), *cdc, &checkpoints_,
                                  std::make_unique<FakeDestination>(destination_), Options());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(Delivered(**runner, 5));
  ASSERT_TRUE((*runner)->Stop().ok());

  auto debezium = format::MakeRenderer("debezium");
  ASSERT_TRUE(debezium.ok());
  std::lock_guard lock(mu);
  ASSERT_EQ(received.size(), 5u);
  for (const auto& record : received) {
    ASSERT_NE(record.event, nullptr);
    int index = std::stoi(record.partition_key.substr(4));
    format::RecordContext context;
    context.sequence_number = record.sequence_number;
    EXPECT_EQ(record.data,
              (*debezium)->Render(events[index], format::ViewType::kNewImage, context));
  }
}

// Reads of hundreds of records are made into SinkRecords on two threads: every record still
// arrives rendered as the renderer renders it, in sequence order, and records the format has
// no rendering for (DynamoDB Streams: truncates, messages) are skipped but checkpointed, across
// several reads whose records are recycled.
TEST_F(SinkRunnerTest, LargeCdcReadsAreRenderedOnTwoThreadsInOrder) {
  log::StreamOptions options;
  options.tags[std::string(log::kTagCdc)] = "true";
  options.shard_count = 2;
  auto cdc = store_->CreateStream("cdc", options);
  ASSERT_TRUE(cdc.ok()) << cdc.status().ToString();
  std::mt19937_64 random(model::testing::TestSeed());
  std::vector<model::ChangeEvent> events;
  constexpr int kEvents = 5000;
  for (int round = 0; round < 5; ++round) {
    std::vector<log::AppendRecord> records;
    for (int i = 0; i < kEvents / 5; ++i) {
      model::ChangeEvent event = model::testing::RandomEvent(random);
      log::AppendRecord record;
      record.partition_key = "row-" + std::to_string(events.size());
      record.payload = model::EncodeEvent(event);
      events.push_back(std::move(event));
      records.push_back(std::move(record));
    }
    ASSERT_TRUE((*cdc)->AppendRecords(std::move(records)).ok());
  }
  auto dynamodb = format::MakeRenderer("dynamodb");
  ASSERT_TRUE(dynamodb.ok());
  size_t renderable = 0;
  for (const auto& event : events) {
    if (!(*dynamodb)->Render(event, format::ViewType::kNewAndOldImages).empty()) ++renderable;
  }
  ASSERT_LT(renderable, events.size());  // some are skipped

  std::mutex mu;
  std::vector<std::tuple<int, uint64_t, std::string, std::string>> received;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    std::lock_guard lock(mu);
    for (const auto& record : batch.records) {
      received.emplace_back(std::stoi(record.partition_key.substr(4)), record.sequence.value(),
                            record.sequence_number, record.data);
    }
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  SinkSpec spec = Spec({{"format", "dynamodb"}, {"batch_size", "700"}});
  spec.stream = "cdc";
  auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), *cdc, &checkpoints_,
                                  std::make_unique<FakeDestination>(destination_), Options());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(Delivered(**runner, renderable));
  ASSERT_TRUE((*runner)->WaitFor([](const SinkStatus& s) { return s.lag_records == 0; },
                                 steady_clock::now() + kWait));
  ASSERT_TRUE((*runner)->Stop().ok());

  std::lock_guard lock(mu);
  ASSERT_EQ(received.size(), renderable);
  uint64_t last_sequence = 0;
  for (const auto& [index, sequence, sequence_number, data] : received) {
    EXPECT_LT(last_sequence, sequence) << "out of order";  // one lane: read order
    last_sequence = sequence;
    format::RecordContext context;
    context.sequence_number = sequence_number;
    ASSERT_EQ(data, (*dynamodb)->Render(events[index], format::ViewType::kNewAndOldImages, context))
        << "record " << index;
  }
  auto saved = checkpoints_.Load("hook");
  ASSERT_TRUE(saved.ok());
  for (const auto& shard : (*cdc)->Describe().shards) {
    EXPECT_EQ(saved->checkpoint.shards.at(shard.index).next.value(),
              shard.last_sequence.value() + 1)
        << shard.id;
  }
}

// A destination that lays out rows itself (Parquet, Iceberg) gets no rendering: `data` stays
// empty, batches count the stored event's bytes, and a record given up on is rendered for
// on_failure only then.
TEST_F(SinkRunnerTest, DestinationsThatDoNotReadDataGetNoRendering) {
  log::StreamOptions options;
  options.tags[std::string(log::kTagCdc)] = "true";
  auto cdc = store_->CreateStream("cdc", options);
  ASSERT_TRUE(cdc.ok()) << cdc.status().ToString();
  std::mt19937_64 random(model::testing::TestSeed());
  std::vector<log::AppendRecord> records;
  std::map<std::string, uint64_t> stored_size;
  for (int i = 0; i < 6; ++i) {
    model::ChangeEvent event;
    do {
      event = model::testing::RandomEvent(random);
    } while (event.op != model::Operation::kInsert && event.op != model::Operation::kUpdate &&
             event.op != model::Operation::kDelete);
    log::AppendRecord record;
    record.partition_key = "row-" + std::to_string(i);
    record.payload = model::EncodeEvent(event);
    stored_size[record.partition_key] = record.payload.size();
    records.push_back(std::move(record));
  }
  ASSERT_TRUE((*cdc)->AppendRecords(std::move(records)).ok());

  std::mutex mu;
  std::vector<SinkRecord> received;
  uint64_t batch_bytes = 0;
  destination_->uses_rendered_data = false;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    std::lock_guard lock(mu);
    for (const auto& record : batch.records) {
      // The record of row-5 is rejected every time: it is given up on.
      if (record.partition_key == "row-5") {
        return DeliveryOutcome{0, Unavailable("row 5 does not fit"), false};
      }
      received.push_back(record);
      batch_bytes += batch.data_bytes;
    }
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  SinkSpec spec = Spec({{"batch_size", "1"}, {"maximum_retry_attempts", "0"}});
  spec.stream = "cdc";
  auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), *cdc, &checkpoints_,
                                  std::make_unique<FakeDestination>(destination_), Options());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(WaitFor(**runner, [](const SinkStatus& s) {
    return s.delivered_records == 5 && s.failed_records == 1;
  }));
  SinkStatus status = (*runner)->status();
  ASSERT_TRUE((*runner)->Stop().ok());

  std::lock_guard lock(mu);
  ASSERT_EQ(received.size(), 5u);
  uint64_t expected_bytes = 0;
  for (const auto& record : received) {
    ASSERT_NE(record.event, nullptr);
    EXPECT_TRUE(record.data.empty());
    EXPECT_EQ(record.size_bytes, stored_size[record.partition_key]);
    expected_bytes += stored_size[record.partition_key];
  }
  EXPECT_EQ(batch_bytes, expected_bytes);
  EXPECT_EQ(status.delivered_bytes, expected_bytes);
  auto failures = fs_.ReadFile("/data/failures/hook.jsonl");
  ASSERT_TRUE(failures.ok()) << failures.status().ToString();
  EXPECT_EQ(std::count(failures->begin(), failures->end(), '\n'), 1);
  EXPECT_NE(failures->find("\"partitionKey\":\"row-5\""), std::string::npos);
  // Rendered in the sink's format (native) for the on-failure record.
  EXPECT_NE(failures->find("\"data\":{\""), std::string::npos) << *failures;
}

// A destination that renders row changes itself (the Kafka sink) gets them as stored: the
// encoded bytes, no ChangeEvent, no rendering, the stored size; other records (a truncate)
// come decoded and rendered; a row change given up on is decoded and rendered for on_failure.
// Reads are chunked (a few thousand records each), but a lane without a batching window still
// delivers what is durable as one batch up to its limits, not the first chunk alone.
TEST_F(SinkRunnerTest, ABacklogReadInChunksFillsWholeBatches) {
  Append(25'000, 100);
  std::mutex mu;
  std::vector<size_t> sizes;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    std::lock_guard lock(mu);
    sizes.push_back(batch.records.size());
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  SinkSpec spec = Spec();
  auto settings = ParseSinkSettings(spec);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  // What Destination::Batching gives a destination that flushes large objects.
  settings->batch_size = 25'000;
  settings->batch_bytes = 64u << 20;
  settings->max_batching_window = milliseconds(0);
  auto runner = SinkRunner::Start(spec, *settings, stream_, &checkpoints_,
                                  std::make_unique<FakeDestination>(destination_), Options());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(Delivered(**runner, 25'000));
  ASSERT_TRUE((*runner)->Stop().ok());
  ExpectOnceInKeyOrder(25'000);
  std::lock_guard lock(mu);
  ASSERT_EQ(sizes.size(), 1u);
  EXPECT_EQ(sizes[0], 25'000u);
}

TEST_F(SinkRunnerTest, CdcRecordsCarryTheSchemaTheirTableWasDecodedWith) {
  log::StreamOptions options;
  options.tags[std::string(log::kTagCdc)] = "true";
  auto cdc = store_->CreateStream("tables", options);
  ASSERT_TRUE(cdc.ok()) << cdc.status().ToString();
  auto history = schema::SchemaHistory::Open(schema::SchemaHistoryPath("/data", "tables"), {&fs_});
  ASSERT_TRUE(history.ok()) << history.status().ToString();

  model::TableSchema v1;
  v1.table = {"shop", "public", "orders"};
  model::Column id;
  id.name = "id";
  id.source_type = "int4";
  id.type = model::ValueType::kInt64;
  id.nullable = false;
  id.primary_key_ordinal = 1;
  v1.columns = {id};
  v1.primary_key = {"id"};
  model::TableSchema v2 = v1;
  model::Column note;
  note.name = "note";
  note.source_type = "varchar";
  note.type = model::ValueType::kText;
  note.length = 20;
  v2.columns.push_back(note);
  ASSERT_EQ(*(*history)->AssignVersion(v1), 1u);
  ASSERT_EQ(*(*history)->AssignVersion(v2), 2u);

  auto row_event = [&](int n, uint32_t version, bool with_note) {
    model::ChangeEvent event;
    event.op = model::Operation::kInsert;
    event.table = v1.table;
    event.key = {{"id", model::Value::Int64(n)}};
    event.after = event.key;
    if (with_note) event.after->push_back({"note", model::Value::Null()});
    event.schema_version = version;
    event.transaction_id = std::to_string(n);
    return event;
  };
  std::vector<model::ChangeEvent> events;
  events.push_back(row_event(1, 1, false));
  events.push_back(row_event(2, 1, false));
  model::ChangeEvent alter;
  alter.op = model::Operation::kSchemaChange;
  alter.table = v1.table;
  alter.schema_change.emplace();
  alter.schema_change->kind = model::SchemaChangeKind::kAddColumn;
  alter.schema_change->ddl = "ALTER TABLE orders ADD note varchar(20)";
  alter.schema_change->table_schema = v2;
  alter.schema_change->table_schema->version = 7;  // whatever the source said
  events.push_back(alter);
  events.push_back(row_event(3, 2, true));
  model::ChangeEvent truncate;
  truncate.op = model::Operation::kTruncate;
  truncate.table = v1.table;
  truncate.schema_version = 0;
  events.push_back(truncate);
  events.push_back(row_event(4, 9, true));  // a version nobody recorded
  model::ChangeEvent message;
  message.op = model::Operation::kMessage;
  message.message = model::LogicalMessage{"p", "hello", true};
  events.push_back(message);
  std::vector<log::AppendRecord> records;
  for (size_t i = 0; i < events.size(); ++i) {
    log::AppendRecord record;
    record.partition_key = "k";  // one shard, one lane: records arrive in order
    record.payload = model::EncodeEvent(events[i]);
    records.push_back(std::move(record));
  }
  ASSERT_TRUE((*cdc)->AppendRecords(std::move(records)).ok());

  std::mutex mu;
  std::vector<SinkRecord> received;
  destination_->answer = [&](const SinkBatch& batch, uint64_t) {
    std::lock_guard lock(mu);
    for (const auto& record : batch.records) received.push_back(record);
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  SinkSpec spec = Spec({{"format", "native"}});
  spec.stream = "tables";
  SinkRunnerOptions runner_options = Options();
  runner_options.schemas = *history;
  auto runner = SinkRunner::Start(spec, *ParseSinkSettings(spec), *cdc, &checkpoints_,
                                  std::make_unique<FakeDestination>(destination_), runner_options);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(Delivered(**runner, events.size()));
  ASSERT_TRUE((*runner)->Stop().ok());

  std::lock_guard lock(mu);
  ASSERT_EQ(received.size(), events.size());
  auto expect_schema = [&](size_t index, const model::TableSchema& expected, uint32_t version) {
    SCOPED_TRACE("record " + std::to_string(index));
    ASSERT_NE(received[index].table_schema, nullptr);
    model::TableSchema want = expected;
    want.version = version;
    EXPECT_EQ(*received[index].table_schema, want);
  };
  expect_schema(0, v1, 1);
  expect_schema(1, v1, 1);
  // One allocation per version, shared by its records and by the history.
  EXPECT_EQ(received[0].table_schema.get(), received[1].table_schema.get());
  EXPECT_EQ(received[0].table_schema.get(), (*history)->Find(v1.table, 1)->get());
  expect_schema(2, v2, 2);  // the statement's schema, as recorded
  expect_schema(3, v2, 2);
  expect_schema(4, v2, 2);                       // no version on the event: the table's latest
  EXPECT_EQ(received[5].table_schema, nullptr);  // unrecorded version: none, never a guess
  EXPECT_EQ(received[6].table_schema, nullptr);  // no table
}

// A destination that TakesStoredEvents gets each record's stored bytes, checked, and no
// decoded event; a record given up on is still rendered for on_failure.
TEST_F(SinkRunnerTest, DestinationsRenderingEncodedRowChangesGetTheStoredBytes) {
  destination_->renders_encoded = true;
  std::map<std::string, std::string> stored;
  std::vector<SinkRecord> received = DeliverWithRow5Refused(/*with_truncate=*/true, &stored);
  ASSERT_EQ(received.size(), 6u);
  for (const auto& record : received) {
    SCOPED_TRACE(record.partition_key);
    if (record.partition_key == "row-6") {  // the truncate: as before
      EXPECT_NE(record.event, nullptr);
      EXPECT_FALSE(record.data.empty());
      EXPECT_TRUE(record.stored_event.empty());
      continue;
    }
    EXPECT_EQ(record.event, nullptr);
    EXPECT_TRUE(record.data.empty());
    EXPECT_EQ(record.stored_event, stored[record.partition_key]);
    EXPECT_EQ(record.size_bytes, stored[record.partition_key].size());
  }
}

// A destination that does not read the record's identity as text gets no shard ID and the
// sequence number's text only on the records the runner renders; ShardIdText and
// SequenceNumberText give the same texts for the others, and the on_failure record of one given
// up on has them.
TEST_F(SinkRunnerTest, DestinationsThatDoNotReadTheRecordIdTextGetItOnlyWhereRendered) {
  destination_->renders_encoded = true;
  destination_->reads_id_text = false;
  std::map<std::string, std::string> stored;
  std::vector<SinkRecord> received = DeliverWithRow5Refused(/*with_truncate=*/true, &stored);
  ASSERT_EQ(received.size(), 6u);
  auto truncate = std::find_if(received.begin(), received.end(),
                               [](const SinkRecord& r) { return r.partition_key == "row-6"; });
  ASSERT_NE(truncate, received.end());
  // Rendered by the runner (a renderer may print it): the text is there.
  ASSERT_FALSE(truncate->sequence_number.empty());
  SinkRecord without_text = *truncate;
  without_text.sequence_number.clear();
  EXPECT_EQ(SequenceNumberText(without_text), truncate->sequence_number);
  std::set<std::string> texts;
  for (const auto& record : received) {
    EXPECT_TRUE(record.shard_id.empty());
    EXPECT_EQ(ShardIdText(record), "shardId-000000000000");  // the stream's one shard
    if (record.partition_key == "row-6") continue;
    SCOPED_TRACE(record.partition_key);
    EXPECT_TRUE(record.sequence_number.empty());
    EXPECT_EQ(record.shard_creation_nanos, truncate->shard_creation_nanos);
    const std::string text = SequenceNumberText(record);
    EXPECT_EQ(text.size(), truncate->sequence_number.size());
    EXPECT_EQ(text.find_first_not_of("0123456789"), std::string::npos) << text;
    EXPECT_LT(text, truncate->sequence_number);  // appended before it, in one shard
    texts.insert(text);
  }
  EXPECT_EQ(texts.size(), 5u);
  auto failures = fs_.ReadFile("/data/failures/hook.jsonl");
  ASSERT_TRUE(failures.ok()) << failures.status().ToString();
  const size_t at = failures->find("\"sequenceNumber\":\"");
  ASSERT_NE(at, std::string::npos) << *failures;
  const std::string failed_text = failures->substr(at + 18, truncate->sequence_number.size());
  EXPECT_EQ(failed_text.find_first_not_of("0123456789"), std::string::npos) << *failures;
  EXPECT_FALSE(texts.count(failed_text)) << "row 5 was not delivered";
  EXPECT_NE(failures->find("\"shardId\":\"shardId-000000000000\""), std::string::npos) << *failures;
}

TEST_F(SinkRunnerTest, DestinationsThatTakeStoredEventsGetTheStoredBytes) {
  destination_->uses_rendered_data = false;
  destination_->takes_stored_events = true;
  std::map<std::string, std::string> stored;
  std::vector<SinkRecord> received = DeliverWithRow5Refused(/*with_truncate=*/false, &stored);
  ASSERT_EQ(received.size(), 5u);
  for (const auto& record : received) {
    SCOPED_TRACE(record.partition_key);
    EXPECT_EQ(record.event, nullptr);
    EXPECT_TRUE(record.data.empty());
    EXPECT_EQ(record.stored_event, stored[record.partition_key]);
    EXPECT_EQ(record.size_bytes, stored[record.partition_key].size());
  }
}

}  // namespace
}  // namespace eddy::consume

namespace eddy::consume {
namespace {

// Destination::StagesRecords: a batch's records reach Stage while the runner gathers it, in
// reads, and the Deliver that follows gets exactly those records; a retry comes unstaged.
TEST_F(SinkRunnerTest, StagedBatchesAreHandedOverAsTheyAreGathered) {
  Append(25'000, 100);
  destination_->stages = true;
  destination_->answer = [](const SinkBatch& batch, uint64_t call) {
    if (call == 1) return DeliveryOutcome{0, Unavailable("the bucket is away"), false};
    return DeliveryOutcome{batch.records.size(), Status::Ok(), false};
  };
  SinkSpec spec = Spec();
  auto settings = ParseSinkSettings(spec);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  settings->batch_size = 20'000;
  settings->batch_bytes = 64u << 20;
  settings->max_batching_window = milliseconds(0);
  auto runner = SinkRunner::Start(spec, *settings, stream_, &checkpoints_,
                                  std::make_unique<FakeDestination>(destination_), Options());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(Delivered(**runner, 25'000));
  ASSERT_TRUE((*runner)->Stop().ok());
  ExpectOnceInKeyOrder(25'000);
  std::lock_guard lock(destination_->mu);
  EXPECT_EQ(destination_->deliveries_mismatched, 0u);
  // The first batch (20,000 records, gathered from reads of at most 10,000) as staged; the
  // second failed once as staged and was retried unstaged.
  EXPECT_EQ(destination_->deliveries_as_staged, 2u);
  EXPECT_EQ(destination_->deliveries_not_staged, 1u);
  EXPECT_GE(destination_->stage_calls, 3u);
  EXPECT_EQ(destination_->calls, 3u);
}

// A gathering interrupted by a stop is not delivered: its records stay outstanding, the
// checkpoint does not pass them, and the next run stages and delivers them once.
TEST_F(SinkRunnerTest, AnAbandonedGatheringIsDeliveredAfterARestart) {
  destination_->stages = true;
  Append(10);
  SinkSpec spec = Spec();
  auto settings = ParseSinkSettings(spec);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  settings->batch_size = 1000;
  settings->max_batching_window = std::chrono::seconds(300);  // gathers until stopped
  auto runner = SinkRunner::Start(spec, *settings, stream_, &checkpoints_,
                                  std::make_unique<FakeDestination>(destination_), Options());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  {
    std::unique_lock lock(destination_->mu);
    ASSERT_TRUE(destination_->changed.wait_for(lock, kWait,
                                               [&] { return destination_->staged.size() == 10; }));
  }
  ASSERT_TRUE((*runner)->Stop().ok());
  EXPECT_TRUE(Acknowledged().empty());
  auto saved = checkpoints_.Load("hook");
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->delivered_records, 0u);

  settings->max_batching_window = milliseconds(0);
  runner = SinkRunner::Start(spec, *settings, stream_, &checkpoints_,
                             std::make_unique<FakeDestination>(destination_), Options());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(Delivered(**runner, 10));
  ASSERT_TRUE((*runner)->Stop().ok());
  ExpectOnceInKeyOrder(10);
  std::lock_guard lock(destination_->mu);
  EXPECT_EQ(destination_->deliveries_as_staged, 1u);
  EXPECT_EQ(destination_->deliveries_mismatched, 0u);
}

}  // namespace
}  // namespace eddy::consume

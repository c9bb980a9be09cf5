#include "sink/kafka/kafka_destination.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/helper_thread.h"
#include "base/logging.h"
#include "consume/checkpoint_store.h"
#include "consume/sink_settings.h"
#include "sink/kafka/kafka_records.h"
#include "sink/kafka/kafka_settings.h"

namespace eddy::sink::kafka {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kAdminTimeoutMs = 3000;

// Log records mapped before their Kafka records are produced: the unit in which the rendering
// of a batch overlaps librdkafka sending it.
constexpr size_t kProduceChunkRecords = 256;
// Batches of at least this many records are mapped on two threads where there are three cores
// or more (see Deliver).
constexpr size_t kHelperMinRecords = 2048;
// Batches of at least this many records are not followed by the runner's checkpoint save
// (CommitsCheckpointFromRecords): a trickle's batches (tens of records) keep it.
constexpr size_t kCommittedFromRecords = 1000;
// Records larger than this (key and value) are produced one by one (see InOneCall).
constexpr size_t kOneCallMaxBytes = 64 * 1024;
// The report index of the record a transaction starts with (see Deliver); never a message's.
constexpr size_t kMarkerIndex = 0xffffffffu;

int TimeoutMs(std::chrono::milliseconds timeout) { return static_cast<int>(timeout.count()); }

// The wall clock in milliseconds since the epoch: a Kafka record's CreateTime.
int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// kOneCallMaxBytes, or less where the user's kafka.message.max.bytes leaves less: a record
// must stay below librdkafka's limit with its framing (up to a few dozen bytes) to spare.
size_t OneCallMaxBytes(const KafkaSettings& settings) {
  for (const auto& [name, value] : settings.librdkafka) {
    if (name != "message.max.bytes") continue;
    char* end = nullptr;
    const long long limit = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || limit <= 1024) return 0;  // every record alone
    return std::min(kOneCallMaxBytes, static_cast<size_t>(limit) - 1024);
  }
  return kOneCallMaxBytes;
}

int RemainingMs(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::max<int64_t>(left.count(), 1));
}

bool IsAuthorizationError(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
         err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED;
}

bool IsUnknownTopic(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

// Owns an rd_kafka_error_t.
struct ErrorHolder {
  rd_kafka_error_t* error = nullptr;
  explicit ErrorHolder(rd_kafka_error_t* e) : error(e) {}
  ErrorHolder(const ErrorHolder&) = delete;
  ErrorHolder& operator=(const ErrorHolder&) = delete;
  ~ErrorHolder() {
    if (error != nullptr) rd_kafka_error_destroy(error);
  }
  explicit operator bool() const { return error != nullptr; }
  std::string text() const { return error ? rd_kafka_error_string(error) : ""; }
};

class KafkaDestination final : public consume::Destination {
 public:
  KafkaDestination(KafkaSettings settings, RecordMapper mapper,
                   std::optional<consume::BatchingOverride> batching)
      : settings_(std::move(settings)),
        mapper_(std::move(mapper)),
        batching_(batching),
        logger_(logging::Get("sink.kafka")) {}

  std::optional<consume::BatchingOverride> Batching() const override { return batching_; }
  bool RendersEncodedRowChanges() const override { return mapper_.RendersEncoded(); }
  // Only records the mapper renders itself and error messages use them (SequenceNumberText,
  // ShardIdText).
  bool ReadsRecordIdText() const override { return false; }

  ~KafkaDestination() override { DestroyProducer(); }

  Status Open() override {
    EDDY_ASSIGN_OR_RETURN(producer_, NewHandle(RD_KAFKA_PRODUCER));
    // Reachable: cluster metadata from a bootstrap broker.
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(producer_, 0, nullptr, &metadata, TimeoutMs(settings_.delivery_timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Unavailable("no Kafka broker answered at " + settings_.bootstrap_servers + " within " +
                         std::to_string(settings_.delivery_timeout.count()) + " ms (" +
                         rd_kafka_err2str(err) +
                         "); start the cluster, or correct the sink URL or the kafka.security.* / "
                         "kafka.sasl.* settings");
    }
    logger_->info("sink={} connected brokers={} bootstrap={}", settings_.sink_name,
                  metadata->broker_cnt, settings_.bootstrap_servers);
    // CreateTopics goes to the controller; a cluster whose metadata names no broker as
    // controller (librdkafka's mock cluster says 0, its brokers are 1..N) cannot create topics
    // that way, and asking would only wait for a timeout.
    int32_t controller = rd_kafka_controllerid(producer_, 1000);
    bool controller_known = false;
    for (int i = 0; i < metadata->broker_cnt; ++i) {
      controller_known = controller_known || metadata->brokers[i].id == controller;
    }
    rd_kafka_metadata_destroy(metadata);
    if (!controller_known) {
      admin_unsupported_ = true;
      logger_->info(
          "sink={} the cluster's metadata names no broker as controller: topics are "
          "left to its auto-creation",
          settings_.sink_name);
    }
    if (!settings_.exactly_once) return Status::Ok();
    EDDY_ASSIGN_OR_RETURN(offsets_handle_, EnsureTopic(settings_.offsets_topic, /*offsets=*/true));
    ErrorHolder init(rd_kafka_init_transactions(producer_, TimeoutMs(settings_.delivery_timeout)));
    if (init) {
      std::string what =
          "initializing transactional.id '" + settings_.transactional_id + "': " + init.text();
      if (IsAuthorizationError(rd_kafka_error_code(init.error))) {
        return PermissionDenied(what +
                                "; grant the principal Write and Describe on the "
                                "transactional id, or set exactly_once=false");
      }
      if (rd_kafka_error_is_fatal(init.error) ||
          rd_kafka_error_code(init.error) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
        return FailedPrecondition(what +
                                  "; the cluster does not support transactions: set "
                                  "exactly_once=false for at-least-once delivery");
      }
      return Unavailable(what + "; check that the brokers are up");
    }
    return Status::Ok();
  }

  // Every acknowledged batch's checkpoint is in its Kafka transaction, yet the runner's file
  // stays saved after each batch (the default): without that pause a sink under a steady
  // trickle of changes commits tiny transactions back to back, and librdkafka's main thread
  // (busy with each transaction's timers) took the CPU the capture needed: in `eddy run` at
  // 5,000 changes/s, commit-to-captured p50 went from 0.7 ms to 13-450 ms (kafka_latency.py,
  // load 8-9). A 4 ms pause after each transaction of fewer than 1,000 records instead of the
  // save did not do: commit-to-captured p50 9.5-376 ms against 2.7-10.5 ms with the save
  // (eight alternating runs each, load 7-11), although it paced the transactions alike
  // (about 100 a second). A backlog's batches need no pacing, and the save cost them 3-17 ms
  // each (of about 35 ms per batch of 10,000 on this machine): batches of kCommittedFromRecords
  // or more, which only a sink that is behind gathers, leave the file a hint.
  size_t CommitsCheckpointFromRecords() const override {
    return settings_.exactly_once ? kCommittedFromRecords : 0;
  }

  Result<std::optional<consume::Checkpoint>> ReadCheckpoint() override {
    if (!settings_.exactly_once) return std::optional<consume::Checkpoint>();
    EDDY_ASSIGN_OR_RETURN(rd_kafka_t * consumer, NewHandle(RD_KAFKA_CONSUMER));
    auto result = ReadCheckpointWith(consumer);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    if (result.ok() && *result) {
      std::lock_guard lock(mutex_);
      committed_ = **result;
    }
    return result;
  }

  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    std::lock_guard lock(mutex_);
    consume::DeliveryOutcome outcome;
    if (!fatal_.ok()) {
      outcome.failure = fatal_;
      return outcome;
    }
    auto deadline = SteadyClock::now() + settings_.delivery_timeout;
    // The transaction the helper began after the last commit (see BeginAhead): its outcome.
    std::optional<ErrorHolder> began_ahead = TakeBeginAhead();
    // Kafka records per log record, in order; records already committed by a transaction whose
    // commit was in doubt are not produced again.
    messages_.clear();
    record_of_message_.clear();
    // The batch's bytes go to librdkafka uncopied: an arena that records of an earlier batch
    // may still point into (its Deliver gave up waiting for their reports) is kept until
    // librdkafka holds no record at all.
    if (outstanding_ > 0) {
      retired_arenas_.push_back(std::move(arena_));
      arena_ = MessageArena();
      retired_arenas_.push_back(std::move(helper_half_.arena));
      helper_half_.arena = MessageArena();
    } else if (!retired_arenas_.empty() && rd_kafka_outq_len(producer_) == 0) {
      retired_arenas_.clear();
    }
    arena_.Clear();
    helper_half_.arena.Clear();
    std::vector<bool> skip(batch.records.size(), false);
    if (settings_.exactly_once) {
      if (Status resolved = ResolveInDoubt(deadline); !resolved.ok()) {
        outcome.failure = resolved;
        return outcome;
      }
      for (size_t i = 0; i < batch.records.size(); ++i) {
        const auto& record = batch.records[i];
        skip[i] = committed_in_doubt_.erase({record.shard_index, record.sequence.value()}) > 0;
      }
    }
    if (settings_.exactly_once) {
      ErrorHolder begin(began_ahead ? std::exchange(began_ahead->error, nullptr)
                                    : rd_kafka_begin_transaction(producer_));
      if (begin) {
        CheckFatal(begin.error);
        outcome.failure =
            fatal_.ok() ? Unavailable("beginning a transaction: " + begin.text()) : fatal_;
        return outcome;
      }
    }
    StartReports();
    if (settings_.exactly_once && !committed_.shards.empty()) {
      // The offsets partition joins the transaction with the batch's first partitions: a
      // record carrying the checkpoint already committed (what a reader resumes from if this
      // transaction never commits, so it changes nothing) goes first. Without it the
      // checkpoint's partition was registered on its own at the end (librdkafka's
      // AddPartitionsToTxn, scheduled 1 ms ahead and waited for by its main thread spinning:
      // two more registrations, about 1.5 ms of CPU and a round trip per transaction).
      // A sink that has committed nothing yet writes no such record (an empty checkpoint is
      // not "none": the runner would resume from the stream's start, not starting_position).
      std::string committed = consume::EncodeCheckpoint(committed_);
      if (Status marked = Produce(kMarkerIndex, deadline, &committed); !marked.ok()) {
        Abort(deadline);
        outcome.failure = fatal_.ok() ? marked : fatal_;
        return outcome;
      }
    }
    const size_t count = batch.records.size();
    // With a core to spare, a large batch's second half is mapped on the helper thread while
    // the lane maps and produces the first (mapping is most of Deliver's own CPU, and the lane
    // is the one thread every batch goes through); the lane then produces the helper's
    // records, in order. Not on two cores: librdkafka's broker thread, which frames, copies
    // and checksums every record, then got no core while the two mapped, and worked alone
    // while the lane waited for the acknowledgements (docs/benchmarks.md, "Kafka: where a
    // transaction's time goes").
    const size_t split = count >= kHelperMinRecords && spare_core_ ? count / 2 : count;
    HelperHalf& half = helper_half_;
    half.messages.clear();
    half.record_of_message.clear();
    half.status = Status::Ok();
    half.done = split;
    if (split < count) {
      if (helper_ == nullptr) helper_ = std::make_unique<HelperThread>("kafka-render");
      helper_->Run([this, &batch, &skip, split, count, &half] {
        half.done = MapRecords(batch, skip, split, count, &half.arena, &half.messages,
                               &half.record_of_message, &half.status);
      });
    }
    // Mapped and produced in chunks: librdkafka's broker thread sends a chunk's records while
    // the next chunk is rendered (mapping the whole batch first left the brokers idle for the
    // time the rendering took, then the lane idle while they caught up).
    Status produced = Status::Ok();
    size_t produced_records = 0;  // records [0, produced_records) have all their Kafka records out
    while (produced_records < split && produced.ok() &&
           first_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {  // a record failed: stop there
      const size_t end = std::min(split, produced_records + kProduceChunkRecords);
      const size_t first_message = messages_.size();
      size_t done = MapRecords(batch, skip, produced_records, end, &arena_, &messages_,
                               &record_of_message_, &produced);
      // The records mapped before a failure still go: an at-least-once batch acknowledges them.
      ProduceFrom(first_message, deadline, &produced, &done);
      produced_records = done;
      rd_kafka_poll(producer_, 0);  // delivery reports so far
    }
    if (split < count) {
      helper_->Wait();
      if (produced_records == split && produced.ok() &&
          first_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const size_t first_message = messages_.size();
        for (size_t k = 0; k < half.messages.size(); ++k) {
          messages_.push_back(std::move(half.messages[k]));
          record_of_message_.push_back(half.record_of_message[k]);
        }
        size_t done = half.done;
        produced = half.status;
        ProduceFrom(first_message, deadline, &produced, &done);
        produced_records = done;
      }
    }
    if (settings_.exactly_once) return FinishTransaction(batch, produced, deadline);
    return FinishIdempotent(batch, produced, produced_records, deadline);
  }

  Status Close() override {
    std::lock_guard lock(mutex_);
    if (producer_ == nullptr) return Status::Ok();
    Status result = Status::Ok();
    if (std::optional<ErrorHolder> began = TakeBeginAhead(); began && !*began) {
      // Nothing was produced in it: aborting it is local to the producer.
      ErrorHolder abort(
          rd_kafka_abort_transaction(producer_, TimeoutMs(settings_.delivery_timeout)));
    }
    if (settings_.exactly_once) {
      if (commit_in_doubt_) {
        ErrorHolder commit(
            rd_kafka_commit_transaction(producer_, TimeoutMs(settings_.delivery_timeout)));
        if (commit)
          result = Unavailable("the last transaction's commit is in doubt: " + commit.text());
      }
    } else if (rd_kafka_flush(producer_, TimeoutMs(settings_.delivery_timeout)) !=
               RD_KAFKA_RESP_ERR_NO_ERROR) {
      result = Unavailable(std::to_string(rd_kafka_outq_len(producer_)) +
                           " Kafka records were still unacknowledged at close");
    }
    DestroyProducer();
    return result;
  }

 private:
  void DestroyProducer() {
    if (producer_ == nullptr) return;
    for (auto& [name, handle] : topics_) rd_kafka_topic_destroy(handle);
    topics_.clear();
    offsets_handle_ = nullptr;
    rd_kafka_destroy(producer_);
    producer_ = nullptr;
  }

  Result<rd_kafka_t*> NewHandle(rd_kafka_type_t type) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& name, const std::string& value,
                   const std::string& setting) -> Status {
      if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
          RD_KAFKA_CONF_OK) {
        return InvalidArgument("kafka setting '" + setting + "' = \"" + value +
                               "\": librdkafka rejects it: " + error +
                               " (see librdkafka's CONFIGURATION.md)");
      }
      return Status::Ok();
    };
    std::vector<std::pair<std::string, std::string>> own = {
        {"bootstrap.servers", settings_.bootstrap_servers},
        {"client.id", "eddy-" + settings_.sink_name},
        {"log_level", "4"},
        // Requests are pipelined; with Nagle's algorithm a small one waits for the broker's
        // delayed ACK of the previous one.
        {"socket.nagle.disable", "true"},
    };
    if (type == RD_KAFKA_PRODUCER) {
      // The runner batches already, and Deliver produces a whole batch before it waits: a
      // linger only delays the batch's last records (librdkafka's default is 5 ms; 1 ms cost
      // about 1.4 ms per transaction against the mock cluster, 0 cost no throughput).
      own.emplace_back("linger.ms", "0");
    }
    if (type == RD_KAFKA_PRODUCER) {
      own.insert(own.end(),
                 {{"enable.idempotence", "true"},
                  {"acks", "all"},
                  {"partitioner", "murmur2_random"},
                  {"message.timeout.ms", std::to_string(settings_.delivery_timeout.count())}});
      if (settings_.exactly_once) {
        own.emplace_back("transactional.id", settings_.transactional_id);
        // librdkafka requires message.timeout.ms <= transaction.timeout.ms.
        own.emplace_back(
            "transaction.timeout.ms",
            std::to_string(std::max<int64_t>(60'000, 2 * settings_.delivery_timeout.count())));
      }
    } else {
      own.insert(own.end(), {{"group.id", "eddy-checkpoint-reader." + settings_.sink_name},
                             {"isolation.level", "read_committed"},
                             {"enable.partition.eof", "true"},
                             {"enable.auto.commit", "false"},
                             {"auto.offset.reset", "earliest"}});
    }
    for (const auto& [name, value] : own) {
      if (Status s = set(name, value, name); !s.ok()) {
        rd_kafka_conf_destroy(conf);
        return s;
      }
    }
    for (const auto& [name, value] : settings_.librdkafka) {
      if (type == RD_KAFKA_CONSUMER) {
        // The properties were checked on the producer; producer-only ones do not apply here.
        rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error));
        continue;
      }
      if (Status s = set(name, value, "kafka." + name); !s.ok()) {
        rd_kafka_conf_destroy(conf);
        return s;
      }
    }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_log_cb(conf, &KafkaDestination::OnLog);
    if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, &KafkaDestination::OnDelivery);
    rd_kafka_t* handle = rd_kafka_new(type, conf, error, sizeof(error));
    if (handle == nullptr) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument(std::string("the kafka settings do not make a librdkafka client: ") +
                             error + "; correct the kafka.* settings");
    }
    return handle;
  }

  static void OnLog(const rd_kafka_t* handle, int level, const char* facility, const char* text) {
    auto* self = static_cast<KafkaDestination*>(rd_kafka_opaque(handle));
    if (self == nullptr) return;
    if (level <= 3) {
      self->logger_->error("sink={} librdkafka {}: {}", self->settings_.sink_name, facility, text);
    } else {
      self->logger_->warn("sink={} librdkafka {}: {}", self->settings_.sink_name, facility, text);
    }
  }

  // Delivery reports arrive on the thread that polls or flushes: the Deliver thread, under
  // mutex_. Reports of an earlier batch (purged by an abort) carry an older generation.
  static void OnDelivery(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<KafkaDestination*>(opaque);
    auto tag = reinterpret_cast<uintptr_t>(message->_private);
    if ((tag >> 32) != (self->generation_ & 0xffffffffu)) return;
    size_t index = static_cast<size_t>(tag & 0xffffffffu);
    if (index == kMarkerIndex) {
      if (self->marker_outstanding_ && self->outstanding_ > 0) --self->outstanding_;
      self->marker_outstanding_ = false;
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
          self->first_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->first_error_ = message->err;
        self->first_error_topic_ = rd_kafka_topic_name(message->rkt);
      }
      return;
    }
    if (index >= self->reports_.size()) return;
    if (self->reports_[index] == 0 && self->outstanding_ > 0) --self->outstanding_;
    self->reports_[index] = message->err == RD_KAFKA_RESP_ERR_NO_ERROR ? 1 : 2;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
        self->first_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->first_error_ = message->err;
      self->first_error_topic_ = rd_kafka_topic_name(message->rkt);
      self->first_error_index_ = index;
    }
  }

  Status ProduceError(rd_kafka_resp_err_t err, const std::string& topic) const {
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {  // Produce and ProduceRun wait for room first
      return Unavailable("librdkafka's queue stayed full for delivery_timeout (" +
                         std::to_string(settings_.delivery_timeout.count()) +
                         " ms): the brokers do not keep up or are down");
    }
    std::string what = "producing to topic '" + topic + "': " + rd_kafka_err2str(err);
    if (IsUnknownTopic(err)) {
      return FailedPrecondition(what +
                                "; the topic does not exist and the cluster neither let "
                                "eddy create it nor auto-creates topics: create it, or "
                                "allow CreateTopics or auto.create.topics.enable");
    }
    if (IsAuthorizationError(err)) {
      return PermissionDenied(what + "; grant the principal Write on the topic");
    }
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE) {
      return FailedPrecondition(what +
                                "; raise the topic's max.message.bytes (and "
                                "kafka.message.max.bytes) or lower batch_bytes");
    }
    return Unavailable(what);
  }

  // Maps records [begin, end) (but those in `skip`) onto `messages`, their bytes in `arena`.
  // Returns the end of what was mapped: `end`, or the record that failed to map (`*status`
  // then says why; its Kafka records, if any were appended, are dropped). Runs on the lane or
  // the helper thread, each with its own arena and vectors.
  size_t MapRecords(const consume::SinkBatch& batch, const std::vector<bool>& skip, size_t begin,
                    size_t end, MessageArena* arena, std::vector<KafkaMessage>* messages,
                    std::vector<size_t>* record_of_message, Status* status) const {
    for (size_t i = begin; i < end; ++i) {
      if (skip[i]) continue;
      if (Status mapped = mapper_.Map(batch.records[i], arena, messages); !mapped.ok()) {
        // A record that does not decode (the runner reads only the header of a row change
        // this sink renders from its stored bytes): permanent, nothing after it delivered.
        *status = mapped.code() == ErrorCode::kCorruption
                      ? Status(ErrorCode::kCorruption,
                               mapped.message() +
                                   "; the log holds a record that does not decode: skip it "
                                   "with `eddy sink reset --name " +
                                   settings_.sink_name + " --to SEQUENCE` (the record after it)")
                      : mapped;
        messages->resize(record_of_message->size());
        return i;
      }
      record_of_message->resize(messages->size(), i);
    }
    return end;
  }

  // Produces messages_[first_message...]; on a failure sets `*status`, lowers `*done` to the
  // record whose Kafka record was not produced and drops the messages from there on.
  void ProduceFrom(size_t first_message, SteadyClock::time_point deadline, Status* status,
                   size_t* done) {
    size_t m = first_message;
    size_t since_clock = kProduceChunkRecords;  // records produced since create_time_ms_ was read
    while (m < messages_.size()) {
      // A run of records of one topic that go in one call (ProduceRun), up to a chunk.
      size_t end = m;
      while (end < messages_.size() && end - m < kProduceChunkRecords &&
             InOneCall(messages_[end]) && messages_[end].topic == messages_[m].topic) {
        ++end;
      }
      size_t failed = m;
      Status produced = Status::Ok();
      if (end > m) {
        produced = ProduceRun(m, end, deadline, &failed);
      } else {
        // The records' timestamp (CreateTime), read once per kProduceChunkRecords records,
        // not by librdkafka once per record.
        if (since_clock >= kProduceChunkRecords) {
          create_time_ms_ = NowMillis();
          since_clock = 0;
        }
        ++since_clock;
        produced = Produce(m, deadline);
        end = m + 1;
      }
      if (!produced.ok()) {
        *status = produced;
        *done = record_of_message_[failed];
        messages_.resize(failed);
        record_of_message_.resize(failed);
        return;
      }
      m = end;
    }
  }

  // Whether a record may go in a rd_kafka_produce_batch call: no headers (the call takes
  // none), and small enough that librdkafka cannot refuse it for its size. A call refuses
  // records for being too large one by one and produces the others, which would let records
  // after a refused one out; the only other refusals (a full queue, the producer's state)
  // reach every record of the call from the first one refused.
  bool InOneCall(const KafkaMessage& message) const {
    const size_t bytes = (message.key ? message.key->size() : 0) +
                         (message.value ? message.value->size() : 0);
    return message.headers.empty() && bytes <= one_call_max_bytes_;
  }

  // Produces messages_[begin, end) (InOneCall, one topic) in rd_kafka_produce_batch calls:
  // one call enqueues them all under one lock of the topic, without the per-record argument
  // list, topic reference and clock read of rd_kafka_producev (about a third of its cost).
  // Their timestamp is the call's time. On a failure sets `*failed` to the first record not
  // produced (those before it are).
  Status ProduceRun(size_t begin, size_t end, SteadyClock::time_point deadline, size_t* failed) {
    *failed = begin;
    const KafkaMessage& first = messages_[begin];
    if (last_handle_ == nullptr || first.topic != last_topic_) {
      EDDY_ASSIGN_OR_RETURN(last_handle_, EnsureTopic(first.topic, false));
      last_topic_ = first.topic;
    }
    if (reports_.size() < end) reports_.resize(end, 0);
    size_t next = begin;
    while (next < end) {
      call_.assign(end - next, rd_kafka_message_t{});
      for (size_t i = next; i < end; ++i) {
        const KafkaMessage& message = messages_[i];
        rd_kafka_message_t& out = call_[i - next];
        out.partition = RD_KAFKA_PARTITION_UA;
        if (message.value) {
          out.payload = const_cast<char*>(message.value->data());
          out.len = message.value->size();
        }
        if (message.key) {
          out.key = const_cast<char*>(message.key->data());
          out.key_len = message.key->size();
        }
        out._private = reinterpret_cast<void*>(((generation_ & 0xffffffffu) << 32) | i);
      }
      outstanding_ += call_.size();
      rd_kafka_produce_batch(last_handle_, RD_KAFKA_PARTITION_UA, 0, call_.data(),
                             static_cast<int>(call_.size()));
      size_t produced = 0;
      while (produced < call_.size() && call_[produced].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++produced;
      }
      if (produced == call_.size()) return Status::Ok();
      for (size_t k = produced; k < call_.size(); ++k) {
        if (call_[k].err != RD_KAFKA_RESP_ERR_NO_ERROR) --outstanding_;  // no report comes
      }
      const rd_kafka_resp_err_t err = call_[produced].err;
      next += produced;
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && SteadyClock::now() < deadline) {
        rd_kafka_poll(producer_, 10);  // serves delivery reports, which frees queue space
        continue;
      }
      *failed = next;
      return ProduceError(err, rd_kafka_topic_name(last_handle_));
    }
    return Status::Ok();
  }

  // Starts the delivery reports of a new batch: reports of an earlier one (purged by an
  // abort, or given up on) carry an older generation and are ignored.
  void StartReports() {
    ++generation_;
    reports_.clear();
    outstanding_ = 0;
    first_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
    first_error_topic_.clear();
    first_error_index_ = 0;
    marker_outstanding_ = false;
  }

  // Produces messages_[index] or, with `checkpoint`, a checkpoint record (index
  // messages_.size(), or kMarkerIndex for the committed checkpoint a transaction starts with).
  // Its report goes to reports_[index] (0 none, 1 ok, 2 failed); the marker's to
  // marker_outstanding_.
  Status Produce(size_t index, SteadyClock::time_point deadline,
                 const std::string* checkpoint = nullptr) {
    const bool is_checkpoint = checkpoint != nullptr;
    const bool is_marker = index == kMarkerIndex;
    const KafkaMessage* message = is_checkpoint ? nullptr : &messages_[index];
    rd_kafka_topic_t* topic = offsets_handle_;
    if (!is_checkpoint) {
      // Runs of one topic are the common case: the last handle is reused.
      if (last_handle_ == nullptr || message->topic != last_topic_) {
        EDDY_ASSIGN_OR_RETURN(last_handle_, EnsureTopic(message->topic, false));
        last_topic_ = message->topic;
      }
      topic = last_handle_;
    }
    if (is_marker) {
      marker_outstanding_ = true;
    } else if (reports_.size() <= index) {
      reports_.resize(index + 1, 0);
    }
    ++outstanding_;
    void* tag = reinterpret_cast<void*>(((generation_ & 0xffffffffu) << 32) | index);
    rd_kafka_headers_t* headers = nullptr;
    if (message != nullptr && !message->headers.empty()) {
      headers = rd_kafka_headers_new(message->headers.size());
      for (const auto& header : message->headers) {
        rd_kafka_header_add(headers, header.name.data(), static_cast<ssize_t>(header.name.size()),
                            header.value.data(), static_cast<ssize_t>(header.value.size()));
      }
    }
    std::optional<std::string_view> key =
        is_checkpoint ? std::optional<std::string_view>(settings_.sink_name) : message->key;
    // Record values are not copied: they live in arena_ until their delivery reports (see
    // Deliver). The checkpoint (and every key: librdkafka copies keys) is copied.
    std::optional<std::string_view> payload =
        is_checkpoint ? std::optional<std::string_view>(*checkpoint) : message->value;
    const int flags = is_checkpoint ? RD_KAFKA_MSG_F_COPY : 0;
    void* payload_data = payload ? const_cast<char*>(payload->data()) : nullptr;
    size_t payload_size = payload ? payload->size() : 0;
    int32_t partition = is_checkpoint ? 0 : RD_KAFKA_PARTITION_UA;
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(flags),
          RD_KAFKA_V_KEY((key ? key->data() : nullptr), (key ? key->size() : 0)),
          RD_KAFKA_V_VALUE(payload_data, payload_size), RD_KAFKA_V_HEADERS(headers),
          RD_KAFKA_V_TIMESTAMP(is_checkpoint ? 0 : create_time_ms_), RD_KAFKA_V_OPAQUE(tag),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && SteadyClock::now() < deadline) {
        rd_kafka_poll(producer_, 10);  // serves delivery reports, which frees queue space
        continue;
      }
      --outstanding_;  // not produced: no report comes
      if (is_marker) marker_outstanding_ = false;
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      return ProduceError(err, rd_kafka_topic_name(topic));
    }
  }

  // Waits until every produced record is acknowledged or the deadline passes. Polls for the
  // delivery reports instead of rd_kafka_flush: librdkafka 2.0.2's flush takes about 44 ms
  // however fast the brokers acknowledge (measured against the mock cluster: 0.1-5 ms per
  // acknowledgement), which would be most of each batch's latency.
  Status WaitForReports(SteadyClock::time_point deadline) {
    while (outstanding_ > 0 && SteadyClock::now() < deadline) {
      rd_kafka_poll(producer_, std::min(RemainingMs(deadline), 10));
    }
    if (first_error_ != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return ProduceError(first_error_, first_error_topic_);
    }
    if (outstanding_ > 0) {
      return Unavailable("the brokers did not acknowledge " + std::to_string(outstanding_) +
                         " Kafka records within " +
                         std::to_string(settings_.delivery_timeout.count()) +
                         " ms (delivery_timeout): a broker is down or unreachable");
    }
    return Status::Ok();
  }

  // At least once: records [0, produced_records) were produced (`produced` says why the rest
  // were not); acknowledged are the records before the first one with a Kafka record the
  // brokers did not acknowledge.
  consume::DeliveryOutcome FinishIdempotent(const consume::SinkBatch& batch, Status produced,
                                            size_t produced_records,
                                            SteadyClock::time_point deadline) {
    consume::DeliveryOutcome outcome;
    Status waited = WaitForReports(deadline);
    if (produced.ok() && waited.ok()) {
      outcome.acknowledged = batch.records.size();
      return outcome;
    }
    size_t acknowledged = produced_records;
    for (size_t i = 0; i < messages_.size(); ++i) {
      if (reports_[i] != 1) {
        acknowledged = std::min(acknowledged, record_of_message_[i]);
        break;
      }
    }
    outcome.acknowledged = acknowledged;
    // The failure of the first record not acknowledged.
    outcome.failure = acknowledged < produced_records || produced.ok() ? waited : produced;
    return outcome;
  }

  // Begins the next transaction on the helper thread, after a commit that succeeded: librdkafka
  // begins it on its main thread and waits for it (about 1 ms per batch on two busy cores), and
  // this way the wait overlaps what the runner does between two batches. Beginning is local to
  // the producer (the brokers hear of the transaction with its first record), so a transaction
  // begun ahead and idle has no timeout running. The next Deliver (or Close) takes the outcome
  // first thing (TakeBeginAhead), before any other call into the producer's transaction API,
  // so those calls never run concurrently. Not on a one-core machine (no helper thread).
  void BeginAhead() {
    if (!two_cores_) return;
    if (helper_ == nullptr) helper_ = std::make_unique<HelperThread>("kafka-render");
    begun_ahead_ = nullptr;
    helper_->Run([this] { begun_ahead_ = rd_kafka_begin_transaction(producer_); });
    begin_ahead_pending_ = true;
  }
  // The outcome of BeginAhead's begin (no error: a transaction is open), or nullopt when none
  // was begun ahead.
  std::optional<ErrorHolder> TakeBeginAhead() {
    if (!begin_ahead_pending_) return std::nullopt;
    helper_->Wait();
    begin_ahead_pending_ = false;
    return std::optional<ErrorHolder>(std::in_place, std::exchange(begun_ahead_, nullptr));
  }

  // Aborts the open transaction; an abort that cannot finish now is finished before the next.
  void Abort(SteadyClock::time_point deadline) {
    ErrorHolder abort(rd_kafka_abort_transaction(producer_, RemainingMs(deadline)));
    abort_pending_ = static_cast<bool>(abort);
    if (abort) CheckFatal(abort.error);
  }

  void CheckFatal(rd_kafka_error_t* error) {
    if (error == nullptr || !rd_kafka_error_is_fatal(error)) return;
    char text[512];
    rd_kafka_resp_err_t code = rd_kafka_fatal_error(producer_, text, sizeof(text));
    if (code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
        code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH || code == RD_KAFKA_RESP_ERR__FENCED) {
      fatal_ = FailedPrecondition(
          "another producer with transactional.id '" + settings_.transactional_id +
          "' took over (a second eddy writing this sink?): this one is fenced (" + text +
          "); stop the other writer, then restart eddy");
    } else {
      fatal_ = FailedPrecondition(std::string("the transactional producer failed fatally: ") +
                                  (code ? text : rd_kafka_error_string(error)) +
                                  "; restart eddy (it resumes from the last committed batch)");
    }
  }

  // Finishes what a failed earlier batch left: an abort, or a commit whose outcome is unknown.
  Status ResolveInDoubt(SteadyClock::time_point deadline) {
    if (abort_pending_) {
      Abort(deadline);
      if (!fatal_.ok()) return fatal_;
      if (abort_pending_) return Unavailable("aborting the previous transaction has not finished");
    }
    if (!commit_in_doubt_) return Status::Ok();
    ErrorHolder commit(rd_kafka_commit_transaction(producer_, RemainingMs(deadline)));
    if (!commit) {
      committed_ = in_doubt_checkpoint_;
      committed_in_doubt_ = std::move(in_doubt_records_);
      in_doubt_records_.clear();
      commit_in_doubt_ = false;
      return Status::Ok();
    }
    CheckFatal(commit.error);
    if (!fatal_.ok()) return fatal_;
    if (rd_kafka_error_is_retriable(commit.error)) {
      return Unavailable("committing the previous batch's transaction: " + commit.text());
    }
    // Not committed: abort it; the retried batch is produced afresh.
    commit_in_doubt_ = false;
    in_doubt_records_.clear();
    Abort(deadline);
    if (!fatal_.ok()) return fatal_;
    return abort_pending_ ? Unavailable("aborting the previous transaction: " + commit.text())
                          : Status::Ok();
  }

  // Exactly once: the batch's records were produced in the open transaction (`produced` says
  // why not all); the checkpoint record follows once the brokers acknowledged every one of them
  // (it never sits in a partition without them, even where reads are not isolated, as in the
  // mock cluster: a reader would otherwise resume past records a crash kept from the brokers;
  // one more round trip per transaction), then the commit.
  consume::DeliveryOutcome FinishTransaction(const consume::SinkBatch& batch, Status produced,
                                             SteadyClock::time_point deadline) {
    consume::DeliveryOutcome outcome;
    consume::Checkpoint next = consume::LaterCheckpoint(committed_, batch.checkpoint_after);
    if (produced.ok()) produced = WaitForReports(deadline);
    if (produced.ok()) {
      std::string checkpoint = consume::EncodeCheckpoint(next);
      produced = Produce(messages_.size(), deadline, &checkpoint);
      if (produced.ok()) produced = WaitForReports(deadline);
    }
    if (!produced.ok()) {
      Abort(deadline);
      outcome.failure = fatal_.ok() ? produced : fatal_;
      return outcome;
    }
    ErrorHolder commit(rd_kafka_commit_transaction(producer_, RemainingMs(deadline)));
    if (!commit) {
      committed_ = std::move(next);
      outcome.acknowledged = batch.records.size();
      BeginAhead();
      return outcome;
    }
    CheckFatal(commit.error);
    if (!fatal_.ok()) {
      outcome.failure = fatal_;
      return outcome;
    }
    if (rd_kafka_error_txn_requires_abort(commit.error)) {
      Abort(deadline);
    } else {
      // Timed out or otherwise retriable: it may still commit. The next batch settles it.
      commit_in_doubt_ = true;
      in_doubt_checkpoint_ = std::move(next);
      for (const auto& record : batch.records) {
        in_doubt_records_.insert({record.shard_index, record.sequence.value()});
      }
    }
    outcome.failure = Unavailable("committing the transaction: " + commit.text());
    return outcome;
  }

  // Makes sure `topic` exists: created through the admin API with the configured partitions
  // and replication where the cluster allows, else left to the cluster's auto-creation (asked
  // for by a metadata request); a topic that exists after neither is a permanent error.
  // Returns the topic's handle (owned by topics_, kept until the producer is destroyed).
  Result<rd_kafka_topic_t*> EnsureTopic(std::string_view topic_name, bool offsets) {
    if (auto known = topics_.find(topic_name); known != topics_.end()) return known->second;
    const std::string topic(topic_name);
    std::string create_error;
    if (!admin_unsupported_) {
      char error[512];
      int partitions = offsets ? 1 : settings_.partitions.value_or(-1);
      int replication = settings_.replication_factor.value_or(-1);
      rd_kafka_NewTopic_t* new_topic =
          rd_kafka_NewTopic_new(topic.c_str(), partitions, replication, error, sizeof(error));
      if (new_topic == nullptr) return InvalidArgument("topic '" + topic + "': " + error);
      if (offsets) rd_kafka_NewTopic_set_config(new_topic, "cleanup.policy", "compact");
      rd_kafka_AdminOptions_t* options =
          rd_kafka_AdminOptions_new(producer_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
      // A cluster that cannot create topics through the admin API (no controller in its
      // metadata, as librdkafka's mock cluster) would hold every first write for the whole
      // delivery_timeout: the answer is awaited for at most kAdminTimeout.
      int admin_timeout = std::min(TimeoutMs(settings_.delivery_timeout), kAdminTimeoutMs);
      rd_kafka_AdminOptions_set_request_timeout(options, admin_timeout, error, sizeof(error));
      rd_kafka_queue_t* queue = rd_kafka_queue_new(producer_);
      rd_kafka_CreateTopics(producer_, &new_topic, 1, options, queue);
      rd_kafka_event_t* event = rd_kafka_queue_poll(queue, admin_timeout + 1000);
      rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
      if (event != nullptr) {
        err = rd_kafka_event_error(event);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          create_error = rd_kafka_event_error_string(event);
        } else if (const auto* result = rd_kafka_event_CreateTopics_result(event)) {
          size_t count = 0;
          const rd_kafka_topic_result_t** topics =
              rd_kafka_CreateTopics_result_topics(result, &count);
          if (count > 0) {
            err = rd_kafka_topic_result_error(topics[0]);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
                rd_kafka_topic_result_error_string(topics[0])) {
              create_error = rd_kafka_topic_result_error_string(topics[0]);
            }
          }
        }
        rd_kafka_event_destroy(event);
      } else {
        create_error = "no answer";
      }
      rd_kafka_queue_destroy(queue);
      rd_kafka_AdminOptions_destroy(options);
      rd_kafka_NewTopic_destroy(new_topic);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        logger_->info("sink={} created topic={} partitions={} replication_factor={}",
                      settings_.sink_name, topic, partitions, replication);
      } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        create_error.clear();
      } else {
        if (create_error.empty()) create_error = rd_kafka_err2str(err);
        if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
            err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
            err == RD_KAFKA_RESP_ERR__TRANSPORT) {
          admin_unsupported_ = true;
          logger_->info(
              "sink={} the cluster does not create topics through the admin API ({}); "
              "relying on its auto-creation",
              settings_.sink_name, create_error);
        }
      }
    }
    // Metadata for the topic: confirms it, or asks the cluster to auto-create it.
    rd_kafka_topic_t* handle = rd_kafka_topic_new(producer_, topic.c_str(), nullptr);
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    auto deadline = SteadyClock::now() + settings_.delivery_timeout;
    bool answered = false;
    for (int attempt = 0; attempt < 10 && SteadyClock::now() < deadline; ++attempt) {
      const rd_kafka_metadata_t* metadata = nullptr;
      rd_kafka_resp_err_t err =
          rd_kafka_metadata(producer_, 0, handle, &metadata, RemainingMs(deadline));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        topic_err = err;
        continue;
      }
      answered = true;
      topic_err = metadata->topic_cnt > 0 ? metadata->topics[0].err
                                          : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      bool has_partitions = metadata->topic_cnt > 0 && metadata->topics[0].partition_cnt > 0;
      rd_kafka_metadata_destroy(metadata);
      if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR && has_partitions) break;
      if (IsAuthorizationError(topic_err)) break;
      rd_kafka_poll(producer_, 50);  // a topic being created: ask again shortly
    }
    if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      topics_.emplace(topic, handle);
      return handle;
    }
    rd_kafka_topic_destroy(handle);
    if (!answered) {
      return Unavailable("looking up topic '" + topic + "': " + rd_kafka_err2str(topic_err) +
                         "; the brokers at " + settings_.bootstrap_servers + " do not answer");
    }
    if (IsAuthorizationError(topic_err)) {
      return PermissionDenied("topic '" + topic + "': " + rd_kafka_err2str(topic_err) +
                              "; grant the principal Describe and Write on it");
    }
    return FailedPrecondition(
        "topic '" + topic + "' does not exist and cannot be created (CreateTopics: " +
        (create_error.empty() ? std::string("not tried") : create_error) +
        "; the cluster does not auto-create it: " + rd_kafka_err2str(topic_err) +
        "); create the topic, or let eddy's principal create topics");
  }

  Result<std::optional<consume::Checkpoint>> ReadCheckpointWith(rd_kafka_t* consumer) {
    const std::string& topic = settings_.offsets_topic;
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        consumer, topic.c_str(), 0, &low, &high, TimeoutMs(settings_.delivery_timeout));
    if (IsUnknownTopic(err)) return std::optional<consume::Checkpoint>();
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Unavailable("reading the sink's checkpoint from topic '" + topic +
                         "': " + rd_kafka_err2str(err));
    }
    if (high <= low) return std::optional<consume::Checkpoint>();
    // Every record of the offsets topic is this sink's checkpoint (one key, one writer); the
    // last committed one is near the end. Read the tail first, the whole log if the tail holds
    // none (a run of aborted transactions).
    for (int64_t window : {int64_t{256}, high - low}) {
      int64_t start = std::max(low, high - window);
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(list, topic.c_str(), 0)->offset = start;
      err = rd_kafka_assign(consumer, list);
      rd_kafka_topic_partition_list_destroy(list);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Unavailable("reading topic '" + topic + "': " + rd_kafka_err2str(err));
      }
      std::optional<std::string> last;
      auto deadline = SteadyClock::now() + settings_.delivery_timeout;
      while (true) {
        if (SteadyClock::now() >= deadline) {
          return Unavailable("reading the sink's checkpoint from topic '" + topic +
                             "' did not reach its end within delivery_timeout");
        }
        rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
        if (message == nullptr) continue;
        rd_kafka_resp_err_t message_err = message->err;
        if (message_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          std::string_view key(static_cast<const char*>(message->key), message->key_len);
          if (key == settings_.sink_name && message->payload != nullptr) {
            last.emplace(static_cast<const char*>(message->payload), message->len);
          }
        }
        std::string text = message_err ? rd_kafka_message_errstr(message) : "";
        rd_kafka_message_destroy(message);
        if (message_err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
        if (message_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          return Unavailable("reading the sink's checkpoint from topic '" + topic + "': " + text);
        }
      }
      if (last) {
        auto decoded = consume::DecodeCheckpoint(*last);
        if (!decoded.ok()) {
          return Corruption("the checkpoint in topic '" + topic + "' does not decode (" +
                            decoded.status().message() +
                            "); the topic holds records eddy did not write: use another "
                            "offsets_topic, or delete the topic to start from starting_position");
        }
        logger_->info("sink={} resumes from the checkpoint committed in topic={}",
                      settings_.sink_name, topic);
        return std::optional<consume::Checkpoint>(std::move(*decoded));
      }
      if (start == low) break;
    }
    return std::optional<consume::Checkpoint>();
  }

  const KafkaSettings settings_;
  const RecordMapper mapper_;
  const std::optional<consume::BatchingOverride> batching_;
  std::shared_ptr<logging::Logger> logger_;
  rd_kafka_t* producer_ = nullptr;

  std::mutex mutex_;  // serializes Deliver (one transaction at a time) and guards what follows
  // Handles of the topics known to exist, by name; destroyed with the producer.
  std::map<std::string, rd_kafka_topic_t*, std::less<>> topics_;
  rd_kafka_topic_t* offsets_handle_ = nullptr;  // in topics_
  bool admin_unsupported_ = false;
  Status fatal_ = Status::Ok();
  consume::Checkpoint committed_;  // the last checkpoint committed to the offsets topic
  bool abort_pending_ = false;
  bool commit_in_doubt_ = false;
  consume::Checkpoint in_doubt_checkpoint_;
  std::set<std::pair<uint32_t, uint64_t>> in_doubt_records_;
  // Records of a batch whose in-doubt commit turned out committed, not yet seen again.
  std::set<std::pair<uint32_t, uint64_t>> committed_in_doubt_;
  // The batch being delivered.
  std::vector<KafkaMessage> messages_;
  MessageArena arena_;                        // the bytes of messages_
  std::vector<MessageArena> retired_arenas_;  // of batches with records librdkafka may hold
  std::vector<size_t> record_of_message_;
  // What the helper thread mapped of the batch being delivered (records [split, done)).
  struct HelperHalf {
    MessageArena arena;  // retired with arena_
    std::vector<KafkaMessage> messages;
    std::vector<size_t> record_of_message;
    Status status = Status::Ok();
    size_t done = 0;
  };
  HelperHalf helper_half_;
  std::unique_ptr<HelperThread> helper_;  // started by the first large batch or BeginAhead
  // A transaction begun ahead on helper_ (BeginAhead); its error, set by the helper's task and
  // read after helper_->Wait().
  bool begin_ahead_pending_ = false;
  rd_kafka_error_t* begun_ahead_ = nullptr;
  const bool two_cores_ = std::thread::hardware_concurrency() > 1;
  // Whether a large batch is rendered on two threads (render_threads; auto: where there is a
  // core for the helper's half besides the lane's and librdkafka's broker thread's).
  const bool spare_core_ =
      settings_.render_threads == RenderThreads::kTwo ||
      (settings_.render_threads == RenderThreads::kAuto && std::thread::hardware_concurrency() > 2);
  // The topic of the last message produced (a view into the mapper) and its handle.
  std::string_view last_topic_;
  rd_kafka_topic_t* last_handle_ = nullptr;
  std::vector<uint8_t> reports_;
  size_t outstanding_ = 0;  // entries of reports_ still 0
  uint64_t generation_ = 0;
  rd_kafka_resp_err_t first_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string first_error_topic_;
  size_t first_error_index_ = 0;
  bool marker_outstanding_ = false;  // the transaction's first record is not yet reported
  int64_t create_time_ms_ = 0;       // the timestamp ProduceFrom gives records (0: librdkafka's)
  std::vector<rd_kafka_message_t> call_;  // ProduceRun's records of one rd_kafka_produce_batch
  // The largest key and value (together) InOneCall lets into a rd_kafka_produce_batch call:
  // well below librdkafka's message.max.bytes, the sink's or the user's.
  const size_t one_call_max_bytes_ = OneCallMaxBytes(settings_);
};

}  // namespace

Result<std::unique_ptr<consume::Destination>> MakeKafkaDestination(const consume::SinkSpec& spec) {
  EDDY_ASSIGN_OR_RETURN(KafkaSettings settings, ParseKafkaSettings(spec));
  EDDY_ASSIGN_OR_RETURN(RecordMapper mapper, RecordMapper::Make(settings));
  // Each batch is one Kafka transaction (three round trips to the brokers and a commit), so a
  // sink whose batch_size is not set gets the largest batch the runner allows instead of its
  // default of 100. The runner's max_batching_window (0 by default) still decides when a batch
  // goes: batches grow only while records wait for the one in flight, so latency is unchanged.
  // batch_bytes and the window are the user's, parsed by the runner's one parser (an error
  // there is the engine's to report).
  std::optional<consume::BatchingOverride> batching;
  if (spec.settings.count("batch_size") == 0) {
    if (auto runner = consume::ParseSinkSettings(spec); runner.ok()) {
      batching = consume::BatchingOverride{consume::kMaxBatchSize, runner->batch_bytes,
                                           runner->max_batching_window};
    }
  }
  return std::unique_ptr<consume::Destination>(
      new KafkaDestination(std::move(settings), std::move(mapper), batching));
}

}  // namespace eddy::sink::kafka

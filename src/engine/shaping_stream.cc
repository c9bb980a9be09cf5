#include "engine/shaping_stream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>

#include "base/logging.h"
#include "base/thread_name.h"
#include "model/event_codec.h"

namespace eddy::engine {
namespace {

constexpr size_t kMarker = std::numeric_limits<size_t>::max();  // output not from an input

// One record on its way to the log: a shaped event (or a BEGIN/END marker) and the input
// record it came from.
struct Outgoing {
  model::ChangeEvent event;
  SourcePosition position;
  size_t input_index = kMarker;
};

// The source transactions that get BEGIN/END framing.
bool IsFramed(const model::ChangeEvent& event) {
  switch (event.op) {
    case model::Operation::kInsert:
    case model::Operation::kUpdate:
    case model::Operation::kDelete:
    case model::Operation::kTruncate: return true;
    default: return false;
  }
}

// The transaction being framed: its id, counts so far, and the envelope of its last change
// (the END record's position, times and source).
struct TransactionState {
  bool open = false;
  std::string id;
  model::TransactionSummary summary;
  SourcePosition last_position;
  int64_t last_commit_ns = 0;
  int64_t last_capture_ns = 0;
  model::SourceInfo last_source;
};

model::ChangeEvent Marker(model::Operation op, const std::string& id, const SourcePosition& position,
                          int64_t commit_ns, int64_t capture_ns, model::SourceInfo source) {
  model::ChangeEvent marker;
  marker.op = op;
  marker.transaction_id = id;
  marker.position = position;
  marker.commit_time_ns = commit_ns;
  marker.capture_time_ns = capture_ns;
  source.mysql_row = 0;
  source.query.clear();
  marker.source = std::move(source);
  return marker;
}

void CloseTransaction(TransactionState& state, std::vector<Outgoing>& out) {
  if (!state.open) return;
  Outgoing end;
  end.event = Marker(model::Operation::kTransactionEnd, state.id, state.last_position,
                     state.last_commit_ns, state.last_capture_ns, state.last_source);
  end.event.transaction_summary = std::move(state.summary);
  end.position = state.last_position;
  out.push_back(std::move(end));
  state = TransactionState{};
}

// Moves `events` to `out`, opening and closing transactions around runs of framed changes and
// setting their transaction blocks. Leaves the last transaction open.
void FrameTransactions(std::vector<Outgoing>& events, TransactionState& state,
                       std::vector<Outgoing>& out) {
  for (Outgoing& item : events) {
    model::ChangeEvent& event = item.event;
    if (IsFramed(event)) {
      if (state.open && state.id != event.transaction_id) CloseTransaction(state, out);
      if (!state.open) {
        Outgoing begin;
        begin.event = Marker(model::Operation::kTransactionBegin, event.transaction_id,
                             event.position, event.commit_time_ns, event.capture_time_ns,
                             event.source);
        begin.position = event.position;
        out.push_back(std::move(begin));
        state.open = true;
        state.id = event.transaction_id;
      }
      std::string collection = event.table.QualifiedName();
      model::TransactionSummary::Collection* counts = nullptr;
      for (auto& candidate : state.summary.data_collections) {
        if (candidate.name == collection) {
          counts = &candidate;
          break;
        }
      }
      if (counts == nullptr) {
        state.summary.data_collections.push_back({std::move(collection), 0});
        counts = &state.summary.data_collections.back();
      }
      ++counts->event_count;
      ++state.summary.event_count;
      event.transaction_order =
          model::TransactionOrder{state.summary.event_count, counts->event_count};
      state.last_position = event.position;
      state.last_commit_ns = event.commit_time_ns;
      state.last_capture_ns = event.capture_time_ns;
      state.last_source = event.source;
    }
    // Other records (snapshot reads, messages, schema changes) pass without touching the
    // framing: a transactional message stays inside its transaction.
    out.push_back(std::move(item));
  }
  events.clear();
}

std::vector<log::AppendRecord> Encode(std::vector<Outgoing>& items) {
  std::vector<log::AppendRecord> records;
  records.reserve(items.size());
  for (Outgoing& item : items) {
    log::AppendRecord record;
    record.partition_key = item.event.PartitionKey();
    record.payload = model::EncodeEvent(item.event);
    record.position = std::move(item.position);
    records.push_back(std::move(record));
  }
  return records;
}

class ShapingStreamImpl final : public ShapingStream {
 public:
  ShapingStreamImpl(std::shared_ptr<log::Stream> inner, ShapingStreamOptions options)
      : inner_(std::move(inner)), options_(std::move(options)) {
    last_source_.connector = options_.connector;
    last_source_.server_name = options_.server_name;
    last_append_nanos_ = options_.clock->NowNanos();
  }

  const std::string& name() const override { return inner_->name(); }
  log::StreamInfo Describe() override { return inner_->Describe(); }
  Result<log::ShardInfo> DescribeShard(uint32_t shard_index) override {
    return inner_->DescribeShard(shard_index);
  }

  bool decodes() const { return options_.shaper.has_value() || options_.transaction_metadata; }

  Result<log::AppendResult> AppendTransaction(std::vector<log::AppendRecord> records,
                                              SourcePosition end_position) override {
    Touch();
    if (!decodes()) {
      auto result = inner_->AppendTransaction(std::move(records), std::move(end_position));
      Touch();
      return result;
    }
    EDDY_ASSIGN_OR_RETURN(std::vector<Outgoing> shaped, Shape(records));
    if (options_.transaction_metadata) {
      TransactionState state;
      std::vector<Outgoing> framed;
      framed.reserve(shaped.size() + 2);
      FrameTransactions(shaped, state, framed);
      CloseTransaction(state, framed);
      shaped = std::move(framed);
    }
    std::vector<size_t> origin;
    origin.reserve(shaped.size());
    for (const Outgoing& item : shaped) origin.push_back(item.input_index);
    EDDY_ASSIGN_OR_RETURN(log::AppendResult result,
                          inner_->AppendTransaction(Encode(shaped), std::move(end_position)));
    Touch();
    if (result.duplicate) return result;
    // Report one entry per input record, as the contract says; filtered records point at
    // nothing (shard 0, sequence 0), and BEGIN/END records are not reported.
    std::vector<log::AppendedRecord> per_input(records.size());
    for (size_t j = 0; j < origin.size() && j < result.records.size(); ++j) {
      if (origin[j] != kMarker) per_input[origin[j]] = result.records[j];
    }
    result.records = std::move(per_input);
    return result;
  }

  Result<std::unique_ptr<log::TransactionAppender>> BeginTransaction() override;

  // Decodes and shapes `records` (change events), remembering each one's input index.
  Result<std::vector<Outgoing>> Shape(std::vector<log::AppendRecord>& records) {
    std::vector<Outgoing> shaped;
    shaped.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      auto event = model::DecodeEvent(records[i].payload);
      if (!event.ok()) {
        return Internal("stream '" + inner_->name() + "' shapes change events, and record " +
                        std::to_string(i) + " is not one: " + event.status().message());
      }
      if (i + 1 == records.size()) RememberSource(event->source);
      Outgoing item;
      if (options_.shaper) {
        std::optional<model::ChangeEvent> result = options_.shaper->Apply(*event);
        if (!result) continue;  // table excluded
        item.event = std::move(*result);
      } else {
        item.event = std::move(*event);
      }
      item.position = std::move(records[i].position);
      item.input_index = i;
      shaped.push_back(std::move(item));
    }
    return shaped;
  }

  Result<bool> AppendHeartbeatIfIdle(int64_t interval_nanos) override {
    int64_t now = options_.clock->NowNanos();
    if (open_appenders_.load() > 0) return false;
    if (now - last_append_nanos_.load() < interval_nanos) return false;
    model::ChangeEvent heartbeat;
    heartbeat.op = model::Operation::kHeartbeat;
    heartbeat.position = inner_->HighestDurablePosition();
    heartbeat.commit_time_ns = now;
    heartbeat.capture_time_ns = now;
    {
      std::lock_guard lock(source_mutex_);
      heartbeat.source.connector = last_source_.connector;
      heartbeat.source.server_name = last_source_.server_name;
    }
    if (heartbeat.source.connector == model::ConnectorKind::kUnknown) {
      if (heartbeat.position.postgres()) heartbeat.source.connector = model::ConnectorKind::kPostgres;
      if (heartbeat.position.mysql()) heartbeat.source.connector = model::ConnectorKind::kMysql;
    }
    std::vector<log::AppendRecord> records(1);
    records[0].partition_key = heartbeat.PartitionKey();
    records[0].payload = model::EncodeEvent(heartbeat);
    records[0].position = heartbeat.position;
    // No end position: a heartbeat must never count as the capture's progress.
    EDDY_ASSIGN_OR_RETURN(log::AppendResult result,
                          inner_->AppendTransaction(std::move(records), SourcePosition()));
    (void)result;
    last_append_nanos_.store(options_.clock->NowNanos());
    return true;
  }

  Result<log::AppendedRecord> Append(log::AppendRecord) override {
    return FailedPrecondition("stream '" + inner_->name() +
                              "' is a CDC stream; plain appends are not accepted");
  }
  Result<std::vector<log::AppendedRecord>> AppendRecords(std::vector<log::AppendRecord>) override {
    return FailedPrecondition("stream '" + inner_->name() +
                              "' is a CDC stream; plain appends are not accepted");
  }
  SourcePosition HighestDurablePosition() override { return inner_->HighestDurablePosition(); }
  uint64_t CommitNumber() override { return inner_->CommitNumber(); }
  Status WaitForCommit(uint64_t seen, std::chrono::steady_clock::time_point deadline) override {
    return inner_->WaitForCommit(seen, deadline);
  }
  Result<std::unique_ptr<log::ShardReader>> OpenReader(uint32_t shard_index,
                                                       log::StartPosition start) override {
    return inner_->OpenReader(shard_index, start);
  }
  Result<std::vector<uint32_t>> SplitShard(uint32_t shard_index, log::HashKey key) override {
    return inner_->SplitShard(shard_index, key);
  }
  Result<uint32_t> MergeShards(uint32_t shard_index, uint32_t adjacent_shard_index) override {
    return inner_->MergeShards(shard_index, adjacent_shard_index);
  }
  Status UpdateOptions(int64_t retention_nanos, uint64_t retention_bytes,
                       std::map<std::string, std::string> tags) override {
    return inner_->UpdateOptions(retention_nanos, retention_bytes, std::move(tags));
  }
  Result<size_t> EnforceRetention(const log::RetentionHolds& holds) override {
    return inner_->EnforceRetention(holds);
  }
  using Stream::EnforceRetention;

  void Touch() { last_append_nanos_.store(options_.clock->NowNanos()); }
  const ShapingStreamOptions& options() const { return options_; }
  std::atomic<int>& open_appenders() { return open_appenders_; }

 private:
  void RememberSource(const model::SourceInfo& source) {
    std::lock_guard lock(source_mutex_);
    last_source_.connector = source.connector;
    last_source_.server_name = source.server_name;
  }

  std::shared_ptr<log::Stream> inner_;
  ShapingStreamOptions options_;
  std::atomic<int64_t> last_append_nanos_{0};
  std::atomic<int> open_appenders_{0};
  std::mutex source_mutex_;
  model::SourceInfo last_source_;  // guarded by source_mutex_
};

// Shapes (and frames) each part before handing it to the wrapped stream's appender, so a
// transaction appended in parts is stored exactly like one given to AppendTransaction.
class ShapingTransactionAppender final : public log::TransactionAppender {
 public:
  ShapingTransactionAppender(ShapingStreamImpl* stream,
                             std::unique_ptr<log::TransactionAppender> inner)
      : stream_(stream), inner_(std::move(inner)) {
    ++stream_->open_appenders();
  }
  ~ShapingTransactionAppender() override { Finish(); }

  Status Append(std::vector<log::AppendRecord> records) override {
    stream_->Touch();
    if (!stream_->decodes()) return inner_->Append(std::move(records));
    EDDY_ASSIGN_OR_RETURN(std::vector<Outgoing> shaped, stream_->Shape(records));
    if (stream_->options().transaction_metadata) {
      std::vector<Outgoing> framed;
      framed.reserve(shaped.size() + 2);
      FrameTransactions(shaped, state_, framed);
      shaped = std::move(framed);
    }
    if (shaped.empty()) return Status::Ok();
    return inner_->Append(Encode(shaped));
  }
  Result<log::TransactionCommitResult> Commit(SourcePosition end_position) override {
    if (state_.open) {
      std::vector<Outgoing> end;
      CloseTransaction(state_, end);
      EDDY_RETURN_IF_ERROR(inner_->Append(Encode(end)));
    }
    auto result = inner_->Commit(std::move(end_position));
    stream_->Touch();
    Finish();
    return result;
  }
  Status Abort() override {
    state_ = TransactionState{};
    Status status = inner_->Abort();
    Finish();
    return status;
  }

 private:
  void Finish() {
    if (finished_) return;
    finished_ = true;
    --stream_->open_appenders();
  }

  ShapingStreamImpl* stream_;  // outlives the appender: the caller holds the stream
  std::unique_ptr<log::TransactionAppender> inner_;
  TransactionState state_;
  bool finished_ = false;
};

Result<std::unique_ptr<log::TransactionAppender>> ShapingStreamImpl::BeginTransaction() {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<log::TransactionAppender> inner,
                        inner_->BeginTransaction());
  return std::unique_ptr<log::TransactionAppender>(
      std::make_unique<ShapingTransactionAppender>(this, std::move(inner)));
}

}  // namespace

std::shared_ptr<ShapingStream> MakeShapingStream(std::shared_ptr<log::Stream> inner,
                                                 ShapingStreamOptions options) {
  return std::make_shared<ShapingStreamImpl>(std::move(inner), std::move(options));
}

Heartbeater::Heartbeater(std::vector<Entry> entries) : entries_(std::move(entries)) {
  if (!entries_.empty()) {
    thread_ = std::thread([this] {
      NameCurrentThread("shaping");
      Loop();
    });
  }
}

Heartbeater::~Heartbeater() { Stop(); }

void Heartbeater::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Heartbeater::Loop() {
  int64_t shortest = entries_.front().interval_nanos;
  for (const Entry& entry : entries_) shortest = std::min(shortest, entry.interval_nanos);
  auto period = std::chrono::nanoseconds(
      std::clamp<int64_t>(shortest / 4, 25'000'000, 1'000'000'000));
  auto logger = logging::Get("engine");
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (stop_changed_.wait_for(lock, period, [this] { return stopping_; })) break;
    lock.unlock();
    for (const Entry& entry : entries_) {
      auto appended = entry.stream->AppendHeartbeatIfIdle(entry.interval_nanos);
      if (!appended.ok()) {
        logger->warn("stream={} heartbeat: {}", entry.stream->name(), appended.status().ToString());
      } else if (*appended) {
        heartbeats_.fetch_add(1);
      }
    }
    lock.lock();
  }
}

std::shared_ptr<ShapingStream> MakeShapingStream(std::shared_ptr<log::Stream> inner,
                                                 format::Shaper shaper) {
  ShapingStreamOptions options;
  options.shaper = std::move(shaper);
  return MakeShapingStream(std::move(inner), std::move(options));
}

namespace {

class ShapingSchemaRegistry final : public model::SchemaRegistry {
 public:
  ShapingSchemaRegistry(std::shared_ptr<model::SchemaRegistry> inner, format::Shaper shaper)
      : inner_(std::move(inner)), shaper_(std::move(shaper)) {}

  Result<uint32_t> AssignVersion(const model::TableSchema& schema) override {
    model::ChangeEvent event;
    event.op = model::Operation::kSchemaChange;
    event.table = schema.table;
    event.schema_change.emplace();
    event.schema_change->kind = model::SchemaChangeKind::kAlterTable;
    event.schema_change->table_schema = schema;
    std::optional<model::ChangeEvent> shaped = shaper_.Apply(event);
    if (!shaped || !shaped->schema_change || !shaped->schema_change->table_schema) return 0u;
    return inner_->AssignVersion(*shaped->schema_change->table_schema);
  }
  Result<std::shared_ptr<const model::TableSchema>> Find(const model::TableId& table,
                                                         uint32_t version) override {
    return inner_->Find(table, version);
  }
  std::shared_ptr<const model::TableSchema> Latest(const model::TableId& table) override {
    return inner_->Latest(table);
  }

 private:
  const std::shared_ptr<model::SchemaRegistry> inner_;
  const format::Shaper shaper_;
};

}  // namespace

std::shared_ptr<model::SchemaRegistry> MakeShapingSchemaRegistry(
    std::shared_ptr<model::SchemaRegistry> inner, format::Shaper shaper) {
  return std::make_shared<ShapingSchemaRegistry>(std::move(inner), std::move(shaper));
}

}  // namespace eddy::engine

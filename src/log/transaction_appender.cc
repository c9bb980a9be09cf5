// TransactionAppender: a transaction appended in parts. The appender keeps the transaction's
// state (the per-shard writes, the numbering); the stream writes the parts and commits them
// through the one commit path (StreamImpl::CommitWrites, stream_commit.cc).
//
// Parts are written beyond the committed ends of the active segments (rolling private segments
// when a segment fills), keeping only per-shard write state: the summary of the segment being
// written (bounded by the segment size), summaries of segments rolled away during the
// transaction (one index entry per index_interval_bytes), and a small encode buffer. Nothing is
// published until Commit; Abort and failures truncate everything back (RollbackWrites).
#include "log/stream_state.h"

namespace eddy::log::internal {
namespace {

class TransactionAppenderImpl final : public TransactionAppender {
 public:
  TransactionAppenderImpl(std::shared_ptr<StreamImpl> stream, SequenceNumber last_sequence)
      : stream_(std::move(stream)), sequence_(last_sequence) {}
  ~TransactionAppenderImpl() override {
    if (state_ == State::kOpen) Abort().IgnoreError();
  }

  Status Append(std::vector<AppendRecord> records) override { return Write(records, true); }

  Status AppendReusing(std::vector<AppendRecord>* records) override {
    return Write(*records, false);
  }

  Result<TransactionCommitResult> Commit(SourcePosition end_position) override {
    EDDY_RETURN_IF_ERROR(CheckOpen());
    auto result = stream_->CommitPart(writes_, sequence_, first_sequence_, record_count_,
                                      std::move(end_position));
    if (!result.ok()) {
      Finish(State::kFailed, result.status());
      return result.status();
    }
    Finish(State::kCommitted, Status::Ok());
    return result;
  }

  Status Abort() override {
    if (state_ == State::kAborted) return Status::Ok();
    EDDY_RETURN_IF_ERROR(CheckOpen());
    Status status = stream_->AbortPart(writes_);
    Finish(status.ok() ? State::kAborted : State::kFailed, status);
    return status;
  }

 private:
  enum class State : uint8_t { kOpen, kCommitted, kAborted, kFailed };

  Status Write(std::vector<AppendRecord>& records, bool release_payloads) {
    EDDY_RETURN_IF_ERROR(CheckOpen());
    Status status = stream_->WritePart(writes_, records, &sequence_, &first_sequence_,
                                       &record_count_, release_payloads);
    if (!status.ok()) Finish(State::kFailed, status);
    return status;
  }

  Status CheckOpen() const {
    switch (state_) {
      case State::kOpen:
        return Status::Ok();
      case State::kCommitted:
        return FailedPrecondition("the transaction was already committed");
      case State::kAborted:
        return FailedPrecondition("the transaction was aborted");
      case State::kFailed:
        return error_;
    }
    return Internal("appender state");
  }
  // The stream has handed the append path back by now.
  void Finish(State state, Status error) {
    state_ = state;
    error_ = std::move(error);
    writes_.clear();
  }

  std::shared_ptr<StreamImpl> stream_;
  ShardWrites writes_;
  SequenceNumber sequence_;        // last sequence number given out
  SequenceNumber first_sequence_;  // 0 until the first record
  uint64_t record_count_ = 0;
  State state_ = State::kOpen;
  Status error_;
};

}  // namespace

std::unique_ptr<TransactionAppender> NewTransactionAppender(std::shared_ptr<StreamImpl> stream,
                                                            SequenceNumber last_sequence) {
  return std::make_unique<TransactionAppenderImpl>(std::move(stream), last_sequence);
}

Result<std::unique_ptr<TransactionAppender>> StreamImpl::BeginTransaction() {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  EDDY_RETURN_IF_ERROR(CheckNotAppenderThread());
  std::unique_lock write_lock(write_mu_);
  appender_cv_.wait(write_lock, [&] { return !appender_open_; });
  EDDY_RETURN_IF_ERROR(CheckWritable());  // poisoned or deleted while waiting
  appender_open_ = true;
  appender_thread_.store(std::this_thread::get_id());
  return NewTransactionAppender(shared_from_this(), last_sequence_);
}

void StreamImpl::ReleaseAppendPath() {
  // Called with write_mu_ held, by the thread that will unlock it right after.
  appender_open_ = false;
  appender_thread_.store(std::thread::id());
  appender_cv_.notify_all();
}

Status StreamImpl::WritePart(ShardWrites& writes, std::vector<AppendRecord>& records,
                             SequenceNumber* sequence, SequenceNumber* first_sequence,
                             uint64_t* record_count, bool release_payloads) {
  appender_thread_.store(std::this_thread::get_id());  // the driving thread
  std::lock_guard write_lock(write_mu_);
  Status status = [&]() -> Status {
    EDDY_RETURN_IF_ERROR(CheckWritable());
    {
      std::lock_guard lock(mu_);
      EDDY_RETURN_IF_ERROR(ValidateLocked(records, true));
    }
    std::vector<Shard*> open_shards;
    EncodeOptions how;
    how.chunk = true;
    how.release_payload = release_payloads;  // the part's memory goes as it is encoded
    OpenShards(&open_shards, &how.max_record_bytes);
    const int64_t now = context_->clock->NowNanos();
    const uint64_t segment_bytes = context_->options.segment_bytes;
    for (AppendRecord& input : records) {
      EDDY_ASSIGN_OR_RETURN(Shard * target, RouteToOpenShard(open_shards, input));
      auto it = writes.find(target->meta.index);
      // Only this appender writes while it is open, so the committed state is stable.
      if (it == writes.end())
        it = writes.emplace(target->meta.index, StartShardWrite(target)).first;
      ShardWrite& write = it->second;
      // Roll at record boundaries, so segments stay near segment_bytes however large the part.
      if (write.summary.bytes >= segment_bytes) {
        EDDY_RETURN_IF_ERROR(FlushWrite(write));
        EDDY_RETURN_IF_ERROR(RollWrite(write, Next(*sequence)));
      }
      how.arrival = std::max(now, write.last_arrival);
      EDDY_RETURN_IF_ERROR(EncodeRecord(write, input, how, sequence, [&]() -> Status {
        if (first_sequence->value() == 0) *first_sequence = *sequence;
        ++*record_count;
        if (write.buffer.size() >= kPartFlushBytes) return FlushWrite(write);
        return Status::Ok();
      }));
    }
    for (auto& [index, write] : writes) EDDY_RETURN_IF_ERROR(FlushWrite(write));
    return Status::Ok();
  }();
  if (status.ok()) return status;
  // After an error the appender is aborted: the stream is as before BeginTransaction.
  Status undo = RollbackWrites(writes);
  ReleaseAppendPath();
  return undo.ok() ? status : undo;
}

Status StreamImpl::RollWrite(ShardWrite& write, SequenceNumber base) {
  io::FileSystem* fs = context_->fs;
  // The full segment's bytes are flushed in the background while the next segment fills (in
  // line, a 64 MiB fsync stalled the appender 150-250 ms per roll); the commit waits for it
  // before its own fsyncs, so the commit record still covers only durable bytes. A crash before
  // the commit drops them either way: recovery truncates to the last commit record and removes
  // segments above the committed one. A failed fsync poisons when it is waited for, as
  // everywhere: the page cache can no longer be trusted.
  ShardWrite::RolledSync& sync = write.syncing.emplace_back();
  sync.owned = std::move(write.writer);  // null on the first roll: the shard's own writer
  sync.file = sync.owned ? sync.owned.get() : write.shard->writer.get();
  // Its pages leave the page cache once durable: a transaction that fills whole segments
  // (a snapshot, a bulk load) would otherwise fill memory with pages written once, and on a
  // virtual machine each fresh page the cache takes costs a fault in the host (about 15 us per
  // 4 KiB here): a 10,000,000-row snapshot took 18.8 s with them and 5.9 s without
  // (docs/benchmarks.md). Readers of the committed transaction read these segments from disk.
  sync.done = SyncPool::SyncInBackground(*sync.file, /*drop_cached_pages=*/true);
  auto segment = std::make_shared<Segment>();
  segment->base = base;
  segment->path = io::JoinPath(write.shard->dir, SegmentFileName(base));
  segment->summary.bytes = kSegmentHeaderBytes;
  write.rolled.push_back(segment);  // before the file exists: a rollback removes it either way
  // Written past the page cache until its Sync (the roll away from it, or the commit): on
  // this machine that took a 2.9 GB snapshot's write from 1.2 s of kernel CPU to about 0.3 s.
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(segment->path, io::OpenMode::kCreateUncached));
  EDDY_RETURN_IF_ERROR(file->Append(EncodeSegmentHeader(write.shard->meta.index.value())));
  // The new file (its header) and its directory entry become durable at the commit, with the
  // rest of the transaction (CommitWrites: the file as the shard's current one, then the
  // directory): fsyncing them here waited ~100 ms for the full segment's background flush
  // (one filesystem journal). Until the commit, nothing refers to the file; a crash may or may
  // not leave it, and recovery removes segments above the committed one either way.
  if (write.rolled.size() == 1) {
    write.first_sealed = std::move(write.summary);
  } else {
    write.rolled[write.rolled.size() - 2]->summary = std::move(write.summary);
  }
  write.summary = segment->summary;
  write.writer = std::move(file);
  return Status::Ok();
}

Status StreamImpl::WaitForRolledSyncs(ShardWrite& write) {
  Status first;
  for (ShardWrite::RolledSync& sync : write.syncing) {
    Status status = sync.done.get();
    if (!status.ok() && first.ok()) {
      first = Poison(status.WithContext("fsync of " + sync.file->path()));
    }
  }
  write.syncing.clear();
  return first;
}

Result<TransactionCommitResult> StreamImpl::CommitPart(ShardWrites& writes,
                                                       SequenceNumber last_sequence,
                                                       SequenceNumber first_sequence,
                                                       uint64_t record_count, SourcePosition end) {
  std::lock_guard write_lock(write_mu_);
  // Whatever happens below, the append path is free again when this returns.
  struct Release {
    StreamImpl* stream;
    ~Release() { stream->ReleaseAppendPath(); }
  } release{this};
  auto discard_then = [&](Status cause) -> Status {
    Status undo = RollbackWrites(writes);
    return undo.ok() ? cause : undo;
  };
  Status writable = CheckWritable();
  if (!writable.ok()) return discard_then(std::move(writable));
  SourcePosition high;
  {
    std::lock_guard lock(mu_);
    high = highest_;
  }
  auto admission = AdmitByPosition(end, high);
  if (!admission.ok()) return discard_then(admission.status());
  TransactionCommitResult result;
  if (*admission == Admission::kDuplicate) {
    EDDY_RETURN_IF_ERROR(RollbackWrites(writes));
    result.duplicate = true;
    return result;
  }
  const SourcePosition& position = end.empty() ? high : end;
  EDDY_RETURN_IF_ERROR(CommitWrites(writes, last_sequence, position));
  result.record_count = record_count;
  if (record_count > 0) {
    result.first_sequence = first_sequence;
    result.last_sequence = last_sequence;
  }
  return result;
}

Status StreamImpl::AbortPart(ShardWrites& writes) {
  std::lock_guard write_lock(write_mu_);
  Status status = RollbackWrites(writes);
  ReleaseAppendPath();
  return status;
}

}  // namespace eddy::log::internal

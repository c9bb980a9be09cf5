// StreamImpl: the one commit path. Both ways of appending end in CommitWrites:
// - AppendTransaction/Append/AppendRecords queue a request; one caller at a time becomes the
//   group-commit leader and commits every queued request as one batch (WriteBatch);
// - a TransactionAppender writes parts ahead and commits them (transaction_appender.cc).
// Both admit by the same exactly-once rule (AdmitByPosition), encode frames the same way
// (EncodeRecord), fsync the touched shard files through the store's bounded SyncPool, write
// one commit record, and roll back or publish the same way.
#include <algorithm>

#include "log/chunking.h"
#include "log/log_metrics.h"
#include "log/stream_state.h"

namespace eddy::log::internal {

Result<AppendResult> StreamImpl::AppendTransaction(std::vector<AppendRecord> records,
                                                   SourcePosition end_position) {
  return Submit(std::move(records), std::move(end_position), true);
}

Result<AppendResult> StreamImpl::AppendTransactionReusing(std::vector<AppendRecord>* records,
                                                          SourcePosition end_position) {
  std::vector<AppendRecord> taken = std::move(*records);
  records->clear();
  return Submit(std::move(taken), std::move(end_position), true, records);
}

Result<AppendedRecord> StreamImpl::Append(AppendRecord record) {
  std::vector<AppendRecord> records;
  records.push_back(std::move(record));
  EDDY_ASSIGN_OR_RETURN(AppendResult result, Submit(std::move(records), SourcePosition(), false));
  return result.records.front();
}

Result<std::vector<AppendedRecord>> StreamImpl::AppendRecords(std::vector<AppendRecord> records) {
  EDDY_ASSIGN_OR_RETURN(AppendResult result, Submit(std::move(records), SourcePosition(), false));
  return std::move(result.records);
}

Result<AppendResult> StreamImpl::Submit(std::vector<AppendRecord> records, SourcePosition end,
                                        bool chunk, std::vector<AppendRecord>* spent) {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  EDDY_RETURN_IF_ERROR(CheckNotAppenderThread());
  {
    std::lock_guard lock(mu_);
    EDDY_RETURN_IF_ERROR(ValidateLocked(records, chunk));
  }
  Request request;
  request.records = std::move(records);
  request.end_position = std::move(end);
  request.chunk = chunk;
  std::unique_lock lock(queue_mu_);
  queue_.push_back(&request);
  while (!request.done) {
    if (!leader_active_) {
      // Become the leader: commit everything queued so far as one batch.
      leader_active_ = true;
      std::vector<Request*> batch(queue_.begin(), queue_.end());
      queue_.clear();
      lock.unlock();
      ProcessBatch(batch);
      lock.lock();
      leader_active_ = false;
      for (Request* done : batch) done->done = true;
      queue_cv_.notify_all();
    } else {
      queue_cv_.wait(lock);
    }
  }
  if (spent != nullptr) *spent = std::move(request.records);
  if (!request.status.ok()) return request.status;
  return std::move(request.result);
}

void StreamImpl::ProcessBatch(std::vector<Request*>& batch) {
  std::unique_lock write_lock(write_mu_);
  appender_cv_.wait(write_lock, [&] { return !appender_open_; });
  Status status = WriteBatch(batch);
  if (!status.ok()) {
    for (Request* request : batch) {
      if (request->status.ok()) request->status = status;
    }
  }
}

void StreamImpl::OpenShards(std::vector<Shard*>* open_shards, uint32_t* max_record_bytes) {
  std::lock_guard lock(mu_);
  *max_record_bytes = meta_.options.max_record_bytes;
  for (auto& [index, shard] : shards_) {
    if (shard->meta.open) open_shards->push_back(shard.get());
  }
}

ShardWrite StreamImpl::StartShardWrite(Shard* shard) {
  std::lock_guard lock(mu_);
  ShardWrite write;
  write.shard = shard;
  write.start = shard->segments.back()->summary.bytes;
  write.summary = shard->segments.back()->summary;
  write.last_sequence = shard->last_sequence;
  write.last_arrival = shard->last_arrival;
  return write;
}

Status StreamImpl::EncodeRecord(ShardWrite& write, AppendRecord& input, const EncodeOptions& how,
                                SequenceNumber* sequence,
                                const std::function<Status()>& after_frame) {
  const uint32_t interval = context_->options.index_interval_bytes;
  const SourcePosition* position = input.position.empty() ? nullptr : &input.position;
  auto encode = [&](RecordKind kind, std::string_view payload) -> Status {
    FrameFields frame{(*sequence = Next(*sequence)), how.arrival, kind,
                      input.partition_key,           position,    payload};
    const uint64_t offset = write.summary.bytes;
    const size_t before = write.buffer.size();
    EncodeFrame(frame, write.buffer);
    AddToSummary(write.summary, frame, offset, write.buffer.size() - before, interval);
    write.last_sequence = *sequence;
    write.last_arrival = how.arrival;
    return after_frame ? after_frame() : Status::Ok();
  };
  if (!how.chunk || input.partition_key.size() + input.payload.size() <= how.max_record_bytes) {
    Status status = encode(RecordKind::kData, input.payload);  // no copy before the frame
    if (how.release_payload) std::string().swap(input.payload);
    return status;
  }
  std::vector<ChunkPiece> pieces =
      SplitPayload(input.partition_key, input.payload, how.max_record_bytes);
  if (how.release_payload) std::string().swap(input.payload);
  for (const ChunkPiece& piece : pieces) EDDY_RETURN_IF_ERROR(encode(piece.kind, piece.payload));
  return Status::Ok();
}

Status StreamImpl::FlushWrite(ShardWrite& write) {
  if (write.buffer.empty()) return Status::Ok();
  EDDY_RETURN_IF_ERROR(write.Writer().Append(write.buffer));
  write.written_bytes += write.buffer.size();
  if (write.buffer.capacity() > 4 * kPartFlushBytes) {
    std::string().swap(write.buffer);  // after a chunked 10 MiB record
  } else {
    write.buffer.clear();
  }
  return Status::Ok();
}

Status StreamImpl::WriteBatch(std::vector<Request*>& batch) {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  const int64_t now = context_->clock->NowNanos();

  // 1. Exactly once by source position, in queue order.
  SourcePosition high;
  {
    std::lock_guard lock(mu_);
    high = highest_;
  }
  std::vector<Request*> live;
  for (Request* request : batch) {
    auto admission = AdmitByPosition(request->end_position, high);
    if (!admission.ok()) {
      request->status = admission.status();
      continue;
    }
    if (*admission == Admission::kDuplicate) {
      request->result.duplicate = true;
      continue;
    }
    if (!request->end_position.empty()) high = request->end_position;
    live.push_back(request);
  }
  if (live.empty()) return Status::Ok();

  // 2. Route to shards.
  std::vector<Shard*> open_shards;
  uint32_t max_record_bytes = 0;
  OpenShards(&open_shards, &max_record_bytes);
  struct Routed {
    Request* request;
    size_t record;
    Shard* shard;
  };
  std::vector<Routed> routed;
  std::map<ShardIndex, Shard*> touched;
  for (Request* request : live) {
    for (size_t i = 0; i < request->records.size(); ++i) {
      EDDY_ASSIGN_OR_RETURN(Shard * target, RouteToOpenShard(open_shards, request->records[i]));
      routed.push_back({request, i, target});
      touched[target->meta.index] = target;
    }
  }

  // 3. Roll full segments before numbering, so new segments are named below their records.
  SequenceNumber sequence = last_sequence_;
  for (auto& [index, shard] : touched) {
    if (shard->segments.back()->summary.bytes >= context_->options.segment_bytes) {
      EDDY_RETURN_IF_ERROR(RollSegment(*shard, Next(sequence)));
    }
  }

  // 4. Number and encode. Buffers are sized up front: growing a multi-megabyte buffer by
  // doubling copies it again and again.
  ShardWrites writes;
  std::map<ShardIndex, size_t> reserve;
  for (auto& [index, shard] : touched) writes.emplace(index, StartShardWrite(shard));
  for (const auto& [request, record, shard] : routed) {
    const AppendRecord& input = request->records[record];
    reserve[shard->meta.index] += input.partition_key.size() + input.payload.size() + 64;
  }
  for (auto& [index, write] : writes) write.buffer.reserve(reserve[index]);
  for (auto& [request, record, shard] : routed) {
    ShardWrite& write = writes.at(shard->meta.index);
    EncodeOptions how;
    how.chunk = request->chunk;
    how.max_record_bytes = max_record_bytes;
    how.arrival = std::max(now, write.last_arrival);
    const SequenceNumber first_sequence = Next(sequence);
    EDDY_RETURN_IF_ERROR(EncodeRecord(write, request->records[record], how, &sequence, nullptr));
    request->result.records.push_back(AppendedRecord{shard->meta.index.value(), first_sequence});
  }

  // 5. Write, fsync, commit, publish. A batch of only empty transactions (a source that moves
  // its position without changes, e.g. a snapshot of an empty table) touches no shard and
  // only writes the commit record.
  return CommitWrites(writes, sequence, high);
}

Status StreamImpl::CommitWrites(ShardWrites& writes, SequenceNumber last_sequence,
                                const SourcePosition& position) {
  const auto started = std::chrono::steady_clock::now();  // eddy_log_commit_duration_seconds
  // 1. Every encoded byte is written; a failed or short write is truncated away and the stream
  // keeps working (e.g. a full disk).
  for (auto& [index, write] : writes) {
    Status status = FlushWrite(write);
    if (!status.ok()) {
      Status undo = RollbackWrites(writes);
      return undo.ok() ? status : undo;
    }
  }

  // 2. Every touched shard file is durable: segments rolled away were flushing since they
  // were rolled (waited for here; a failure has poisoned), the files written last are flushed
  // now.
  for (auto& [index, write] : writes) EDDY_RETURN_IF_ERROR(WaitForRolledSyncs(write));
  // The files are flushed in parallel, at most max_parallel_syncs at once: a commit spanning
  // N shards waits for about N / max_parallel_syncs flushes, not N in a row.
  if (!writes.empty()) {
    std::vector<io::File*> files;
    files.reserve(writes.size());
    for (auto& [index, write] : writes) files.push_back(&write.Writer());
    std::vector<Status> results = context_->sync_pool->SyncAll(files);
    for (size_t i = 0; i < results.size(); ++i) {
      // A failed fsync poisons: the page cache state is unknown, so nothing is rolled back.
      if (!results[i].ok()) return Poison(results[i].WithContext("fsync of " + files[i]->path()));
    }
    // Segments a TransactionAppender rolled are named in their shard's directory durably
    // before the commit record refers to them (RollWrite leaves this to the commit).
    for (auto& [index, write] : writes) {
      if (write.rolled.empty()) continue;
      Status synced = context_->fs->SyncDirectory(write.shard->dir);
      if (!synced.ok()) return Poison(synced.WithContext("fsync of " + write.shard->dir));
    }
  }

  // 3. One commit record makes every write visible at once, durable before we return.
  std::map<ShardIndex, ShardCommitEnd> ends;
  for (auto& [index, write] : writes) {
    ShardCommitEnd& end = ends[index];
    end.segment_base =
        write.rolled.empty() ? write.shard->segments.back()->base : write.rolled.back()->base;
    end.end_offset = write.summary.bytes;
    end.last_sequence = write.last_sequence;
    end.last_arrival = write.last_arrival;
  }
  CommitRecord commit = BuildCommit(last_sequence, position, ends);
  Status status = WriteCommit(commit);
  if (!status.ok()) {
    {
      std::lock_guard lock(mu_);
      if (!poisoned_.ok()) return status;
    }
    // The commit did not happen: the shard bytes must go, or a later commit would cover them.
    Status undo = RollbackWrites(writes);
    return undo.ok() ? status : undo;
  }

  // 4. Publish.
  uint64_t written_bytes = 0;
  for (const auto& [index, write] : writes) written_bytes += write.written_bytes;
  RecordLogCommit(name_, last_sequence.value() - last_sequence_.value(), written_bytes, started);
  std::vector<std::shared_ptr<Segment>> sealed;  // rolled away: their index files are due
  {
    std::lock_guard lock(mu_);
    for (auto& [index, write] : writes) {
      Shard& shard = *write.shard;
      if (write.rolled.empty()) {
        shard.segments.back()->summary = std::move(write.summary);
      } else {
        std::shared_ptr<Segment> old = shard.segments.back();
        old->summary = std::move(*write.first_sealed);
        old->sealed = true;
        sealed.push_back(old);
        for (size_t i = 0; i + 1 < write.rolled.size(); ++i) {
          write.rolled[i]->sealed = true;
          sealed.push_back(write.rolled[i]);
        }
        write.rolled.back()->summary = std::move(write.summary);
        for (auto& segment : write.rolled) shard.segments.push_back(segment);
        shard.writer = std::move(write.writer);
      }
      shard.last_sequence = write.last_sequence;
      shard.last_arrival = write.last_arrival;
    }
    last_sequence_ = last_sequence;
    commit_number_ = commit.commit_number;
    highest_ = position;
  }
  cv_.notify_all();
  for (const auto& segment : sealed) WriteIndexFile(*context_->fs, segment->path, segment->summary);
  // Active segments that grew far enough past their index get it rewritten (the writer owns
  // their summaries under write_mu_, so no copy is needed): an open after a crash then scans only
  // the frames committed since.
  if (const uint64_t stride = context_->options.active_index_bytes; stride > 0) {
    for (auto& [index, write] : writes) {
      Segment& active = *write.shard->segments.back();
      if (active.summary.bytes >= active.indexed_bytes + stride) {
        WriteIndexFile(*context_->fs, active.path, active.summary);
        active.indexed_bytes = active.summary.bytes;
      }
    }
  }
  return Status::Ok();
}

Status StreamImpl::RollbackWrites(ShardWrites& writes) {
  io::FileSystem* fs = context_->fs;
  for (auto& [index, write] : writes) {
    // Background flushes first: they must not run into a truncate or a removed file. A failed
    // one has poisoned the stream; the rollback goes on (the truncation is still due).
    WaitForRolledSyncs(write).IgnoreError();
    write.writer.reset();
    Status status = write.shard->writer->Truncate(write.start);
    for (const auto& segment : write.rolled) {
      if (!status.ok()) break;
      Status removed = fs->Remove(segment->path);
      if (!removed.ok() && removed.code() != ErrorCode::kNotFound) status = removed;
    }
    if (status.ok() && !write.rolled.empty()) status = fs->SyncDirectory(write.shard->dir);
    if (!status.ok()) return Poison(status.WithContext("rolling back uncommitted writes"));
    if (!write.rolled.empty()) {
      Logger()->info("discarded transaction removed segments stream={} shard={} count={}", name_,
                     FormatShardId(index), write.rolled.size());
    }
  }
  return Status::Ok();
}

Status StreamImpl::RollSegment(Shard& shard, SequenceNumber base) {
  io::FileSystem* fs = context_->fs;
  std::string path = io::JoinPath(shard.dir, SegmentFileName(base));
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(path, io::OpenMode::kCreateOrTruncate));
  EDDY_RETURN_IF_ERROR(file->Append(EncodeSegmentHeader(shard.meta.index.value())));
  EDDY_RETURN_IF_ERROR(file->Sync());
  EDDY_RETURN_IF_ERROR(fs->SyncDirectory(shard.dir));
  auto segment = std::make_shared<Segment>();
  segment->base = base;
  segment->path = path;
  segment->summary.bytes = kSegmentHeaderBytes;
  std::shared_ptr<Segment> old = shard.segments.back();
  {
    std::lock_guard lock(mu_);
    old->sealed = true;
    shard.segments.push_back(segment);
  }
  shard.writer = std::move(file);
  WriteIndexFile(*fs, old->path, old->summary);
  return Status::Ok();
}

CommitRecord StreamImpl::BuildCommit(SequenceNumber last_sequence, const SourcePosition& position,
                                     const std::map<ShardIndex, ShardCommitEnd>& ends) const {
  // Called with write_mu_ held; reads shard state that only the writer changes.
  CommitRecord record;
  record.commit_number = commit_number_ + 1;
  record.meta_version = meta_.meta_version;
  record.last_sequence = last_sequence;
  record.commit_nanos = context_->clock->NowNanos();
  record.position = position;
  for (const auto& [index, shard] : shards_) {
    if (shard->segments.empty()) continue;
    ShardCommit commit;
    commit.shard_index = index;
    commit.segment_base = shard->segments.back()->base;
    commit.end_offset = shard->segments.back()->summary.bytes;
    commit.last_sequence = shard->last_sequence;
    commit.last_arrival = shard->last_arrival;
    if (auto it = ends.find(index); it != ends.end()) {
      commit.segment_base = it->second.segment_base;
      commit.end_offset = it->second.end_offset;
      commit.last_sequence = it->second.last_sequence;
      commit.last_arrival = it->second.last_arrival;
    }
    record.shards.push_back(commit);
  }
  return record;
}

Status StreamImpl::WriteCommit(const CommitRecord& record) {
  io::FileSystem* fs = context_->fs;
  std::string frame;
  EncodeCommitFrame(record, frame);
  if (journal_size_ + frame.size() > context_->options.commit_journal_bytes) {
    // Start a new journal whose first record is this one (every record is complete).
    uint64_t generation = journal_generation_ + 1;
    std::string path = io::JoinPath(dir_, JournalFileName(generation));
    EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(path, io::OpenMode::kCreateOrTruncate));
    std::string bytes(kJournalMagic, sizeof kJournalMagic);
    bytes += frame;
    Status status = file->Append(bytes);
    if (status.ok()) status = file->Sync();
    if (status.ok()) status = fs->SyncDirectory(dir_);
    if (!status.ok()) {
      fs->Remove(path).IgnoreError();  // the old journal still holds the last commit
      return status;
    }
    fs->Remove(io::JoinPath(dir_, JournalFileName(journal_generation_))).IgnoreError();
    journal_ = std::move(file);
    journal_generation_ = generation;
    journal_size_ = bytes.size();
    return Status::Ok();
  }
  Status status = journal_->Append(frame);
  if (!status.ok()) {
    Status undo = journal_->Truncate(journal_size_);
    if (!undo.ok()) return Poison(undo.WithContext("rolling back a failed commit write"));
    return status;
  }
  status = TimedSync(*journal_);
  if (!status.ok()) return Poison(status.WithContext("fsync of the commit journal"));
  journal_size_ += frame.size();
  return Status::Ok();
}

Status StreamImpl::CommitLayoutChange() {
  EDDY_RETURN_IF_ERROR(WriteCommit(BuildCommit(last_sequence_, highest_, {})));
  {
    std::lock_guard lock(mu_);
    ++commit_number_;
  }
  cv_.notify_all();
  return Status::Ok();
}

}  // namespace eddy::log::internal

#include "source/snapshot_records.h"

#include <memory>
#include <utility>

namespace eddy::source {

SnapshotRowEncoding::SnapshotRowEncoding(const model::TableId& table,
                                         const std::vector<std::string>& column_names,
                                         std::vector<size_t> key_columns)
    : key_columns_(std::move(key_columns)) {
  model::AppendPartitionKeyTable(table, table_key_);
  for (const std::string& name : column_names) {
    model::AppendFieldName(name, names_.emplace_back());
  }
  key_index_.assign(column_names.size(), -1);
  for (size_t k = 0; k < key_columns_.size(); ++k) {
    if (key_columns_[k] < key_index_.size()) key_index_[key_columns_[k]] = static_cast<int>(k);
  }
  model::AppendRowFieldCount(key_columns_.size(), key_count_);
  model::AppendRowFieldCount(column_names.size(), column_count_);
  begins_.reserve(column_names.size());
  ends_.reserve(column_names.size());
  Clear();
}

Status SnapshotRowEncoding::Finish(std::string& partition_key, std::string& rows) const {
  partition_key.clear();
  rows.clear();
  EDDY_RETURN_IF_ERROR(AppendPartitionKey(partition_key));
  AppendRows(rows);
  return Status::Ok();
}

Status SnapshotRowEncoding::AppendPartitionKey(std::string& out) const {
  if (ends_.size() != names_.size()) {
    return FailedPrecondition("snapshot row has " + std::to_string(ends_.size()) + " values for " +
                              std::to_string(names_.size()) + " columns");
  }
  out += table_key_;
  for (size_t column : key_columns_) {
    EDDY_RETURN_IF_ERROR(model::AppendPartitionKeyValueEncoded(Value(column), out));
  }
  return Status::Ok();
}

void SnapshotRowEncoding::AppendRows(std::string& out) const {
  out += key_count_;
  for (size_t column : key_columns_) out += Field(column);
  out += column_count_;
  out += values_;  // every column's name and value, in order (AppendPartitionKey checked)
}

SnapshotRecordWriter::SnapshotRecordWriter(model::ChangeEvent shared) : shared_(std::move(shared)) {
  shared_.op = model::Operation::kRead;
  shared_.key.clear();
  shared_.before.reset();
  shared_.after.reset();
}

void SnapshotRecordWriter::SetTable(const model::TableId& table, uint32_t schema_version,
                                    int64_t capture_time_ns) {
  shared_.table = table;
  shared_.schema_version = schema_version;
  shared_.capture_time_ns = capture_time_ns;
  shared_.source.snapshot = model::SnapshotMarker::kFirst;
  first_.SetShared(shared_);
  shared_.source.snapshot = model::SnapshotMarker::kTrue;
  middle_.SetShared(shared_);
}

log::AppendRecord& SnapshotRecordWriter::Next(std::vector<log::AppendRecord>& out) {
  if (held_) {
    out.push_back(std::move(*held_));
    held_.reset();
  }
  log::AppendRecord* record = nullptr;
  if (spare_.empty()) {
    record = &held_.emplace();
  } else {
    record = &held_.emplace(std::move(spare_.back()));
    spare_.pop_back();
    record->partition_key.clear();
    record->payload.clear();
    record->explicit_hash_key.reset();
    // In place: GCC 12 at -O1 with the sanitizers reads a move-assignment from a fresh
    // SourcePosition as a use of uninitialized variant storage (-Wmaybe-uninitialized).
    std::destroy_at(&record->position);
    std::construct_at(&record->position);
  }
  record->payload.reserve(payload_hint_);
  row_ordinal_ = next_ordinal_++;
  return *record;
}

void SnapshotRecordWriter::Recycle(std::vector<log::AppendRecord>& spent) {
  if (spare_.empty()) {
    spare_.swap(spent);
  } else {
    for (log::AppendRecord& record : spent) spare_.push_back(std::move(record));
  }
  spent.clear();
}

void SnapshotRecordWriter::Add(std::string_view partition_key, std::string_view rows,
                               std::vector<log::AppendRecord>& out) {
  log::AppendRecord& record = Next(out);
  BeginRow(record.payload);
  record.partition_key = partition_key;
  record.payload += rows;
  payload_hint_ = record.payload.size() + 32;
}

Status SnapshotRecordWriter::Add(const SnapshotRowEncoding& row,
                                 std::vector<log::AppendRecord>& out) {
  log::AppendRecord& record = Next(out);
  BeginRow(record.payload);
  // After an error the writer holds a half-made record: the snapshot fails anyway (a value
  // that does not decode is a bug, not input).
  EDDY_RETURN_IF_ERROR(row.AppendPartitionKey(record.partition_key));
  row.AppendRows(record.payload);
  payload_hint_ = record.payload.size() + 32;
  return Status::Ok();
}

Status SnapshotRecordWriter::Finish(std::vector<log::AppendRecord>& out) {
  if (!held_) return Status::Ok();
  if (next_ordinal_ > 1) {
    // The last row: its marker is one byte in the middle of the payload; decoding and encoding
    // it again (once per snapshot) keeps the layout knowledge in the codec.
    EDDY_ASSIGN_OR_RETURN(model::ChangeEvent last, model::DecodeEvent(held_->payload));
    last.source.snapshot = model::SnapshotMarker::kLast;
    held_->payload.clear();
    model::EncodeEvent(last, held_->payload);
  }
  out.push_back(std::move(*held_));
  held_.reset();
  return Status::Ok();
}

SnapshotAppendThread::SnapshotAppendThread(AppendFunction append)
    : append_(std::move(append)), thread_([this] { Run(); }) {}

SnapshotAppendThread::~SnapshotAppendThread() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !busy_; });
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SnapshotAppendThread::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || busy_; });
    if (!busy_) return;  // stopping, nothing in flight
    lock.unlock();
    // in_flight_ belongs to this thread while busy_ is set.
    Status status = append_(in_flight_);
    lock.lock();
    finished_records_ = in_flight_.size();
    if (!status.ok() && status_.ok()) status_ = std::move(status);
    busy_ = false;
    cv_.notify_all();
  }
}

Status SnapshotAppendThread::Wait(size_t* appended) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !busy_; });
  if (appended != nullptr) *appended = finished_records_;
  return status_;
}

Status SnapshotAppendThread::Submit(std::vector<log::AppendRecord>& batch, size_t* appended) {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !busy_; });
    if (!status_.ok()) return status_;
    if (appended != nullptr) *appended = finished_records_;
    finished_records_ = 0;
    in_flight_.swap(batch);
    busy_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

}  // namespace eddy::source

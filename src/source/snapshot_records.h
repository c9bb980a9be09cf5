// Blocking-snapshot rows straight into log records, without a model::Row or ChangeEvent per
// row (the snapshot's hot path; the MySQL binlog path does the same with model::RowEventEncoder).
//
// SnapshotRowEncoding collects one row's column values, each as its model::EncodeValue bytes
// (the source converts the source's text with the same conversions its stream uses), and
// writes the record's partition key (model::ChangeEvent::PartitionKey's bytes) and the key and
// after rows as model::EncodeEvent writes them.
//
// SnapshotRecordWriter numbers the rows of one snapshot transaction and makes each a record
// whose payload is byte for byte model::EncodeEvent of the equivalent read event: op r, the
// shared fields, ordinal_in_transaction counting from 0, source.snapshot kFirst for the first
// row, kLast for the last one (kFirst when it is the only one) and kTrue between. To mark the
// last row it holds each row back until the next one arrives (or Finish). Records carry no
// position of their own (the payload has the event's; the transaction's end position goes to
// the log with the commit).
//
// SnapshotAppendThread appends the batches of records a snapshot produces on a thread of its
// own, so that the log's framing, CRC, write and fsync overlap the reading and encoding of the
// next batch (on a snapshot, one thread otherwise does all of it in turn).
//
// Thread safety: SnapshotRowEncoding and SnapshotRecordWriter none; one object per thread. A
// SnapshotRowEncoding may live on a reader thread and hand its partition key and rows bytes to
// the writer's thread. SnapshotAppendThread: one producer thread calls it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/byte_appender.h"
#include "base/status.h"
#include "log/record.h"
#include "model/event.h"
#include "model/event_codec.h"

namespace eddy::source {

class SnapshotRowEncoding {
 public:
  // `key_columns`: indexes into `column_names`, in key order (empty: a table without a key).
  SnapshotRowEncoding(const model::TableId& table, const std::vector<std::string>& column_names,
                      std::vector<size_t> key_columns);

  // Starts a row.
  void Clear() {
    values_.clear();
    begins_.clear();
    ends_.clear();
    StartField();
  }
  // The next column's value: append its model::EncodeValue bytes to values(), then EndValue().
  std::string& values() { return values_; }
  void EndValue() {
    ends_.push_back(values_.size());
    StartField();
  }
  size_t columns() const { return names_.size(); }
  // The bytes of the row's names and values (a record holds about this plus the key).
  size_t size_hint() const { return values_.size(); }

  // Replaces `partition_key` and `rows` with the row's partition key and its key and after
  // rows. FailedPrecondition unless every column got its value; Corruption when a key value is
  // not one whole encoded value.
  [[nodiscard]] Status Finish(std::string& partition_key, std::string& rows) const;
  // Finish in pieces, appending: the partition key, then the rows.
  [[nodiscard]] Status AppendPartitionKey(std::string& out) const;
  void AppendRows(std::string& out) const;

 private:
  // values_ holds the after row's fields as the row encoding lays them out, each column's
  // name before its value: the after row is then one append, a key field one append each.
  void StartField() {
    if (begins_.size() < names_.size()) {
      values_ += names_[begins_.size()];
      begins_.push_back(values_.size());
    }
  }
  friend class SnapshotRecordWriter;  // AddEncoded reads the layout (names, key columns)
  std::string_view Value(size_t column) const {
    return std::string_view(values_).substr(begins_[column], ends_[column] - begins_[column]);
  }
  // The column's name and value.
  std::string_view Field(size_t column) const {
    size_t begin = begins_[column] - names_[column].size();
    return std::string_view(values_).substr(begin, ends_[column] - begin);
  }
  std::string table_key_;           // the partition key's table part
  std::vector<std::string> names_;  // length-prefixed column names
  std::vector<size_t> key_columns_;
  std::vector<int> key_index_;  // per column: its index in key_columns_, or -1
  std::string key_count_;       // the key row's field count
  std::string column_count_;    // the after row's field count
  std::string values_;          // name, value, name, value, ... of the columns so far
  std::vector<size_t> begins_;  // where each column's value starts in values_
  std::vector<size_t> ends_;    // where each finished column's value ends
};

class SnapshotRecordWriter {
 public:
  // `shared` gives every row's commit time, transaction id, position and source connector and
  // server name; its op, rows and snapshot marker are ignored.
  explicit SnapshotRecordWriter(model::ChangeEvent shared);

  // The table and schema version of the rows that follow, and their capture time.
  void SetTable(const model::TableId& table, uint32_t schema_version, int64_t capture_time_ns);
  // Adds the next row (SnapshotRowEncoding::Finish's bytes): the row held back until now, if
  // any, is appended to `out`.
  void Add(std::string_view partition_key, std::string_view rows,
           std::vector<log::AppendRecord>& out);
  // The same for a row still in its encoding (no intermediate copy); its errors are Finish's.
  [[nodiscard]] Status Add(const SnapshotRowEncoding& row, std::vector<log::AppendRecord>& out);
  // The same bytes as Add(row) for a row whose values the source can encode in any order
  // (PostgreSQL's split COPY line, a MySQL text row), written straight into the record: no
  // per-row buffer and no copy of it. `encode(column, out)` appends that column's
  // model::EncodeValue bytes to the ByteAppender `out`; it is called once per column, the key
  // columns first (they come first in the record), then the others in order; a key column's
  // bytes are copied into the after row, not encoded again. `layout` gives
  // the table's column names and key (its values are not used). An error of `encode` is returned as
  // is; the writer then holds a half-made record and the snapshot is to fail.
  template <typename EncodeColumn>
  [[nodiscard]] Status AddEncoded(const SnapshotRowEncoding& layout, EncodeColumn&& encode,
                                  std::vector<log::AppendRecord>& out);
  // Appends the held row, marked as the last one. Corruption only if its own payload does not
  // decode (a bug).
  [[nodiscard]] Status Finish(std::vector<log::AppendRecord>& out);

  uint64_t rows() const { return next_ordinal_; }
  // About the payload bytes of the row added last (for part sizes).
  size_t last_row_bytes() const { return payload_hint_; }

  // Takes back records the log has written (Stream::AppendTransactionReusing,
  // TransactionAppender::AppendReusing): the next rows are encoded into their strings' memory
  // instead of new allocations. Leaves `spent` empty.
  void Recycle(std::vector<log::AppendRecord>& spent);

 private:
  model::ChangeEvent shared_;
  model::RowEventEncoder first_;   // source.snapshot = kFirst
  model::RowEventEncoder middle_;  // source.snapshot = kTrue
  uint64_t next_ordinal_ = 0;
  uint64_t row_ordinal_ = 0;  // of the record Next started
  // Moves the held record to `out` and starts the next one (empty, numbered row_ordinal_).
  log::AppendRecord& Next(std::vector<log::AppendRecord>& out);
  // Appends the started record's fields up to its rows.
  template <typename Out>
  void BeginRow(Out& out) const {
    (row_ordinal_ == 0 ? first_ : middle_)
        .BeginEvent(model::Operation::kRead, false, true, row_ordinal_, 0, out);
  }
  std::optional<log::AppendRecord> held_;
  size_t payload_hint_ = 64;
  std::vector<log::AppendRecord> spare_;  // recycled records, their memory kept
};

template <typename EncodeColumn>
Status SnapshotRecordWriter::AddEncoded(const SnapshotRowEncoding& layout, EncodeColumn&& encode,
                                        std::vector<log::AppendRecord>& out) {
  log::AppendRecord& record = Next(out);
  std::string& payload = record.payload;
  // Where each key value lies in the payload: the partition key is made from these bytes.
  constexpr size_t kInlineKeys = 4;
  size_t inline_bounds[2 * kInlineKeys];
  std::vector<size_t> more_bounds;
  size_t* bounds = inline_bounds;
  if (layout.key_columns_.size() > kInlineKeys) {
    more_bounds.resize(2 * layout.key_columns_.size());
    bounds = more_bounds.data();
  }
  {
    // A row is 25-30 short pieces: appended without a memmove call each (base/byte_appender.h).
    ByteAppender appender(payload);
    BeginRow(appender);
    appender.Append(layout.key_count_);
    for (size_t k = 0; k < layout.key_columns_.size(); ++k) {
      const size_t column = layout.key_columns_[k];
      appender.Append(layout.names_[column]);
      bounds[2 * k] = appender.size();
      EDDY_RETURN_IF_ERROR(encode(column, appender));
      bounds[2 * k + 1] = appender.size();
    }
    appender.Append(layout.column_count_);
    for (size_t column = 0; column < layout.names_.size(); ++column) {
      appender.Append(layout.names_[column]);
      const int k = layout.key_index_[column];
      if (k >= 0) {
        appender.AppendWritten(bounds[2 * k], bounds[2 * k + 1] - bounds[2 * k]);
      } else {
        EDDY_RETURN_IF_ERROR(encode(column, appender));
      }
    }
  }
  record.partition_key += layout.table_key_;
  for (size_t k = 0; k < layout.key_columns_.size(); ++k) {
    EDDY_RETURN_IF_ERROR(model::AppendPartitionKeyValueEncoded(
        std::string_view(payload).substr(bounds[2 * k], bounds[2 * k + 1] - bounds[2 * k]),
        record.partition_key));
  }
  payload_hint_ = payload.size() + 32;
  return Status::Ok();
}

// The records of one part of a blocking snapshot's transaction, for every source (at most; a
// source's settings may ask for fewer): about 300 KB, so the part is still in the cache when
// SnapshotAppendThread frames it. Measured at 250, 500, 1,000, 2,500 and 10,000
// (docs/benchmarks.md).
inline constexpr size_t kSnapshotPartRecords = 1000;

class SnapshotAppendThread {
 public:
  // Appends one batch and leaves its records in the vector for reuse (contents unspecified):
  // TransactionAppender::AppendReusing or Stream::AppendTransactionReusing. Runs on the
  // helper thread, one call at a time; it must not share unsynchronized state with the
  // producer's thread other than through the batches.
  using AppendFunction = std::function<Status(std::vector<log::AppendRecord>&)>;
  explicit SnapshotAppendThread(AppendFunction append);
  // Waits for the batch in flight, then stops the thread.
  ~SnapshotAppendThread();
  SnapshotAppendThread(const SnapshotAppendThread&) = delete;
  SnapshotAppendThread& operator=(const SnapshotAppendThread&) = delete;

  // Waits until the batch in flight is appended, then hands `batch` to the thread and gives
  // back in `batch` the records of the batch before it (their memory kept for
  // SnapshotRecordWriter::Recycle; empty for the first). One batch is in flight at a time, so
  // memory stays at about two batches. Returns the error of any earlier batch instead (the
  // first one; `batch` then stays the caller's and nothing more is appended). `appended`, if
  // given, gets the number of records of the batch that finished (0 for the first).
  [[nodiscard]] Status Submit(std::vector<log::AppendRecord>& batch, size_t* appended = nullptr);
  // Waits until the batch in flight is appended: OK when every batch was, else the first error.
  // `appended`, if given, gets the number of records of that last batch.
  [[nodiscard]] Status Wait(size_t* appended = nullptr);

 private:
  void Run();

  AppendFunction append_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<log::AppendRecord> in_flight_;  // guarded by mu_ while busy_ is false
  bool busy_ = false;                         // guarded by mu_: in_flight_ is being appended
  bool stopping_ = false;                     // guarded by mu_
  size_t finished_records_ = 0;               // guarded by mu_: of the batch appended last
  Status status_;                             // guarded by mu_: the first error
  std::thread thread_;                        // last: starts once the members above exist
};

}  // namespace eddy::source

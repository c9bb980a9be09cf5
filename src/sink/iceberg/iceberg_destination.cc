#include "sink/iceberg/iceberg_destination.h"

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "base/logging.h"
#include "base/metrics.h"
#include "consume/checkpoint_store.h"
#include "format/json.h"
#include "format/renderer.h"
#include "iceberg/compact.h"
#include "iceberg/iceberg_format.h"
#include "iceberg/sql_catalog.h"
#include "iceberg/table.h"
#include "objstore/open_store.h"
#include "sink/iceberg/iceberg_settings.h"

namespace eddy::sink::iceberg {

namespace {

namespace ice = ::eddy::iceberg;

// The catalog_name of the SQL catalog's rows (readers name it when they open the database).
constexpr std::string_view kCatalogName = "eddy";

// The largest batch the runner hands over by bytes (records are also bounded by commit_rows).
constexpr uint64_t kMaxCommitBytes = 512ull << 20;
// Commits of one table tried within a batch while other writers (`eddy lake`) commit first.
constexpr int kCommitAttempts = 4;

// Where records whose values a table's types cannot hold are set aside, under the warehouse:
// `_eddy_errors/format-conversion-failed/<table path>/<shardId>-<sequenceNumber>.json`. Outside
// every table's location (Iceberg's orphan-file removal deletes unknown files there); the
// leading '_' hides it from Hadoop-style listings. The folder is named as the objects sink's
// (and Firehose's) error output type for records a format conversion could not convert.
constexpr std::string_view kSetAsideFolder = "_eddy_errors/format-conversion-failed";

// The module's metric family (its probe), registered once in the process registry.
prometheus::Family<prometheus::Counter>& SetAsideFamily() {
  static prometheus::Family<prometheus::Counter>* family =
      &prometheus::BuildCounter()
           .Name("eddy_iceberg_records_set_aside_total")
           .Help(
               "Records an Iceberg sink set aside under _eddy_errors/format-conversion-failed/ "
               "because a value does not fit its column's Iceberg type (a timestamp past what "
               "int64 microseconds hold, a zero month), by sink and source table")
           .Register(metrics::Registry());
  return *family;
}

Result<std::unique_ptr<objstore::ObjectStore>> MakeStore(const IcebergSettings& settings) {
  objstore::StoreLocation location;
  location.local = settings.backend == Backend::kFile;
  location.directory = settings.directory;
  location.s3.bucket = settings.bucket;
  location.s3.region = settings.region;
  location.s3.endpoint = settings.endpoint;
  // Servers other than AWS (s3rver) ignore If-None-Match; docs/sinks/iceberg.md says what a
  // second writer of one table can then do.
  location.s3.honours_if_none_match = settings.endpoint.empty();
  location.url = "iceberg+s3://" + settings.bucket;
  location.logger = "sink.iceberg";
  return objstore::OpenStore(std::move(location));
}

std::string WarehousePrefix(const IcebergSettings& settings) {
  return settings.prefix.empty() ? "" : settings.prefix + "/";
}

Result<std::unique_ptr<ice::Catalog>> MakeCatalog(const IcebergSettings& settings,
                                                  objstore::ObjectStore* store) {
  if (settings.catalog == Catalog::kHadoop) {
    return std::unique_ptr<ice::Catalog>(std::make_unique<ice::HadoopCatalog>(store));
  }
  // The database's directory is made here; SQLite creates the file.
  const std::string& path = settings.catalog_path;
  Status made = io::DefaultFileSystem()->CreateDirectories(path.substr(0, path.rfind('/')));
  if (!made.ok()) {
    return made.WithContext("the SQL catalog's directory (catalog=sqlite://" + path + ")");
  }
  EDDY_ASSIGN_OR_RETURN(auto catalog, ice::SqlCatalog::Open(path, std::string(kCatalogName), store,
                                                            WarehousePrefix(settings)));
  return std::unique_ptr<ice::Catalog>(std::move(catalog));
}

// A key segment from a source name: '/' and '%' are percent-encoded so that every table is one
// directory level; "." and ".." (impossible keys) become "%2E" and "%2E%2E".
std::string Segment(std::string_view name) {
  if (name == ".") return "%2E";
  if (name == "..") return "%2E%2E";
  std::string out;
  for (char c : name) {
    if (c == '/') {
      out += "%2F";
    } else if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  return out.empty() ? "%00" : out;
}

// The earlier of two checkpoints, shard by shard; a shard only one of them knows is left out
// (the reader then starts that shard from the sink's starting position: earlier, never later).
consume::Checkpoint EarlierCheckpoint(const consume::Checkpoint& a, const consume::Checkpoint& b) {
  consume::Checkpoint earlier;
  for (const auto& [shard, position] : a.shards) {
    auto other = b.shards.find(shard);
    if (other == b.shards.end()) continue;
    const consume::ShardCheckpoint& second = other->second;
    if (position.finished != second.finished) {
      earlier.shards.emplace(shard, position.finished ? second : position);
    } else {
      earlier.shards.emplace(shard, position.next < second.next ? position : second);
    }
  }
  return earlier;
}

// True when the table's checkpoint says `record` is already in it.
bool AlreadyApplied(const std::optional<consume::Checkpoint>& applied,
                    const consume::SinkRecord& record) {
  if (!applied) return false;
  auto shard = applied->shards.find(record.shard_index);
  if (shard == applied->shards.end()) return false;
  return shard->second.finished || record.sequence < shard->second.next;
}

// A change that belongs to a source transaction (snapshot reads and events without a
// transaction id stand alone).
bool InTransaction(const model::ChangeEvent& event) {
  return (model::IsRowChange(event.op) || event.op == model::Operation::kTruncate) &&
         event.op != model::Operation::kRead && !event.transaction_id.empty();
}

// A record after which every earlier transaction is complete: a transaction END, a heartbeat
// (appended only while no transaction is being appended) or a BEGIN.
bool ClosesTransactions(const model::ChangeEvent& event) {
  return event.op == model::Operation::kTransactionEnd ||
         event.op == model::Operation::kHeartbeat ||
         event.op == model::Operation::kTransactionBegin;
}

// Where the batch's last source transaction begins when the batch may not hold all of it
// (records.size() when every transaction in it is known to be complete). Records come in
// commit order (one lane, merged by sequence number), so a transaction is complete once a
// record of another transaction, an END, a BEGIN or a heartbeat follows it.
size_t IncompleteTailBegin(const std::vector<consume::SinkRecord>& records) {
  size_t index = records.size();
  const std::string* tail = nullptr;
  while (index > 0) {
    const model::ChangeEvent* event = records[index - 1].event.get();
    if (event != nullptr) {
      if (tail == nullptr) {
        if (ClosesTransactions(*event)) return records.size();
        if (InTransaction(*event)) tail = &event->transaction_id;
      } else if (event->op == model::Operation::kTransactionBegin &&
                 event->transaction_id == *tail) {
        return index - 1;
      } else if (ClosesTransactions(*event) || event->op == model::Operation::kRead ||
                 (InTransaction(*event) && event->transaction_id != *tail)) {
        return index;
      }
    }
    --index;
  }
  return tail == nullptr ? records.size() : 0;
}

// The checkpoint once records[0, end) are applied: checkpoint_after moved back, per shard, to
// the first record at or after `end` (records are in sequence order).
consume::Checkpoint CheckpointBefore(const consume::SinkBatch& batch, size_t end) {
  consume::Checkpoint checkpoint = batch.checkpoint_after;
  std::map<uint32_t, SequenceNumber> first;
  for (size_t i = end; i < batch.records.size(); ++i) {
    const consume::SinkRecord& record = batch.records[i];
    auto [it, inserted] = first.emplace(record.shard_index, record.sequence);
    if (!inserted && record.sequence < it->second) it->second = record.sequence;
  }
  for (const auto& [shard, sequence] : first) {
    checkpoint.shards[shard] = consume::ShardCheckpoint{sequence, false};
  }
  return checkpoint;
}

// The one column renamed from `from` to `to` (two versions of a table's schema), by the rule
// iceberg::SchemaFor keeps the field id by: one column gone and one new at the same position.
std::optional<std::pair<std::string, std::string>> RenamedColumn(const model::TableSchema& from,
                                                                 const model::TableSchema& to) {
  std::vector<size_t> gone;
  std::vector<size_t> come;
  for (size_t i = 0; i < from.columns.size(); ++i) {
    if (to.FindColumn(from.columns[i].name) == nullptr) gone.push_back(i);
  }
  for (size_t i = 0; i < to.columns.size(); ++i) {
    if (from.FindColumn(to.columns[i].name) == nullptr) come.push_back(i);
  }
  if (gone.size() != 1 || come.size() != 1 || gone[0] != come[0]) return std::nullopt;
  return std::pair{from.columns[gone[0]].name, to.columns[come[0]].name};
}

void RenameField(model::Row& row, const std::pair<std::string, std::string>& rename) {
  for (model::Field& field : row) {
    if (field.name == rename.first) field.name = rename.second;
  }
}

// The changelog table of a source table (changelog=true): `<table>_changelog`, append-only.
constexpr std::string_view kChangelogSuffix = "_changelog";
constexpr std::string_view kChangelogOp = "_op";                    // c, u, d, r
constexpr std::string_view kChangelogCommitTime = "_commit_time";   // the source's commit time
constexpr std::string_view kChangelogPosition = "_position";        // the source position
constexpr std::string_view kChangelogSequence = "_sequence";        // the log's sequence number
constexpr std::string_view kChangelogTransaction = "_transaction";  // the source transaction id

// The changelog table's schema: the source table's columns (all optional, no key: a row per
// change), then the columns above. Made once per source schema version.
std::shared_ptr<const model::TableSchema> ChangelogSchema(const model::TableSchema& source) {
  auto schema = std::make_shared<model::TableSchema>(source);
  schema->table.name += kChangelogSuffix;
  schema->primary_key.clear();
  for (model::Column& column : schema->columns) {
    column.nullable = true;
    column.primary_key_ordinal = 0;
  }
  auto add = [&](std::string_view name, std::string source_type, model::ValueType type) {
    model::Column column;
    column.name = std::string(name);
    column.source_type = std::move(source_type);
    column.type = type;
    schema->columns.push_back(std::move(column));
  };
  add(kChangelogOp, "text", model::ValueType::kText);
  add(kChangelogCommitTime, "timestamptz", model::ValueType::kTimestampTz);
  add(kChangelogPosition, "text", model::ValueType::kText);
  add(kChangelogSequence, "text", model::ValueType::kText);
  add(kChangelogTransaction, "text", model::ValueType::kText);
  return schema;
}

struct CachedTable {
  std::optional<ice::LoadedTable> loaded;
  std::optional<consume::Checkpoint> checkpoint;  // of this sink's latest snapshot
  // Set while the table's head is a staged snapshot: the transaction it holds part of.
  std::optional<std::string> staged_transaction;
};

class IcebergDestination final : public consume::Destination {
 public:
  IcebergDestination(std::string sink_name, IcebergSettings settings,
                     std::unique_ptr<objstore::ObjectStore> store)
      : sink_name_(std::move(sink_name)),
        settings_(std::move(settings)),
        store_(std::move(store)),
        logger_(logging::Get("sink.iceberg")) {}

  std::optional<consume::BatchingOverride> Batching() const override {
    consume::BatchingOverride batching;
    batching.batch_size = settings_.commit_rows;
    batching.batch_bytes = kMaxCommitBytes;
    batching.window = settings_.commit_interval;
    return batching;
  }

  // Rows come from the decoded events and their table schemas; the runner need not render.
  bool UsesRenderedData() const override { return false; }

  Status Open() override {
    if (store_ == nullptr) {
      EDDY_ASSIGN_OR_RETURN(store_, MakeStore(settings_));
    }
    Status checked = store_->Check();
    if (!checked.ok()) return checked.WithContext(store_->Describe(settings_.prefix));
    EDDY_ASSIGN_OR_RETURN(catalog_, MakeCatalog(settings_, store_.get()));
    return Status::Ok();
  }

  Result<std::optional<consume::Checkpoint>> ReadCheckpoint() override {
    std::lock_guard lock(mutex_);
    std::optional<consume::Checkpoint> earliest;
    EDDY_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                          catalog_->ListTables(WarehousePrefix(settings_)));
    for (const std::string& table_key : keys) {
      EDDY_ASSIGN_OR_RETURN(CachedTable table, LoadTable(table_key));
      if (!table.checkpoint) continue;  // another sink's table
      earliest = earliest ? EarlierCheckpoint(*earliest, *table.checkpoint) : *table.checkpoint;
      if (table.staged_transaction) staged_keys_.insert(table_key);
      tables_[table_key] = std::move(table);
    }
    if (earliest) previous_checkpoint_ = *earliest;
    return earliest;
  }

  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    std::lock_guard lock(mutex_);
    consume::DeliveryOutcome outcome;
    Status written = Apply(batch);
    if (!written.ok()) {
      // What the store holds now is known only after reading it again.
      tables_.clear();
      outcome.failure = objstore::RetriableWhileWaiting(written);
      return outcome;
    }
    previous_checkpoint_ = batch.checkpoint_after;
    outcome.acknowledged = batch.records.size();
    return outcome;
  }

  Status Close() override {
    if (store_ != nullptr) store_->Close();
    return Status::Ok();
  }

 private:
  // One entry per touched key: its key row and its final image (null: deleted).
  struct KeyChange {
    model::Row key;
    const model::Row* image = nullptr;
    model::Row merged;  // the image with unchanged (TOAST) values taken from the before image
    bool use_merged = false;
    const consume::SinkRecord* record = nullptr;  // the change that left this key and image
  };
  struct TableChanges {
    model::TableId table;
    std::shared_ptr<const model::TableSchema> schema;  // the newest version among the records
    std::vector<const consume::SinkRecord*> records;   // of complete transactions
    std::vector<const consume::SinkRecord*> staged;    // of the batch's incomplete last one
    // The changelog table of `table` (changelog=true): every change appended with its op and
    // position, nothing collapsed.
    bool changelog = false;
  };

  std::string TableKey(const model::TableId& table) const {
    std::string key = settings_.prefix.empty() ? "" : settings_.prefix + "/";
    key += Segment(table.database) + "/";
    if (!table.schema.empty()) key += Segment(table.schema) + "/";
    key += Segment(table.name);
    return key;
  }

  Result<CachedTable> LoadTable(const std::string& table_key) {
    CachedTable cached;
    EDDY_ASSIGN_OR_RETURN(cached.loaded, catalog_->Load(table_key));
    if (!cached.loaded) return cached;
    // This sink's latest snapshot: the current one, or its nearest ancestor written by it.
    const ice::TableMetadata& metadata = cached.loaded->metadata;
    std::optional<int64_t> id = metadata.current_snapshot_id;
    if (metadata.staged_snapshot_id) {
      id = metadata.staged_snapshot_id;
      const ice::Snapshot* staged = metadata.HeadSnapshot();
      if (staged != nullptr) {
        cached.staged_transaction =
            staged->SummaryValue(ice::kSummaryStagedTransaction).value_or("");
      }
    }
    while (id) {
      const ice::Snapshot* snapshot = nullptr;
      for (const ice::Snapshot& candidate : metadata.snapshots) {
        if (candidate.snapshot_id == *id) snapshot = &candidate;
      }
      if (snapshot == nullptr) break;
      if (snapshot->SummaryValue(ice::kSummarySink) == sink_name_) {
        auto text = snapshot->SummaryValue(ice::kSummaryCheckpoint);
        if (!text) break;
        auto checkpoint = consume::DecodeCheckpoint(*text);
        if (!checkpoint.ok()) {
          return checkpoint.status().WithContext("eddy.checkpoint of " + metadata.location);
        }
        cached.checkpoint = std::move(checkpoint).value();
        break;
      }
      id = snapshot->parent_snapshot_id;
    }
    return cached;
  }

  Result<CachedTable*> Table(const std::string& table_key) {
    auto it = tables_.find(table_key);
    if (it == tables_.end()) {
      EDDY_ASSIGN_OR_RETURN(CachedTable loaded, LoadTable(table_key));
      it = tables_.emplace(table_key, std::move(loaded)).first;
    }
    return &it->second;
  }

  std::vector<std::pair<std::string, std::string>> Summary(const consume::Checkpoint& checkpoint) {
    return {{std::string(ice::kSummarySink), sink_name_},
            {std::string(ice::kSummaryCheckpoint), consume::EncodeCheckpoint(checkpoint)}};
  }

  // One batch: the records before the batch's incomplete last transaction (if any) are
  // committed and published per table; that transaction's records are committed staged, and
  // published by a later batch that shows the transaction complete.
  Status Apply(const consume::SinkBatch& batch) {
    const size_t tail_begin = IncompleteTailBegin(batch.records);
    const consume::Checkpoint prefix_checkpoint = CheckpointBefore(batch, tail_begin);
    std::string tail_transaction;
    if (tail_begin < batch.records.size()) {
      for (size_t i = batch.records.size(); i > tail_begin; --i) {
        const model::ChangeEvent* event = batch.records[i - 1].event.get();
        if (event != nullptr && InTransaction(*event)) {
          tail_transaction = event->transaction_id;
          break;
        }
      }
    }
    std::vector<TableChanges> tables;
    std::map<model::TableId, size_t> index;
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const consume::SinkRecord& record = batch.records[i];
      if (record.event == nullptr) {
        return InvalidArgument(
            "stream '" + batch.stream_name +
            "' carries plain records, not change events; the iceberg sink reads CDC streams");
      }
      const model::ChangeEvent& event = *record.event;
      if (event.op == model::Operation::kTruncate) {
        logger_->warn("sink={} table={}: TRUNCATE is not applied to the Iceberg table", sink_name_,
                      event.table.ToString());
        continue;
      }
      if (!model::IsRowChange(event.op)) continue;
      if (record.table_schema == nullptr) {
        return InvalidArgument("no table schema for " + event.table.ToString() + " version " +
                               std::to_string(event.schema_version) +
                               " in the stream's schema history");
      }
      auto [it, inserted] = index.emplace(event.table, tables.size());
      if (inserted) tables.push_back(TableChanges{event.table, record.table_schema, {}, {}});
      TableChanges& changes = tables[it->second];
      if (record.table_schema->version > changes.schema->version)
        changes.schema = record.table_schema;
      (i < tail_begin ? changes.records : changes.staged).push_back(&record);
    }
    if (settings_.changelog) {
      const size_t source_tables = tables.size();
      for (size_t i = 0; i < source_tables; ++i) {
        TableChanges changelog = tables[i];
        changelog.table.name += kChangelogSuffix;
        changelog.schema = ChangelogSchema(*tables[i].schema);
        changelog.changelog = true;
        tables.push_back(std::move(changelog));
      }
    }
    std::set<std::string> done;
    for (const TableChanges& changes : tables) {
      const std::string table_key = TableKey(changes.table);
      done.insert(table_key);
      for (int attempt = 0;; ++attempt) {
        Status committed = Commit(batch, table_key, changes, prefix_checkpoint, tail_transaction);
        if (committed.code() == ErrorCode::kAborted && attempt + 1 < kCommitAttempts) {
          // Another writer (`eddy lake compact` or `expire`) committed a version first: reload
          // the table and apply again (what it holds already is filtered by its checkpoint).
          logger_->info("sink={} table={}: {}; reloading and committing again", sink_name_,
                        table_key, committed.message());
          tables_.erase(table_key);
          continue;
        }
        EDDY_RETURN_IF_ERROR(committed);
        break;
      }
      MaybeCompact(table_key);
    }
    // Staged tables this batch did not touch: published once the batch shows their
    // transaction complete.
    for (auto it = staged_keys_.begin(); it != staged_keys_.end();) {
      const std::string table_key = *it++;
      if (done.contains(table_key)) continue;
      EDDY_ASSIGN_OR_RETURN(CachedTable * table, Table(table_key));
      EDDY_RETURN_IF_ERROR(PublishIfComplete(batch, table_key, *table));
    }
    return Status::Ok();
  }

  // True when `batch` shows that the transaction staged in `table` is complete: a record the
  // table has not applied yet belongs to another transaction or closes transactions.
  bool StagedComplete(const consume::SinkBatch& batch, const CachedTable& table) const {
    for (const consume::SinkRecord& record : batch.records) {
      if (record.event == nullptr || AlreadyApplied(table.checkpoint, record)) continue;
      const model::ChangeEvent& event = *record.event;
      if (ClosesTransactions(event) || event.op == model::Operation::kRead) return true;
      if (InTransaction(event) && event.transaction_id != table.staged_transaction) return true;
    }
    return false;
  }

  Status PublishIfComplete(const consume::SinkBatch& batch, const std::string& table_key,
                           CachedTable& table) {
    if (!table.loaded || !table.loaded->metadata.staged_snapshot_id) {
      table.staged_transaction.reset();
      staged_keys_.erase(table_key);
      return Status::Ok();
    }
    if (!StagedComplete(batch, table)) return Status::Ok();
    EDDY_ASSIGN_OR_RETURN(ice::LoadedTable published,
                          catalog_->PublishStaged(table_key, *table.loaded, Options(true)));
    table.loaded = std::move(published);
    table.staged_transaction.reset();
    staged_keys_.erase(table_key);
    return Status::Ok();
  }

  Status Commit(const consume::SinkBatch& batch, const std::string& table_key,
                const TableChanges& changes, const consume::Checkpoint& prefix_checkpoint,
                const std::string& tail_transaction) {
    EDDY_ASSIGN_OR_RETURN(CachedTable * table, Table(table_key));
    const model::TableSchema& schema = *changes.schema;
    if (!table->loaded) {
      // Created first with the checkpoint before this batch, so that ReadCheckpoint never
      // passes this batch while the table lacks it (see the header).
      ice::Delta empty;
      empty.summary = Summary(previous_checkpoint_);
      EDDY_ASSIGN_OR_RETURN(
          ice::LoadedTable created,
          catalog_->CommitDelta(table_key, std::nullopt, schema, empty, Options(true)));
      table->loaded = std::move(created);
      table->checkpoint = previous_checkpoint_;
      logger_->info("sink={} created table={} location={}", sink_name_, changes.table.ToString(),
                    table->loaded->metadata.location);
    }
    if (table->loaded->metadata.staged_snapshot_id) staged_keys_.insert(table_key);
    // The complete transactions: published (with a staged snapshot before them, which this
    // batch then shows complete). Nothing new of the table there: only the staged snapshot
    // may need publishing.
    EDDY_ASSIGN_OR_RETURN(bool committed,
                          CommitPart(changes, table_key, *table, schema, changes.records,
                                     prefix_checkpoint, std::nullopt));
    if (!committed) EDDY_RETURN_IF_ERROR(PublishIfComplete(batch, table_key, *table));
    if (committed) {
      table->staged_transaction.reset();
      staged_keys_.erase(table_key);
    }
    // The incomplete last transaction: staged.
    EDDY_ASSIGN_OR_RETURN(committed, CommitPart(changes, table_key, *table, schema, changes.staged,
                                                batch.checkpoint_after, tail_transaction));
    if (committed) {
      table->staged_transaction = tail_transaction;
      staged_keys_.insert(table_key);
    }
    return Status::Ok();
  }

  // Commits `records` (collapsed per key) as one snapshot with `checkpoint` in its summary:
  // published, or staged when `staged_transaction` is set. False when the table holds all of
  // them already (nothing committed).
  Result<bool> CommitPart(const TableChanges& changes, const std::string& table_key,
                          CachedTable& cached, const model::TableSchema& schema,
                          const std::vector<const consume::SinkRecord*>& records,
                          const consume::Checkpoint& checkpoint,
                          const std::optional<std::string>& staged_transaction) {
    CachedTable* table = &cached;
    const bool keyed = !schema.primary_key.empty();
    std::vector<KeyChange> keyed_changes;
    std::unordered_map<std::string, size_t> by_key;
    std::vector<const model::Row*> appended;
    std::vector<const consume::SinkRecord*> appended_records;  // parallel to `appended`
    uint64_t skipped_deletes = 0;
    size_t applied = 0;
    auto change_for = [&](model::Row key) -> KeyChange& {
      std::string text;
      for (const model::Field& field : key) model::AppendPartitionKeyValue(field.value, text);
      auto [it, inserted] = by_key.emplace(std::move(text), keyed_changes.size());
      if (inserted) keyed_changes.push_back(KeyChange{std::move(key), nullptr, {}, false, nullptr});
      return keyed_changes[it->second];
    };
    std::deque<model::Row> renamed_rows;  // images of an older schema version, renamed
    for (const consume::SinkRecord* record : records) {
      if (AlreadyApplied(table->checkpoint, *record)) continue;
      ++applied;
      const model::ChangeEvent& event = *record->event;
      const bool is_delete = event.op == model::Operation::kDelete;
      // An image decoded before a RENAME COLUMN names the column by its old name.
      std::optional<std::pair<std::string, std::string>> rename;
      if (record->table_schema->version != schema.version) {
        rename = RenamedColumn(*record->table_schema, schema);
      }
      if (changes.changelog) {
        const model::Row* image = event.after ? &*event.after : nullptr;
        if (image == nullptr && event.before) image = &*event.before;
        model::Row& row = renamed_rows.emplace_back(image != nullptr ? *image : event.key);
        if (rename) RenameField(row, *rename);
        row.push_back({std::string(kChangelogOp),
                       model::Value::Text(std::string(model::OperationCode(event.op)))});
        row.push_back({std::string(kChangelogCommitTime),
                       model::Value::TimestampTz(
                           {model::TemporalKind::kFinite, event.commit_time_ns / 1000})});
        row.push_back(
            {std::string(kChangelogPosition), model::Value::Text(event.position.ToString())});
        row.push_back(
            {std::string(kChangelogSequence), model::Value::Text(record->sequence_number)});
        row.push_back(
            {std::string(kChangelogTransaction), model::Value::Text(event.transaction_id)});
        appended.push_back(&row);
        appended_records.push_back(record);
        continue;
      }
      if (!keyed) {
        if (is_delete) {
          ++skipped_deletes;
        } else if (event.after && rename) {
          RenameField(renamed_rows.emplace_back(*event.after), *rename);
          appended.push_back(&renamed_rows.back());
          appended_records.push_back(record);
        } else if (event.after) {
          appended.push_back(&*event.after);
          appended_records.push_back(record);
        }
        continue;
      }
      if (event.key.empty()) {
        return InvalidArgument("a change of " + event.table.ToString() +
                               " has no key values though the table has a primary key");
      }
      if (event.op == model::Operation::kUpdate && event.before) {
        // A changed primary key: the old key's row goes too.
        model::Row old_key;
        for (const std::string& name : schema.primary_key) {
          const model::Value* value = model::FindField(*event.before, name);
          if (value != nullptr) old_key.push_back(model::Field{name, *value});
        }
        if (old_key.size() == schema.primary_key.size() && old_key != event.key) {
          KeyChange& old_change = change_for(std::move(old_key));
          old_change.image = nullptr;
          old_change.use_merged = false;
          old_change.record = record;
        }
      }
      model::Row key = event.key;
      if (rename) RenameField(key, *rename);
      KeyChange& change = change_for(std::move(key));
      change.use_merged = false;
      change.record = record;
      change.image = is_delete || !event.after ? nullptr : &*event.after;
      if (change.image != nullptr && event.before) {
        bool unavailable = false;
        for (const model::Field& field : *change.image) unavailable |= field.value.is_unavailable();
        if (unavailable) {
          change.merged = *change.image;
          for (model::Field& field : change.merged) {
            if (!field.value.is_unavailable()) continue;
            const model::Value* old = model::FindField(*event.before, field.name);
            if (old != nullptr && !old->is_unavailable()) field.value = *old;
          }
          change.use_merged = true;
        }
      }
      if (change.image != nullptr && rename) {
        if (!change.use_merged) change.merged = *change.image;
        RenameField(change.merged, *rename);
        change.use_merged = true;
      }
    }
    if (skipped_deletes > 0) {
      logger_->warn(
          "sink={} table={}: {} deletes not applied (the table has no primary key; "
          "it is append-only)",
          sink_name_, changes.table.ToString(), skipped_deletes);
    }
    if (applied == 0) return false;  // everything here is in the table already

    ice::Delta delta;
    delta.summary = Summary(checkpoint);
    if (staged_transaction) {
      delta.summary.emplace_back(std::string(ice::kSummaryStagedTransaction), *staged_transaction);
    }
    // The record behind each row and key of the delta (what is set aside if it does not fit).
    std::vector<const consume::SinkRecord*> row_records;
    std::vector<const consume::SinkRecord*> key_records;
    if (keyed) {
      for (const KeyChange& change : keyed_changes) {
        delta.deleted_keys.push_back(&change.key);
        key_records.push_back(change.record);
        if (change.image != nullptr) {
          delta.rows.push_back(change.use_merged ? &change.merged : change.image);
          row_records.push_back(change.record);
        }
      }
    } else {
      delta.rows = std::move(appended);
      row_records = std::move(appended_records);
    }
    const ice::CommitOptions options = Options(!staged_transaction.has_value());
    Result<ice::LoadedTable> committed =
        catalog_->CommitDelta(table_key, table->loaded, schema, delta, options);
    size_t set_aside = 0;  // records set aside for this commit
    if (!committed.ok() && committed.status().code() == ErrorCode::kInvalidArgument) {
      // A value the table's types cannot hold: its record is set aside (written before the
      // commit that moves the checkpoint past it), and the rest is committed without it.
      EDDY_ASSIGN_OR_RETURN(std::vector<ice::Unconvertible> unconvertible,
                            ice::FindUnconvertible(table->loaded, schema, delta));
      if (unconvertible.empty()) return committed.status();
      EDDY_ASSIGN_OR_RETURN(set_aside,
                            SetAside(changes, table_key, unconvertible, row_records, key_records));
      std::set<size_t> bad_rows;
      std::set<size_t> bad_keys;
      for (const ice::Unconvertible& bad : unconvertible) {
        (bad.is_key ? bad_keys : bad_rows).insert(bad.index);
      }
      // A rejected image leaves its key in the delete file: the table drops the key's older
      // row rather than show a value the source has replaced (docs/sinks/iceberg.md).
      ice::Delta kept;
      kept.summary = delta.summary;
      for (size_t i = 0; i < delta.rows.size(); ++i) {
        if (!bad_rows.contains(i)) kept.rows.push_back(delta.rows[i]);
      }
      for (size_t i = 0; i < delta.deleted_keys.size(); ++i) {
        if (!bad_keys.contains(i)) kept.deleted_keys.push_back(delta.deleted_keys[i]);
      }
      committed = catalog_->CommitDelta(table_key, table->loaded, schema, kept, options);
    }
    if (!committed.ok()) return committed.status();
    if (set_aside > 0) {
      // Counted once committed (a failed commit's batch is delivered again and rewrites them).
      SetAsideFamily()
          .Add({{"sink", sink_name_}, {"table", changes.table.ToString()}})
          .Increment(static_cast<double>(set_aside));
    }
    table->loaded = std::move(committed).value();
    table->checkpoint = checkpoint;
    return true;
  }

  // Writes the records behind `unconvertible` (rows and keys of a delta; row_records and
  // key_records name their records) to the set-aside folder, one object per record named by its
  // shard and sequence number, so a batch delivered again rewrites the same objects. Returns how
  // many records were written; the first record of each table and column is logged.
  Result<size_t> SetAside(const TableChanges& changes, const std::string& table_key,
                          const std::vector<ice::Unconvertible>& unconvertible,
                          const std::vector<const consume::SinkRecord*>& row_records,
                          const std::vector<const consume::SinkRecord*>& key_records) {
    static const std::unique_ptr<format::Renderer> native = [] {
      auto renderer = format::MakeRenderer("native");
      return renderer.ok() ? std::move(renderer).value() : nullptr;
    }();
    const std::string prefix = WarehousePrefix(settings_);
    const std::string folder =
        prefix + std::string(kSetAsideFolder) + "/" + table_key.substr(prefix.size()) + "/";
    std::set<const consume::SinkRecord*> written;
    for (const ice::Unconvertible& bad : unconvertible) {
      const auto& records = bad.is_key ? key_records : row_records;
      const consume::SinkRecord* record = bad.index < records.size() ? records[bad.index] : nullptr;
      if (record == nullptr || !written.insert(record).second) continue;
      format::RecordContext context;
      context.sequence_number = record->sequence_number;
      context.table_schema = record->table_schema.get();
      const std::string rendered =
          native != nullptr && record->event != nullptr
              ? native->Render(*record->event, format::ViewType::kNewAndOldImages, context)
              : std::string();
      format::JsonWriter json;
      json.BeginObject();
      json.Member("errorCode", "DataFormatConversion.InvalidValue");
      json.Member("errorMessage", bad.reason.message());
      json.Member("sink", sink_name_);
      json.Member("table", changes.table.ToString());
      json.Member("icebergTable", catalog_->Location(table_key));
      json.Member("column", bad.column);
      json.Member("shardId", record->shard_id);
      json.Member("sequenceNumber", record->sequence_number);
      json.Member("partitionKey", record->partition_key);
      json.MemberInt("approximateArrivalTimestamp", record->arrival_nanos / 1'000'000);
      json.Key("record");
      if (rendered.empty()) {
        json.Null();
      } else {
        json.RawJson(rendered);
      }
      json.EndObject();
      const std::string key = folder + record->shard_id + "-" + record->sequence_number + ".json";
      objstore::PutOptions put_options;
      put_options.content_type = "application/json";
      Status put = store_->Put(key, json.Take() + "\n", put_options);
      if (!put.ok()) return put.WithContext("setting a record aside at " + store_->Describe(key));
      if (warned_columns_.insert(table_key + '\0' + bad.column).second) {
        logger_->warn(
            "sink={} table={} column={}: {}; the record is set aside at {} and the table is "
            "committed without it (later records of this column are counted in "
            "eddy_iceberg_records_set_aside_total, not logged)",
            sink_name_, changes.table.ToString(), bad.column, bad.reason.message(),
            store_->Describe(key));
      }
    }
    return written.size();
  }

  // Compacts the table (iceberg/compact.h) when its current snapshot has reached a configured
  // threshold of delete or data files and no transaction is staged. A failure is logged, not
  // returned: the batch is committed already, and the next commit tries again.
  void MaybeCompact(const std::string& table_key) {
    if (settings_.compact_delete_files == 0 && settings_.compact_data_files == 0) return;
    auto it = tables_.find(table_key);
    if (it == tables_.end() || !it->second.loaded ||
        it->second.loaded->metadata.staged_snapshot_id) {
      return;
    }
    auto counts = ice::CountFiles(*catalog_, it->second.loaded->metadata);
    if (!counts.ok()) {
      logger_->warn("sink={} table={}: counting files for compaction: {}", sink_name_, table_key,
                    counts.status().ToString());
      return;
    }
    const bool due =
        (settings_.compact_delete_files > 0 &&
         counts->delete_files >= settings_.compact_delete_files) ||
        (settings_.compact_data_files > 0 && counts->data_files >= settings_.compact_data_files);
    if (!due) return;
    ice::CompactOptions options;
    options.compression = settings_.compression;
    options.target_file_bytes = settings_.compact_file_bytes;
    auto report = ice::CompactTable(*catalog_, table_key, options);
    if (!report.ok()) {
      logger_->warn("sink={} table={}: compaction failed (tried again after the next commit): {}",
                    sink_name_, table_key, report.status().ToString());
      tables_.erase(table_key);  // reloaded from the store by the next commit
      return;
    }
    if (report->table) it->second.loaded = std::move(report->table);
    logger_->info(
        "sink={} table={}: compacted {} data and {} delete files into {} data files ({} rows)",
        sink_name_, table_key, report->data_files_before, report->delete_files_before,
        report->data_files_after, report->rows_after);
  }

  ice::CommitOptions Options(bool publish) const {
    ice::CommitOptions options;
    options.compression = settings_.compression;
    options.publish = publish;
    return options;
  }

  const std::string sink_name_;
  const IcebergSettings settings_;
  std::unique_ptr<objstore::ObjectStore> store_;  // set by Open at the latest
  std::unique_ptr<ice::Catalog> catalog_;         // over store_, set by Open
  std::shared_ptr<logging::Logger> logger_;
  std::mutex mutex_;  // serializes Deliver and ReadCheckpoint (and guards what follows)
  std::map<std::string, CachedTable> tables_;  // by table key
  // Tables whose head is a staged snapshot (kept across failures, unlike tables_).
  std::set<std::string> staged_keys_;
  // Table key + '\0' + column of the set-aside records logged so far (one warning each).
  std::set<std::string> warned_columns_;
  // The checkpoint of the last acknowledged batch (or the one ReadCheckpoint found): new tables
  // start with it.
  consume::Checkpoint previous_checkpoint_;
};

}  // namespace

Result<std::unique_ptr<consume::Destination>> MakeIcebergDestinationWithStore(
    const consume::SinkSpec& spec, std::unique_ptr<objstore::ObjectStore> store) {
  EDDY_ASSIGN_OR_RETURN(IcebergSettings settings, ParseIcebergSettings(spec));
  return std::unique_ptr<consume::Destination>(
      new IcebergDestination(spec.name, std::move(settings), std::move(store)));
}

Result<std::unique_ptr<consume::Destination>> MakeIcebergDestination(
    const consume::SinkSpec& spec) {
  return MakeIcebergDestinationWithStore(spec, nullptr);
}

Result<Warehouse> OpenWarehouse(const consume::SinkSpec& spec) {
  EDDY_ASSIGN_OR_RETURN(IcebergSettings settings, ParseIcebergSettings(spec));
  Warehouse warehouse;
  EDDY_ASSIGN_OR_RETURN(warehouse.store, MakeStore(settings));
  Status checked = warehouse.store->Check();
  if (!checked.ok()) return checked.WithContext(warehouse.store->Describe(settings.prefix));
  EDDY_ASSIGN_OR_RETURN(warehouse.catalog, MakeCatalog(settings, warehouse.store.get()));
  warehouse.prefix = WarehousePrefix(settings);
  return warehouse;
}

}  // namespace eddy::sink::iceberg

#include "sink/iceberg/iceberg_destination.h"

#include <map>
#include <mutex>
#include <unordered_map>

#include "aws/credentials.h"
#include "base/logging.h"
#include "consume/checkpoint_store.h"
#include "iceberg/iceberg_format.h"
#include "iceberg/table.h"
#include "objstore/local_object_store.h"
#include "objstore/s3_object_store.h"
#include "sink/iceberg/iceberg_settings.h"

namespace eddy::sink::iceberg {

namespace {

namespace ice = ::eddy::iceberg;

// The largest batch the runner hands over by bytes (records are also bounded by commit_rows).
constexpr uint64_t kMaxCommitBytes = 512ull << 20;
constexpr std::string_view kFirstVersionSuffix = "/metadata/v1.metadata.json";

// Deliver-time errors the operator fixes while the sink waits (a missing bucket, refused
// credentials, a read-only directory, a concurrent writer) are retried (IMPAIRED), not FAILED.
Status Retriable(const Status& error) {
  switch (error.code()) {
    case ErrorCode::kNotFound:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kIoError:
    case ErrorCode::kNoSpace:
    case ErrorCode::kAborted:
    case ErrorCode::kUnimplemented:
      return Unavailable(error.message());
    default:
      return error;
  }
}

Result<std::unique_ptr<objstore::ObjectStore>> MakeStore(const IcebergSettings& settings) {
  if (settings.backend == Backend::kFile) {
    return std::unique_ptr<objstore::ObjectStore>(
        std::make_unique<objstore::LocalObjectStore>(settings.directory));
  }
  objstore::S3Options options;
  options.bucket = settings.bucket;
  options.region = settings.region;
  io::FileSystem& fs = *io::DefaultFileSystem();
  if (options.region.empty()) {
    options.region = aws::ResolveRegion(aws::ProcessEnvironment(), fs).value_or("us-east-1");
  }
  auto credentials = aws::ResolveCredentials(aws::ProcessEnvironment(), fs);
  if (credentials.ok()) {
    options.signer = objstore::MakeSigV4Signer(std::move(credentials).value(), options.region);
  } else if (settings.endpoint.empty() ||
             credentials.status().code() != ErrorCode::kPermissionDenied) {
    return credentials.status().WithContext("iceberg+s3://" + settings.bucket);
  } else {
    logging::Get("sink.iceberg")
        ->warn("bucket={} endpoint={}: no AWS credentials found; sending unsigned requests",
               settings.bucket, settings.endpoint);
  }
  options.endpoint = settings.endpoint;
  // Servers other than AWS (s3rver) ignore If-None-Match; docs/sinks/iceberg.md says what a
  // second writer of one table can then do.
  options.honours_if_none_match = settings.endpoint.empty();
  options.http.request_timeout = std::chrono::milliseconds(120'000);
  options.http.connect_timeout = std::chrono::milliseconds(10'000);
  EDDY_ASSIGN_OR_RETURN(auto store, objstore::S3ObjectStore::Create(std::move(options)));
  return std::unique_ptr<objstore::ObjectStore>(std::move(store));
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

struct CachedTable {
  std::optional<ice::LoadedTable> loaded;
  std::optional<consume::Checkpoint> checkpoint;  // of this sink's latest snapshot
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
    catalog_ = std::make_unique<ice::HadoopCatalog>(store_.get());
    Status checked = store_->Check();
    if (!checked.ok()) return checked.WithContext(store_->Describe(settings_.prefix));
    return Status::Ok();
  }

  Result<std::optional<consume::Checkpoint>> ReadCheckpoint() override {
    std::lock_guard lock(mutex_);
    std::optional<consume::Checkpoint> earliest;
    std::string continuation;
    std::string prefix = settings_.prefix.empty() ? "" : settings_.prefix + "/";
    do {
      EDDY_ASSIGN_OR_RETURN(objstore::ListPage page, store_->List(prefix, "", continuation));
      for (const objstore::ObjectInfo& object : page.objects) {
        if (!object.key.ends_with(kFirstVersionSuffix)) continue;
        std::string table_key =
            object.key.substr(0, object.key.size() - kFirstVersionSuffix.size());
        EDDY_ASSIGN_OR_RETURN(CachedTable table, LoadTable(table_key));
        if (!table.checkpoint) continue;  // another sink's table
        earliest = earliest ? EarlierCheckpoint(*earliest, *table.checkpoint) : *table.checkpoint;
        tables_[table_key] = std::move(table);
      }
      continuation = std::move(page.continuation);
    } while (!continuation.empty());
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
      outcome.failure = Retriable(written);
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
  };
  struct TableChanges {
    model::TableId table;
    std::shared_ptr<const model::TableSchema> schema;  // the newest version among the records
    std::vector<const consume::SinkRecord*> records;
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

  Status Apply(const consume::SinkBatch& batch) {
    std::vector<TableChanges> tables;
    std::map<model::TableId, size_t> index;
    for (const consume::SinkRecord& record : batch.records) {
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
      if (inserted) tables.push_back(TableChanges{event.table, record.table_schema, {}});
      TableChanges& changes = tables[it->second];
      if (record.table_schema->version > changes.schema->version)
        changes.schema = record.table_schema;
      changes.records.push_back(&record);
    }
    for (const TableChanges& changes : tables) {
      EDDY_RETURN_IF_ERROR(Commit(batch, changes));
    }
    return Status::Ok();
  }

  Status Commit(const consume::SinkBatch& batch, const TableChanges& changes) {
    const std::string table_key = TableKey(changes.table);
    EDDY_ASSIGN_OR_RETURN(CachedTable * table, Table(table_key));
    const model::TableSchema& schema = *changes.schema;
    if (!table->loaded) {
      // Created first with the checkpoint before this batch, so that ReadCheckpoint never
      // passes this batch while the table lacks it (see the header).
      ice::Delta empty;
      empty.summary = Summary(previous_checkpoint_);
      EDDY_ASSIGN_OR_RETURN(
          ice::LoadedTable created,
          catalog_->CommitDelta(table_key, std::nullopt, schema, empty, Options()));
      table->loaded = std::move(created);
      table->checkpoint = previous_checkpoint_;
      logger_->info("sink={} created table={} location={}", sink_name_, changes.table.ToString(),
                    table->loaded->metadata.location);
    }

    const bool keyed = !schema.primary_key.empty();
    std::vector<KeyChange> keyed_changes;
    std::unordered_map<std::string, size_t> by_key;
    std::vector<const model::Row*> appended;
    uint64_t skipped_deletes = 0;
    size_t applied = 0;
    auto change_for = [&](model::Row key) -> KeyChange& {
      std::string text;
      for (const model::Field& field : key) model::AppendPartitionKeyValue(field.value, text);
      auto [it, inserted] = by_key.emplace(std::move(text), keyed_changes.size());
      if (inserted) keyed_changes.push_back(KeyChange{std::move(key), nullptr, {}, false});
      return keyed_changes[it->second];
    };
    for (const consume::SinkRecord* record : changes.records) {
      if (AlreadyApplied(table->checkpoint, *record)) continue;
      ++applied;
      const model::ChangeEvent& event = *record->event;
      const bool is_delete = event.op == model::Operation::kDelete;
      if (!keyed) {
        if (is_delete) {
          ++skipped_deletes;
        } else if (event.after) {
          appended.push_back(&*event.after);
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
        }
      }
      KeyChange& change = change_for(event.key);
      change.use_merged = false;
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
    }
    if (skipped_deletes > 0) {
      logger_->warn(
          "sink={} table={}: {} deletes not applied (the table has no primary key; "
          "it is append-only)",
          sink_name_, changes.table.ToString(), skipped_deletes);
    }
    if (applied == 0) return Status::Ok();  // everything here is in the table already

    ice::Delta delta;
    delta.summary = Summary(batch.checkpoint_after);
    if (keyed) {
      for (const KeyChange& change : keyed_changes) {
        delta.deleted_keys.push_back(&change.key);
        if (change.image != nullptr)
          delta.rows.push_back(change.use_merged ? &change.merged : change.image);
      }
    } else {
      delta.rows = std::move(appended);
    }
    EDDY_ASSIGN_OR_RETURN(
        ice::LoadedTable committed,
        catalog_->CommitDelta(table_key, table->loaded, schema, delta, Options()));
    table->loaded = std::move(committed);
    table->checkpoint = batch.checkpoint_after;
    return Status::Ok();
  }

  ice::CommitOptions Options() const {
    ice::CommitOptions options;
    options.compression = settings_.compression;
    return options;
  }

  const std::string sink_name_;
  const IcebergSettings settings_;
  std::unique_ptr<objstore::ObjectStore> store_;  // set by Open at the latest
  std::unique_ptr<ice::HadoopCatalog> catalog_;   // over store_, set by Open
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mutex_;  // serializes Deliver and ReadCheckpoint (and guards what follows)
  std::map<std::string, CachedTable> tables_;  // by table key
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

}  // namespace eddy::sink::iceberg

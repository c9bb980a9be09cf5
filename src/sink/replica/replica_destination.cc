#include "sink/replica/replica_destination.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "base/logging.h"
#include "base/setting_parse.h"
#include "consume/checkpoint_store.h"
#include "consume/sink_settings.h"
#include "model/event.h"

namespace eddy::sink::replica {
namespace {

using model::Operation;

constexpr size_t kRowsPerStatement = 1000;
constexpr size_t kBytesPerStatement = 4u << 20;

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  size_t at = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

Result<bool> ParseBool(std::string_view key, std::string_view value) {
  return ParseBoolSetting("replica", key, value);
}

// A statement the target refused, with the table (and DDL) named for the operator.
Status Named(const Status& status, const TargetTable& table, std::string_view statement = {}) {
  if (status.ok()) return status;
  std::string context = "target table " + table.ToString();
  if (!statement.empty()) context += ", applying `" + std::string(statement) + "`";
  return status.WithContext(context);
}

// What the target holds of one source table.
struct TableState {
  TargetTable target;
  std::shared_ptr<const model::TableSchema> schema;  // the source schema the target reflects
  model::ConnectorKind source = model::ConnectorKind::kUnknown;
  std::vector<std::string> key_columns;
};

// The collapsed change of one key within a batch.
struct KeyOp {
  bool is_delete = false;
  bool bulk = false;          // a new row (op r or c) alone in the batch: bulk path
  TextRow row;                // upserts: every column of the schema, in order
  std::vector<bool> present;  // upserts: which columns the change carries
  TextRow key;                // deletes: the key values in key order
};

// A change of a table without a primary key, applied in order.
struct KeylessOp {
  enum Kind { kInsert, kDeleteOne } kind = kInsert;
  TextRow row;
};

struct PendingTable {
  const TableState* state = nullptr;
  std::unordered_map<std::string, size_t> index;  // key text -> ops position
  std::vector<KeyOp> ops;
  std::vector<KeylessOp> keyless;
};

class ReplicaDestination final : public consume::Destination {
 public:
  ReplicaDestination(const consume::SinkSpec& spec, ReplicaSettings settings, Target target)
      : sink_name_(spec.name),
        settings_(std::move(settings)),
        target_(std::move(target)),
        dialect_(*target_.dialect),
        logger_(logging::Get("sink.replica")) {}

  Status Open() override {
    std::lock_guard lock(mu_);
    EDDY_RETURN_IF_ERROR(ConnectLocked());
    Status created = connection_->Execute(dialect_.CreateCheckpointTable(target_.default_space));
    if (!created.ok()) {
      connection_.reset();
      return created.WithContext("creating the checkpoint table " + target_.default_space + "." +
                                 std::string(kCheckpointTable) + " on " + target_.display_url +
                                 " (the sink's user needs CREATE on the schema/database)");
    }
    logger_->info("sink={} target={} connected", sink_name_, target_.display_url);
    return Status::Ok();
  }

  // Every acknowledged batch's checkpoint is in the checkpoint row of its own transaction.
  bool CommitsCheckpoint() const override { return true; }
  bool ReadsRecordIdText() const override { return false; }  // rows only

  Result<std::optional<consume::Checkpoint>> ReadCheckpoint() override {
    std::lock_guard lock(mu_);
    EDDY_ASSIGN_OR_RETURN(std::optional<consume::Checkpoint> stored, ReadStoredLocked());
    if (stored) {
      committed_ = *stored;
      logger_->info("sink={} resumes from the checkpoint in {}.{}", sink_name_,
                    target_.default_space, kCheckpointTable);
    }
    return stored;
  }

  consume::DeliveryOutcome Deliver(const consume::SinkBatch& batch) override {
    std::lock_guard lock(mu_);
    consume::DeliveryOutcome outcome;
    Status status = DeliverLocked(batch);
    if (status.ok()) {
      outcome.acknowledged = batch.records.size();
      return outcome;
    }
    outcome.failure = status;
    return outcome;
  }

  Status Close() override {
    std::lock_guard lock(mu_);
    connection_.reset();
    return Status::Ok();
  }

 private:
  Status ConnectLocked() {
    if (connection_) return Status::Ok();
    EDDY_ASSIGN_OR_RETURN(connection_, target_.connect());
    return Status::Ok();
  }

  Result<std::optional<consume::Checkpoint>> ReadStoredLocked() {
    EDDY_RETURN_IF_ERROR(ConnectLocked());
    auto rows = connection_->Query(dialect_.SelectCheckpoint(target_.default_space, sink_name_));
    if (!rows.ok()) {
      if (rows.status().IsRetriable()) connection_.reset();
      return rows.status().WithContext("reading the sink's checkpoint from " +
                                       target_.default_space + "." + std::string(kCheckpointTable));
    }
    if (rows->empty() || !(*rows)[0][0]) return std::optional<consume::Checkpoint>();
    auto decoded = consume::DecodeCheckpoint(*(*rows)[0][0]);
    if (!decoded.ok()) {
      return Corruption("the checkpoint row of sink '" + sink_name_ + "' in " +
                        target_.default_space + "." + std::string(kCheckpointTable) +
                        " does not decode (" + decoded.status().message() +
                        "); delete the row to start the sink over");
    }
    return std::optional<consume::Checkpoint>(std::move(*decoded));
  }

  Status DeliverLocked(const consume::SinkBatch& batch) {
    EDDY_RETURN_IF_ERROR(ConnectLocked());
    consume::Checkpoint next = consume::LaterCheckpoint(committed_, batch.checkpoint_after);
    if (in_doubt_) {
      // The last COMMIT's outcome was unknown: the checkpoint row says whether it happened.
      EDDY_ASSIGN_OR_RETURN(std::optional<consume::Checkpoint> stored, ReadStoredLocked());
      bool committed = stored && *stored == *in_doubt_;
      if (committed) committed_ = *in_doubt_;
      in_doubt_.reset();
      if (committed && committed_ == next) {
        logger_->info("sink={} the batch's commit had succeeded; not applying it again",
                      sink_name_);
        return Status::Ok();
      }
    }
    Status applied = ApplyLocked(batch, next, /*allow_bulk=*/true);
    if (!applied.ok() && bulk_conflict_) {
      // A snapshot row met an existing row (a replay): the same batch again, as upserts.
      logger_->info("sink={} a bulk load met existing rows; applying the batch as upserts",
                    sink_name_);
      applied = ApplyLocked(batch, next, /*allow_bulk=*/false);
    }
    if (!applied.ok()) return applied;
    committed_ = next;
    return Status::Ok();
  }

  Status ApplyLocked(const consume::SinkBatch& batch, const consume::Checkpoint& next,
                     bool allow_bulk) {
    bulk_conflict_ = false;
    allow_bulk_ = allow_bulk;
    Status status = ApplyInTransaction(batch, next);
    if (status.ok()) return status;
    if (connection_) connection_->Rollback();
    // DDL may have been rolled back with the batch: what the target holds is read again.
    tables_.clear();
    pending_.clear();
    pending_order_.clear();
    if (status.IsRetriable()) connection_.reset();
    return status;
  }

  Status ApplyInTransaction(const consume::SinkBatch& batch, const consume::Checkpoint& next) {
    EDDY_RETURN_IF_ERROR(connection_->Begin());
    for (const consume::SinkRecord& record : batch.records) {
      if (!record.event) continue;
      const model::ChangeEvent& event = *record.event;
      switch (event.op) {
        case Operation::kInsert:
        case Operation::kUpdate:
        case Operation::kDelete:
        case Operation::kRead: {
          if (!record.table_schema) {
            return FailedPrecondition("the change of table " + event.table.ToString() +
                                      " has no table schema in the stream's schema history; "
                                      "the replica cannot lay out its row");
          }
          EDDY_ASSIGN_OR_RETURN(const TableState* state,
                                EnsureTable(record.table_schema, event.source.connector, nullptr));
          EDDY_RETURN_IF_ERROR(Collect(*state, event));
          break;
        }
        case Operation::kTruncate: {
          EDDY_RETURN_IF_ERROR(FlushAll());
          TargetTable target = settings_.MapTable(event.table, target_.default_space);
          EDDY_ASSIGN_OR_RETURN(auto columns, connection_->Query(dialect_.SelectColumns(target)));
          if (columns.empty()) break;  // never created: nothing to truncate
          std::string sql = dialect_.Truncate(target);
          EDDY_RETURN_IF_ERROR(Named(connection_->Execute(sql), target, sql));
          break;
        }
        case Operation::kSchemaChange: {
          const auto& change = event.schema_change;
          if (change && (change->kind == model::SchemaChangeKind::kDropTable ||
                         change->kind == model::SchemaChangeKind::kRenameTable)) {
            EDDY_RETURN_IF_ERROR(FollowTableDdl(event, *change));
            break;
          }
          if (!change || !change->table_schema) break;
          auto schema = std::make_shared<const model::TableSchema>(*change->table_schema);
          // Only tables the target already holds follow here; new tables are created by
          // their first row.
          if (!tables_.contains(schema->table)) break;
          EDDY_RETURN_IF_ERROR(EnsureTable(schema, event.source.connector, &*change).status());
          break;
        }
        default:
          break;  // messages, transaction markers, heartbeats: nothing to apply
      }
    }
    EDDY_RETURN_IF_ERROR(FlushAll());
    EDDY_RETURN_IF_ERROR(connection_->Execute(dialect_.UpsertCheckpoint(
        target_.default_space, sink_name_, consume::EncodeCheckpoint(next))));
    Status committed = connection_->Commit();
    if (!committed.ok() && committed.IsRetriable()) in_doubt_ = next;
    return committed;
  }

  // ---- tables and schemas ----

  Result<std::vector<TargetColumn>> MapColumns(const model::TableSchema& schema,
                                               model::ConnectorKind source) {
    std::vector<TargetColumn> columns;
    for (const model::Column& column : schema.columns) {
      auto type = dialect_.MapType(column, source);
      if (!type.ok()) {
        return FailedPrecondition("table " + schema.table.ToString() + ": " +
                                  type.status().message());
      }
      columns.push_back({column.name, *type, column.nullable});
    }
    return columns;
  }

  Status Ddl(const TargetTable& table, const std::string& sql) {
    EDDY_RETURN_IF_ERROR(FlushAll());
    if (!dialect_.transactional_ddl()) {
      EDDY_RETURN_IF_ERROR(connection_->Commit());
      EDDY_RETURN_IF_ERROR(Named(connection_->Execute(sql), table, sql));
      return connection_->Begin();
    }
    logger_->info("sink={} target={} {}", sink_name_, table.ToString(), sql);
    return Named(connection_->Execute(sql), table, sql);
  }

  // Makes the target table match `schema` (creating or altering it) and returns its state.
  Result<const TableState*> EnsureTable(const std::shared_ptr<const model::TableSchema>& schema,
                                        model::ConnectorKind source,
                                        const model::SchemaChange* change) {
    auto it = tables_.find(schema->table);
    if (it != tables_.end()) {
      const model::TableSchema& old = *it->second.schema;
      if (it->second.schema == schema || old.columns == schema->columns) {
        return &it->second;
      }
      EDDY_RETURN_IF_ERROR(Alter(it->second, *schema, source, change));
      it->second.schema = schema;
      it->second.key_columns = schema->primary_key;
      return &it->second;
    }
    TableState state;
    state.target = settings_.MapTable(schema->table, target_.default_space);
    state.schema = schema;
    state.source = source;
    state.key_columns = schema->primary_key;
    EDDY_ASSIGN_OR_RETURN(std::vector<TargetColumn> columns, MapColumns(*schema, source));
    auto existing = connection_->Query(dialect_.SelectColumns(state.target));
    if (!existing.ok()) return Named(existing.status(), state.target);
    if (existing->empty()) {
      if (!settings_.create_tables) {
        return FailedPrecondition("target table " + state.target.ToString() +
                                  " (for source table " + schema->table.QualifiedName() +
                                  ") does not exist and create_tables is false: create it, or "
                                  "set create_tables=true");
      }
      EDDY_RETURN_IF_ERROR(
          Ddl(state.target, dialect_.CreateTable(state.target, columns, schema->primary_key)));
    } else {
      // An existing table (created by an earlier run or by hand): columns it lacks are added;
      // the rest is taken as it is (the target's own types win).
      std::set<std::string> have;
      for (const TextRow& row : *existing) {
        if (row[0]) have.insert(*row[0]);
      }
      for (const TargetColumn& column : columns) {
        if (have.contains(column.name)) continue;
        TargetColumn added = column;
        added.nullable = true;
        EDDY_RETURN_IF_ERROR(Ddl(state.target, dialect_.AddColumn(state.target, added)));
      }
    }
    auto [inserted, _] = tables_.emplace(schema->table, std::move(state));
    return &inserted->second;
  }

  Status Alter(const TableState& state, const model::TableSchema& next, model::ConnectorKind source,
               const model::SchemaChange* change) {
    const model::TableSchema& old = *state.schema;
    EDDY_ASSIGN_OR_RETURN(std::vector<TargetColumn> old_mapped, MapColumns(old, source));
    EDDY_ASSIGN_OR_RETURN(std::vector<TargetColumn> new_mapped, MapColumns(next, source));
    std::vector<size_t> removed;  // indexes into old
    std::vector<size_t> added;    // indexes into next
    for (size_t i = 0; i < old.columns.size(); ++i) {
      if (!next.FindColumn(old.columns[i].name)) removed.push_back(i);
    }
    for (size_t i = 0; i < next.columns.size(); ++i) {
      if (!old.FindColumn(next.columns[i].name)) added.push_back(i);
    }
    // A rename is one column gone and one come at the same place with the same type: what
    // RENAME COLUMN produces. A statement the source classified as a rename says so outright.
    if (removed.size() == 1 && added.size() == 1 &&
        old_mapped[removed[0]].type == new_mapped[added[0]].type &&
        (removed[0] == added[0] ||
         (change && change->kind == model::SchemaChangeKind::kRenameColumn))) {
      EDDY_RETURN_IF_ERROR(
          Ddl(state.target, dialect_.RenameColumn(state.target, old.columns[removed[0]].name,
                                                  next.columns[added[0]].name)));
      removed.clear();
      added.clear();
    }
    for (size_t i : removed) {
      EDDY_RETURN_IF_ERROR(
          Ddl(state.target, dialect_.DropColumn(state.target, old.columns[i].name)));
    }
    for (size_t i : added) {
      TargetColumn column = new_mapped[i];
      column.nullable = true;  // existing rows have no value for it yet
      EDDY_RETURN_IF_ERROR(Ddl(state.target, dialect_.AddColumn(state.target, column)));
    }
    for (size_t i = 0; i < next.columns.size(); ++i) {
      const model::Column* before = old.FindColumn(next.columns[i].name);
      if (!before) continue;
      size_t old_index = static_cast<size_t>(before - old.columns.data());
      if (old_mapped[old_index].type != new_mapped[i].type) {
        EDDY_RETURN_IF_ERROR(
            Ddl(state.target, dialect_.AlterColumnType(state.target, new_mapped[i])));
      }
      // NULL <-> NOT NULL (after a type change, which may have restated it; harmless again).
      if (before->nullable != next.columns[i].nullable) {
        EDDY_RETURN_IF_ERROR(Ddl(state.target, dialect_.SetNullable(state.target, new_mapped[i])));
      }
    }
    // A new primary key (columns added to or removed from it, another column): the rows
    // collected so far were flushed under the old key by Ddl, the rest use the new one.
    if (old.primary_key != next.primary_key) {
      EDDY_RETURN_IF_ERROR(
          Ddl(state.target, dialect_.ReplacePrimaryKey(state.target, next.primary_key)));
    }
    return Status::Ok();
  }

  // DROP TABLE and RENAME TABLE in the source (MySQL/MariaDB schema-change events; PostgreSQL's
  // logical decoding carries no DDL). A dropped table is dropped in the target (as DMS does by
  // default); a renamed one renamed to where the new name maps.
  Status FollowTableDdl(const model::ChangeEvent& event, const model::SchemaChange& change) {
    if (change.kind == model::SchemaChangeKind::kDropTable) {
      TargetTable target = settings_.MapTable(event.table, target_.default_space);
      EDDY_RETURN_IF_ERROR(Ddl(target, dialect_.DropTable(target)));
      tables_.erase(event.table);
      return Status::Ok();
    }
    if (change.previous_name.empty()) return Status::Ok();
    model::TableId before = event.table;
    before.name = change.previous_name;
    TargetTable from = settings_.MapTable(before, target_.default_space);
    TargetTable to = settings_.MapTable(event.table, target_.default_space);
    if (from == to) return Status::Ok();
    std::string sql = dialect_.RenameTable(from, to);
    if (sql.empty()) {
      return FailedPrecondition("source table " + before.QualifiedName() + " was renamed to " +
                                event.table.QualifiedName() + " (" + change.ddl +
                                "), which maps target table " + from.ToString() + " to " +
                                to.ToString() + ": the " + std::string(dialect_.engine_name()) +
                                " target cannot move a table to another schema by renaming "
                                "it; move it by hand and resume, or map both names alike "
                                "(tables=)");
    }
    EDDY_RETURN_IF_ERROR(Ddl(from, sql));
    tables_.erase(before);
    tables_.erase(event.table);
    return Status::Ok();
  }

  // ---- rows ----

  Status RenderRow(const TableState& state, const model::Row& image, TextRow* row,
                   std::vector<bool>* present) {
    const model::TableSchema& schema = *state.schema;
    row->assign(schema.columns.size(), TextValue());
    present->assign(schema.columns.size(), false);
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      const model::Value* value = model::FindField(image, schema.columns[i].name);
      if (value == nullptr || value->is_unavailable()) continue;
      auto text = dialect_.RenderValue(*value, schema.columns[i], state.source);
      if (!text.ok()) return Named(text.status(), state.target);
      (*row)[i] = std::move(*text);
      (*present)[i] = true;
    }
    return Status::Ok();
  }

  Result<TextRow> RenderKey(const TableState& state, const model::Row& image) {
    TextRow key;
    for (const std::string& name : state.key_columns) {
      const model::Value* value = model::FindField(image, name);
      const model::Column* column = state.schema->FindColumn(name);
      if (value == nullptr || column == nullptr || value->is_unavailable()) {
        return FailedPrecondition("target table " + state.target.ToString() +
                                  ": a change lacks the value of key column '" + name + "'");
      }
      EDDY_ASSIGN_OR_RETURN(TextValue text, dialect_.RenderValue(*value, *column, state.source));
      key.push_back(std::move(text));
    }
    return key;
  }

  static std::string KeyText(const TextRow& key) {
    std::string text;
    for (const TextValue& value : key) {
      if (!value) {
        text += "N;";
        continue;
      }
      text += std::to_string(value->size()) + ":" + *value;
    }
    return text;
  }

  PendingTable& Pending(const TableState& state) {
    auto [it, inserted] = pending_.try_emplace(&state);
    if (inserted) {
      it->second.state = &state;
      pending_order_.push_back(&state);
    }
    return it->second;
  }

  void PutDelete(PendingTable& pending, TextRow key) {
    std::string text = KeyText(key);
    KeyOp op;
    op.is_delete = true;
    op.key = std::move(key);
    auto it = pending.index.find(text);
    if (it == pending.index.end()) {
      pending.index.emplace(std::move(text), pending.ops.size());
      pending.ops.push_back(std::move(op));
    } else {
      pending.ops[it->second] = std::move(op);
    }
  }

  void PutUpsert(PendingTable& pending, TextRow key, TextRow row, std::vector<bool> present,
                 bool new_row) {
    std::string text = KeyText(key);
    KeyOp op;
    op.key = std::move(key);
    op.row = std::move(row);
    op.present = std::move(present);
    auto it = pending.index.find(text);
    if (it == pending.index.end()) {
      op.bulk = new_row && allow_bulk_ &&
                std::all_of(op.present.begin(), op.present.end(), [](bool p) { return p; });
      pending.index.emplace(std::move(text), pending.ops.size());
      pending.ops.push_back(std::move(op));
      return;
    }
    KeyOp& previous = pending.ops[it->second];
    if (!previous.is_delete) {
      // Values the change does not carry (unchanged TOAST) are the earlier change's.
      for (size_t i = 0; i < op.row.size(); ++i) {
        if (!op.present[i] && previous.present[i]) {
          op.row[i] = std::move(previous.row[i]);
          op.present[i] = true;
        }
      }
    }
    op.bulk = false;
    previous = std::move(op);
  }

  Status Collect(const TableState& state, const model::ChangeEvent& event) {
    PendingTable& pending = Pending(state);
    const bool keyed = !state.key_columns.empty();
    if (event.op == Operation::kDelete) {
      if (!event.before) return Status::Ok();
      if (keyed) {
        EDDY_ASSIGN_OR_RETURN(TextRow key, RenderKey(state, *event.before));
        PutDelete(pending, std::move(key));
        return Status::Ok();
      }
      TextRow row;
      std::vector<bool> present;
      EDDY_RETURN_IF_ERROR(RenderRow(state, *event.before, &row, &present));
      pending.keyless.push_back({KeylessOp::kDeleteOne, std::move(row)});
      return Status::Ok();
    }
    if (!event.after) return Status::Ok();
    TextRow row;
    std::vector<bool> present;
    EDDY_RETURN_IF_ERROR(RenderRow(state, *event.after, &row, &present));
    if (!keyed) {
      if (event.op == Operation::kUpdate) {
        if (!event.before) {
          return FailedPrecondition(
              "target table " + state.target.ToString() + ": source table " +
              event.table.QualifiedName() +
              " has no primary key and its updates carry no old row, so the replica cannot "
              "find the row to change; add a primary key or set REPLICA IDENTITY FULL "
              "(PostgreSQL) / binlog_row_image=FULL (MySQL)");
        }
        TextRow old;
        std::vector<bool> old_present;
        EDDY_RETURN_IF_ERROR(RenderRow(state, *event.before, &old, &old_present));
        pending.keyless.push_back({KeylessOp::kDeleteOne, std::move(old)});
      }
      pending.keyless.push_back({KeylessOp::kInsert, std::move(row)});
      return Status::Ok();
    }
    EDDY_ASSIGN_OR_RETURN(TextRow key, RenderKey(state, *event.after));
    if (event.op == Operation::kUpdate && event.before) {
      // A key change: the row under the old key goes.
      auto old_key = RenderKey(state, *event.before);
      if (old_key.ok() && *old_key != key) PutDelete(pending, std::move(*old_key));
    }
    // A snapshot row or an insert is a new row in the target (exactly once: nothing of the
    // key is there yet), so when its key sees nothing else in the batch it can take the bulk
    // path; a row that is there after all (a table filled by hand, a snapshot started over)
    // makes the batch fall back to upserts.
    PutUpsert(pending, std::move(key), std::move(row), std::move(present),
              event.op == Operation::kRead || event.op == Operation::kInsert);
    return Status::Ok();
  }

  Status FlushAll() {
    for (const TableState* state : pending_order_) {
      EDDY_RETURN_IF_ERROR(Flush(pending_[state]));
    }
    pending_.clear();
    pending_order_.clear();
    return Status::Ok();
  }

  Status Flush(PendingTable& pending) {
    const TableState& state = *pending.state;
    const TargetTable& table = state.target;
    std::vector<std::string> columns;
    for (const model::Column& column : state.schema->columns) columns.push_back(column.name);

    // Deletes first: every key has one op, so the order between keys does not matter.
    std::vector<TextRow> keys;
    size_t key_bytes = 0;
    auto flush_deletes = [&]() -> Status {
      if (keys.empty()) return Status::Ok();
      Status status =
          Named(connection_->Execute(dialect_.Delete(table, state.key_columns, keys)), table);
      keys.clear();
      key_bytes = 0;
      return status;
    };
    std::vector<TextRow> bulk;
    // Upserts grouped by which columns they carry (full rows are one group).
    std::map<std::vector<bool>, std::vector<TextRow>> upserts;
    for (KeyOp& op : pending.ops) {
      if (op.is_delete) {
        for (const TextValue& v : op.key) key_bytes += v ? v->size() : 0;
        keys.push_back(std::move(op.key));
        if (keys.size() >= kRowsPerStatement || key_bytes >= kBytesPerStatement) {
          EDDY_RETURN_IF_ERROR(flush_deletes());
        }
      } else if (op.bulk) {
        bulk.push_back(std::move(op.row));
      } else {
        upserts[op.present].push_back(std::move(op.row));
      }
    }
    EDDY_RETURN_IF_ERROR(flush_deletes());
    if (!bulk.empty()) {
      Status loaded = connection_->BulkLoad(table, columns, bulk);
      if (!loaded.ok() && loaded.code() == ErrorCode::kFailedPrecondition &&
          (loaded.message().find("23505") != std::string::npos ||
           loaded.message().find("1062") != std::string::npos)) {
        bulk_conflict_ = true;
      }
      EDDY_RETURN_IF_ERROR(Named(loaded, table));
    }
    for (auto& [present, rows] : upserts) {
      std::vector<std::string> listed;
      std::vector<size_t> indexes;
      for (size_t i = 0; i < present.size(); ++i) {
        if (present[i]) {
          listed.push_back(columns[i]);
          indexes.push_back(i);
        }
      }
      std::vector<TextRow> part;
      size_t bytes = 0;
      auto flush_part = [&]() -> Status {
        if (part.empty()) return Status::Ok();
        Status status = Named(
            connection_->Execute(dialect_.Upsert(table, listed, state.key_columns, part)), table);
        part.clear();
        bytes = 0;
        return status;
      };
      for (TextRow& row : rows) {
        TextRow projected;
        projected.reserve(indexes.size());
        for (size_t i : indexes) {
          bytes += row[i] ? row[i]->size() + 3 : 4;
          projected.push_back(std::move(row[i]));
        }
        part.push_back(std::move(projected));
        if (part.size() >= kRowsPerStatement || bytes >= kBytesPerStatement) {
          EDDY_RETURN_IF_ERROR(flush_part());
        }
      }
      EDDY_RETURN_IF_ERROR(flush_part());
    }

    // Tables without a key: in order, consecutive inserts as one statement.
    std::vector<TextRow> inserts;
    auto flush_inserts = [&]() -> Status {
      if (inserts.empty()) return Status::Ok();
      Status status =
          Named(connection_->Execute(dialect_.Upsert(table, columns, {}, inserts)), table);
      inserts.clear();
      return status;
    };
    for (KeylessOp& op : pending.keyless) {
      if (op.kind == KeylessOp::kInsert) {
        inserts.push_back(std::move(op.row));
        if (inserts.size() >= kRowsPerStatement) EDDY_RETURN_IF_ERROR(flush_inserts());
        continue;
      }
      EDDY_RETURN_IF_ERROR(flush_inserts());
      EDDY_RETURN_IF_ERROR(
          Named(connection_->Execute(dialect_.DeleteOneRow(table, columns, op.row)), table));
    }
    EDDY_RETURN_IF_ERROR(flush_inserts());
    pending.ops.clear();
    pending.index.clear();
    pending.keyless.clear();
    return Status::Ok();
  }

  const std::string sink_name_;
  const ReplicaSettings settings_;
  const Target target_;
  const TargetDialect& dialect_;
  std::shared_ptr<logging::Logger> logger_;

  std::mutex mu_;  // serializes Deliver and guards everything below
  std::unique_ptr<TargetConnection> connection_;
  consume::Checkpoint committed_;                // the checkpoint row as last committed
  std::optional<consume::Checkpoint> in_doubt_;  // a COMMIT with an unknown outcome
  std::map<model::TableId, TableState> tables_;
  std::map<const TableState*, PendingTable> pending_;
  std::vector<const TableState*> pending_order_;
  bool allow_bulk_ = true;
  bool bulk_conflict_ = false;
};

constexpr std::string_view kOwnKeys[] = {"table_name", "tables", "create_tables"};

}  // namespace

bool IsReplicaSetting(std::string_view key) {
  return std::find(std::begin(kOwnKeys), std::end(kOwnKeys), key) != std::end(kOwnKeys);
}

Result<ReplicaSettings> ReplicaSettings::Parse(const std::map<std::string, std::string>& settings) {
  ReplicaSettings parsed;
  if (auto it = settings.find("table_name"); it != settings.end()) {
    if (it->second.empty()) {
      return InvalidArgument(
          "replica setting 'table_name' is empty; write a template such as "
          "\"${table}\" or \"${schema}_${table}\"");
    }
    std::string rest = it->second;
    for (std::string_view known : {"${db}", "${schema}", "${table}"})
      rest = Replace(rest, known, "");
    if (rest.find("${") != std::string::npos) {
      return InvalidArgument("replica setting 'table_name' (\"" + it->second +
                             "\") uses an unknown placeholder; the known ones are ${db}, "
                             "${schema} and ${table}");
    }
    parsed.table_name_template = it->second;
  }
  if (auto it = settings.find("tables"); it != settings.end()) {
    std::string_view text = it->second;
    while (!text.empty()) {
      size_t comma = text.find(',');
      std::string_view pair = text.substr(0, comma);
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      if (pair.empty()) continue;
      size_t equals = pair.find('=');
      if (equals == std::string_view::npos || equals == 0 || equals + 1 == pair.size()) {
        return InvalidArgument("replica setting 'tables' has \"" + std::string(pair) +
                               "\"; write SOURCE=TARGET pairs separated by commas, e.g. "
                               "public.orders=orders_copy,shop.items=archive.items");
      }
      parsed.tables[std::string(pair.substr(0, equals))] = std::string(pair.substr(equals + 1));
    }
  }
  if (auto it = settings.find("create_tables"); it != settings.end()) {
    EDDY_ASSIGN_OR_RETURN(parsed.create_tables, ParseBool("create_tables", it->second));
  }
  return parsed;
}

TargetTable ReplicaSettings::MapTable(const model::TableId& table,
                                      std::string_view default_space) const {
  std::string name;
  if (auto it = tables.find(table.QualifiedName()); it != tables.end()) {
    name = it->second;
  } else {
    name = Replace(table_name_template, "${db}", table.database);
    name = Replace(name, "${schema}", table.schema);
    name = Replace(name, "${table}", table.name);
  }
  size_t dot = name.find('.');
  if (dot != std::string::npos) return {name.substr(0, dot), name.substr(dot + 1)};
  return {std::string(default_space), name};
}

Result<std::unique_ptr<consume::Destination>> MakeReplicaDestination(const consume::SinkSpec& spec,
                                                                     ReplicaSettings settings,
                                                                     Target target) {
  if (!target.dialect || !target.connect) {
    return Internal("replica target for sink '" + spec.name + "' has no dialect or connection");
  }
  // The checkpoint committed with a batch is one position per shard: with several lanes a
  // lane behind another would hold it back and a restart would apply the other lane's
  // batches again.
  if (auto lanes = spec.settings.find("parallelization_factor");
      lanes != spec.settings.end() && lanes->second != "1") {
    return InvalidArgument("replica setting 'parallelization_factor' is \"" + lanes->second +
                           "\": the replica applies one batch at a time in order, in one "
                           "target transaction with its checkpoint; remove "
                           "parallelization_factor (batch_size makes batches larger)");
  }
  return std::unique_ptr<consume::Destination>(
      new ReplicaDestination(spec, std::move(settings), std::move(target)));
}

Result<std::unique_ptr<consume::Destination>> MakeReplicaDestination(const consume::SinkSpec& spec,
                                                                     TargetMaker make_target) {
  std::map<std::string, std::string> settings = consume::DestinationSettings(spec);
  EDDY_ASSIGN_OR_RETURN(Target target, make_target(spec.url, settings));
  EDDY_ASSIGN_OR_RETURN(ReplicaSettings replica, ReplicaSettings::Parse(settings));
  return MakeReplicaDestination(spec, std::move(replica), std::move(target));
}

}  // namespace eddy::sink::replica

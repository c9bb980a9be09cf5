// Turns decoded pgoutput messages into model ChangeEvents: keeps the relation cache (one entry
// per relation id, replaced by every Relation message, with a schema version that increases
// when the column list or types change), resolves types, and builds key/before/after rows
// according to the table's replica identity:
//
//   identity   insert        update                                 delete
//   DEFAULT    after         after; before = key columns only       before = key columns
//              (PK)                  when the key changed
//   INDEX      as DEFAULT with the index columns
//   FULL       after         after; before = every column            before = every column
//   NOTHING    after         after only                             not published by PG
//
// An unchanged TOAST value ('u') becomes the old tuple's value when the server sent a full old
// tuple (REPLICA IDENTITY FULL), otherwise Value::Unavailable(); never NULL.
//
// The event key is the table's primary key (from the catalog when available, else the
// replica identity columns of the Relation message); empty for tables without either.
//
// The builder fills op, table, key, before, after, schema_version, source.connector and
// message; the caller sets positions, commit time, transaction id and ordinal.
//
// Thread safety: one thread (the capture loop).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/byte_appender.h"
#include "base/status.h"
#include "model/event.h"
#include "model/schema_registry.h"
#include "source/postgres/pg_types.h"
#include "source/postgres/pgoutput.h"

namespace eddy::source::postgres {

// Catalog facts the stream does not carry. Implemented over an ordinary SQL connection by the
// capture; tests supply a fake.
class CatalogLookup {
 public:
  virtual ~CatalogLookup() = default;
  // Primary key column names in key order; empty when the table has none.
  virtual Result<std::vector<std::string>> PrimaryKey(uint32_t relation_id) = 0;
  // pg_type rows for `type_oid` and the types it refers to (array element, domain base).
  virtual Result<std::vector<CatalogType>> Types(uint32_t type_oid) = 0;
  // Names of the table's NOT NULL columns (pgoutput Relation messages do not say). The
  // default knows none: every column but the key's is then nullable.
  virtual Result<std::vector<std::string>> NotNullColumns(uint32_t /*relation_id*/) {
    return std::vector<std::string>();
  }
};

struct RelationInfo {
  uint32_t relation_id = 0;
  model::TableSchema schema;
  std::vector<uint32_t> type_oids;  // per column
  std::vector<ResolvedType> types;  // per column, resolved when the relation arrived
  std::vector<int32_t> type_modifiers;
  ReplicaIdentity replica_identity = ReplicaIdentity::kDefault;
  std::vector<size_t> key_columns;  // indexes into schema.columns, in key order
};

class EventBuilder {
 public:
  // `database` names the captured database in TableIds; `catalog` may be null (then the key
  // is the replica identity and unknown types stay typed text). `schemas` (may be null; must
  // outlive the builder) gives relations their schema versions and records them durably
  // before any event uses them; without it versions count from 1 in this builder.
  EventBuilder(std::string database, CatalogLookup* catalog, std::string server_name = "",
               model::SchemaRegistry* schemas = nullptr);

  // Caches the relation. Warns once per table that cannot be captured correctly.
  Status OnRelation(const RelationMessage& message);
  void OnType(const TypeMessage& message);

  Result<model::ChangeEvent> OnInsert(const InsertMessage& message);
  Result<model::ChangeEvent> OnUpdate(const UpdateMessage& message);
  Result<model::ChangeEvent> OnDelete(const DeleteMessage& message);
  // One event per truncated relation.
  Result<std::vector<model::ChangeEvent>> OnTruncate(const TruncateMessage& message);
  model::ChangeEvent OnMessage(const LogicalDecodingMessage& message);

  const RelationInfo* FindRelation(uint32_t relation_id) const;
  TypeRegistry& types() { return types_; }
  const std::string& database() const { return database_; }

  // Builds a row from text values in column order (the snapshot reads rows this way).
  Result<model::Row> RowFromText(const RelationInfo& relation,
                                 const std::vector<std::optional<std::string_view>>& values);
  // Appends model::EncodeValue of the value RowFromText would give column `column` of
  // `relation` for `text` (nullopt: NULL) to `out`, without building the Row: the blocking
  // snapshot's hot path (source/snapshot_records.h). Errors name the table and column.
  [[nodiscard]] Status EncodeTextValue(const RelationInfo& relation, size_t column,
                                       std::optional<std::string_view> text,
                                       std::string& out) const;
  // The same, through an appender (SnapshotRecordWriter::AddEncoded's).
  [[nodiscard]] Status EncodeTextValue(const RelationInfo& relation, size_t column,
                                       std::optional<std::string_view> text,
                                       ByteAppender& out) const;
  // The key of `row` for `relation` (empty when the relation has no key).
  static model::Row KeyOf(const RelationInfo& relation, const model::Row& row);

  // Gives `relation.schema` its version (see the constructor) without caching the relation:
  // the snapshot's relations, built by MakeRelation.
  [[nodiscard]] Status StampVersion(RelationInfo& relation);

  // Makes a RelationInfo from catalog facts (the snapshot, before any Relation message).
  RelationInfo MakeRelation(uint32_t relation_id, std::string_view schema, std::string_view name,
                            const std::vector<RelationColumn>& columns, ReplicaIdentity identity);

 private:
  Result<const RelationInfo*> Relation(uint32_t relation_id, const char* message);
  // `old_full`: the full old tuple to take unchanged TOAST values from.
  Result<model::Row> BuildRow(const RelationInfo& relation, const TupleData& tuple,
                              const TupleData* old_full, bool key_only);
  void EnsureTypesKnown(uint32_t type_oid);
  model::ChangeEvent NewEvent(model::Operation op, const RelationInfo& relation) const;

  std::string database_;
  CatalogLookup* catalog_;
  std::string server_name_;
  model::SchemaRegistry* schemas_;
  TypeRegistry types_;
  std::unordered_map<uint32_t, RelationInfo> relations_;
  std::unordered_map<uint32_t, uint32_t> versions_;
  std::set<uint32_t> warned_;
};

}  // namespace eddy::source::postgres

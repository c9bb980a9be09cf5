#include "source/postgres/event_builder.h"

#include <algorithm>

#include "base/byte_appender.h"
#include "base/bytes.h"
#include "base/integer_text.h"
#include "base/logging.h"
#include "model/event_codec.h"

namespace eddy::source::postgres {
namespace {

using model::ChangeEvent;
using model::Operation;
using model::Row;
using model::Value;

std::shared_ptr<logging::Logger> Logger() { return logging::Get("postgres"); }

bool SameShape(const RelationInfo& a, const RelationInfo& b) {
  if (a.schema.columns.size() != b.schema.columns.size()) return false;
  for (size_t i = 0; i < a.schema.columns.size(); ++i) {
    if (a.schema.columns[i].name != b.schema.columns[i].name || a.type_oids[i] != b.type_oids[i] ||
        a.type_modifiers[i] != b.type_modifiers[i] ||
        a.schema.columns[i].primary_key_ordinal != b.schema.columns[i].primary_key_ordinal) {
      return false;
    }
  }
  return a.replica_identity == b.replica_identity && a.schema.table == b.schema.table;
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

EventBuilder::EventBuilder(std::string database, CatalogLookup* catalog, std::string server_name,
                           model::SchemaRegistry* schemas)
    : database_(std::move(database)),
      catalog_(catalog),
      server_name_(std::move(server_name)),
      schemas_(schemas) {}

Status EventBuilder::StampVersion(RelationInfo& relation) {
  if (schemas_ == nullptr) {
    // No registry (tests): the builder's own count, which starts over in every process.
    uint32_t& version = versions_[relation.relation_id];
    auto existing = relations_.find(relation.relation_id);
    if (version == 0 || existing == relations_.end() || !SameShape(existing->second, relation)) {
      ++version;
    }
    relation.schema.version = version;
    return Status::Ok();
  }
  Result<uint32_t> version = schemas_->AssignVersion(relation.schema);
  if (!version.ok()) {
    return version.status().WithContext("recording the schema of table " +
                                        relation.schema.table.QualifiedName());
  }
  relation.schema.version = *version;
  return Status::Ok();
}

void EventBuilder::EnsureTypesKnown(uint32_t type_oid) {
  if (types_.Knows(type_oid) || catalog_ == nullptr) return;
  Result<std::vector<CatalogType>> rows = catalog_->Types(type_oid);
  if (!rows.ok()) {
    Logger()->warn(
        "cannot read type from the catalog; values stay typed text type_oid={} error=\"{}\"",
        type_oid, rows.status().ToString());
    return;
  }
  for (CatalogType& row : *rows) types_.Add(std::move(row));
}

RelationInfo EventBuilder::MakeRelation(uint32_t relation_id, std::string_view schema,
                                        std::string_view name,
                                        const std::vector<RelationColumn>& columns,
                                        ReplicaIdentity identity) {
  RelationInfo info;
  info.relation_id = relation_id;
  info.replica_identity = identity;
  info.schema.table.database = database_;
  info.schema.table.schema = schema.empty() ? "pg_catalog" : std::string(schema);
  info.schema.table.name = std::string(name);
  for (const RelationColumn& column : columns) {
    EnsureTypesKnown(column.type_oid);
    info.schema.columns.push_back(
        DescribeColumn(column.name, column.type_oid, column.type_modifier, types_));
    info.type_oids.push_back(column.type_oid);
    info.types.push_back(ResolveType(column.type_oid, types_));
    info.type_modifiers.push_back(column.type_modifier);
  }

  // Key: the catalog's primary key when every PK column is in the relation's column list;
  // otherwise the replica identity columns (DEFAULT / INDEX). FULL flags every column, which
  // is not a key, so FULL without a primary key has no key.
  std::vector<std::string> primary_key;
  if (catalog_ != nullptr) {
    Result<std::vector<std::string>> pk = catalog_->PrimaryKey(relation_id);
    if (pk.ok()) {
      primary_key = std::move(*pk);
    } else {
      Logger()->warn("cannot read the primary key of table={} error=\"{}\"",
                     info.schema.table.QualifiedName(), pk.status().ToString());
    }
  }
  std::vector<size_t> key;
  for (const std::string& key_name : primary_key) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const RelationColumn& c) { return c.name == key_name; });
    if (it == columns.end()) {
      key.clear();
      break;
    }
    key.push_back(static_cast<size_t>(it - columns.begin()));
  }
  if (key.empty() && identity != ReplicaIdentity::kFull) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].is_key) key.push_back(i);
    }
  }
  if (catalog_ != nullptr) {
    Result<std::vector<std::string>> not_null = catalog_->NotNullColumns(relation_id);
    if (not_null.ok()) {
      for (model::Column& column : info.schema.columns) {
        if (std::find(not_null->begin(), not_null->end(), column.name) != not_null->end()) {
          column.nullable = false;
        }
      }
    } else {
      Logger()->warn("cannot read the NOT NULL columns of table={} error=\"{}\"",
                     info.schema.table.QualifiedName(), not_null.status().ToString());
    }
  }
  info.key_columns = key;
  for (size_t k = 0; k < key.size(); ++k) {
    info.schema.columns[key[k]].primary_key_ordinal = static_cast<int>(k + 1);
    info.schema.columns[key[k]].nullable = false;
    info.schema.primary_key.push_back(info.schema.columns[key[k]].name);
  }
  return info;
}

Status EventBuilder::OnRelation(const RelationMessage& message) {
  RelationInfo info = MakeRelation(message.relation_id, message.schema, message.name,
                                   message.columns, message.replica_identity);
  auto existing = relations_.find(message.relation_id);
  EDDY_RETURN_IF_ERROR(StampVersion(info));
  if (existing != relations_.end() && existing->second.schema.version != info.schema.version) {
    Logger()->info("table schema changed table={} version={} columns={}",
                   info.schema.table.QualifiedName(), info.schema.version,
                   info.schema.columns.size());
  }

  bool has_identity = std::any_of(message.columns.begin(), message.columns.end(),
                                  [](const RelationColumn& c) { return c.is_key; });
  if ((message.replica_identity == ReplicaIdentity::kNothing || !has_identity) &&
      warned_.insert(message.relation_id).second) {
    std::string qualified =
        QuoteIdent(info.schema.table.schema) + "." + QuoteIdent(info.schema.table.name);
    Logger()->warn(
        "table has no primary key and no replica identity: updates and deletes cannot be "
        "captured (PostgreSQL rejects them while the table is published) table={} fix=\"ALTER "
        "TABLE {} REPLICA IDENTITY FULL\" (or add a primary key)",
        info.schema.table.QualifiedName(), qualified);
  }
  relations_[message.relation_id] = std::move(info);
  return Status::Ok();
}

void EventBuilder::OnType(const TypeMessage& message) {
  types_.AddFromTypeMessage(message.type_oid, message.schema, message.name);
  EnsureTypesKnown(message.type_oid);
}

const RelationInfo* EventBuilder::FindRelation(uint32_t relation_id) const {
  auto it = relations_.find(relation_id);
  return it == relations_.end() ? nullptr : &it->second;
}

Result<const RelationInfo*> EventBuilder::Relation(uint32_t relation_id, const char* message) {
  const RelationInfo* info = FindRelation(relation_id);
  if (info == nullptr) {
    return Corruption(std::string("pgoutput ") + message + " for relation id " +
                      std::to_string(relation_id) + " that no Relation message described");
  }
  return info;
}

Result<Row> EventBuilder::BuildRow(const RelationInfo& relation, const TupleData& tuple,
                                   const TupleData* old_full, bool key_only) {
  const auto& columns = relation.schema.columns;
  if (tuple.size() != columns.size()) {
    return Corruption("tuple for table " + relation.schema.table.QualifiedName() + " has " +
                      std::to_string(tuple.size()) + " columns, its Relation message has " +
                      std::to_string(columns.size()));
  }
  std::vector<bool> in_key(columns.size(), false);
  for (size_t index : relation.key_columns) in_key[index] = true;
  Row row;
  row.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    // A key-only old tuple ('K') sends the identity columns; the others are null fillers.
    if (key_only && !in_key[i] && tuple[i].kind == TupleValueKind::kNull) continue;
    model::Field field;
    field.name = columns[i].name;
    switch (tuple[i].kind) {
      case TupleValueKind::kNull:
        field.value = Value::Null();
        break;
      case TupleValueKind::kUnchangedToast:
        if (old_full != nullptr && i < old_full->size() &&
            (*old_full)[i].kind == TupleValueKind::kText) {
          EDDY_ASSIGN_OR_RETURN(field.value,
                                DecodeTextValueAs(relation.types[i], (*old_full)[i].data, types_));
        } else if (old_full != nullptr && i < old_full->size() &&
                   (*old_full)[i].kind == TupleValueKind::kNull) {
          field.value = Value::Null();
        } else {
          field.value = Value::Unavailable();
        }
        break;
      case TupleValueKind::kText: {
        Result<Value> value = DecodeTextValueAs(relation.types[i], tuple[i].data, types_);
        if (!value.ok()) {
          return value.status().WithContext("table " + relation.schema.table.QualifiedName() +
                                            " column " + columns[i].name);
        }
        field.value = std::move(*value);
        break;
      }
      case TupleValueKind::kBinary:
        // eddy never asks for binary mode; keep the bytes rather than guess.
        field.value = Value::Bytes(std::string(tuple[i].data));
        break;
    }
    row.push_back(std::move(field));
  }
  return row;
}

Row EventBuilder::KeyOf(const RelationInfo& relation, const Row& row) {
  Row key;
  for (size_t index : relation.key_columns) {
    const std::string& name = relation.schema.columns[index].name;
    const Value* value = model::FindField(row, name);
    if (value != nullptr) key.push_back({name, *value});
  }
  return key;
}

ChangeEvent EventBuilder::NewEvent(Operation op, const RelationInfo& relation) const {
  ChangeEvent event;
  event.op = op;
  event.table = relation.schema.table;
  event.schema_version = relation.schema.version;
  event.source.connector = model::ConnectorKind::kPostgres;
  event.source.server_name = server_name_;
  return event;
}

Result<ChangeEvent> EventBuilder::OnInsert(const InsertMessage& message) {
  EDDY_ASSIGN_OR_RETURN(const RelationInfo* relation, Relation(message.relation_id, "Insert"));
  ChangeEvent event = NewEvent(Operation::kInsert, *relation);
  EDDY_ASSIGN_OR_RETURN(Row after, BuildRow(*relation, message.new_tuple, nullptr, false));
  event.key = KeyOf(*relation, after);
  event.after = std::move(after);
  return event;
}

Result<ChangeEvent> EventBuilder::OnUpdate(const UpdateMessage& message) {
  EDDY_ASSIGN_OR_RETURN(const RelationInfo* relation, Relation(message.relation_id, "Update"));
  ChangeEvent event = NewEvent(Operation::kUpdate, *relation);
  const TupleData* old_full =
      message.old_kind == OldTupleKind::kFull ? &message.old_tuple : nullptr;
  EDDY_ASSIGN_OR_RETURN(Row after, BuildRow(*relation, message.new_tuple, old_full, false));
  if (message.old_kind != OldTupleKind::kNone) {
    EDDY_ASSIGN_OR_RETURN(Row before, BuildRow(*relation, message.old_tuple, nullptr,
                                               message.old_kind == OldTupleKind::kKey));
    event.before = std::move(before);
  }
  event.key = KeyOf(*relation, after);
  event.after = std::move(after);
  return event;
}

Result<ChangeEvent> EventBuilder::OnDelete(const DeleteMessage& message) {
  EDDY_ASSIGN_OR_RETURN(const RelationInfo* relation, Relation(message.relation_id, "Delete"));
  ChangeEvent event = NewEvent(Operation::kDelete, *relation);
  EDDY_ASSIGN_OR_RETURN(Row before, BuildRow(*relation, message.old_tuple, nullptr,
                                             message.old_kind == OldTupleKind::kKey));
  event.key = KeyOf(*relation, before);
  event.before = std::move(before);
  return event;
}

Result<std::vector<ChangeEvent>> EventBuilder::OnTruncate(const TruncateMessage& message) {
  std::vector<ChangeEvent> events;
  for (uint32_t relation_id : message.relation_ids) {
    EDDY_ASSIGN_OR_RETURN(const RelationInfo* relation, Relation(relation_id, "Truncate"));
    events.push_back(NewEvent(Operation::kTruncate, *relation));
  }
  return events;
}

ChangeEvent EventBuilder::OnMessage(const LogicalDecodingMessage& message) {
  ChangeEvent event;
  event.op = Operation::kMessage;
  event.table.database = database_;
  event.source.connector = model::ConnectorKind::kPostgres;
  event.source.server_name = server_name_;
  event.message = model::LogicalMessage{std::string(message.prefix), std::string(message.content),
                                        message.transactional};
  return event;
}

Status EventBuilder::EncodeTextValue(const RelationInfo& relation, size_t column,
                                     std::optional<std::string_view> text, std::string& out) const {
  ByteAppender appender(out);
  return EncodeTextValue(relation, column, text, appender);
}

Status EventBuilder::EncodeTextValue(const RelationInfo& relation, size_t column,
                                     std::optional<std::string_view> text,
                                     ByteAppender& out) const {
  if (!text.has_value()) {
    out.PutByte(static_cast<uint8_t>(model::ValueType::kNull));  // EncodeValue(Value::Null())
    return Status::Ok();
  }
  // The most common types are written without the model::Value (and its string copy) in
  // between: the bytes model::EncodeValue writes for them.
  const model::ValueType type = relation.types[column].value_type;
  switch (type) {
    case model::ValueType::kText:
      out.PutByte(static_cast<uint8_t>(type));
      out.PutLengthPrefixed(*text);
      return Status::Ok();
    case model::ValueType::kInt64: {
      // Text that is not an integer takes the general path for its error.
      int64_t number = 0;
      if (ParseInt64Text(*text, number)) {
        out.PutByte(static_cast<uint8_t>(type));
        out.PutVarintSigned64(number);
        return Status::Ok();
      }
      break;
    }
    case model::ValueType::kTimestamp:
    case model::ValueType::kTimestampTz:
      // Finite values; the rest (infinity, out of range, errors) take the general path.
      if (std::optional<int64_t> micros =
              ParseFiniteTimestampMicros(*text, type == model::ValueType::kTimestampTz)) {
        out.PutByte(static_cast<uint8_t>(type));
        out.PutByte(static_cast<uint8_t>(model::TemporalKind::kFinite));
        out.PutVarintSigned64(*micros);
        return Status::Ok();
      }
      break;
    default:
      break;
  }
  Result<Value> value = DecodeTextValueAs(relation.types[column], *text, types_);
  if (!value.ok()) {
    return value.status().WithContext("table " + relation.schema.table.QualifiedName() +
                                      " column " + relation.schema.columns[column].name);
  }
  std::string encoded;
  model::EncodeValue(*value, encoded);
  out.Append(encoded);
  return Status::Ok();
}

Result<Row> EventBuilder::RowFromText(const RelationInfo& relation,
                                      const std::vector<std::optional<std::string_view>>& values) {
  TupleData tuple;
  tuple.reserve(values.size());
  for (const auto& value : values) {
    if (value.has_value()) {
      tuple.push_back({TupleValueKind::kText, *value});
    } else {
      tuple.push_back({TupleValueKind::kNull, {}});
    }
  }
  return BuildRow(relation, tuple, nullptr, false);
}

}  // namespace eddy::source::postgres

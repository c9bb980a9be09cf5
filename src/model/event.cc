#include "model/event.h"

#include "model/canonical_text.h"

namespace eddy::model {

std::string TableId::QualifiedName() const {
  return (schema.empty() ? database : schema) + "." + name;
}

std::string TableId::ToString() const {
  std::string out;
  for (const std::string* part : {&database, &schema, &name}) {
    if (part->empty()) continue;
    if (!out.empty()) out.push_back('.');
    out += *part;
  }
  return out;
}

std::string_view OperationCode(Operation op) {
  switch (op) {
    case Operation::kInsert: return "c";
    case Operation::kUpdate: return "u";
    case Operation::kDelete: return "d";
    case Operation::kRead: return "r";
    case Operation::kTruncate: return "t";
    case Operation::kMessage: return "m";
    case Operation::kSchemaChange: return "s";
    case Operation::kTransactionBegin: return "b";
    case Operation::kTransactionEnd: return "e";
    case Operation::kHeartbeat: return "h";
  }
  return "?";
}

bool IsRowChange(Operation op) {
  return op == Operation::kInsert || op == Operation::kUpdate || op == Operation::kDelete ||
         op == Operation::kRead;
}

std::string_view SchemaChangeKindName(SchemaChangeKind kind) {
  switch (kind) {
    case SchemaChangeKind::kOther: return "other";
    case SchemaChangeKind::kCreateTable: return "create-table";
    case SchemaChangeKind::kDropTable: return "drop-table";
    case SchemaChangeKind::kAlterTable: return "alter-table";
    case SchemaChangeKind::kRenameTable: return "rename-table";
    case SchemaChangeKind::kAddColumn: return "add-column";
    case SchemaChangeKind::kDropColumn: return "drop-column";
    case SchemaChangeKind::kRenameColumn: return "rename-column";
    case SchemaChangeKind::kColumnTypeChange: return "column-type-change";
    case SchemaChangeKind::kCreateDatabase: return "create-database";
    case SchemaChangeKind::kDropDatabase: return "drop-database";
    case SchemaChangeKind::kAlterDatabase: return "alter-database";
  }
  return "other";
}

Result<Operation> ParseOperationCode(std::string_view code) {
  if (code == "c") return Operation::kInsert;
  if (code == "u") return Operation::kUpdate;
  if (code == "d") return Operation::kDelete;
  if (code == "r") return Operation::kRead;
  if (code == "t") return Operation::kTruncate;
  if (code == "m") return Operation::kMessage;
  if (code == "s") return Operation::kSchemaChange;
  if (code == "b") return Operation::kTransactionBegin;
  if (code == "e") return Operation::kTransactionEnd;
  if (code == "h") return Operation::kHeartbeat;
  return InvalidArgument("unknown operation code \"" + std::string(code) +
                         "\" (expected one of c, u, d, r, t, m, s, b, e, h)");
}

std::string_view ConnectorName(ConnectorKind kind) {
  switch (kind) {
    case ConnectorKind::kUnknown: return "unknown";
    case ConnectorKind::kPostgres: return "postgresql";
    case ConnectorKind::kMysql: return "mysql";
    case ConnectorKind::kMariadb: return "mariadb";
  }
  return "unknown";
}

void AppendPartitionKeyTable(const TableId& table, std::string& out) {
  AppendLengthPrefixed(out, table.database);
  AppendLengthPrefixed(out, table.schema);
  AppendLengthPrefixed(out, table.name);
}

void AppendPartitionKeyValue(const Value& value, std::string& out) {
  AppendLengthPrefixed(out, value.CanonicalText());
}

std::string ChangeEvent::PartitionKey() const {
  std::string out;
  AppendPartitionKeyTable(table, out);
  for (const Field& field : key) AppendPartitionKeyValue(field.value, out);
  return out;
}

namespace {
void AppendRow(std::string& out, const Row& row) {
  out.push_back('{');
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out += ", ";
    out += row[i].name + "=" + row[i].value.DebugString();
  }
  out.push_back('}');
}
}  // namespace

std::string ChangeEvent::DebugString() const {
  std::string out = "op=" + std::string(OperationCode(op)) + " table=" + table.ToString() +
                    " key=";
  AppendRow(out, key);
  if (before) {
    out += " before=";
    AppendRow(out, *before);
  }
  if (after) {
    out += " after=";
    AppendRow(out, *after);
  }
  if (message) out += " message.prefix=" + message->prefix;
  if (schema_change) {
    out += " ddl.kind=" + std::string(SchemaChangeKindName(schema_change->kind)) +
           " ddl=" + schema_change->ddl;
  }
  if (transaction_order) {
    out += " tx.total_order=" + std::to_string(transaction_order->total_order) +
           " tx.collection_order=" + std::to_string(transaction_order->data_collection_order);
  }
  if (transaction_summary) {
    out += " tx.event_count=" + std::to_string(transaction_summary->event_count);
  }
  out += " position=" + position.ToString() + " commit_ns=" + std::to_string(commit_time_ns) +
         " tx=" + transaction_id + " ordinal=" + std::to_string(ordinal_in_transaction);
  return out;
}

}  // namespace eddy::model

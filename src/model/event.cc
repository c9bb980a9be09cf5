#include "model/event.h"

namespace eddy::model {

namespace {
void AppendLengthPrefixed(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out.push_back(':');
  out += text;
}
}  // namespace

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
  }
  return "?";
}

Result<Operation> ParseOperationCode(std::string_view code) {
  if (code == "c") return Operation::kInsert;
  if (code == "u") return Operation::kUpdate;
  if (code == "d") return Operation::kDelete;
  if (code == "r") return Operation::kRead;
  if (code == "t") return Operation::kTruncate;
  if (code == "m") return Operation::kMessage;
  return InvalidArgument("unknown operation code \"" + std::string(code) +
                         "\" (expected one of c, u, d, r, t, m)");
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

std::string ChangeEvent::PartitionKey() const {
  std::string out;
  AppendLengthPrefixed(out, table.database);
  AppendLengthPrefixed(out, table.schema);
  AppendLengthPrefixed(out, table.name);
  for (const Field& field : key) AppendLengthPrefixed(out, field.value.CanonicalText());
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
  out += " position=" + position.ToString() + " commit_ns=" + std::to_string(commit_time_ns) +
         " tx=" + transaction_id + " ordinal=" + std::to_string(ordinal_in_transaction);
  return out;
}

}  // namespace eddy::model

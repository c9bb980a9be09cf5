#include "source/mysql/schema_history.h"

#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "base/logging.h"

namespace eddy::source::mysql {
namespace {

constexpr uint8_t kKindTableSchema = 1;
constexpr uint8_t kKindDdl = 2;
constexpr uint32_t kMaxEntryBytes = 64u << 20;

// Compares what this file records of a column (name, source type, model type, nullability,
// key ordinal): a schema read back after a restart has only those, and must match the same
// table's schema built again from the server.
bool SameShape(const model::TableSchema& a, const model::TableSchema& b) {
  if (a.columns.size() != b.columns.size() || a.primary_key != b.primary_key) return false;
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const model::Column& x = a.columns[i];
    const model::Column& y = b.columns[i];
    if (x.name != y.name || x.source_type != y.source_type || x.type != y.type ||
        x.nullable != y.nullable || x.primary_key_ordinal != y.primary_key_ordinal) {
      return false;
    }
  }
  return true;
}

Result<model::TableSchema> DecodeSchema(ByteReader& reader) {
  model::TableSchema schema;
  EDDY_ASSIGN_OR_RETURN(std::string_view database, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(std::string_view name, reader.ReadLengthPrefixed());
  EDDY_ASSIGN_OR_RETURN(uint64_t version, reader.ReadVarint64());
  EDDY_ASSIGN_OR_RETURN(uint64_t count, reader.ReadVarint64());
  if (count > reader.remaining()) return Corruption("schema history: column count too large");
  schema.table.database = std::string(database);
  schema.table.name = std::string(name);
  schema.version = static_cast<uint32_t>(version);
  for (uint64_t i = 0; i < count; ++i) {
    model::Column column;
    EDDY_ASSIGN_OR_RETURN(std::string_view column_name, reader.ReadLengthPrefixed());
    EDDY_ASSIGN_OR_RETURN(std::string_view source_type, reader.ReadLengthPrefixed());
    EDDY_ASSIGN_OR_RETURN(uint8_t type, reader.ReadFixed8());
    EDDY_ASSIGN_OR_RETURN(uint8_t nullable, reader.ReadFixed8());
    EDDY_ASSIGN_OR_RETURN(uint64_t ordinal, reader.ReadVarint64());
    if (type > static_cast<uint8_t>(model::ValueType::kUnavailable)) {
      return Corruption("schema history: unknown value type " + std::to_string(type));
    }
    column.name = std::string(column_name);
    column.source_type = std::string(source_type);
    column.type = static_cast<model::ValueType>(type);
    column.nullable = nullable != 0;
    column.primary_key_ordinal = static_cast<int>(ordinal);
    schema.columns.push_back(std::move(column));
  }
  std::vector<std::pair<int, std::string>> key;
  for (const auto& column : schema.columns) {
    if (column.primary_key_ordinal > 0) key.emplace_back(column.primary_key_ordinal, column.name);
  }
  std::sort(key.begin(), key.end());
  for (auto& [ordinal, column_name] : key) schema.primary_key.push_back(column_name);
  return schema;
}

std::optional<int32_t> ParseModifier(std::string_view text) {
  int32_t value = 0;
  if (text.empty() || text.size() > 4) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

void SetTypeModifiers(model::TableSchema& schema) {
  for (model::Column& column : schema.columns) {
    std::string_view type = column.source_type;
    size_t open = type.find('(');
    size_t close = type.find(')', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) continue;
    std::string_view base = type.substr(0, open);
    std::string_view inside = type.substr(open + 1, close - open - 1);
    if (base == "decimal") {
      size_t comma = inside.find(',');
      if (comma == std::string_view::npos) continue;
      column.precision = ParseModifier(inside.substr(0, comma));
      column.scale = ParseModifier(inside.substr(comma + 1));
    } else if (base == "time" || base == "datetime" || base == "timestamp") {
      column.precision = ParseModifier(inside);
    }
  }
  for (model::Column& column : schema.columns) {
    std::string_view type = column.declared_type;
    size_t open = type.find('(');
    if (open == std::string_view::npos || !type.ends_with(')')) continue;
    std::string_view base = type.substr(0, open);
    if (base == "char" || base == "varchar" || base == "binary" || base == "varbinary" ||
        base == "bit") {
      column.length = ParseModifier(type.substr(open + 1, type.size() - open - 2));
    }
  }
}

Result<std::unique_ptr<SchemaHistory>> SchemaHistory::Open(io::FileSystem* file_system,
                                                           const std::string& directory) {
  std::unique_ptr<SchemaHistory> history(new SchemaHistory());
  history->file_system_ = file_system != nullptr ? file_system : io::DefaultFileSystem();
  EDDY_RETURN_IF_ERROR(history->file_system_->CreateDirectories(directory));
  history->path_ = io::JoinPath(directory, kSchemaHistoryFileName);
  EDDY_RETURN_IF_ERROR(history->Load());
  return history;
}

Status SchemaHistory::Load() {
  EDDY_ASSIGN_OR_RETURN(bool exists, file_system_->Exists(path_));
  if (!exists) {
    EDDY_ASSIGN_OR_RETURN(file_, file_system_->Open(path_, io::OpenMode::kCreateNew));
    EDDY_RETURN_IF_ERROR(file_system_->SyncDirectory(io::ParentPath(path_)));
    return Status::Ok();
  }
  EDDY_ASSIGN_OR_RETURN(std::string contents, file_system_->ReadFile(path_));
  ByteReader reader(contents);
  size_t valid = 0;
  std::string problem;
  while (!reader.empty()) {
    if (reader.remaining() < 8) {
      problem = "torn entry header";
      break;
    }
    uint32_t size = reader.ReadFixed32().value();
    uint32_t masked = reader.ReadFixed32().value();
    if (size > kMaxEntryBytes || size > reader.remaining()) {
      problem = "entry of " + std::to_string(size) + " bytes runs past the end";
      break;
    }
    std::string_view payload = reader.ReadBytes(size).value();
    if (crc32c::Unmask(masked) != crc32c::Value(payload)) {
      problem = "CRC mismatch";
      break;
    }
    ByteReader entry(payload);
    auto kind = entry.ReadFixed8();
    if (!kind.ok()) {
      problem = "empty entry";
      break;
    }
    if (*kind == kKindTableSchema) {
      auto schema = DecodeSchema(entry);
      if (!schema.ok()) {
        problem = schema.status().message();
        break;
      }
      latest_[schema->table] = std::move(*schema);
    } else if (*kind == kKindDdl) {
      ++ddl_count_;
    } else {
      problem = "unknown entry kind " + std::to_string(*kind);
      break;
    }
    valid = reader.consumed();
  }
  if (!problem.empty()) {
    logging::Get("mysql")->warn(
        "schema history tail dropped path={} offset={} dropped_bytes={} reason=\"{}\"", path_,
        valid, contents.size() - valid, problem);
    EDDY_RETURN_IF_ERROR(file_system_->Truncate(path_, valid));
  }
  EDDY_ASSIGN_OR_RETURN(file_, file_system_->Open(path_, io::OpenMode::kReadWrite));
  return Status::Ok();
}

Status SchemaHistory::Append(const std::string& payload) {
  std::string entry;
  PutFixed32(entry, static_cast<uint32_t>(payload.size()));
  PutFixed32(entry, crc32c::Mask(crc32c::Value(payload)));
  entry += payload;
  EDDY_ASSIGN_OR_RETURN(uint64_t size_before, file_->Size());
  Status status = file_->Append(entry);
  if (status.ok()) status = file_->Sync();
  if (!status.ok()) {
    file_->Truncate(size_before).IgnoreError();  // a short write is dropped again on open
    return status.WithContext("writing the MySQL schema history " + path_);
  }
  return Status::Ok();
}

Status SchemaHistory::AssignVersion(model::TableSchema& schema, const BinlogPosition& position) {
  auto it = latest_.find(schema.table);
  if (it != latest_.end() && SameShape(it->second, schema)) {
    schema.version = it->second.version;
    return Status::Ok();
  }
  schema.version = it == latest_.end() ? 1 : it->second.version + 1;
  std::string payload;
  PutFixed8(payload, kKindTableSchema);
  PutLengthPrefixed(payload, schema.table.database);
  PutLengthPrefixed(payload, schema.table.name);
  PutVarint64(payload, schema.version);
  PutVarint64(payload, schema.columns.size());
  for (const model::Column& column : schema.columns) {
    PutLengthPrefixed(payload, column.name);
    PutLengthPrefixed(payload, column.source_type);
    PutFixed8(payload, static_cast<uint8_t>(column.type));
    PutFixed8(payload, column.nullable ? 1 : 0);
    PutVarint64(payload, static_cast<uint64_t>(column.primary_key_ordinal));
  }
  PutLengthPrefixed(payload, position.file);
  PutVarint64(payload, position.offset);
  EDDY_RETURN_IF_ERROR(Append(payload));
  latest_[schema.table] = schema;
  return Status::Ok();
}

Status SchemaHistory::RecordDdl(const std::string& database, const std::string& ddl,
                                const BinlogPosition& position) {
  std::string payload;
  PutFixed8(payload, kKindDdl);
  PutLengthPrefixed(payload, database);
  PutLengthPrefixed(payload, ddl);
  PutLengthPrefixed(payload, position.file);
  PutVarint64(payload, position.offset);
  EDDY_RETURN_IF_ERROR(Append(payload));
  ++ddl_count_;
  return Status::Ok();
}

const model::TableSchema* SchemaHistory::Latest(const model::TableId& table) const {
  auto it = latest_.find(table);
  return it == latest_.end() ? nullptr : &it->second;
}

}  // namespace eddy::source::mysql

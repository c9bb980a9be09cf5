#include "schema/schema_history_format.h"

#include "base/bytes.h"
#include "base/crc32c.h"
#include "model/event_codec.h"

namespace eddy::schema {

std::string EncodeSchemaEntry(const model::TableSchema& schema) {
  std::string payload;
  PutFixed8(payload, kSchemaEntryVersion);
  model::AppendTableSchema(schema, payload);
  std::string entry;
  entry.reserve(kSchemaEntryHeaderBytes + payload.size());
  PutFixed32(entry, static_cast<uint32_t>(payload.size()));
  PutFixed32(entry, crc32c::Mask(crc32c::Value(payload)));
  entry += payload;
  return entry;
}

Result<SchemaHistoryScan> ScanSchemaHistory(std::string_view bytes, size_t offset) {
  SchemaHistoryScan scan;
  if (offset == 0) {
    size_t head = std::min(bytes.size(), kSchemaHistoryMagic.size());
    if (bytes.substr(0, head) != kSchemaHistoryMagic.substr(0, head)) {
      return Corruption("not a schema history file (it does not start with " +
                        std::string(kSchemaHistoryMagic) + ")");
    }
    if (head < kSchemaHistoryMagic.size()) {
      if (head > 0) scan.problem = "torn file header";
      return scan;
    }
    offset = kSchemaHistoryMagic.size();
  }
  if (offset > bytes.size()) return Corruption("schema history offset past the end");
  scan.valid_bytes = offset;
  ByteReader reader(bytes.substr(offset));
  while (!reader.empty()) {
    if (reader.remaining() < kSchemaEntryHeaderBytes) {
      scan.problem = "torn entry header";
      break;
    }
    uint32_t size = reader.ReadFixed32().value();
    uint32_t masked = reader.ReadFixed32().value();
    if (size > kMaxSchemaEntryBytes) {
      scan.problem = "entry size " + std::to_string(size) + " exceeds the limit";
      scan.problem_at_tail = size > reader.remaining();  // garbage length at the end
      break;
    }
    if (size > reader.remaining()) {
      scan.problem = "torn entry (" + std::to_string(size) + " bytes announced, " +
                     std::to_string(reader.remaining()) + " present)";
      break;
    }
    std::string_view payload = reader.ReadBytes(size).value();
    scan.problem_at_tail = reader.empty();
    if (crc32c::Unmask(masked) != crc32c::Value(payload)) {
      scan.problem = "CRC mismatch";
      break;
    }
    if (payload.empty() || static_cast<uint8_t>(payload[0]) < kOldestSchemaEntryVersion ||
        static_cast<uint8_t>(payload[0]) > kSchemaEntryVersion) {
      scan.problem = payload.empty() ? "empty entry"
                                     : "unknown entry version " +
                                           std::to_string(static_cast<uint8_t>(payload[0]));
      break;
    }
    Result<model::TableSchema> schema = model::DecodeTableSchema(payload.substr(1));
    if (!schema.ok()) {
      scan.problem = schema.status().message();
      break;
    }
    scan.problem_at_tail = true;
    scan.schemas.push_back(std::move(*schema));
    scan.valid_bytes = offset + reader.consumed();
  }
  return scan;
}

}  // namespace eddy::schema

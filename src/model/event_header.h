// The header of a change event in its stored encoding (model/event_codec.h; layout in
// docs/formats/event-encoding.md): the operation, the table and the schema version, read from
// the event's first bytes without reading the rest.
//
// For a consumer that only routes stored events (looks up a record's table schema) and hands
// the bytes on to a reader that decodes, and so checks, the whole event (the objects sink's
// ParquetWriter::AppendStoredEvent): the rows are then parsed once instead of twice.
//
// Thread safety: pure functions. The views point into the bytes given.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "model/event.h"

namespace eddy::model {

struct StoredEventHeader {
  Operation op = Operation::kInsert;
  std::string_view database, schema, table;  // TableId's parts
  uint32_t schema_version = 0;
};

// Reads the version, operation, flags, table and schema version at the start of `bytes`, with
// the checks DecodeEvent makes on those fields (Corruption when they fail). Nothing after the
// schema version is read, so bytes whose rest is malformed are accepted here: the reader that
// decodes the whole event finds that.
Result<StoredEventHeader> ReadStoredEventHeader(std::string_view bytes);

}  // namespace eddy::model

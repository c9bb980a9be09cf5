// SchemaRegistry: where a stream's versioned table schemas are recorded and found. Captures
// give every table schema they decode with to AssignVersion before they append an event
// decoded with it; consumers (the sink runner) look schemas up by (table, version).
// schema/schema_history.h is the durable implementation (one file per stream); tests may
// supply their own.
//
// Thread safety: implementations may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>

#include "base/status.h"
#include "model/schema.h"

namespace eddy::model {

// Same columns (names, types, modifiers, nullability, key ordinals) and primary key: two
// schemas of one table that decode rows alike. The version is not compared.
inline bool SameShape(const TableSchema& a, const TableSchema& b) {
  return a.table == b.table && a.columns == b.columns && a.primary_key == b.primary_key;
}

class SchemaRegistry {
 public:
  virtual ~SchemaRegistry() = default;

  // The version of `schema` (its own `version` is ignored): the table's latest recorded
  // version when SameShape, else that version + 1 (1 for a table never recorded), recorded
  // durably before this returns. So versions of a table increase with every change of its
  // shape, are never reused for another shape (across restarts too), and an event stamped
  // with the returned version never reaches the log before its schema.
  [[nodiscard]] virtual Result<uint32_t> AssignVersion(const TableSchema& schema) = 0;

  // The recorded schema of `table` at `version`; kNotFound when none was recorded. One
  // shared allocation per version: callers may keep the pointer.
  [[nodiscard]] virtual Result<std::shared_ptr<const TableSchema>> Find(const TableId& table,
                                                                        uint32_t version) = 0;

  // The table's latest recorded schema; null when none.
  virtual std::shared_ptr<const TableSchema> Latest(const TableId& table) = 0;
};

}  // namespace eddy::model

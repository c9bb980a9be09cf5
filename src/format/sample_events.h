// Test-only: fixed events, one per operation and connector, shared by the golden tests of
// every format, and the golden-file comparison helper.
#pragma once

#include <string>
#include <vector>

#include "format/renderer.h"
#include "model/event.h"

namespace eddy::format::testing {

struct NamedEvent {
  std::string name;  // "pg_insert", "mysql_update", ...
  model::ChangeEvent event;
};

// pg_insert, pg_update, pg_update_no_before, pg_delete, pg_read, pg_truncate, pg_message,
// mysql_insert, mysql_update, mysql_delete, mysql_add_column, mysql_drop_table,
// mysql_create_database, pg_tx_begin, pg_insert_with_transaction, pg_tx_end, pg_heartbeat.
std::vector<NamedEvent> SampleEvents();

// Renders every sample event in every view type with `format` and compares with
// src/format/testdata/<format>/<event>.<view>.json. With EDDY_UPDATE_GOLDEN=1 it rewrites the
// files instead (review the diff before committing). Adds a gtest failure per mismatch.
void CheckGoldenFiles(std::string_view format);

}  // namespace eddy::format::testing

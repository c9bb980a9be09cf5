// Debezium's Kafka record key: a struct of the key columns, in the bytes Kafka Connect's
// JsonConverter writes for it, so that a producer hashing these bytes (murmur2, as the Java
// producer does) picks the partition Debezium would have picked.
//
//   include_schema (schemas.enable=true, JsonConverter's default):
//     {"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],
//                "optional":false,"name":"<prefix>.<schema>.<table>.Key"},"payload":{"id":1}}
//   without:
//     {"id":1}
// Field schemas and values follow the Debezium value renderer (format `debezium-schema`), so a
// key column is typed the same in the key and in the envelope. `schema_version` > 0 adds
// "version" after "name" (Debezium's fixed keys such as ServerNameKey carry version 1; table
// keys carry none).
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "format/renderer.h"
#include "model/event.h"
#include "model/schema.h"

namespace eddy::format {

// `table_schema`, when known, types integer key columns as Debezium does (int16/int32/int64
// from the source column type; see ConnectIntegerType); without it integers are int64.
std::string RenderDebeziumKey(const model::Row& fields, std::string_view schema_name,
                              bool include_schema, int schema_version = 0,
                              const RendererOptions& options = {},
                              const model::TableSchema* table_schema = nullptr);

}  // namespace eddy::format

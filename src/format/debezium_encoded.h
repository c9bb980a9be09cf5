// Debezium's envelope and JsonConverter key rendered straight from an encoded row change
// (model/event_codec.h), without building a model::ChangeEvent: the hot path of the Kafka sink,
// where decoding into strings, rows and variants and then walking them cost more than writing
// the JSON.
//
// Contract: AppendDebeziumRecord appends exactly the bytes the `debezium` / `debezium-schema`
// renderer's RenderTo writes for the decoded event, and AppendDebeziumKey exactly what
// RenderDebeziumKey writes for the same fields (debezium_encoded_test.cc compares both with
// the general path over every sample event, op and type matrix; fuzz_event_render over
// arbitrary bytes). Each returns true, or false leaving `out` as it was when it declines: the
// bytes are not a row change (c, u, d, r) this path covers (messages, truncates, schema
// changes and transaction records are not), the view type is not NEW_AND_OLD_IMAGES, a schema
// part would describe an array column, or the bytes do not decode. Callers then take the
// general path (model::DecodeEvent + the renderer), which also reports any decoding error.
//
// The `schema` part (include_schema) depends only on the table, the source kind and the shape
// of the images (column names in order, which are key columns, each column's type, decimal
// scales, bit lengths, the catalog's integer types): it is built once per shape by the general
// renderer and kept per thread, so a table's records copy it instead of writing it again.
//
// Thread safety: pure functions; the schema cache is per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "format/renderer.h"
#include "model/event.h"
#include "model/schema.h"

namespace eddy::format {

// A row change read in place: views into the encoded bytes, valid while they are.
struct EncodedRowChange {
  std::string_view encoded;  // the whole event
  model::Operation op = model::Operation::kInsert;
  std::string_view database;
  std::string_view schema;
  std::string_view table;
  uint32_t schema_version = 0;
  // Rows as encoded: a field count, then per field its name and value (event-encoding.md).
  std::string_view key_row;
  std::optional<std::string_view> before_row;
  std::optional<std::string_view> after_row;

  // Parses `bytes`; false when they are not a row change this path covers or do not decode.
  [[nodiscard]] bool Parse(std::string_view bytes);

  // What the envelope needs beyond the above (set by Parse).
  int64_t commit_ns = 0;
  int64_t capture_ns = 0;
  std::string_view transaction_id;
  std::string_view position;  // SourcePosition::EncodeTo bytes
  uint8_t connector = 0;
  std::string_view server_name;
  uint8_t snapshot = 0;
  uint64_t mysql_thread_id = 0;
  uint64_t mysql_row = 0;
  std::string_view query;
  bool has_transaction_order = false;
  uint64_t total_order = 0;
  uint64_t data_collection_order = 0;

  // Which Parse on this thread this change is of: the renderers below take the rows' fields
  // Parse read from where it kept them (per thread, until its next Parse) instead of reading
  // them again. 0 (or a number of an earlier Parse): they read the rows again.
  uint64_t parse_number = 0;
};

[[nodiscard]] bool AppendDebeziumRecord(const EncodedRowChange& change, ViewType view,
                                        bool include_schema, const RendererOptions& options,
                                        const model::TableSchema* table_schema, std::string* out);

// AppendDebeziumRecord's bytes as `parts->prefix`, then what this appends to `payload`, then
// `parts->suffix`: for a caller that copies the record on anyway (the Kafka sink's message
// arena), which so copies the schema prefix once instead of twice. Without include_schema both
// views are empty. The views point into this thread's schema cache: valid until the thread's
// next AppendDebeziumRecord or AppendDebeziumRecordParts. Declines as AppendDebeziumRecord
// does, leaving `payload` as it was.
struct DebeziumRecordParts {
  std::string_view prefix;
  std::string_view suffix;
  std::string_view payload;  // set by RenderDebeziumRecordParts only
};
[[nodiscard]] bool AppendDebeziumRecordParts(const EncodedRowChange& change, ViewType view,
                                             bool include_schema, const RendererOptions& options,
                                             const model::TableSchema* table_schema,
                                             std::string* payload, DebeziumRecordParts* parts);
// AppendDebeziumRecordParts with the payload written into a buffer of this thread's instead of
// a caller's string: `parts->payload` views it, valid (as the other two views) until the
// thread's next call of a function of this header. For a caller that copies the record on at
// once (the Kafka sink's message arena): the buffer keeps its size from record to record, so
// no record pays for growing (and zero-filling) a string emptied for it.
[[nodiscard]] bool RenderDebeziumRecordParts(const EncodedRowChange& change, ViewType view,
                                             bool include_schema, const RendererOptions& options,
                                             const model::TableSchema* table_schema,
                                             DebeziumRecordParts* parts);

// The key struct of `key_row`'s columns (in its order) with their values in `image_row` (an
// encoded row of the same event), or with the key row's own values when `image_row` lacks
// one of them: RenderDebeziumKey's bytes for those fields and `schema_name` (a table's key: no
// version). Sets *empty (and appends nothing) when the key row has no columns.
[[nodiscard]] bool AppendDebeziumKey(std::string_view key_row, std::string_view image_row,
                                     std::string_view schema_name, bool include_schema,
                                     const RendererOptions& options,
                                     const model::TableSchema* table_schema, std::string* out,
                                     bool* empty);
// AppendDebeziumKey of `change`'s key row valued from its before image (`from_before`) or its
// after image; a change without that image gets its key row's own values. Takes the rows'
// fields from the change's Parse where this thread's last Parse was of it.
[[nodiscard]] bool AppendDebeziumChangeKey(const EncodedRowChange& change, bool from_before,
                                           std::string_view schema_name, bool include_schema,
                                           const RendererOptions& options,
                                           const model::TableSchema* table_schema, std::string* out,
                                           bool* empty);

}  // namespace eddy::format

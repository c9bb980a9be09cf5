// Internal: the concrete renderers and helpers they share. Users call MakeRenderer.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "format/json.h"
#include "format/renderer.h"

namespace eddy::format {

std::unique_ptr<Renderer> MakeNativeRenderer();
std::unique_ptr<Renderer> MakeDebeziumRenderer(bool include_schema, const RendererOptions& options);
std::unique_ptr<Renderer> MakeDmsRenderer();
std::unique_ptr<Renderer> MakeDynamoDbRenderer();

// The sentinel for a value the source did not send (unchanged TOAST), in native, DMS and
// DynamoDB output. Debezium output uses Debezium's own "__debezium_unavailable_value".
inline constexpr std::string_view kUnavailableSentinel = "__eddy_unavailable_value";

// The `source.version` field of Debezium output.
inline constexpr std::string_view kSourceVersion = "eddy-0.1.0";
// The largest integer a JSON number carries exactly (2^53): native output writes larger
// integers as strings.
inline constexpr int64_t kMaxSafeInteger = int64_t{1} << 53;

// Native value conventions (docs/formats/native.md); DMS reuses them.
void WriteNativeValue(JsonWriter& writer, const model::Value& value);
// A row as an object {column: value} with native value conventions.
void WriteNativeRow(JsonWriter& writer, const model::Row& row);

// The native `schema_change` object (docs/formats/native.md), shared with DMS.
void WriteNativeSchemaChange(JsonWriter& writer, const model::SchemaChange& change);
// Debezium value conventions (docs/formats/debezium.md), the envelope's and the key's.
void WriteDebeziumValue(JsonWriter& writer, const model::Value& value,
                        const RendererOptions& options);
// Kafka Connect's integer type ("int16", "int32", "int64") of a source integer column, as
// the debezium-schema envelope declares it; "int64" without the column.
std::string_view DebeziumIntegerType(const model::Column* column);

// The `transaction` object, Debezium's field names: BEGIN/END records
// {"status","id"[,"event_count","data_collections":[{"data_collection","event_count"}]]};
// row changes {"id","total_order","data_collection_order"}.
void WriteTransactionBlock(JsonWriter& writer, const model::ChangeEvent& event);

// The images a view type keeps for an event. Images the view drops are nullopt; where the
// view drops the only image that identifies the row (NEW_IMAGE of a delete, OLD_IMAGE of an
// insert), the key columns take its place so the record still names its row.
// Points into the event where the view keeps an image whole (no copy on the hot path); owns
// the reduced key-only rows otherwise. Lives no longer than the event; not copyable.
class Images {
 public:
  Images(const model::ChangeEvent& event, ViewType view);
  Images(const Images&) = delete;
  Images& operator=(const Images&) = delete;

  const model::Row* before() const { return before_; }
  const model::Row* after() const { return after_; }

 private:
  const model::Row* before_ = nullptr;
  const model::Row* after_ = nullptr;
  model::Row before_storage_;
  model::Row after_storage_;
};

}  // namespace eddy::format

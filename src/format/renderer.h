// Renderers turn the canonical ChangeEvent into one output record (one JSON document, no
// newline) in a chosen format and view type. Rendering is pure: no I/O, no clock; the same
// event and view always give the same bytes.
//
// Thread safety: a Renderer is immutable after construction; Render may be called from any
// number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/event.h"
#include "model/schema.h"

namespace eddy::format {

// Which row images a record carries, as DynamoDB Streams defines StreamViewType.
enum class ViewType : uint8_t {
  kKeysOnly = 0,          // KEYS_ONLY: only the key columns
  kNewImage = 1,          // NEW_IMAGE: the row after the change
  kOldImage = 2,          // OLD_IMAGE: the row before the change
  kNewAndOldImages = 3,   // NEW_AND_OLD_IMAGES: both (the default)
};

// "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES".
std::string_view ViewTypeName(ViewType view);
// Accepts the names above (case-insensitive, '-' or '_').
Result<ViewType> ParseViewType(std::string_view name);

// What the delivery layer knows about a record that the event itself does not: formats that
// embed it (DynamoDB Streams: SequenceNumber, eventID, eventSourceARN, awsRegion) use it;
// others ignore it. Empty fields are rendered from the event (see each format's doc).
struct RecordContext {
  std::string sequence_number;  // the log's sequence number as the API renders it
  std::string region;           // "" renders as "us-east-1"
  // DynamoDB Streams: the record's `eventSourceARN` (as Lambda events carry it); "" leaves the
  // member out, as GetRecords records have none.
  std::string event_source_arn;
  // The source catalog schema of the event's table, when the caller knows it (sinks do:
  // consume::SinkRecord::table_schema). Formats that type fields by source column type use it
  // (debezium-schema: int16/int32 for smallint/integer columns); without it they infer types
  // from the values. Not owned; must outlive the Render call.
  const model::TableSchema* table_schema = nullptr;
};

// Format options (Debezium's converter settings); other formats ignore them.
enum class DecimalHandling : uint8_t {
  kPrecise = 0,  // Debezium default: base64 of the unscaled two's-complement integer
  kString = 1,   // the exact digits as a string
  kDouble = 2,   // a JSON number (may lose precision)
};
struct RendererOptions {
  DecimalHandling decimal_handling = DecimalHandling::kPrecise;
};
// "precise", "string", "double".
Result<DecimalHandling> ParseDecimalHandling(std::string_view name);

class Renderer {
 public:
  virtual ~Renderer() = default;
  // The format name MakeRenderer accepts ("native", "debezium", ...).
  virtual std::string_view name() const = 0;

  // One record as JSON text (valid UTF-8, no trailing newline). Returns "" when the format
  // has no representation for the event (DynamoDB Streams has no truncate or message records);
  // callers skip such events for that format.
  virtual std::string Render(const model::ChangeEvent& event, ViewType view,
                             const RecordContext& context) const = 0;
  std::string Render(const model::ChangeEvent& event, ViewType view) const {
    return Render(event, view, RecordContext{});
  }
  // The same bytes as Render, into `out` (replaced; its capacity reused where the format
  // supports it): a caller rendering many records keeps one buffer per record slot instead of
  // growing a fresh string each time. An empty `out` means what an empty Render means.
  virtual void RenderTo(const model::ChangeEvent& event, ViewType view,
                        const RecordContext& context, std::string* out) const {
    *out = Render(event, view, context);
  }
};

// Format names: "native", "debezium" (payload only), "debezium-schema" (schema + payload),
// "dms", "dynamodb". Unknown names: InvalidArgument listing the known ones.
Result<std::unique_ptr<Renderer>> MakeRenderer(std::string_view format,
                                               const RendererOptions& options = {});

// Every name MakeRenderer accepts, in a stable order.
std::vector<std::string_view> RendererNames();

}  // namespace eddy::format

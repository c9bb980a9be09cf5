// Fuzz target: DecodeEvent must return a value or Corruption for any bytes, never crash; an
// event that decodes must survive a re-encode/decode round trip unchanged. (Byte equality is
// not required: an over-long varint decodes to the same number as the short form.)
// DecodeEventView must accept exactly the bytes DecodeEvent accepts, and its rows must read
// back, field by field, as the decoded event's rows; DecodeEventViewWithImage must accept the
// same bytes and collect the image's fields as RowFieldReader reads them. ReadStoredEventHeader
// must return a header or Corruption for any bytes, and for bytes that decode, the decoded event's
// header.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "model/event_codec.h"
#include "model/event_header.h"

namespace {

// The encoded row `bytes` holds `row`: the same names and values, in order.
bool SameRow(std::string_view bytes, const eddy::model::Row& row) {
  eddy::model::RowFieldReader reader(bytes);
  auto count = reader.Count();
  if (!count.ok() || *count != row.size()) return false;
  for (const eddy::model::Field& expected : row) {
    auto field = reader.Next();
    if (!field.ok() || field->name != expected.name) return false;
    std::string_view encoded = field->value.encoded;
    auto value = eddy::model::DecodeValue(encoded);
    if (!value.ok() || !encoded.empty() || !(*value == expected.value)) return false;
    if (field->value.type != expected.value.type()) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  eddy::Result<eddy::model::ChangeEvent> event = eddy::model::DecodeEvent(bytes);
  eddy::Result<eddy::model::EventView> view = eddy::model::DecodeEventView(bytes);
  if (event.ok() != view.ok()) std::abort();
  std::vector<eddy::model::FieldView> image;
  eddy::Result<eddy::model::EventView> with_image =
      eddy::model::DecodeEventViewWithImage(bytes, &image);
  if (with_image.ok() != view.ok()) std::abort();
  if (with_image.ok()) {
    // The image's fields, as a RowFieldReader over the image's row reads them.
    std::string_view row = view->op == eddy::model::Operation::kDelete
                               ? (view->has_before() ? view->before : view->key)
                               : view->after;
    eddy::model::RowFieldReader reader(row);
    auto count = reader.Count();
    if (!row.empty() && (!count.ok() || *count != image.size())) std::abort();
    if (row.empty() && !image.empty()) std::abort();
    for (const eddy::model::FieldView& field : image) {
      auto read = reader.Next();
      if (!read.ok() || read->name != field.name || read->value.encoded != field.value.encoded) {
        std::abort();
      }
    }
  }
  eddy::Result<eddy::model::StoredEventHeader> header = eddy::model::ReadStoredEventHeader(bytes);
  if (!header.ok() && header.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  if (event.ok() &&
      (!header.ok() || header->op != event->op || header->database != event->table.database ||
       header->schema != event->table.schema || header->table != event->table.name ||
       header->schema_version != event->schema_version)) {
    std::abort();
  }
  if (!event.ok()) {
    if (event.status().code() != eddy::ErrorCode::kCorruption) std::abort();
    if (view.status().code() != eddy::ErrorCode::kCorruption) std::abort();
    return 0;
  }
  if (view->op != event->op || view->schema_version != event->schema_version ||
      view->database != event->table.database || view->schema != event->table.schema ||
      view->table != event->table.name || view->commit_time_ns != event->commit_time_ns ||
      view->transaction_id != event->transaction_id || !SameRow(view->key, event->key) ||
      view->has_before() != event->before.has_value() ||
      view->has_after() != event->after.has_value() ||
      (event->before && !SameRow(view->before, *event->before)) ||
      (event->after && !SameRow(view->after, *event->after))) {
    std::abort();
  }
  auto again = eddy::model::DecodeEvent(eddy::model::EncodeEvent(*event));
  if (!again.ok() || !(*again == *event)) std::abort();
  (void)event->PartitionKey();
  (void)event->DebugString();
  return 0;
}

// Fuzz target: any bytes that decode as a change event must render in every format and view
// type as valid JSON (or "" where the format has no such record), without crashing or
// undefined behaviour. The API and `eddy tail` render whatever the log holds. The fast paths
// that render straight from the bytes (native; Debezium values and keys) accept only what
// decodes and write what the general renderers write.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "format/debezium_encoded.h"
#include "format/debezium_key.h"
#include "format/json.h"
#include "format/native_encoded.h"
#include "format/renderer.h"
#include "format/shaping.h"
#include "model/event_codec.h"

namespace {

const std::vector<std::unique_ptr<eddy::format::Renderer>>& Renderers() {
  static const auto* renderers = [] {
    auto* list = new std::vector<std::unique_ptr<eddy::format::Renderer>>();
    for (std::string_view name : eddy::format::RendererNames()) {
      list->push_back(std::move(eddy::format::MakeRenderer(name)).value());
    }
    return list;
  }();
  return *renderers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto event = eddy::model::DecodeEvent(bytes);
  // The native fast path renders only what decodes, and then exactly as the native renderer.
  std::string fast;
  const bool fast_rendered =
      eddy::format::AppendNativeRecord(bytes, eddy::format::ViewType::kNewAndOldImages, &fast);
  if (fast_rendered && !event.ok()) std::abort();
  if (fast_rendered &&
      fast != Renderers()[0]->Render(*event, eddy::format::ViewType::kNewAndOldImages)) {
    std::abort();
  }
  // So does the Debezium fast path (values and keys), in both formats.
  eddy::format::EncodedRowChange change;
  if (change.Parse(bytes)) {
    if (!event.ok()) std::abort();
    for (bool include_schema : {false, true}) {
      auto renderer = eddy::format::MakeRenderer(include_schema ? "debezium-schema" : "debezium");
      std::string record;
      if (eddy::format::AppendDebeziumRecord(change, eddy::format::ViewType::kNewAndOldImages,
                                             include_schema, {}, nullptr, &record) &&
          record != (*renderer)->Render(*event, eddy::format::ViewType::kNewAndOldImages)) {
        std::abort();
      }
      // The same bytes in parts (prefix, payload, suffix), or the same decline.
      std::string payload;
      eddy::format::DebeziumRecordParts parts;
      const bool in_parts =
          eddy::format::AppendDebeziumRecordParts(change, eddy::format::ViewType::kNewAndOldImages,
                                                  include_schema, {}, nullptr, &payload, &parts);
      if (in_parts != !record.empty() ||
          (in_parts && std::string(parts.prefix) + payload + std::string(parts.suffix) != record)) {
        std::abort();
      }
      // Into the renderer's own buffer: the same bytes, or the same decline.
      eddy::format::DebeziumRecordParts rendered;
      const bool rendered_parts = eddy::format::RenderDebeziumRecordParts(
          change, eddy::format::ViewType::kNewAndOldImages, include_schema, {}, nullptr, &rendered);
      if (rendered_parts != in_parts ||
          (rendered_parts && std::string(rendered.prefix) + std::string(rendered.payload) +
                                     std::string(rendered.suffix) !=
                                 record)) {
        std::abort();
      }
      // The key from the change (the rows' fields its Parse kept) as from its rows' bytes.
      {
        const bool deleted = change.op == eddy::model::Operation::kDelete;
        const auto& image = deleted ? change.before_row : change.after_row;
        std::string from_rows;
        std::string from_change;
        bool rows_empty = false;
        bool change_empty = false;
        const bool rows_ok = eddy::format::AppendDebeziumKey(
            change.key_row, image ? *image : change.key_row, "p.s.t.Key", include_schema, {},
            nullptr, &from_rows, &rows_empty);
        const bool change_ok = eddy::format::AppendDebeziumChangeKey(
            change, deleted, "p.s.t.Key", include_schema, {}, nullptr, &from_change, &change_empty);
        if (rows_ok != change_ok || from_rows != from_change || rows_empty != change_empty) {
          std::abort();
        }
      }
      // The key as the Kafka sink takes it: each key column's first field of that name.
      eddy::model::Row fields;
      for (const auto& column : event->key) {
        for (const auto& field : event->key) {
          if (field.name == column.name) {
            fields.push_back(field);
            break;
          }
        }
      }
      std::string key;
      bool empty = false;
      if (eddy::format::AppendDebeziumKey(change.key_row, change.key_row, "p.s.t.Key",
                                          include_schema, {}, nullptr, &key, &empty) &&
          !empty && key != eddy::format::RenderDebeziumKey(fields, "p.s.t.Key", include_schema)) {
        std::abort();
      }
    }
  }
  if (!event.ok()) return 0;
  (void)event->PartitionKey();
  for (const auto& renderer : Renderers()) {
    for (auto view :
         {eddy::format::ViewType::kKeysOnly, eddy::format::ViewType::kNewImage,
          eddy::format::ViewType::kOldImage, eddy::format::ViewType::kNewAndOldImages}) {
      std::string json = renderer->Render(*event, view);
      if (json.empty() && renderer->name() == "dynamodb") continue;
      if (!eddy::format::MinifyJson(json).has_value()) std::abort();
    }
  }
  eddy::format::ShapingRules rules;
  rules.exclude_columns = {"*.c1"};
  rules.masks = {{"*.c2", eddy::format::MaskKind::kHash, 0, "salt"},
                 {"*.c3", eddy::format::MaskKind::kTruncate, 2, ""}};
  static const eddy::format::Shaper shaper = std::move(eddy::format::Shaper::Make(rules)).value();
  if (auto shaped = shaper.Apply(*event)) {
    if (!eddy::format::MinifyJson(
            Renderers()[0]->Render(*shaped, eddy::format::ViewType::kNewAndOldImages))) {
      std::abort();
    }
  }
  return 0;
}

#include "format/renderer.h"

#include <algorithm>
#include <cctype>

#include "format/renderers.h"

namespace eddy::format {

std::string_view ViewTypeName(ViewType view) {
  switch (view) {
    case ViewType::kKeysOnly: return "KEYS_ONLY";
    case ViewType::kNewImage: return "NEW_IMAGE";
    case ViewType::kOldImage: return "OLD_IMAGE";
    case ViewType::kNewAndOldImages: return "NEW_AND_OLD_IMAGES";
  }
  return "NEW_AND_OLD_IMAGES";
}

Result<ViewType> ParseViewType(std::string_view name) {
  std::string normalized(name);
  for (char& c : normalized) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (ViewType view : {ViewType::kKeysOnly, ViewType::kNewImage, ViewType::kOldImage,
                        ViewType::kNewAndOldImages}) {
    if (normalized == ViewTypeName(view)) return view;
  }
  return InvalidArgument("unknown view type \"" + std::string(name) +
                         "\": use KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES");
}

std::vector<std::string_view> RendererNames() {
  return {"native", "debezium", "debezium-schema", "dms", "dynamodb"};
}

Result<DecimalHandling> ParseDecimalHandling(std::string_view name) {
  if (name == "precise") return DecimalHandling::kPrecise;
  if (name == "string") return DecimalHandling::kString;
  if (name == "double") return DecimalHandling::kDouble;
  return InvalidArgument("unknown decimal handling \"" + std::string(name) +
                         "\": use precise, string or double");
}

Result<std::unique_ptr<Renderer>> MakeRenderer(std::string_view format,
                                               const RendererOptions& options) {
  if (format == "native") return MakeNativeRenderer();
  if (format == "debezium") return MakeDebeziumRenderer(false, options);
  if (format == "debezium-schema") return MakeDebeziumRenderer(true, options);
  if (format == "dms") return MakeDmsRenderer();
  if (format == "dynamodb") return MakeDynamoDbRenderer();
  std::string known;
  for (std::string_view name : RendererNames()) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  return InvalidArgument("unknown format \"" + std::string(format) + "\": use one of " + known);
}

namespace {
model::Row KeyColumns(const model::ChangeEvent& event, const std::optional<model::Row>& image) {
  if (!image) return event.key;
  // Key values as the image holds them (the event key is taken from the same image).
  model::Row row;
  for (const model::Field& key_field : event.key) {
    const model::Value* value = model::FindField(*image, key_field.name);
    row.push_back(model::Field{key_field.name, value ? *value : key_field.value});
  }
  return row;
}
}  // namespace

Images::Images(const model::ChangeEvent& event, ViewType view) {
  const model::Row* event_before = event.before ? &*event.before : nullptr;
  const model::Row* event_after = event.after ? &*event.after : nullptr;
  auto keys_of = [&](const std::optional<model::Row>& image, model::Row& storage) {
    storage = KeyColumns(event, image);
    return &storage;
  };
  switch (view) {
    case ViewType::kNewAndOldImages:
      before_ = event_before;
      after_ = event_after;
      break;
    case ViewType::kNewImage:
      after_ = event_after;
      if (event.op == model::Operation::kDelete) before_ = keys_of(event.before, before_storage_);
      break;
    case ViewType::kOldImage:
      before_ = event_before;
      if (before_ == nullptr && event.op == model::Operation::kUpdate) {
        before_ = &event.key;  // the source sent no old row: keep the key at least
      }
      if (event.op == model::Operation::kInsert || event.op == model::Operation::kRead) {
        after_ = keys_of(event.after, after_storage_);
      }
      break;
    case ViewType::kKeysOnly:
      if (event.before) before_ = keys_of(event.before, before_storage_);
      if (event.after) after_ = keys_of(event.after, after_storage_);
      break;
  }
}

}  // namespace eddy::format

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

Images SelectImages(const model::ChangeEvent& event, ViewType view) {
  Images images;
  switch (view) {
    case ViewType::kNewAndOldImages:
      images.before = event.before;
      images.after = event.after;
      break;
    case ViewType::kNewImage:
      images.after = event.after;
      if (event.op == model::Operation::kDelete) images.before = KeyColumns(event, event.before);
      break;
    case ViewType::kOldImage:
      images.before = event.before;
      if (!images.before && event.op == model::Operation::kUpdate) {
        images.before = event.key;  // the source sent no old row: keep the key at least
      }
      if (event.op == model::Operation::kInsert || event.op == model::Operation::kRead) {
        images.after = KeyColumns(event, event.after);
      }
      break;
    case ViewType::kKeysOnly:
      if (event.before) images.before = KeyColumns(event, event.before);
      if (event.after) images.after = KeyColumns(event, event.after);
      break;
  }
  return images;
}

}  // namespace eddy::format

#include "api/record_rendering.h"

#include <map>
#include <memory>
#include <mutex>

#include "format/native_encoded.h"
#include "format/renderer.h"
#include "model/event_codec.h"

namespace eddy::api {
namespace {

class RendererCache {
 public:
  Result<const format::Renderer*> Get(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = renderers_.find(name);
    if (it != renderers_.end()) return it->second.get();
    EDDY_ASSIGN_OR_RETURN(auto renderer, format::MakeRenderer(name));
    const format::Renderer* raw = renderer.get();
    renderers_.emplace(name, std::move(renderer));
    return raw;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<format::Renderer>> renderers_;
};

Result<std::optional<std::string>> RenderEvent(RendererCache& cache, const std::string& format,
                                               const log::StreamInfo& info,
                                               const log::Record& record,
                                               std::string_view sequence_number,
                                               const std::string& region) {
  EDDY_ASSIGN_OR_RETURN(const format::Renderer* renderer, cache.Get(format));
  EDDY_ASSIGN_OR_RETURN(format::ViewType view,
                        format::ParseViewType(StreamTag(info, kTagViewType, "NEW_AND_OLD_IMAGES")));
  if (renderer->name() == "native") {
    // Row changes straight from the encoded event (format/native_encoded.h).
    std::string rendered;
    if (format::AppendNativeRecord(record.payload, view, &rendered)) {
      return std::optional<std::string>(std::move(rendered));
    }
  }
  auto event = model::DecodeEvent(record.payload);
  if (!event.ok()) {
    return event.status().WithContext("stream " + info.name + " record " +
                                      std::string(sequence_number) +
                                      " is not a change event");
  }
  format::RecordContext context;
  context.sequence_number = std::string(sequence_number);
  context.region = region;
  std::string rendered = renderer->Render(*event, view, context);
  if (rendered.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(rendered));
}

}  // namespace

RecordRendering StandardRecordRendering(std::string region) {
  auto cache = std::make_shared<RendererCache>();
  RecordRendering rendering;
  rendering.kinesis_data = [cache, region](const log::StreamInfo& info, const log::Record& record,
                                           std::string_view sequence_number)
      -> Result<std::optional<std::string>> {
    if (!IsCdcStream(info)) return std::optional<std::string>(record.payload);
    return RenderEvent(*cache, StreamTag(info, kTagFormat, "native"), info, record,
                       sequence_number, region);
  };
  rendering.dynamodb_record = [cache, region](const log::StreamInfo& info,
                                              const log::Record& record,
                                              std::string_view sequence_number)
      -> Result<std::optional<std::string>> {
    return RenderEvent(*cache, "dynamodb", info, record, sequence_number, region);
  };
  return rendering;
}

}  // namespace eddy::api

// The native record rendered straight from an encoded change event (model/event_codec.h),
// without building a model::ChangeEvent: the hot path of `eddy tail` and of GetRecords on CDC
// streams in the native format, where decoding into strings, rows and variants cost more than
// writing the JSON.
//
// Contract: AppendNativeRecord appends exactly the bytes NativeRenderer::Render writes for the
// decoded event (native_encoded_test.cc checks every sample event and random rows byte for
// byte; fuzz_event_render checks arbitrary bytes) and returns true; or returns false and leaves
// `out` as it was, when the event is not a plain row change (messages, schema changes,
// transaction metadata), the view type is not NEW_AND_OLD_IMAGES, or the bytes do not decode.
// Callers then take the general path (model::DecodeEvent + Renderer::Render), which also
// reports any decoding error.
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "format/renderer.h"

namespace eddy::format {

[[nodiscard]] bool AppendNativeRecord(std::string_view encoded_event, ViewType view,
                                      std::string* out);

}  // namespace eddy::format

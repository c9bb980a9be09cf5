// How a group of records becomes one object's bytes. The objects destination groups a flush's
// records by their evaluated prefix and hands each group to the encoder; JSON lines is the one
// encoding now (one record per line, in the sink's `format`, each line ending in '\n', then
// compressed). Parquet (one file per table per flush) plugs in here as another encoder.
//
// Thread safety: an encoder is immutable; Encode may run on several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "sink/objects/objects_settings.h"

namespace eddy::sink::objects {

class ObjectEncoder {
 public:
  virtual ~ObjectEncoder() = default;
  virtual std::string_view content_type() const = 0;
  // The object's bytes for `lines` (each without a trailing newline), in order.
  virtual Result<std::string> Encode(const std::vector<std::string_view>& lines) const = 0;
};

// JSON lines with `compression`.
std::unique_ptr<ObjectEncoder> MakeJsonLinesEncoder(Compression compression);

// One gzip member (RFC 1952) of `bytes`, zlib level 6.
Result<std::string> GzipCompress(std::string_view bytes);
// One zstd frame of `bytes`, level 3, with the content size.
Result<std::string> ZstdCompress(std::string_view bytes);

}  // namespace eddy::sink::objects

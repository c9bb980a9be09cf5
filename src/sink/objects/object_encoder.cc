#include "sink/objects/object_encoder.h"

#include <zlib.h>
#include <zstd.h>

namespace eddy::sink::objects {

Result<std::string> GzipCompress(std::string_view bytes) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("zlib deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&stream, static_cast<uLong>(bytes.size())) + 32);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  size_t written = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END)
    return Internal("zlib deflate did not finish: " + std::to_string(result));
  out.resize(written);
  return out;
}

Result<std::string> ZstdCompress(std::string_view bytes) {
  std::string out;
  out.resize(ZSTD_compressBound(bytes.size()));
  size_t written = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 3);
  if (ZSTD_isError(written)) {
    return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(written));
  }
  out.resize(written);
  return out;
}

namespace {

class JsonLinesEncoder final : public ObjectEncoder {
 public:
  explicit JsonLinesEncoder(Compression compression) : compression_(compression) {}

  std::string_view content_type() const override {
    switch (compression_) {
      case Compression::kGzip:
        return "application/gzip";
      case Compression::kZstd:
        return "application/zstd";
      case Compression::kNone:
        break;
    }
    return "application/x-ndjson";
  }

  Result<std::string> Encode(const std::vector<std::string_view>& lines) const override {
    size_t size = 0;
    for (std::string_view line : lines) size += line.size() + 1;
    std::string text;
    text.reserve(size);
    for (std::string_view line : lines) {
      text += line;
      text += '\n';
    }
    switch (compression_) {
      case Compression::kGzip:
        return GzipCompress(text);
      case Compression::kZstd:
        return ZstdCompress(text);
      case Compression::kNone:
        break;
    }
    return text;
  }

 private:
  const Compression compression_;
};

}  // namespace

std::unique_ptr<ObjectEncoder> MakeJsonLinesEncoder(Compression compression) {
  return std::make_unique<JsonLinesEncoder>(compression);
}

}  // namespace eddy::sink::objects

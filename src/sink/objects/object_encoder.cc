#include "sink/objects/object_encoder.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace eddy::sink::objects {

namespace {

// One gzip member of `bytes` appended to `out`.
Status GzipMember(std::string_view bytes, int level, std::string& out) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("zlib deflateInit2 failed");
  }
  const size_t start = out.size();
  out.resize(start + deflateBound(&stream, static_cast<uLong>(bytes.size())) + 32);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  stream.avail_out = static_cast<uInt>(out.size() - start);
  int result = deflate(&stream, Z_FINISH);
  size_t written = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END) {
    return Internal("zlib deflate did not finish: " + std::to_string(result));
  }
  out.resize(start + written);
  return Status::Ok();
}

unsigned CompressionThreads() {
  return std::clamp(std::thread::hardware_concurrency(), 1u, kMaxCompressionThreads);
}

}  // namespace

Result<std::string> GzipCompress(std::string_view bytes, int level) {
  const size_t chunks =
      std::max<size_t>(1, (bytes.size() + kGzipMemberBytes - 1) / kGzipMemberBytes);
  const unsigned threads = static_cast<unsigned>(std::min<size_t>(chunks, CompressionThreads()));
  auto chunk = [&](size_t i) { return bytes.substr(i * kGzipMemberBytes, kGzipMemberBytes); };
  if (threads <= 1) {
    std::string out;
    for (size_t i = 0; i < chunks; ++i) EDDY_RETURN_IF_ERROR(GzipMember(chunk(i), level, out));
    return out;
  }
  // Members on `threads` threads (this one included), each taking the next chunk; the members
  // are concatenated in order.
  std::vector<std::string> members(chunks);
  std::vector<Status> errors(chunks);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < chunks; i = next.fetch_add(1)) {
      errors[i] = GzipMember(chunk(i), level, members[i]);
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  size_t total = 0;
  for (size_t i = 0; i < chunks; ++i) {
    EDDY_RETURN_IF_ERROR(errors[i]);
    total += members[i].size();
  }
  std::string out;
  out.reserve(total);
  for (const std::string& member : members) out += member;
  return out;
}

Result<std::string> ZstdCompress(std::string_view bytes, int level) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> context(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (context == nullptr) return Internal("zstd: cannot create a compression context");
  ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(context.get(), ZSTD_c_checksumFlag, 0);
  // Worker threads when libzstd has them (Debian's does) and the input is worth it; a library
  // without them refuses the parameter and compresses on this thread, in the same format.
  const unsigned threads = CompressionThreads();
  if (threads > 1 && bytes.size() >= 2 * kGzipMemberBytes) {
    ZSTD_CCtx_setParameter(context.get(), ZSTD_c_nbWorkers, static_cast<int>(threads));
  }
  ZSTD_CCtx_setPledgedSrcSize(context.get(), bytes.size());  // the content size in the header
  std::string out;
  out.resize(ZSTD_compressBound(bytes.size()));
  size_t written =
      ZSTD_compress2(context.get(), out.data(), out.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(written)) {
    return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(written));
  }
  out.resize(written);
  return out;
}

namespace {

class JsonLinesEncoder final : public ObjectEncoder {
 public:
  JsonLinesEncoder(Compression compression, int level) : compression_(compression), level_(level) {}

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
        return GzipCompress(text, level_);
      case Compression::kZstd:
        return ZstdCompress(text, level_);
      case Compression::kNone:
        break;
    }
    return text;
  }

 private:
  const Compression compression_;
  const int level_;
};

}  // namespace

std::unique_ptr<ObjectEncoder> MakeJsonLinesEncoder(Compression compression, int level) {
  return std::make_unique<JsonLinesEncoder>(compression, level);
}

}  // namespace eddy::sink::objects

#include "avro/avro.h"

#include <zlib.h>

#include <cstring>
#include <random>

#include "avro/avro_container.h"

namespace eddy::avro {

Result<Codec> ParseCodec(std::string_view name) {
  if (name == "null") return Codec::kNull;
  if (name == "deflate") return Codec::kDeflate;
  return InvalidArgument("unknown Avro codec '" + std::string(name) +
                         "': eddy reads and writes \"null\" and \"deflate\"");
}

std::string_view CodecName(Codec codec) { return codec == Codec::kDeflate ? "deflate" : "null"; }

void Encoder::Double(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  PutFixed64(out_, bits);
}

void Encoder::Bytes(std::string_view bytes) {
  Long(static_cast<int64_t>(bytes.size()));
  out_.append(bytes);
}

Result<bool> Decoder::Boolean() {
  EDDY_ASSIGN_OR_RETURN(uint8_t byte, reader_.ReadFixed8());
  if (byte > 1) return Corruption("Avro boolean byte " + std::to_string(byte) + " is not 0 or 1");
  return byte == 1;
}

Result<int32_t> Decoder::Int() {
  EDDY_ASSIGN_OR_RETURN(int64_t value, Long());
  if (value < INT32_MIN || value > INT32_MAX) {
    return Corruption("Avro int " + std::to_string(value) + " does not fit 32 bits");
  }
  return static_cast<int32_t>(value);
}

Result<int64_t> Decoder::Long() { return reader_.ReadVarintSigned64(); }

Result<double> Decoder::Double() {
  EDDY_ASSIGN_OR_RETURN(uint64_t bits, reader_.ReadFixed64());
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

Result<std::string_view> Decoder::Bytes() {
  EDDY_ASSIGN_OR_RETURN(int64_t length, Long());
  if (length < 0)
    return Corruption("Avro byte string with negative length " + std::to_string(length));
  return reader_.ReadBytes(static_cast<size_t>(length));
}

Result<int64_t> Decoder::UnionIndex(int64_t branches) {
  EDDY_ASSIGN_OR_RETURN(int64_t index, Long());
  if (index < 0 || index >= branches) {
    return Corruption("Avro union branch " + std::to_string(index) + " of a union of " +
                      std::to_string(branches));
  }
  return index;
}

Result<int64_t> Decoder::BlockCount() {
  EDDY_ASSIGN_OR_RETURN(int64_t count, Long());
  if (count < 0) {
    if (count == INT64_MIN) return Corruption("Avro block count out of range");
    EDDY_ASSIGN_OR_RETURN(int64_t size, Long());
    (void)size;
    count = -count;
  }
  return count;
}

namespace {

Result<std::string> Deflate(std::string_view data) {
  z_stream stream{};
  // Raw deflate (windowBits -15): Avro's deflate codec has no zlib header or checksum.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Internal("zlib deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return Internal("zlib deflate did not finish");
  return out;
}

Result<std::string> Inflate(std::string_view data) {
  z_stream stream{};
  if (inflateInit2(&stream, -15) != Z_OK) return Internal("zlib inflateInit2 failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[16384];
  int result = Z_OK;
  while (result != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    result = inflate(&stream, Z_NO_FLUSH);
    if (result != Z_OK && result != Z_STREAM_END) {
      inflateEnd(&stream);
      return Corruption("Avro deflate block does not inflate (zlib error " +
                        std::to_string(result) + ")");
    }
    out.append(buffer, sizeof buffer - stream.avail_out);
    if (out.size() > kMaxBlockBytes) {
      inflateEnd(&stream);
      return Corruption("Avro block inflates beyond " + std::to_string(kMaxBlockBytes) + " bytes");
    }
    if (result == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      inflateEnd(&stream);
      return Corruption("Avro deflate block is truncated");
    }
  }
  inflateEnd(&stream);
  return out;
}

std::string RandomSync() {
  std::random_device device;
  std::string sync(kSyncBytes, '\0');
  for (char& c : sync) c = static_cast<char>(device() & 0xff);
  return sync;
}

}  // namespace

ContainerWriter::ContainerWriter(std::string schema_json,
                                 std::vector<std::pair<std::string, std::string>> metadata,
                                 ContainerOptions options)
    : schema_json_(std::move(schema_json)),
      metadata_(std::move(metadata)),
      options_(std::move(options)) {}

Result<std::string> ContainerWriter::Finish() const {
  std::string sync = options_.sync.empty() ? RandomSync() : options_.sync;
  if (sync.size() != kSyncBytes) return InvalidArgument("an Avro sync marker has 16 bytes");
  if (options_.records_per_block == 0) return InvalidArgument("records_per_block must be >= 1");
  Encoder header;
  header.BeginBlock(static_cast<int64_t>(metadata_.size() + 2));
  header.String(kSchemaKey);
  header.Bytes(schema_json_);
  header.String(kCodecKey);
  header.Bytes(CodecName(options_.codec));
  for (const auto& [key, value] : metadata_) {
    if (key.starts_with("avro.")) {
      return InvalidArgument("Avro metadata key '" + key + "' is reserved for Avro itself");
    }
    header.String(key);
    header.Bytes(value);
  }
  header.EndBlocks();
  std::string file(kMagic);
  file += header.bytes();
  file += sync;
  for (size_t start = 0; start < records_.size(); start += options_.records_per_block) {
    size_t end = std::min(records_.size(), start + options_.records_per_block);
    std::string data;
    for (size_t i = start; i < end; ++i) data += records_[i];
    if (options_.codec == Codec::kDeflate) {
      EDDY_ASSIGN_OR_RETURN(data, Deflate(data));
    }
    Encoder block;
    block.Long(static_cast<int64_t>(end - start));
    block.Long(static_cast<int64_t>(data.size()));
    file += block.bytes();
    file += data;
    file += sync;
  }
  return file;
}

Result<Container> ReadContainer(std::string_view file) {
  if (file.size() < kMagic.size() || file.substr(0, kMagic.size()) != kMagic) {
    return Corruption("not an Avro object container file (the magic 'Obj\\x01' is missing)");
  }
  Decoder decoder(file.substr(kMagic.size()));
  Container container;
  uint64_t entries = 0;
  while (true) {
    EDDY_ASSIGN_OR_RETURN(int64_t count, decoder.BlockCount());
    if (count == 0) break;
    for (int64_t i = 0; i < count; ++i) {
      if (++entries > kMaxMetadataEntries) {
        return Corruption("Avro header has more than " + std::to_string(kMaxMetadataEntries) +
                          " metadata entries");
      }
      EDDY_ASSIGN_OR_RETURN(std::string_view key, decoder.String());
      EDDY_ASSIGN_OR_RETURN(std::string_view value, decoder.Bytes());
      container.metadata.insert_or_assign(std::string(key), std::string(value));
    }
  }
  if (!container.metadata.contains(kSchemaKey)) {
    return Corruption("Avro header has no avro.schema");
  }
  if (auto codec = container.metadata.find(kCodecKey); codec != container.metadata.end()) {
    auto parsed = ParseCodec(codec->second);
    if (!parsed.ok()) return Corruption(parsed.status().message());
    container.codec = *parsed;
  }
  EDDY_ASSIGN_OR_RETURN(std::string_view sync, decoder.Fixed(kSyncBytes));
  Decoder& blocks = decoder;
  while (!blocks.empty()) {
    EDDY_ASSIGN_OR_RETURN(int64_t count, blocks.Long());
    EDDY_ASSIGN_OR_RETURN(int64_t size, blocks.Long());
    if (count < 0 || size < 0 || static_cast<uint64_t>(size) > kMaxBlockBytes) {
      return Corruption("Avro block with count " + std::to_string(count) + " and size " +
                        std::to_string(size) + " is out of range");
    }
    EDDY_ASSIGN_OR_RETURN(std::string_view data, blocks.Fixed(static_cast<size_t>(size)));
    EDDY_ASSIGN_OR_RETURN(std::string_view block_sync, blocks.Fixed(kSyncBytes));
    if (block_sync != sync) {
      return Corruption("Avro block sync marker differs from the header's (a damaged file)");
    }
    if (container.codec == Codec::kDeflate) {
      EDDY_ASSIGN_OR_RETURN(std::string inflated, Inflate(data));
      container.records += inflated;
    } else {
      container.records += data;
    }
    if (container.records.size() > kMaxBlockBytes * 4) {
      return Corruption("Avro file holds more than " + std::to_string(kMaxBlockBytes * 4) +
                        " bytes of records");
    }
    container.record_count += static_cast<uint64_t>(count);
  }
  return container;
}

}  // namespace eddy::avro

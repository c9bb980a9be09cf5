#include "api/iterator_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "api/json_writer.h"
#include "base/bytes.h"

namespace eddy::api {
namespace {
constexpr uint8_t kVersion = 1;
constexpr size_t kMacBytes = 16;
}  // namespace

IteratorCodec::IteratorCodec(std::string key) : key_(std::move(key)) {}

Result<IteratorCodec> IteratorCodec::WithRandomKey() {
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return Internal("cannot draw random bytes for the shard iterator key (OpenSSL RAND_bytes)");
  }
  return IteratorCodec(std::move(key));
}

std::string IteratorCodec::Mac(std::string_view bytes) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest, &length);
  return std::string(reinterpret_cast<char*>(digest), kMacBytes);
}

std::string IteratorCodec::Encode(const IteratorPosition& position) const {
  std::string bytes;
  PutFixed8(bytes, kVersion);
  PutFixed8(bytes, static_cast<uint8_t>(position.api));
  PutFixed64(bytes, static_cast<uint64_t>(position.issued_millis));
  PutFixed64(bytes, static_cast<uint64_t>(position.stream_created_millis));
  PutFixed32(bytes, position.shard_index);
  PutFixed64(bytes, position.next_sequence);
  std::string_view name = std::string_view(position.stream_name).substr(0, 255);
  PutFixed8(bytes, static_cast<uint8_t>(name.size()));
  bytes.append(name);
  bytes += Mac(bytes);
  return EncodeBase64(bytes);
}

Result<IteratorPosition> IteratorCodec::Decode(std::string_view token) const {
  static const Status kInvalid = InvalidArgument("Invalid ShardIterator.");
  if (token.size() > 512) return kInvalid;
  std::string bytes;
  if (!DecodeBase64(token, &bytes) || bytes.size() < kMacBytes + 31) return kInvalid;
  // Only the canonical encoding is accepted, so one position has exactly one token text.
  if (EncodeBase64(bytes) != token) return kInvalid;
  std::string_view signed_part(bytes.data(), bytes.size() - kMacBytes);
  std::string expected = Mac(signed_part);
  if (CRYPTO_memcmp(expected.data(), bytes.data() + signed_part.size(), kMacBytes) != 0) {
    return kInvalid;
  }
  ByteReader reader(signed_part);
  IteratorPosition position;
  auto version = reader.ReadFixed8();
  auto api = reader.ReadFixed8();
  auto issued = reader.ReadFixed64();
  auto created = reader.ReadFixed64();
  auto shard = reader.ReadFixed32();
  auto sequence = reader.ReadFixed64();
  auto name_length = reader.ReadFixed8();
  if (!version.ok() || *version != kVersion || !api.ok() || !issued.ok() || !created.ok() ||
      !shard.ok() || !sequence.ok() || !name_length.ok()) {
    return kInvalid;
  }
  auto name = reader.ReadBytes(*name_length);
  if (!name.ok() || !reader.empty()) return kInvalid;
  if (*api != static_cast<uint8_t>(IteratorApi::kKinesis) &&
      *api != static_cast<uint8_t>(IteratorApi::kDynamoDbStreams)) {
    return kInvalid;
  }
  position.api = static_cast<IteratorApi>(*api);
  position.issued_millis = static_cast<int64_t>(*issued);
  position.stream_created_millis = static_cast<int64_t>(*created);
  position.shard_index = *shard;
  position.next_sequence = *sequence;
  position.stream_name = std::string(*name);
  return position;
}

}  // namespace eddy::api

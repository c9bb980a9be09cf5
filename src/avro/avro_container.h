// The Avro object container file (Apache Avro 1.11 specification, "Object Container Files"),
// as eddy writes it for Iceberg manifests and manifest lists. Spec notes: docs/formats/avro.md.
//
//   "Obj" 0x01                               magic, 4 bytes
//   map<bytes> metadata                      blocks of (count, (string key, bytes value)*), 0
//                                              "avro.schema"  the schema JSON (required)
//                                              "avro.codec"   "null" or "deflate"
//                                              user keys      (Iceberg: schema, format-version...)
//   sync marker                              16 bytes, repeated after every block
//   block*:  long count  long size  bytes data[size]  sync[16]
//            data = `count` records, each the binary encoding of the schema,
//                   compressed as a whole by the codec (deflate: raw RFC 1951, no zlib header)
//
// Binary encoding used by the records: int and long are zig-zag varints, a string or bytes is a
// long length then the bytes, a boolean one byte, a double 8 bytes little-endian, a union the
// long index of its branch then the branch's value, an array or map blocks of
// (long count, items) ending with a 0 count, a record its fields in schema order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace eddy::avro {

inline constexpr std::string_view kMagic{"Obj\x01", 4};
inline constexpr size_t kSyncBytes = 16;
inline constexpr std::string_view kSchemaKey = "avro.schema";
inline constexpr std::string_view kCodecKey = "avro.codec";
// Bounds the reader enforces on untrusted files (a manifest list holds a few thousand entries).
inline constexpr uint64_t kMaxBlockBytes = 64ull << 20;
inline constexpr uint64_t kMaxMetadataEntries = 4096;

}  // namespace eddy::avro

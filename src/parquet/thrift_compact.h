// The Thrift compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md), the subset
// Parquet's footer and page headers use: structs, lists, bool, i8, i16, i32, i64, binary.
//
//   field header   (id_delta << 4) | type   when 1 <= id_delta <= 15, else type, then the id as
//                  a zigzag varint i16. A bool field's value is its type (1 true, 2 false).
//   i16/i32/i64    zigzag varint;  i8: one byte;  binary: varint length, bytes
//   list header    (size << 4) | element type   when size < 15, else 0xF0 | type, varint size
//   struct         fields, then a 0x00 stop byte; each nested struct restarts the id delta at 0
//
// CompactWriter appends to a caller-owned string. CompactReader decodes untrusted bytes into a
// generic tree (for tests and tools that check what the writer produced): every read is
// bounds-checked, nesting and list sizes are limited, and malformed input is kCorruption.
// Both are plain single-thread values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace eddy::parquet::thrift {

// Compact protocol type codes.
enum class CompactType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) {}

  // Fields of the struct being written (the outermost struct is implicit: call BeginStruct
  // only for nested structs, through FieldStructBegin / ListStructBegin).
  void FieldBool(int16_t id, bool value);
  void FieldI8(int16_t id, int8_t value);
  void FieldI16(int16_t id, int16_t value);
  void FieldI32(int16_t id, int32_t value);
  void FieldI64(int16_t id, int64_t value);
  void FieldBinary(int16_t id, std::string_view value);
  // A struct-valued field: write its fields, then StructEnd().
  void FieldStructBegin(int16_t id);
  // A list-valued field of `size` elements of `element_type`; then the elements with List*.
  void FieldListBegin(int16_t id, CompactType element_type, uint32_t size);
  void ListI32(int32_t value);
  void ListBinary(std::string_view value);
  // A struct element of a list: write its fields, then StructEnd().
  void ListStructBegin();
  // Ends a nested struct (and, called once more at the end, the outermost one).
  void StructEnd();

 private:
  void FieldHeader(int16_t id, CompactType type);
  void Varint(uint64_t value);
  void Zigzag(int64_t value);

  std::string* out_;
  int16_t last_id_ = 0;
  std::vector<int16_t> stack_;  // last field ids of the enclosing structs
};

// A decoded value: which members are meaningful depends on `type`.
struct Node {
  CompactType type = CompactType::kStop;
  int64_t integer = 0;  // bool (0/1), byte, i16, i32, i64
  std::string binary;
  std::vector<Node> elements;                    // list / set
  std::vector<std::pair<int16_t, Node>> fields;  // struct, in wire order

  // The struct member with field id `id`, or nullptr.
  const Node* Field(int16_t id) const;
};

class CompactReader {
 public:
  // Limits for untrusted input.
  static constexpr int kMaxDepth = 32;

  // Decodes one struct from the front of `bytes`; `consumed` receives its encoded length.
  static Result<Node> ReadStruct(std::string_view bytes, size_t* consumed);
};

}  // namespace eddy::parquet::thrift

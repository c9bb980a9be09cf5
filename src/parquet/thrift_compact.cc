#include "parquet/thrift_compact.h"

#include "base/bytes.h"

namespace eddy::parquet::thrift {

void CompactWriter::Varint(uint64_t value) { PutVarint64(*out_, value); }

void CompactWriter::Zigzag(int64_t value) { PutVarintSigned64(*out_, value); }

void CompactWriter::FieldHeader(int16_t id, CompactType type) {
  const int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    Zigzag(id);
  }
  last_id_ = id;
}

void CompactWriter::FieldBool(int16_t id, bool value) {
  FieldHeader(id, value ? CompactType::kBoolTrue : CompactType::kBoolFalse);
}

void CompactWriter::FieldI8(int16_t id, int8_t value) {
  FieldHeader(id, CompactType::kByte);
  out_->push_back(static_cast<char>(value));
}

void CompactWriter::FieldI16(int16_t id, int16_t value) {
  FieldHeader(id, CompactType::kI16);
  Zigzag(value);
}

void CompactWriter::FieldI32(int16_t id, int32_t value) {
  FieldHeader(id, CompactType::kI32);
  Zigzag(value);
}

void CompactWriter::FieldI64(int16_t id, int64_t value) {
  FieldHeader(id, CompactType::kI64);
  Zigzag(value);
}

void CompactWriter::FieldBinary(int16_t id, std::string_view value) {
  FieldHeader(id, CompactType::kBinary);
  Varint(value.size());
  out_->append(value.data(), value.size());
}

void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, CompactType::kStruct);
  stack_.push_back(last_id_);
  last_id_ = 0;
}

void CompactWriter::FieldListBegin(int16_t id, CompactType element_type, uint32_t size) {
  FieldHeader(id, CompactType::kList);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<uint32_t>(element_type)));
  } else {
    out_->push_back(static_cast<char>(0xF0 | static_cast<int>(element_type)));
    Varint(size);
  }
}

void CompactWriter::ListI32(int32_t value) { Zigzag(value); }

void CompactWriter::ListBinary(std::string_view value) {
  Varint(value.size());
  out_->append(value.data(), value.size());
}

void CompactWriter::ListStructBegin() {
  stack_.push_back(last_id_);
  last_id_ = 0;
}

void CompactWriter::StructEnd() {
  out_->push_back(static_cast<char>(CompactType::kStop));
  if (!stack_.empty()) {
    last_id_ = stack_.back();
    stack_.pop_back();
  } else {
    last_id_ = 0;
  }
}

const Node* Node::Field(int16_t id) const {
  for (const auto& [field_id, node] : fields) {
    if (field_id == id) return &node;
  }
  return nullptr;
}

namespace {

Status ReadValue(ByteReader& reader, CompactType type, int depth, Node& out);

Status ReadStructBody(ByteReader& reader, int depth, Node& out) {
  if (depth > CompactReader::kMaxDepth) {
    return Corruption("thrift struct nested deeper than " +
                      std::to_string(CompactReader::kMaxDepth) + " levels");
  }
  out.type = CompactType::kStruct;
  int16_t last_id = 0;
  while (true) {
    EDDY_ASSIGN_OR_RETURN(uint8_t header, reader.ReadFixed8());
    const auto type = static_cast<CompactType>(header & 0x0F);
    if (type == CompactType::kStop) {
      if (header != 0) return Corruption("thrift stop byte with a non-zero id delta");
      return Status::Ok();
    }
    int64_t id = 0;
    if ((header >> 4) != 0) {
      id = last_id + (header >> 4);
    } else {
      EDDY_ASSIGN_OR_RETURN(id, reader.ReadVarintSigned64());
    }
    if (id < INT16_MIN || id > INT16_MAX) return Corruption("thrift field id out of i16 range");
    last_id = static_cast<int16_t>(id);
    Node value;
    if (type == CompactType::kBoolTrue || type == CompactType::kBoolFalse) {
      value.type = CompactType::kBoolTrue;
      value.integer = type == CompactType::kBoolTrue ? 1 : 0;
    } else {
      EDDY_RETURN_IF_ERROR(ReadValue(reader, type, depth + 1, value));
    }
    out.fields.emplace_back(last_id, std::move(value));
  }
}

Status ReadValue(ByteReader& reader, CompactType type, int depth, Node& out) {
  out.type = type;
  switch (type) {
    case CompactType::kByte: {
      EDDY_ASSIGN_OR_RETURN(uint8_t byte, reader.ReadFixed8());
      out.integer = static_cast<int8_t>(byte);
      return Status::Ok();
    }
    case CompactType::kI16:
    case CompactType::kI32:
    case CompactType::kI64: {
      EDDY_ASSIGN_OR_RETURN(out.integer, reader.ReadVarintSigned64());
      return Status::Ok();
    }
    case CompactType::kDouble: {
      EDDY_ASSIGN_OR_RETURN(uint64_t bits, reader.ReadFixed64());
      out.integer = static_cast<int64_t>(bits);
      return Status::Ok();
    }
    case CompactType::kBinary: {
      EDDY_ASSIGN_OR_RETURN(std::string_view bytes, reader.ReadLengthPrefixed());
      out.binary.assign(bytes.data(), bytes.size());
      return Status::Ok();
    }
    case CompactType::kList:
    case CompactType::kSet: {
      if (depth > CompactReader::kMaxDepth) return Corruption("thrift list nested too deep");
      EDDY_ASSIGN_OR_RETURN(uint8_t header, reader.ReadFixed8());
      uint64_t size = header >> 4;
      const auto element_type = static_cast<CompactType>(header & 0x0F);
      if (size == 15) {
        EDDY_ASSIGN_OR_RETURN(size, reader.ReadVarint64());
      }
      // Every element takes at least one byte (bools included), so a size beyond the bytes
      // that remain is corrupt; this also bounds the allocation.
      if (size > reader.remaining()) {
        return Corruption("thrift list of " + std::to_string(size) + " elements in " +
                          std::to_string(reader.remaining()) + " bytes");
      }
      out.elements.reserve(size);
      for (uint64_t i = 0; i < size; ++i) {
        Node element;
        if (element_type == CompactType::kBoolTrue || element_type == CompactType::kBoolFalse) {
          EDDY_ASSIGN_OR_RETURN(uint8_t byte, reader.ReadFixed8());
          element.type = CompactType::kBoolTrue;
          element.integer = byte == 1 ? 1 : 0;
        } else {
          EDDY_RETURN_IF_ERROR(ReadValue(reader, element_type, depth + 1, element));
        }
        out.elements.push_back(std::move(element));
      }
      return Status::Ok();
    }
    case CompactType::kStruct:
      return ReadStructBody(reader, depth + 1, out);
    default:
      return Corruption("thrift type " + std::to_string(static_cast<int>(type)) +
                        " is not supported here (maps and unknown types)");
  }
}

}  // namespace

Result<Node> CompactReader::ReadStruct(std::string_view bytes, size_t* consumed) {
  ByteReader reader(bytes);
  Node root;
  EDDY_RETURN_IF_ERROR(ReadStructBody(reader, 0, root));
  if (consumed != nullptr) *consumed = reader.consumed();
  return root;
}

}  // namespace eddy::parquet::thrift

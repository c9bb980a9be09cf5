#include "iceberg/column_metrics.h"

#include <cstdint>

namespace eddy::iceberg {

namespace {

// A little-endian integer of `bytes` bytes, sign-extended.
int64_t LittleEndianSigned(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  }
  const unsigned bits = static_cast<unsigned>(8 * bytes.size());
  if (bits < 64 && (value >> (bits - 1)) != 0) value |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(value);
}

// Two's-complement big-endian bytes with redundant leading sign bytes removed (Iceberg's
// decimal serialization: "the minimum number of bytes for the value").
std::string MinimalBigEndian(std::string big_endian) {
  size_t drop = 0;
  while (drop + 1 < big_endian.size()) {
    const auto first = static_cast<uint8_t>(big_endian[drop]);
    const auto next = static_cast<uint8_t>(big_endian[drop + 1]);
    if ((first == 0x00 && next < 0x80) || (first == 0xFF && next >= 0x80)) {
      ++drop;
    } else {
      break;
    }
  }
  return big_endian.substr(drop);
}

std::string BigEndian(int64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) {
    out[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint64_t>(value) >> (56 - 8 * i));
  }
  return out;
}

// True when UTF-8 `text` has a lead byte of a code point at or above U+E000 (0xEE-0xF4).
bool HasHighCodePoint(std::string_view text) {
  for (char c : text) {
    if (static_cast<uint8_t>(c) >= 0xEE) return true;
  }
  return false;
}

const Field* FieldById(const Schema& schema, int32_t id) {
  for (const Field& field : schema.fields) {
    if (field.id == id) return &field;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> IcebergBound(std::string_view iceberg_type,
                                        const parquet::ColumnStatistics& column,
                                        std::string_view parquet_bound, BoundKind kind) {
  using parquet::PhysicalType;
  const PhysicalType physical = column.physical;
  auto sized = [&](size_t bytes) -> std::optional<std::string> {
    if (parquet_bound.size() != bytes) return std::nullopt;
    return std::string(parquet_bound);
  };
  if (iceberg_type == "boolean")
    return physical == PhysicalType::kBoolean ? sized(1) : std::nullopt;
  if (iceberg_type == "int" || iceberg_type == "date") {
    return physical == PhysicalType::kInt32 ? sized(4) : std::nullopt;
  }
  if (iceberg_type == "long") {
    if (physical == PhysicalType::kInt32 && parquet_bound.size() == 4) {
      // INT(32,unsigned) kept as long: the bit pattern, compared unsigned by the writer.
      std::string widened(parquet_bound);
      const char fill = column.logical == "INT(32,unsigned)" || (parquet_bound[3] & 0x80) == 0
                            ? '\0'
                            : static_cast<char>(0xFF);
      widened.append(4, fill);
      return widened;
    }
    // A 64-bit unsigned column written before decimal(20, 0) was its type stays long; the
    // writer ordered it unsigned, readers compare signed.
    if (column.logical == "INT(64,unsigned)") return std::nullopt;
    return physical == PhysicalType::kInt64 ? sized(8) : std::nullopt;
  }
  if (iceberg_type == "float" || iceberg_type == "double") {
    const size_t width = iceberg_type == "float" ? 4 : 8;
    if (physical != (width == 4 ? PhysicalType::kFloat : PhysicalType::kDouble))
      return std::nullopt;
    std::optional<std::string> bound = sized(width);
    if (!bound) return bound;
    // The writer compares -0.0 and +0.0 equal; readers may order -0.0 first (Java's
    // Float.compare). A lower bound of zero is written -0.0, an upper one +0.0 (the rule the
    // Parquet format gives for its own statistics), so both orders keep every zero inside.
    const bool zero = bound->find_first_not_of('\0', 0) == width - 1 &&
                      static_cast<uint8_t>((*bound)[width - 1]) == 0x80;
    const bool plus_zero = bound->find_first_not_of('\0') == std::string::npos;
    if (kind == BoundKind::kLower && plus_zero) (*bound)[width - 1] = static_cast<char>(0x80);
    if (kind == BoundKind::kUpper && zero) (*bound)[width - 1] = '\0';
    return bound;
  }
  if (iceberg_type == "time" || iceberg_type == "timestamp" || iceberg_type == "timestamptz") {
    if (physical != PhysicalType::kInt64 || column.logical.find("MICROS") == std::string::npos) {
      return std::nullopt;
    }
    return sized(8);
  }
  if (iceberg_type == "string") {
    if (physical != PhysicalType::kByteArray || HasHighCodePoint(parquet_bound)) {
      return std::nullopt;
    }
    return std::string(parquet_bound);
  }
  if (iceberg_type == "binary") {
    return physical == PhysicalType::kByteArray ? std::optional<std::string>(parquet_bound)
                                                : std::nullopt;
  }
  if (iceberg_type.starts_with("fixed[")) {
    return physical == PhysicalType::kFixedLenByteArray ? std::optional<std::string>(parquet_bound)
                                                        : std::nullopt;
  }
  if (iceberg_type.starts_with("decimal(")) {
    switch (physical) {
      case PhysicalType::kInt32:
        if (parquet_bound.size() != 4) return std::nullopt;
        return MinimalBigEndian(BigEndian(LittleEndianSigned(parquet_bound)));
      case PhysicalType::kInt64:
        if (parquet_bound.size() != 8) return std::nullopt;
        return MinimalBigEndian(BigEndian(LittleEndianSigned(parquet_bound)));
      case PhysicalType::kFixedLenByteArray:
        if (parquet_bound.empty()) return std::nullopt;
        return MinimalBigEndian(std::string(parquet_bound));
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;  // uuid and anything else: no bound
}

void SetColumnMetrics(const Schema& schema, const parquet::FileSummary& summary, DataFile* file) {
  file->column_sizes.clear();
  file->value_counts.clear();
  file->null_value_counts.clear();
  file->nan_value_counts.clear();
  file->lower_bounds.clear();
  file->upper_bounds.clear();
  for (const parquet::ColumnStatistics& column : summary.columns) {
    if (!column.field_id) continue;
    const int32_t id = *column.field_id;
    file->column_sizes.emplace_back(id, static_cast<int64_t>(column.compressed_bytes));
    file->value_counts.emplace_back(id, static_cast<int64_t>(column.value_count));
    file->null_value_counts.emplace_back(id, static_cast<int64_t>(column.null_count));
    if (column.physical == parquet::PhysicalType::kFloat ||
        column.physical == parquet::PhysicalType::kDouble) {
      file->nan_value_counts.emplace_back(id, static_cast<int64_t>(column.nan_count));
    }
    const Field* field = FieldById(schema, id);
    if (field == nullptr) continue;
    if (column.min_value) {
      if (auto bound = IcebergBound(field->type, column, *column.min_value, BoundKind::kLower)) {
        file->lower_bounds.emplace_back(id, std::move(*bound));
      }
    }
    if (column.max_value) {
      if (auto bound = IcebergBound(field->type, column, *column.max_value, BoundKind::kUpper)) {
        file->upper_bounds.emplace_back(id, std::move(*bound));
      }
    }
  }
}

}  // namespace eddy::iceberg

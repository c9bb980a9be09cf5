// The Parquet file format as eddy writes it: the constants of apache/parquet-format's
// parquet.thrift that the writer uses (values fixed by the spec) and the Thrift field ids of the
// structs it writes. Prose spec: docs/formats/parquet.md.
//
//   offset 0        "PAR1"
//                   row group 0: column chunk 0: [PageHeader | page body] [PageHeader | body] ...
//                                column chunk 1: ...
//                   row group 1: ...
//   footer_start    FileMetaData (Thrift compact protocol)
//   size - 8        footer length: uint32 little-endian = size - 8 - footer_start
//   size - 4        "PAR1"
//
// A page body (DataPage V1, compressed as one block when a codec is set):
//   OPTIONAL column:  uint32 LE length | definition levels (RLE/bit-packed hybrid, bit width 1)
//                     | the non-null values, PLAIN
//   REQUIRED column:  the values, PLAIN
#pragma once

#include <cstdint>
#include <string_view>

namespace eddy::parquet::format {

inline constexpr std::string_view kMagic = "PAR1";

// parquet.thrift `Type`.
enum class Type : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

// parquet.thrift `ConvertedType` (the legacy annotation written beside LogicalType).
enum class ConvertedType : int32_t {
  kUtf8 = 0,
  kDecimal = 5,
  kDate = 6,
  kTimeMicros = 8,
  kTimestampMicros = 10,
  kUint8 = 11,
  kUint16 = 12,
  kUint32 = 13,
  kUint64 = 14,
  kInt8 = 15,
  kInt16 = 16,
  kInt32 = 17,
  kInt64 = 18,
  kJson = 19,
};

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class Encoding : int32_t { kPlain = 0, kRle = 3 };

enum class CompressionCodec : int32_t { kUncompressed = 0, kSnappy = 1, kZstd = 6 };

enum class PageType : int32_t { kDataPage = 0, kDictionaryPage = 2 };

// `LogicalType` is a Thrift union: the id of the member that is set.
namespace logical {
inline constexpr int16_t kString = 1;     // StringType {}
inline constexpr int16_t kDecimal = 5;    // DecimalType {1: i32 scale, 2: i32 precision}
inline constexpr int16_t kDate = 6;       // DateType {}
inline constexpr int16_t kTime = 7;       // TimeType {1: bool isAdjustedToUTC, 2: TimeUnit unit}
inline constexpr int16_t kTimestamp = 8;  // TimestampType {1: bool isAdjustedToUTC, 2: unit}
inline constexpr int16_t kInteger = 10;   // IntType {1: i8 bitWidth, 2: bool isSigned}
inline constexpr int16_t kJson = 12;      // JsonType {}
inline constexpr int16_t kUuid = 14;      // UUIDType {}
// `TimeUnit` union members.
inline constexpr int16_t kUnitMicros = 2;  // MicroSeconds {}
}  // namespace logical

// Thrift field ids of the structs eddy writes.
namespace field {
// FileMetaData
inline constexpr int16_t kFileVersion = 1, kFileSchema = 2, kFileNumRows = 3, kFileRowGroups = 4,
                         kFileKeyValueMetadata = 5, kFileCreatedBy = 6, kFileColumnOrders = 7;
// SchemaElement
inline constexpr int16_t kSchemaType = 1, kSchemaTypeLength = 2, kSchemaRepetition = 3,
                         kSchemaName = 4, kSchemaNumChildren = 5, kSchemaConvertedType = 6,
                         kSchemaScale = 7, kSchemaPrecision = 8, kSchemaFieldId = 9,
                         kSchemaLogicalType = 10;
// KeyValue
inline constexpr int16_t kKey = 1, kValue = 2;
// RowGroup
inline constexpr int16_t kRowGroupColumns = 1, kRowGroupTotalByteSize = 2, kRowGroupNumRows = 3,
                         kRowGroupFileOffset = 5, kRowGroupTotalCompressedSize = 6,
                         kRowGroupOrdinal = 7;
// ColumnChunk
inline constexpr int16_t kChunkFileOffset = 2, kChunkMetaData = 3;
// ColumnMetaData
inline constexpr int16_t kMetaType = 1, kMetaEncodings = 2, kMetaPathInSchema = 3, kMetaCodec = 4,
                         kMetaNumValues = 5, kMetaTotalUncompressedSize = 6,
                         kMetaTotalCompressedSize = 7, kMetaDataPageOffset = 9,
                         kMetaStatistics = 12;
// Statistics (1/2 are the deprecated signed-order min/max; eddy writes 3, 5-8)
inline constexpr int16_t kStatsNullCount = 3, kStatsMaxValue = 5, kStatsMinValue = 6,
                         kStatsIsMaxValueExact = 7, kStatsIsMinValueExact = 8;
// ColumnOrder union: TypeDefinedOrder {}
inline constexpr int16_t kColumnOrderTypeDefined = 1;
// PageHeader
inline constexpr int16_t kPageType = 1, kPageUncompressedSize = 2, kPageCompressedSize = 3,
                         kPageDataPageHeader = 5;
// DataPageHeader
inline constexpr int16_t kDataPageNumValues = 1, kDataPageEncoding = 2,
                         kDataPageDefinitionLevelEncoding = 3, kDataPageRepetitionLevelEncoding = 4;
}  // namespace field

}  // namespace eddy::parquet::format

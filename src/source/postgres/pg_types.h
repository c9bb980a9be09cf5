// PostgreSQL types -> eddy model values. pgoutput sends column values as the type output
// function's text, rendered inside the walsender with the session settings eddy pins
// (kPinnedSessionOptions below), so the text has one predictable shape per type. The mapping
// table is docs/formats/types.md.
//
// Built-in types are known by OID (stable across versions). User-defined types (enums,
// domains, arrays of them, extension types) are resolved through a TypeRegistry filled from
// the catalog (pg_type) and from pgoutput Type messages.
//
// Decoding never loses data: a type eddy does not model, or a value beyond the model's range
// (a timestamp past year 294246 does not fit int64 microseconds from 1970), becomes
// TypedText holding the server's text and the type name.
//
// Thread safety: TypeRegistry is not synchronized (one capture thread owns it); the free
// functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "model/schema.h"
#include "model/value.h"

namespace eddy::source::postgres {

// The session settings every eddy connection to PostgreSQL uses (libpq `options`), so values
// render identically whatever the server's or role's defaults are.
inline constexpr char kPinnedSessionOptions[] =
    "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c TimeZone=UTC "
    "-c bytea_output=hex";

// Built-in OIDs used by the decoder (pg_type.dat; they never change).
namespace oid {
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kChar = 18;
inline constexpr uint32_t kName = 19;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kOid = 26;
inline constexpr uint32_t kJson = 114;
inline constexpr uint32_t kXml = 142;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kMoney = 790;
inline constexpr uint32_t kBpchar = 1042;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kDate = 1082;
inline constexpr uint32_t kTime = 1083;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestampTz = 1184;
inline constexpr uint32_t kInterval = 1186;
inline constexpr uint32_t kTimeTz = 1266;
inline constexpr uint32_t kBit = 1560;
inline constexpr uint32_t kVarbit = 1562;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kUuid = 2950;
inline constexpr uint32_t kJsonb = 3802;
inline constexpr uint32_t kInt4Array = 1007;
inline constexpr uint32_t kTextArray = 1009;
}  // namespace oid

// What the catalog says about a non-built-in type (one pg_type row).
struct CatalogType {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
  char kind = 'b';           // typtype: b base, c composite, d domain, e enum, m multirange, r range
  bool is_array = false;     // typcategory = 'A'
  uint32_t base_oid = 0;     // typbasetype (domains)
  uint32_t element_oid = 0;  // typelem (arrays)
  char delimiter = ',';      // typdelim of the element type (arrays)
};

class TypeRegistry {
 public:
  // Adds or replaces what is known about `type.oid`.
  void Add(CatalogType type);
  // A pgoutput Type message: the server sends the type's schema ("" = pg_catalog) and name,
  // and for a domain the name of its base type. Keeps catalog facts already known.
  void AddFromTypeMessage(uint32_t type_oid, std::string_view schema, std::string_view name);
  const CatalogType* Find(uint32_t type_oid) const;
  // True when the OID is built in or the registry has a catalog row for it (a Type message
  // alone does not tell enum from domain from base type).
  bool Knows(uint32_t type_oid) const;

 private:
  std::unordered_map<uint32_t, CatalogType> types_;
};

// How a column of some type decodes.
struct ResolvedType {
  uint32_t oid = 0;
  std::string name;  // "int4", "numeric", "_text", "public.mood"
  model::ValueType value_type = model::ValueType::kTypedText;
  // Arrays: the element type's OID, value type and the element delimiter.
  uint32_t element_oid = 0;
  model::ValueType element_type = model::ValueType::kNull;
  char delimiter = ',';
};

// Never fails: an unknown OID resolves to TypedText named "oid:<n>".
ResolvedType ResolveType(uint32_t type_oid, const TypeRegistry& registry);

// A schema column for a relation column: type, source type name and the typmod decoded
// (varchar(n)/bpchar(n)/bit(n) -> length; numeric(p,s); time/timestamp/interval(p)).
model::Column DescribeColumn(std::string_view name, uint32_t type_oid, int32_t type_modifier,
                             const TypeRegistry& registry);

// Decodes one value in text format. Corruption when the text does not have the shape the
// pinned settings produce (names the type and shows a prefix of the text).
Result<model::Value> DecodeTextValue(uint32_t type_oid, std::string_view text,
                                     const TypeRegistry& registry);

// The microseconds since 1970 DecodeTextValue gives a finite timestamp (`with_zone`:
// timestamptz, UTC) printed as PostgreSQL prints it; nullopt for anything else (infinity,
// beyond int64, malformed), which DecodeTextValueAs then decodes or names in its error. The
// snapshot's path for the type without a model::Value in between.
std::optional<int64_t> ParseFiniteTimestampMicros(std::string_view text, bool with_zone);

// Decodes with a type resolved once (callers cache ResolvedType per column).
Result<model::Value> DecodeTextValueAs(const ResolvedType& type, std::string_view text,
                                       const TypeRegistry& registry);

// Exposed for tests.
Result<model::Value> DecodeTextArray(std::string_view text, const ResolvedType& array_type,
                                     const TypeRegistry& registry);

}  // namespace eddy::source::postgres

// Helpers shared by the parquet tests and bench/parquet/parquet_bench.
#pragma once

#include <string>
#include <utility>

#include "model/schema.h"
#include "model/value.h"

namespace eddy::parquet::testing {

// A column of the source catalog as the writer is given it.
inline model::Column Col(std::string name, model::ValueType type, std::string source_type = "",
                         bool nullable = true) {
  model::Column column;
  column.name = std::move(name);
  column.type = type;
  column.source_type = std::move(source_type);
  column.nullable = nullable;
  return column;
}

}  // namespace eddy::parquet::testing

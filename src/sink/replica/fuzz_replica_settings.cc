// Fuzz target: any bytes as a postgresql:// and a mariadb:// sink URL and as the replica settings
// (`tables`, `table_name`) either parse or give a clean InvalidArgument; parsed settings then
// map table names without crashing. URLs and settings come from configuration and `--sink`.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sink/replica/mariadb_target.h"
#include "sink/replica/postgres_target.h"
#include "sink/replica/replica_destination.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t split = text.find('\n');
  std::string first = text.substr(0, split);
  std::string second = split == std::string::npos ? std::string() : text.substr(split + 1);
  auto target = eddy::sink::replica::MakePostgresTarget(first, {{"schema", second}});
  if (!target.ok() && target.status().code() != eddy::ErrorCode::kInvalidArgument) std::abort();
  // The same bytes as a mysql:// / mariadb:// URL, and as a literal of the MariaDB dialect.
  auto mariadb = eddy::sink::replica::MakeMariadbTarget(first, {{"connect_timeout", second}});
  if (!mariadb.ok() && mariadb.status().code() != eddy::ErrorCode::kInvalidArgument) std::abort();
  (void)eddy::sink::replica::MariadbDialect().QuoteLiteral(text);
  auto settings = eddy::sink::replica::ReplicaSettings::Parse(
      {{"tables", first}, {"table_name", second}, {"create_tables", second}});
  if (!settings.ok()) {
    if (settings.status().code() != eddy::ErrorCode::kInvalidArgument) std::abort();
    return 0;
  }
  (void)settings->MapTable({first, second, first}, second);
  return 0;
}

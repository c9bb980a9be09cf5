// Database URLs for `eddy validate` and the replica targets: a source URL (source/source_url.h)
// plus the `schema=` parameter, which names the PostgreSQL schema tables live in (libpq has no
// such keyword, so it is taken out before the rest goes to libpq).
//
//   postgresql://USER:PASS@HOST:PORT/DB?schema=S     (schema defaults to public)
//   mysql://USER:PASS@HOST:PORT/DB  or  mariadb://...  (tables live in DB; schema= is refused)
//
// Thread safety: values.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "source/source_url.h"

namespace eddy::validate {

enum class Engine : uint8_t {
  kPostgres = 1,
  kMariadb = 2,  // MySQL and MariaDB
};

std::string_view EngineName(Engine engine);  // "PostgreSQL", "MariaDB"

struct DatabaseUrl {
  Engine engine = Engine::kPostgres;
  source::SourceUrl url;  // without the schema parameter
  // The namespace tables are found in: the PostgreSQL schema, or the MariaDB database.
  std::string table_namespace;
};

// InvalidArgument names what is wrong (scheme, host, port, parameter) and never the password.
Result<DatabaseUrl> ParseDatabaseUrl(std::string_view url);

}  // namespace eddy::validate

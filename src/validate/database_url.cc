#include "validate/database_url.h"

#include <string>
#include <utility>
#include <vector>

namespace eddy::validate {

std::string_view EngineName(Engine engine) {
  return engine == Engine::kPostgres ? "PostgreSQL" : "MariaDB";
}

Result<DatabaseUrl> ParseDatabaseUrl(std::string_view url) {
  // Take `schema=...` out of the query string before libpq's keyword check sees it.
  std::string rest(url);
  std::string schema;
  bool has_schema = false;
  if (size_t question = rest.find('?'); question != std::string::npos) {
    std::string query = rest.substr(question + 1);
    std::string kept;
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      std::string pair = query.substr(start, amp - start);
      if (pair.rfind("schema=", 0) == 0) {
        EDDY_ASSIGN_OR_RETURN(schema, source::PercentDecode(pair.substr(7), true));
        has_schema = true;
      } else if (!pair.empty()) {
        kept += (kept.empty() ? "" : "&") + pair;
      }
      start = amp + 1;
    }
    rest = rest.substr(0, question) + (kept.empty() ? "" : "?" + kept);
  }
  EDDY_ASSIGN_OR_RETURN(source::SourceUrl parsed, source::ParseSourceUrl(rest));
  DatabaseUrl out;
  out.engine = parsed.kind == source::SourceKind::kPostgres ? Engine::kPostgres : Engine::kMariadb;
  if (out.engine == Engine::kMariadb) {
    if (has_schema) {
      return InvalidArgument("database URL " + parsed.ToString() +
                             ": schema= is for PostgreSQL; a MySQL/MariaDB URL names its "
                             "database in the path (mysql://USER:PASS@HOST:PORT/DB)");
    }
    if (parsed.database.empty()) {
      return InvalidArgument("database URL " + parsed.ToString() +
                             " names no database; write mysql://USER:PASS@HOST:PORT/DB");
    }
    out.table_namespace = parsed.database;
  } else {
    if (has_schema && schema.empty()) {
      return InvalidArgument("database URL " + parsed.ToString() +
                             ": schema= is empty; name a schema or leave it out for public");
    }
    out.table_namespace = has_schema ? schema : "public";
  }
  out.url = std::move(parsed);
  return out;
}

}  // namespace eddy::validate

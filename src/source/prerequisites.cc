#include "source/prerequisites.h"

#include "source/mysql/prerequisites.h"
#include "source/postgres/prerequisites.h"

namespace eddy::source {

Result<CheckReport> CheckSource(const SourceUrl& url, const CheckOptions& options) {
  switch (url.kind) {
    case SourceKind::kPostgres:
      return postgres::CheckPrerequisites(url, options);
    case SourceKind::kMysql:
      return mysql::CheckPrerequisites(url, options);
  }
  return InvalidArgument("unsupported source kind in " + url.ToString());
}

Result<CheckReport> CheckSource(std::string_view url, const CheckOptions& options) {
  EDDY_ASSIGN_OR_RETURN(SourceUrl parsed, ParseSourceUrl(url));
  return CheckSource(parsed, options);
}

}  // namespace eddy::source

// `eddy check --source URL`: parse the URL and run the prerequisite checks of its source
// (PostgreSQL for postgresql:// and postgres://, MySQL/MariaDB for mysql:// and mariadb://).
//
// The CLI prints CheckReport::ToText() and exits 0 exactly when CanCapture(). A returned
// error Status (malformed URL, unreachable host, bad password, unknown database) is one line
// for the operator, already free of the password.
//
// Thread safety: reentrant.
#pragma once

#include <string_view>

#include "base/status.h"
#include "source/prerequisites_report.h"
#include "source/source_url.h"

namespace eddy::source {

Result<CheckReport> CheckSource(const SourceUrl& url, const CheckOptions& options = {});
Result<CheckReport> CheckSource(std::string_view url, const CheckOptions& options = {});

}  // namespace eddy::source

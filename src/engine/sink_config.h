// Sink configuration: `[[sink]]` tables in the TOML file and `eddy run --sink URL`, both into
// consume::SinkSpec (docs/configuration.md).
//
//   [[sink]]
//   name = "orders-hook"          # unique in the data directory; default <scheme>-<n>
//   stream = "orders"             # default: the only configured stream
//   url = "webhook+https://example.com/hook"
//   batch_size = 50               # every other key is a setting, as text
//
//   eddy run --sink 'webhook+https://example.com/hook?batch_size=50&name=orders-hook'
//
// URL query parameters are settings by the same names as the TOML keys (URL-decoded); `name`
// and `stream` override those fields. The query is removed from SinkSpec::url. A key given
// both in a table and in its url's query is an error.
//
// Thread safety: pure functions.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"

namespace eddy::engine {

// The `[[sink]]` entries of a parsed file (`tables` from TableReader::ReadTableList("sink")).
// Errors name the file, line and key.
Result<std::vector<consume::SinkSpec>> ParseSinkTables(
    const std::vector<const toml::table*>& tables, std::string_view file_name);

// One `--sink URL`; `ordinal` (1-based, among the --sink flags) makes the default name
// "<scheme>-<ordinal>" (characters a name cannot hold become '-': webhook-https-1).
Result<consume::SinkSpec> ParseSinkUrl(std::string_view url, size_t ordinal);

// Fills defaults that depend on the whole configuration (stream: the only stream) and checks
// names (1-128 of [A-Za-z0-9_.-], unique), streams (configured) and schemes (present).
// `streams` are the configured stream names; empty skips the stream check (`eddy serve`
// serves streams that exist in the data directory).
Status ResolveSinks(std::vector<consume::SinkSpec>& sinks, const std::vector<std::string>& streams,
                    bool require_configured_stream);

// "webhook+https" from "webhook+https://host/path"; empty when there is no "://".
std::string_view UrlScheme(std::string_view url);

}  // namespace eddy::engine

// The OpenSearch / Elasticsearch `_bulk` wire format the OpenSearch sink speaks, and how
// eddy's changes become bulk actions. Prose spec: docs/formats/opensearch-bulk.md. No I/O.
//
//   POST {endpoint}/_bulk?filter_path=<kBulkFilterPath>
//   Content-Type: application/x-ndjson            (never chunked; the body ends with '\n')
//
//   {"index":{"_index":I,"_id":D,"version":V,"version_type":"external_gte"}}\n
//   {<the row image as typed JSON>}\n
//   {"delete":{"_index":I,"_id":D,"version":V,"version_type":"external_gte"}}\n
//
//   reply (HTTP 200 even when items fail), one item per action in request order:
//   {"errors":B,"items":[{"index":{"status":201}},{"delete":{"status":404}},
//                        {"index":{"status":409,"error":{"type":T,"reason":R}}}, ...]}
//
// Versions: V is derived from the change's source position and its place in its transaction
// (ExternalVersion): strictly increasing in the order the source applied the changes. The
// server applies a write whose version is >= the stored one (`external_gte`) and answers 409
// for an older one: a replay or late retry never overwrites newer state (409 = already
// applied). `external_gte` rather than `external` so that re-sending the change the index
// already holds is a no-op instead of an error, and changes past the ordinal bits (which share
// a version) still apply in per-key order.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/position.h"
#include "base/status.h"
#include "model/event.h"
#include "model/schema.h"
#include "sink/opensearch/opensearch_settings.h"

namespace eddy::sink::opensearch {

inline constexpr std::string_view kContentType = "application/x-ndjson";
inline constexpr std::string_view kVersionType = "external_gte";
// Only what the sink reads of a reply (the statuses and errors of the items).
inline constexpr std::string_view kBulkFilterPath =
    "errors,items.*.status,items.*.error.type,items.*.error.reason";
// Longest `_id` OpenSearch accepts (bytes); longer keys become "sha256:" + hex.
inline constexpr size_t kMaxIdBytes = 512;
// Largest external version the servers accept (Java's Long.MAX_VALUE).
inline constexpr uint64_t kMaxVersion = (uint64_t{1} << 63) - 1;

enum class ActionKind : uint8_t { kIndex = 0, kDelete = 1 };
std::string_view ActionName(ActionKind kind);  // "index", "delete"

struct BulkAction {
  ActionKind kind = ActionKind::kIndex;
  std::string index;
  std::string id;
  uint64_t version = 0;
  std::string source;  // kIndex: the document (one line of JSON); empty for kDelete
};

// Appends the action's lines (metadata, and the document for kIndex), each ending in '\n'.
void AppendBulkAction(const BulkAction& action, std::string* out);

// One item of a reply, in request order.
struct BulkItemResult {
  std::string action;  // the item's single member name ("index", "delete", ...)
  int status = 0;
  std::string error_type;  // empty when the item has no error
  std::string error_reason;
};

// Parses a 200 reply to a request of `expected` actions. Anything else than an object with an
// `items` array of `expected` one-member objects holding an integer `status` (100-599) is
// kCorruption: the caller cannot tell what was written. Bounds-checked for any bytes.
Result<std::vector<BulkItemResult>> ParseBulkResponse(std::string_view body, size_t expected);

enum class ItemOutcome : uint8_t {
  kApplied = 0,    // 200/201; 404 of a delete (already gone); 409 (the stored version is newer
                   // or equal: this change or a later one is already there)
  kRetriable = 1,  // 429 (es_rejected_execution_exception), 5xx: sent again with backoff
  kPermanent = 2,  // anything else (400 mapper_parsing_exception, ...): the error location
};
ItemOutcome ClassifyItem(ActionKind kind, const BulkItemResult& item);

// The external version of the change at `position` that is the `ordinal`-th (0-based) of its
// transaction: the transaction's place in the source log, then the change's place in the
// transaction, so versions strictly increase in the order the source applied the changes.
//   PostgreSQL:        commit end LSN << 16 | ordinal       (LSN below 2^47: 128 TiB of WAL)
//   MySQL/MariaDB:     (binlog file number << 32 | offset after the commit) << 11 | ordinal
//                      (file number below 2^20, offset below 2^32)
// An ordinal beyond the bits (the 65,536th change of a PostgreSQL transaction, the 2,048th of
// a MySQL one) saturates: later changes of that transaction share the version, which
// `external_gte` still applies in per-key order. Snapshot rows carry the snapshot's position,
// below every change streamed after it. InvalidArgument for an empty position or one beyond
// the bits.
inline constexpr int kPostgresOrdinalBits = 16;
inline constexpr int kMysqlOrdinalBits = 11;
Result<uint64_t> ExternalVersion(const SourcePosition& position, uint64_t ordinal);

// `_id` of a row: the key columns' values in key order, each as text (numbers as digits,
// text as is, bytes in base64, dates and times in ISO 8601, uuid canonical, others as their
// JSON), joined with '|' when there are several; '|' and '\' inside a value of a multi-
// column key are escaped with '\'. Longer than kMaxIdBytes: "sha256:" + hex SHA-256 of it.
// InvalidArgument for an empty key (a table without a primary key) or a NULL key value.
Result<std::string> DocumentId(const model::Row& key);

// The key columns of `row` in the order of `key_names`; NotFound when one is missing.
Result<model::Row> KeyOf(const model::Row& row, const model::Row& key_names);

// The index for a change of `table` that arrived at `arrival_nanos` (UTC): the template with
// ${db}, ${schema}, ${table} replaced (substituted text lower-cased, characters an index name
// cannot hold replaced by '_'), then the rotation suffix.
std::string IndexName(const IndexTemplate& index, IndexRotation rotation,
                      const model::TableId& table, int64_t arrival_nanos);

// The row image as one line of typed JSON: eddy's native value rendering (numbers as
// numbers, timestamps ISO 8601, bytes base64), decimals as strings or numbers.
void WriteDocument(const model::Row& row, DecimalMode decimals, std::string* out);

// PUT /{index} body with mappings from the source catalog: keyword, long, unsigned_long,
// float, double, scaled_float or keyword decimals, date, boolean, binary, object (json).
std::string IndexCreationBody(const model::TableSchema& schema, DecimalMode decimals);

// One line of Firehose's failed-document shape (AmazonOpenSearchService-failed):
// {attemptsMade, arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp,
//  esDocumentId, esIndexName, esTypeName, rawData (base64 of the action's NDJSON lines)}.
std::string FailedDocumentLine(const BulkAction& action, const BulkItemResult& item, int attempts,
                               int64_t arrival_millis, int64_t now_millis);

// A non-200 reply of the server (any request) as a Status whose code classifies it:
// 429 and 5xx -> kUnavailable; 401/403 -> kPermissionDenied; 413 -> kFailedPrecondition (lower
// bulk_max_bytes); other 4xx -> kFailedPrecondition. The message names the request, status,
// the server's error type and reason, and the fix where known.
Status ErrorFromReply(std::string_view request, int http_status, std::string_view body,
                      std::string_view endpoint);

}  // namespace eddy::sink::opensearch

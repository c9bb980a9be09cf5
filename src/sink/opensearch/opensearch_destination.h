// The OpenSearch / Elasticsearch destination: keeps one index per source table equal to the
// table (opensearch+http(s)://[USER:PASSWORD@]HOST:PORT). Settings: opensearch_settings.h; wire
// format: bulk.h; the contract for users: docs/sinks/opensearch.md.
//
// Open reads ca_file and calls GET / (reachable, credentials accepted, an OpenSearch or
// Elasticsearch answering): an unreachable endpoint or refused credentials stop `eddy run`
// with the fix in the message.
//
// Deliver: each row change becomes bulk actions (an insert, snapshot row or update indexes
// the row image under the key's `_id`; a delete deletes it; an update that changes the key
// deletes the old `_id` and indexes the new one), every one with the change's external
// version (bulk.h). Actions go out in `_bulk` requests of at most bulk_max_documents actions
// and bulk_max_bytes bytes, at most one action per document per request, a document's next
// action only after the previous one was answered, so one document's actions apply in order.
// Items answered 429 or 5xx are sent again alone with eddy::Backoff, up to item_retries
// rounds; after that, and on a failure of the whole request (5xx, 429, network), the batch goes
// back to the runner as a retriable failure (IMPAIRED) with the prefix of fully applied records
// acknowledged. Items refused permanently (400 ...) are appended to the error location,
// DATA/failures/<sink>.AmazonOpenSearchService-failed.jsonl, in Firehose's failed-document
// shape (fsync'd before the record is acknowledged), and counted in
// eddy_opensearch_documents_total{result="failed"}. Truncates, schema changes and other
// records without a row are skipped (counted as result="skipped").
//
// Threads: Deliver may run concurrently (lanes with disjoint keys); each call borrows an HTTP
// client from a pool; the error file is appended under a mutex. Close cancels requests in
// flight and wakes retry waits.
#pragma once

#include <memory>

#include "base/status.h"
#include "consume/sink.h"
#include "io/file_system.h"

namespace eddy::sink::opensearch {

// Parses the spec without I/O.
Result<std::unique_ptr<consume::Destination>> MakeOpenSearchDestination(
    const consume::SinkSpec& spec);

// The same with the file system given (tests). `fs` must outlive the destination.
Result<std::unique_ptr<consume::Destination>> MakeOpenSearchDestinationWith(
    const consume::SinkSpec& spec, io::FileSystem* fs);

}  // namespace eddy::sink::opensearch

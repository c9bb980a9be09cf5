// The Kinesis Data Streams destination: puts each batch into a Kinesis stream with PutRecords
// (kinesis+https://kinesis.REGION.amazonaws.com?stream=NAME, or kinesis+http(s)://HOST:PORT
// ?stream=NAME for kinesalite, `eddy serve` or another compatible endpoint), signed with
// SigV4 (aws/). Settings: kinesis_settings.h; wire shapes and limits: put_records.h; the
// contract for users: docs/sinks/kinesis.md.
//
// Open resolves credentials (aws::ResolveCredentials) and the region, reads ca_file, and
// calls DescribeStreamSummary: an unreachable endpoint, bad credentials or a missing stream
// stop `eddy run` with the fix in the message.
//
// Deliver: the batch's records become entries (large ones chunked, put_records.h), sent in
// PutRecords calls of at most 500 entries and 5 MiB. Per-key order: a call carries at most
// one entry per partition key, and a key's next entry is sent only after the previous one
// succeeded, so a failed entry is never overtaken by a later record of its key. Failed
// entries (ProvisionedThroughputExceededException, InternalFailure) are retried alone with
// eddy::Backoff up to `entry_retries` rounds; after that, and on a failure of the whole call
// (5xx, 429, throttling, network), the batch is handed back as a retriable failure with the
// prefix of fully put records acknowledged, and the runner retries it (IMPAIRED). Records put
// beyond that prefix (and chunks already put of a chunked record) are remembered in memory
// and not put again when the runner retries them: duplicates arise only when eddy dies
// between a put and its checkpoint (at least once).
//
// Threads: Deliver may run concurrently (lanes with disjoint keys); each call borrows an
// HTTP client from a pool. Close cancels requests in flight and wakes retry waits.
#pragma once

#include <memory>

#include "aws/credentials.h"
#include "base/status.h"
#include "consume/sink.h"
#include "io/file_system.h"

namespace eddy::sink::kinesis {

// Parses the spec without I/O; credentials come from the process environment and files.
Result<std::unique_ptr<consume::Destination>> MakeKinesisDestination(const consume::SinkSpec& spec);

// The same with the environment and file system given (tests). `fs` must outlive the
// destination.
Result<std::unique_ptr<consume::Destination>> MakeKinesisDestinationWith(
    const consume::SinkSpec& spec, aws::EnvLookup env, io::FileSystem* fs);

}  // namespace eddy::sink::kinesis

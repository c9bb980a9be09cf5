// The objects destination: each flush of a sink's records becomes objects in S3
// (`s3://BUCKET/PREFIX?region=R[&endpoint=URL]`) or in a local directory (`file:///DIR`), laid
// out the way Amazon Data Firehose lays out its S3 destination (object_name.h,
// prefix_expression.h, objects_settings.h; users' reference: docs/sinks/objects.md).
//
// A flush is one batch of the sink runner, cut by buffer_size_mb or buffer_interval
// (Destination::Batching). Its records are grouped by their evaluated prefix (the timestamp
// of each record's arrival, the partition fields it holds); each group becomes one object
// named after its first record (shard, sequence number, arrival time). Records whose prefix
// cannot be evaluated (a partition field missing or not a scalar) go, as Firehose's
// processing-failed records, under error_prefix.
//
// Exactly once: a batch is acknowledged only after every one of its objects is durable
// (ObjectStore::Put). After a failure or a crash the runner delivers again from its
// checkpoint, and the first object of each group is named after the same first record as
// the object the interrupted flush may have left, so it replaces that object instead of
// adding a duplicate; the argument, and what it needs (one lane, a sequence-ordered reader),
// is in docs/sinks/objects.md.
//
// Failures: an endpoint that does not answer, a missing bucket or directory, refused
// credentials or a full disk make Deliver fail retriably (the sink is IMPAIRED with the reason
// and recovers when the cause is fixed; nothing is acknowledged meanwhile). Open (at start)
// fails for the same causes, so `eddy run` does not start against a wrong URL.
//
// Threads: Deliver calls are serialized (one lane); Close cancels requests in flight.
#pragma once

#include <memory>

#include "base/status.h"
#include "consume/sink.h"
#include "io/file_system.h"
#include "objstore/object_store.h"

namespace eddy::sink::objects {

// Parses the spec (URL and settings; InvalidArgument naming the key) without I/O.
Result<std::unique_ptr<consume::Destination>> MakeObjectsDestination(const consume::SinkSpec& spec);

// For tests: the destination over a given store (the spec's URL still selects the settings).
Result<std::unique_ptr<consume::Destination>> MakeObjectsDestinationWithStore(
    const consume::SinkSpec& spec, std::unique_ptr<objstore::ObjectStore> store);

}  // namespace eddy::sink::objects

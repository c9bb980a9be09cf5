// The Kafka destination: publishes each batch to Kafka topics as Debezium does
// (kafka_records.h), through librdkafka, partitioned by the Java producer's murmur2 of the
// key bytes (`murmur2_random`), with the idempotent producer (per-partition order survives
// retries). The whole contract for users: docs/sinks/kafka.md.
//
// Exactly once (exactly_once=true, the default): one Kafka transaction per batch holds the
// batch's records and the sink's checkpoint (consume::EncodeCheckpoint of the batch's
// checkpoint_after, merged per shard with every earlier committed one) as a record keyed by
// the sink's name in the sink's offsets topic, produced once the brokers acknowledged every
// record of the batch (so it never sits in a partition without them, even where reads are not
// isolated, as in the mock cluster); once a checkpoint was committed, each transaction starts
// with a record carrying that committed one (changing nothing a reader resumes from, it adds
// the offsets partition to the transaction with the batch's first ones: fewer partition
// registrations, each of which costs librdkafka's main thread a 1 ms spin). ReadCheckpoint
// reads the last committed record back with
// isolation.level=read_committed, so after a crash the runner resumes exactly after the last
// committed batch: a read_committed consumer sees every change once. The transactional.id is
// stable per sink: a second eddy writing the same sink fences the first, whose batches then
// fail permanently (FAILED, "fenced"). A commit whose outcome is unknown (timed out) is
// resolved before the next batch: if it committed after all, the records of the retried batch
// it held are acknowledged without being produced again.
// exactly_once=false: at least once; a batch is acknowledged up to the first record whose
// Kafka records were not all acknowledged by the brokers.
//
// Errors: an unreachable cluster, a timed-out or aborted transaction, a broker down are
// retriable (the runner retries, IMPAIRED); a bad librdkafka property is InvalidArgument
// naming it; a topic that does not exist and cannot be created, authorization failures and
// fencing are permanent (FAILED, with the fix in the message).
//
// Batching: each batch is one transaction, so a sink whose `batch_size` is not set batches up
// to the runner's limit (consume::kMaxBatchSize) instead of the runner's default of 100, with
// its own batch_bytes and max_batching_window (0 by default: a batch holds what waited for the
// one in flight, so latency does not grow). A `batch_size` the user set is kept.
//
// CommitsCheckpoint stays false although the transaction holds the checkpoint: the runner's
// per-batch save paces a trickle's small transactions (kafka_destination.cc says what it
// measured); CommitsCheckpointFromRecords (1,000, exactly once) spares a backlog's large
// batches that save.
//
// Threads: Open/ReadCheckpoint/Close from the runner's control thread; Deliver from lane
// threads, serialized internally (a transactional producer has one open transaction).
#pragma once

#include <memory>

#include "base/status.h"
#include "consume/sink.h"

namespace eddy::sink::kafka {

// Parses the spec (URL and settings; InvalidArgument naming the key) without I/O. Open
// connects (metadata from the bootstrap brokers), creates the offsets topic where the cluster
// allows and initializes the transactional producer (which aborts what a crashed predecessor
// left open). Messages leave the sink's name to the caller.
Result<std::unique_ptr<consume::Destination>> MakeKafkaDestination(const consume::SinkSpec& spec);

}  // namespace eddy::sink::kafka

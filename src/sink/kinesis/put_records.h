// The Kinesis Data Streams wire protocol the Kinesis sink speaks (AWS JSON 1.1, SigV4 service
// "kinesis"): PutRecords request bodies, replies and errors, DescribeStreamSummary, and how
// eddy's records become Kinesis entries within Kinesis's limits. No I/O.
//
// Entries: a record whose data plus partition key fits `max_record_bytes` is one entry; a
// larger one is split the way eddy's log splits records (log/chunking.h): a head entry (the
// 20-byte CHNK header, then the first piece) followed by fragment entries, all with the
// record's partition key, which a reader reassembles (docs/sinks/kinesis.md).
//
// Partition keys: the log's (SinkRecord::partition_key). Kinesis accepts 1-256 Unicode
// characters: an empty key is sent as "-", a key longer than 256 bytes as
// "sha256:" + its hex SHA-256 (deterministic, so per-key order and shard mapping hold).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace eddy::sink::kinesis {

inline constexpr size_t kMaxRecordsPerCall = 500;
inline constexpr size_t kMaxBytesPerCall = 5u << 20;  // data + partition keys
inline constexpr size_t kDefaultMaxRecordBytes = 1u << 20;
inline constexpr size_t kMaxPartitionKeyBytes = 256;
inline constexpr std::string_view kContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kPutRecordsTarget = "Kinesis_20131202.PutRecords";
inline constexpr std::string_view kDescribeStreamSummaryTarget =
    "Kinesis_20131202.DescribeStreamSummary";

// The key Kinesis receives for an eddy partition key (see above).
std::string KinesisPartitionKey(std::string_view key);

// One record's entries (its pieces, in order), each at most max_record_bytes with the key.
std::vector<std::string> SplitIntoEntries(std::string_view kinesis_key, std::string_view data,
                                          size_t max_record_bytes);

struct PutEntry {
  std::string_view data;
  std::string_view partition_key;
};

// {"StreamName":...,"Records":[{"Data":base64,"PartitionKey":...},...]} into `out` (emptied
// first; its capacity reused).
void BuildPutRecordsBody(std::string_view stream, const std::vector<PutEntry>& entries,
                         std::string* out);

// {"StreamName":...}.
std::string BuildDescribeStreamSummaryBody(std::string_view stream);

// One entry's result, in request order.
struct EntryResult {
  bool ok = false;
  std::string error_code;  // ProvisionedThroughputExceededException, InternalFailure, KMS...
  std::string error_message;
};

// Parses a 200 reply of PutRecords with `expected` entries. A reply that is not JSON, lacks
// Records or has another count is kCorruption (the caller cannot tell what was written).
Result<std::vector<EntryResult>> ParsePutRecordsReply(std::string_view body, size_t expected);

// True for the per-entry codes retried (throttling, internal failure, KMS throttling).
bool IsRetriableEntryError(std::string_view code);

struct StreamSummary {
  std::string status;             // ACTIVE, CREATING, UPDATING, DELETING
  uint64_t max_record_bytes = 0;  // from MaxRecordSizeInKiB; 0 when the server gives none
};
Result<StreamSummary> ParseDescribeStreamSummaryReply(std::string_view body);

// An error reply ({"__type":"...#Code","message":"..."}, any status) as a Status whose code
// classifies it (Status::IsRetriable): 5xx, 429 and throttling -> kUnavailable;
// ResourceNotFoundException -> kNotFound; authentication and authorization -> kPermissionDenied;
// validation -> kInvalidArgument; anything else 4xx -> kFailedPrecondition. The message
// names the operation, HTTP status, AWS error code and message, and the fix where known.
Status ErrorFromReply(std::string_view operation, int http_status, std::string_view body,
                      std::string_view stream, std::string_view endpoint);

}  // namespace eddy::sink::kinesis

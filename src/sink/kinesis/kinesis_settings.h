// The settings a Kinesis destination owns, parsed from a consume::SinkSpec
// (docs/sinks/kinesis.md has the table). The runner's settings (batch_size, filter, ...) are
// the runner's and skipped here.
//
// URL: kinesis+https://kinesis.REGION.amazonaws.com?stream=NAME (region from the host) or
// kinesis+http(s)://HOST:PORT?stream=NAME for other endpoints (kinesalite, `eddy serve`).
//
// Thread safety: values.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "base/status.h"
#include "consume/sink.h"

namespace eddy::sink::kinesis {

struct KinesisSettings {
  // "http(s)://host[:port]/" without the "kinesis+" prefix and the query.
  std::string endpoint;
  std::string stream;  // the target Kinesis stream
  // From the URL's host (kinesis.REGION.amazonaws.com) or `region`; empty: resolved at Open
  // (AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config; us-east-1 for a non-AWS endpoint).
  std::string region;
  bool aws_endpoint = false;  // the host is an amazonaws.com one
  // Largest entry (data + partition key); 0: the stream's MaxRecordSizeInKiB when the server
  // reports it, else 1 MiB.
  size_t max_record_bytes = 0;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  std::string ca_file;
  // Retries of failed entries inside one delivery before the batch is handed back to the
  // runner as a retriable failure (IMPAIRED).
  int entry_retries = 8;
};

// Parses and checks every setting; InvalidArgument names the key or URL part and the
// accepted values. No I/O.
Result<KinesisSettings> ParseKinesisSettings(const consume::SinkSpec& spec);

}  // namespace eddy::sink::kinesis

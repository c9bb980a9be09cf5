// The webhook destination: delivers each batch as one HTTP POST in Lambda's event shape to
// `webhook+http://HOST:PORT/PATH` or `webhook+https://HOST/PATH`, so a function written for a
// Lambda event source mapping (Kinesis or DynamoDB Streams) runs unchanged behind any HTTP
// endpoint. Settings: webhook_settings.h; body and reply rules: lambda_events.h; the whole
// contract for users: docs/sinks/webhook.md.
//
// Delivery is at least once: a batch counts as delivered only when the endpoint answered 2xx
// (and, with report_batch_item_failures, only up to the lowest failed record). Anything else
// (non-2xx, timeout, reset, a malformed partial-failure reply) fails the batch with a
// retriable status; the runner retries it, and per-key order holds because the runner hands a
// key's records to Deliver only after its earlier ones were acknowledged.
//
// Threads: Deliver may run concurrently (one lane per call); each call borrows an HTTP client
// (one kept-alive connection) from a pool, so lanes do not wait for each other. Close cancels
// requests in flight (they end with kAborted) and releases the connections.
#pragma once

#include <memory>

#include "base/status.h"
#include "consume/sink.h"

namespace eddy::sink::webhook {

// Parses the spec (URL and settings; InvalidArgument naming the key) without I/O. Open reads
// ca_file (through io::FileSystem) and checks that the endpoint accepts connections (TCP,
// and the TLS handshake with certificate verification for https). Messages leave the sink's
// name to the caller (the engine prefixes "sink 'NAME': ").
Result<std::unique_ptr<consume::Destination>> MakeWebhookDestination(const consume::SinkSpec& spec);

}  // namespace eddy::sink::webhook

// The stream API server: Kinesis Data Streams and DynamoDB Streams wire compatibility on one
// port (HTTP/1.1 and h2c), over a change log. This is the entry point `eddy serve`,
// `eddy run` and `eddy demo` call.
//
//   auto server = api::Server::Start(options, store.get());   // binds, starts serving
//   server->port();                                            // the bound port
//   server->Stop();                                            // also done by the destructor
//
// Lifetime: the LogStore must outlive the Server. After Stop() returns no request is served
// and no call into the store is made. Start/Stop/port are for one owner thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/api_context.h"
#include "api/http_routes.h"
#include "api/sigv4.h"
#include "base/clock.h"
#include "base/status.h"
#include "log/log_store.h"

namespace eddy::api {

struct ServerOptions {
  std::string listen = "127.0.0.1:4567";  // host:port; port 0 picks a free one
  std::string region = "us-east-1";       // shown in ARNs and records
  std::string account_id = "000000000000";
  uint32_t max_shards_per_stream = 1000;
  size_t max_connections = 256;
  size_t max_body_bytes = 12u << 20;
  int idle_timeout_seconds = 300;
  const Clock* clock = nullptr;  // nullptr: the system clock
  // Key for signing shard iterators; empty: 32 random bytes per process (iterators then do
  // not survive a restart, which AWS clients handle by asking for a new one).
  std::string iterator_key;
  // Optional SigV4 verification (see sigv4.h); empty: headers are parsed, not verified.
  CredentialVerifier verifier;
  // HTTPS (optional): PEM certificate chain and private key file paths, both or neither.
  // When set, the port serves TLS only, with h2 and http/1.1 chosen by ALPN.
  std::string tls_cert;
  std::string tls_key;
  // Record rendering; empty hooks are replaced by StandardRecordRendering(region).
  RecordRendering rendering;
  // Extra exact method+path routes served on the same port (e.g. MetricsRoute() from
  // api/metrics_endpoint.h), checked before the AWS JSON protocol, which answers every other
  // request (http_routes.h).
  std::vector<HttpRoute> routes;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(ServerOptions options, log::LogStore* store);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  void Stop();

 private:
  struct State;
  explicit Server(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace eddy::api

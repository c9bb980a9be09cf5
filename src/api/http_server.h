// HttpServer: one listening TCP port serving HTTP/1.1 (keep-alive, pipelining) and HTTP/2
// cleartext with prior knowledge (a connection whose first bytes are the HTTP/2 preface
// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" is handed to an nghttp2 server session). This is what
// the AWS SDKs need: boto3 and the aws CLI speak HTTP/1.1, the JavaScript SDK v3 and the Java
// SDK v2 speak h2c to http:// endpoints.
//
// TLS (optional, OpenSSL): with tls_cert_file/tls_key_file the same port serves HTTPS, HTTP/1.1
// and h2 chosen by ALPN; the handshake runs on the connection's thread.
//
// Model: one accept thread plus one thread per connection (bounded by max_connections; above
// the bound new connections are closed at once). Requests on one connection are handled in
// order on its thread by the HttpHandler, which therefore may block (e.g. on an fsync).
//
// Lifetime: Start() binds and starts serving; Stop() (also run by the destructor) closes the
// listening socket, shuts down every open connection and joins all threads. After Stop()
// returns the handler is never called again.
//
// Thread safety: Start/Stop/port from one owner thread; the handler is called concurrently
// from connection threads.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/http.h"
#include "api/http1_parser.h"
#include "base/status.h"

namespace eddy::api {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:4567";  // host:port; port 0 picks a free port
  Http1Limits limits;
  size_t max_connections = 256;
  int idle_timeout_seconds = 300;  // an idle keep-alive connection is closed after this
  int send_timeout_seconds = 30;   // a peer that stops reading is disconnected after this
  // TLS (both or neither): PEM certificate chain and private key files. When set, the port
  // speaks HTTPS only; ALPN offers h2 and http/1.1 (a client without ALPN gets HTTP/1.1, or
  // HTTP/2 if it starts with the preface).
  std::string tls_cert_file;
  std::string tls_key_file;
};

// One connection's byte stream: the plain socket or a TLS session over it.
class Transport {
 public:
  virtual ~Transport() = default;
  // Bytes read (blocking up to the socket's receive timeout); 0 on orderly close, -1 on error.
  virtual ssize_t Receive(char* buffer, size_t size) = 0;
  virtual bool SendAll(const char* data, size_t size) = 0;
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  void Stop();

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  HttpServer(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}
  void AcceptLoop();
  void ServeConnection(Connection* connection);
  void ReapFinished();

  HttpServerOptions options_;
  HttpHandler handler_;
  std::shared_ptr<void> tls_context_;  // SSL_CTX when TLS is configured
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that wakes the accept loop on Stop()
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mutex_;  // guards connections_ and each Connection::fd
  std::list<Connection> connections_;
};

// Serves one already-connected socket until the peer closes, an error occurs or `stopping`
// becomes true. Exposed for tests; HttpServer calls it on each connection thread.
void ServeHttpConnection(int fd, const HttpServerOptions& options, const HttpHandler& handler,
                         const std::atomic<bool>& stopping);
void ServeHttpConnection(Transport& transport, const HttpServerOptions& options,
                         const HttpHandler& handler, const std::atomic<bool>& stopping);

}  // namespace eddy::api

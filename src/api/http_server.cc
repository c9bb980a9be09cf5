#include "api/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "api/body_buffers.h"
#include "base/logging.h"
#include "base/thread_name.h"

namespace eddy::api {
namespace {

// HTTP/1.1 responses with a smaller body go out as one buffer (one segment with TCP_NODELAY).
constexpr size_t kCopyBodyBelow = 64 * 1024;
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::shared_ptr<logging::Logger> Log() {
  static auto logger = logging::Get("api");
  return logger;
}

class SocketTransport : public Transport {
 public:
  explicit SocketTransport(int fd) : fd_(fd) {}
  ssize_t Receive(char* buffer, size_t size) override;
  bool SendAll(const char* data, size_t size) override;

 private:
  int fd_;
};

class TlsTransport : public Transport {
 public:
  explicit TlsTransport(SSL* ssl) : ssl_(ssl) {}
  ssize_t Receive(char* buffer, size_t size) override {
    int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, 1u << 30)));
    if (n > 0) return n;
    return SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }
  bool SendAll(const char* data, size_t size) override {
    while (size > 0) {
      size_t written = 0;
      if (SSL_write_ex(ssl_, data, size, &written) != 1) return false;
      data += written;
      size -= written;
    }
    return true;
  }

 private:
  SSL* ssl_;
};

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

// ALPN: h2 when the client offers it, else http/1.1; a client offering neither is refused.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
               unsigned int in_length, void*) {
  static const unsigned char kPreference[] = "\x02h2\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kPreference, sizeof(kPreference) - 1, in,
                            in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

Result<std::shared_ptr<void>> MakeTlsContext(const HttpServerOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgument("TLS needs both a certificate file and a key file");
  }
  if (options.tls_cert_file.empty()) return std::shared_ptr<void>();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return IoError("TLS: " + OpenSslError());
  std::shared_ptr<void> context(raw, [](void* p) { SSL_CTX_free(static_cast<SSL_CTX*>(p)); });
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(raw, options.tls_cert_file.c_str()) != 1) {
    return InvalidArgument("TLS certificate " + options.tls_cert_file + ": " + OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(raw, options.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return InvalidArgument("TLS key " + options.tls_key_file + ": " + OpenSslError());
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    return InvalidArgument("TLS key " + options.tls_key_file + " does not match certificate " +
                           options.tls_cert_file);
  }
  SSL_CTX_set_alpn_select_cb(raw, SelectAlpn, nullptr);
  return context;
}

bool SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads what is available (blocking up to the socket's receive timeout). Returns bytes read,
// 0 on orderly close, -1 on error or timeout.
ssize_t ReceiveSome(int fd, char* buffer, size_t size) {
  while (true) {
    ssize_t n = ::recv(fd, buffer, size, 0);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

ssize_t SocketTransport::Receive(char* buffer, size_t size) { return ReceiveSome(fd_, buffer, size); }
bool SocketTransport::SendAll(const char* data, size_t size) {
  return ::eddy::api::SendAll(fd_, data, size);
}

HttpResponse PlainError(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("content-type", "text/plain");
  response.body = message + "\n";
  return response;
}

// ---- HTTP/1.1 -------------------------------------------------------------------------------

void ServeHttp1(Transport& io, std::string buffer, const HttpServerOptions& options,
                const HttpHandler& handler, const std::atomic<bool>& stopping) {
  char chunk[64 * 1024];
  bool sent_continue = false;
  while (!stopping.load(std::memory_order_relaxed)) {
    HttpRequest request;
    Http1ParseResult parsed = ParseHttp1Request(buffer, options.limits, &request);
    if (parsed.state == Http1ParseState::kError) {
      Log()->debug("rejecting HTTP/1.1 request status={} reason=\"{}\"", parsed.error_status,
                   parsed.error_message);
      std::string out =
          SerializeHttp1Response(PlainError(parsed.error_status, parsed.error_message), false);
      io.SendAll(out.data(), out.size());
      return;
    }
    if (parsed.state == Http1ParseState::kComplete) {
      buffer.erase(0, parsed.consumed);
      sent_continue = false;
      bool keep_alive = Http1KeepAlive(request);
      HttpResponse response;
      handler(request, &response);
      bool sent;
      if (response.body.size() < kCopyBodyBelow) {
        std::string out = SerializeHttp1Response(response, keep_alive);
        sent = io.SendAll(out.data(), out.size());
      } else {
        // Large bodies (GetRecords: megabytes) are sent from the response, not copied.
        std::string head = SerializeHttp1ResponseHead(response, keep_alive);
        sent = io.SendAll(head.data(), head.size()) &&
               io.SendAll(response.body.data(), response.body.size());
      }
      ReturnBodyBuffer(std::move(response.body));
      if (!sent || !keep_alive) return;
      continue;
    }
    if (parsed.expect_continue && !sent_continue) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      if (!io.SendAll(kContinue.data(), kContinue.size())) return;
      sent_continue = true;
    }
    ssize_t n = io.Receive(chunk, sizeof(chunk));
    if (n <= 0) return;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

// ---- HTTP/2 (nghttp2 server session) ---------------------------------------------------------

struct Http2Stream {
  HttpRequest request;
  size_t header_bytes = 0;
  bool too_large = false;
  HttpResponse response;
  size_t body_offset = 0;
};

struct Http2Connection {
  const HttpServerOptions* options;
  const HttpHandler* handler;
  nghttp2_session* session = nullptr;
  std::map<int32_t, std::unique_ptr<Http2Stream>> streams;
};

ssize_t ReadResponseBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                         uint32_t* data_flags, nghttp2_data_source* source, void*) {
  auto* stream = static_cast<Http2Stream*>(source->ptr);
  const std::string& body = stream->response.body;
  size_t n = std::min(length, body.size() - stream->body_offset);
  std::memcpy(buf, body.data() + stream->body_offset, n);
  stream->body_offset += n;
  if (stream->body_offset == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

int SubmitResponse(Http2Connection* connection, int32_t stream_id, Http2Stream* stream) {
  std::vector<nghttp2_nv> headers;
  std::string status = std::to_string(stream->response.status);
  std::string length = std::to_string(stream->response.body.size());
  auto add = [&](const std::string& name, const std::string& value) {
    nghttp2_nv nv;
    nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
    nv.namelen = name.size();
    nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
    nv.valuelen = value.size();
    nv.flags = NGHTTP2_NV_FLAG_NONE;  // nghttp2 copies names and values on submit
    headers.push_back(nv);
  };
  static const std::string kStatus = ":status";
  static const std::string kContentLength = "content-length";
  add(kStatus, status);
  for (const auto& [name, value] : stream->response.headers) add(name, value);
  add(kContentLength, length);
  nghttp2_data_provider provider;
  provider.source.ptr = stream;
  provider.read_callback = ReadResponseBody;
  return nghttp2_submit_response(connection->session, stream_id, headers.data(), headers.size(),
                                 &provider);
}

int OnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  auto* connection = static_cast<Http2Connection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto stream = std::make_unique<Http2Stream>();
  stream->request.http_major = 2;
  stream->request.http_minor = 0;
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, stream.get());
  connection->streams[frame->hd.stream_id] = std::move(stream);
  return 0;
}

int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
             size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user_data) {
  auto* connection = static_cast<Http2Connection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto* stream =
      static_cast<Http2Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (stream == nullptr) return 0;
  stream->header_bytes += namelen + valuelen + 32;
  if (stream->header_bytes > connection->options->limits.max_header_bytes ||
      stream->request.headers.size() >= connection->options->limits.max_header_count) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream only
  }
  std::string_view header_name(reinterpret_cast<const char*>(name), namelen);
  std::string header_value(reinterpret_cast<const char*>(value), valuelen);
  if (header_name == ":method") {
    stream->request.method = std::move(header_value);
  } else if (header_name == ":path") {
    stream->request.target = std::move(header_value);
  } else if (header_name == ":authority") {
    stream->request.authority = std::move(header_value);  // SigV4 signs it as host
  } else if (!header_name.empty() && header_name.front() == ':') {
    // :scheme is not needed by the API.
  } else {
    stream->request.headers.emplace_back(std::string(header_name), std::move(header_value));
  }
  return 0;
}

int OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                size_t len, void* user_data) {
  auto* connection = static_cast<Http2Connection*>(user_data);
  auto* stream = static_cast<Http2Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (stream == nullptr || stream->too_large) return 0;
  if (stream->request.body.size() + len > connection->options->limits.max_body_bytes) {
    stream->too_large = true;
    stream->request.body.clear();
    stream->request.body.shrink_to_fit();
    return 0;
  }
  stream->request.body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int OnFrameReceived(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  auto* connection = static_cast<Http2Connection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  auto* stream = static_cast<Http2Stream*>(
      nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
  if (stream == nullptr) return 0;
  if (stream->too_large) {
    stream->response = PlainError(413, "request body exceeds " +
                                           std::to_string(connection->options->limits.max_body_bytes) +
                                           " bytes");
  } else {
    (*connection->handler)(stream->request, &stream->response);
  }
  if (SubmitResponse(connection, frame->hd.stream_id, stream) != 0) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
  auto* connection = static_cast<Http2Connection*>(user_data);
  auto it = connection->streams.find(stream_id);
  if (it == connection->streams.end()) return 0;
  ReturnBodyBuffer(std::move(it->second->response.body));
  connection->streams.erase(it);
  return 0;
}

// Sends what nghttp2 has queued. nghttp2 hands out one frame at a time (a reply is a HEADERS
// frame and 16 KiB DATA frames); they are gathered into writes of up to kHttp2WriteBytes so a
// small reply is one send(2) (one segment with TCP_NODELAY) and a large one a few.
constexpr size_t kHttp2WriteBytes = 256 * 1024;

bool FlushHttp2(Transport& io, nghttp2_session* session) {
  thread_local std::string pending;
  pending.clear();
  while (true) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session, &data);
    if (n < 0) return false;
    if (n == 0) break;
    if (!pending.empty() && pending.size() + static_cast<size_t>(n) > kHttp2WriteBytes) {
      if (!io.SendAll(pending.data(), pending.size())) return false;
      pending.clear();
    }
    pending.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return pending.empty() || io.SendAll(pending.data(), pending.size());
}

void ServeHttp2(Transport& io, const std::string& initial, const HttpServerOptions& options,
                const HttpHandler& handler, const std::atomic<bool>& stopping) {
  Http2Connection connection;
  connection.options = &options;
  connection.handler = &handler;

  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, OnDataChunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, OnFrameReceived);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, OnStreamClose);
  int rv = nghttp2_session_server_new(&connection.session, callbacks, &connection);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return;

  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<uint32_t>(options.limits.max_header_bytes)},
  };
  nghttp2_submit_settings(connection.session, NGHTTP2_FLAG_NONE, settings,
                          sizeof(settings) / sizeof(settings[0]));

  bool ok = true;
  if (!initial.empty()) {
    ssize_t consumed = nghttp2_session_mem_recv(
        connection.session, reinterpret_cast<const uint8_t*>(initial.data()), initial.size());
    ok = consumed >= 0;
  }
  ok = ok && FlushHttp2(io, connection.session);
  char chunk[64 * 1024];
  while (ok && !stopping.load(std::memory_order_relaxed) &&
         (nghttp2_session_want_read(connection.session) ||
          nghttp2_session_want_write(connection.session))) {
    ssize_t n = io.Receive(chunk, sizeof(chunk));
    if (n <= 0) break;
    ssize_t consumed = nghttp2_session_mem_recv(
        connection.session, reinterpret_cast<const uint8_t*>(chunk), static_cast<size_t>(n));
    if (consumed < 0) {
      Log()->debug("closing HTTP/2 connection reason=\"{}\"",
                   nghttp2_strerror(static_cast<int>(consumed)));
      FlushHttp2(io, connection.session);  // sends GOAWAY when nghttp2 queued one
      break;
    }
    ok = FlushHttp2(io, connection.session);
  }
  nghttp2_session_del(connection.session);
}

Result<int> BindListener(const std::string& listen, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("listen address '" + listen + "' is not host:port (e.g. 127.0.0.1:4567)");
  }
  std::string host = listen.substr(0, colon);
  std::string service = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  int rv = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &addresses);
  if (rv != 0) {
    return InvalidArgument("cannot resolve listen address '" + listen + "': " + gai_strerror(rv));
  }
  std::string last_error = "no addresses";
  int fd = -1;
  for (addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
    fd = ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, address->ai_addr, address->ai_addrlen) == 0 && ::listen(fd, 512) == 0) break;
    last_error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(addresses);
  if (fd < 0) {
    return IoError("cannot listen on " + listen + ": " + last_error +
                   " (is another process using the port?)");
  }
  sockaddr_storage bound{};
  socklen_t bound_size = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_size);
  if (bound.ss_family == AF_INET) {
    *port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  } else {
    *port = ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  }
  return fd;
}

}  // namespace

void ServeHttpConnection(int fd, const HttpServerOptions& options, const HttpHandler& handler,
                         const std::atomic<bool>& stopping) {
  SocketTransport transport(fd);
  ServeHttpConnection(transport, options, handler, stopping);
}

void ServeHttpConnection(Transport& io, const HttpServerOptions& options,
                         const HttpHandler& handler, const std::atomic<bool>& stopping) {
  // Read until the first bytes tell HTTP/2's preface from an HTTP/1.1 request line.
  std::string buffer;
  char chunk[4096];
  while (buffer.size() < kHttp2Preface.size() &&
         kHttp2Preface.substr(0, buffer.size()) == buffer) {
    ssize_t n = io.Receive(chunk, sizeof(chunk));
    if (n <= 0) return;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  if (buffer.size() >= kHttp2Preface.size() && buffer.compare(0, kHttp2Preface.size(), kHttp2Preface) == 0) {
    ServeHttp2(io, buffer, options, handler, stopping);
  } else {
    ServeHttp1(io, std::move(buffer), options, handler, stopping);
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      HttpHandler handler) {
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(options), std::move(handler)));
  EDDY_ASSIGN_OR_RETURN(server->tls_context_, MakeTlsContext(server->options_));
  EDDY_ASSIGN_OR_RETURN(server->listen_fd_, BindListener(server->options_.listen, &server->port_));
  server->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->wake_fd_ < 0) {
    return IoError(std::string("eventfd: ") + std::strerror(errno));
  }
  server->accept_thread_ = std::thread([raw = server.get()] {
    NameCurrentThread("http-accept");
    raw->AcceptLoop();
  });
  Log()->info("listening address={} port={} protocols={}", server->options_.listen,
              server->port_, server->tls_context_ ? "https(h2,http/1.1)" : "http/1.1,h2c");
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (stopping_.exchange(true)) {
    if (accept_thread_.joinable()) accept_thread_.join();
    return;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Connection& connection : connections_) {
      if (connection.fd >= 0) ::shutdown(connection.fd, SHUT_RDWR);
    }
  }
  for (Connection& connection : connections_) {
    if (connection.thread.joinable()) connection.thread.join();
  }
  connections_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

void HttpServer::ReapFinished() {
  std::list<Connection> finished;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (it->done.load()) finished.splice(finished.end(), connections_, it);
      it = next;
    }
  }
  for (Connection& connection : finished) connection.thread.join();
}

void HttpServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int ready = ::poll(fds, 2, 1000);
    ReapFinished();
    if (ready < 0 && errno != EINTR) {
      Log()->error("poll on listening socket failed error=\"{}\"", std::strerror(errno));
      return;
    }
    if (ready <= 0 || (fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the pending connection stays queued and poll would
        // report it again at once; back off (waking early on Stop) instead of spinning.
        Log()->warn("accept failed, backing off error=\"{}\"", std::strerror(errno));
        pollfd wake = {wake_fd_, POLLIN, 0};
        ::poll(&wake, 1, 100);
      }
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval receive_timeout{options_.idle_timeout_seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof(receive_timeout));
    timeval send_timeout{options_.send_timeout_seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
    std::lock_guard<std::mutex> lock(mutex_);
    if (connections_.size() >= options_.max_connections) {
      Log()->warn("connection limit reached, closing new connection limit={}",
                  options_.max_connections);
      ::close(fd);
      continue;
    }
    Connection& connection = connections_.emplace_back();
    connection.fd = fd;
    connection.thread = std::thread([this, &connection] {
      NameCurrentThread("http-conn");
      ServeConnection(&connection);
    });
  }
}

void HttpServer::ServeConnection(Connection* connection) {
  if (tls_context_) {
    // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a peer gone mid-write would raise
    // SIGPIPE. Blocked on this thread it stays pending and the write fails with EPIPE.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(tls_context_.get()));
    if (ssl != nullptr && SSL_set_fd(ssl, connection->fd) == 1) {
      if (SSL_accept(ssl) == 1) {
        TlsTransport transport(ssl);
        ServeHttpConnection(transport, options_, handler_, stopping_);
        SSL_shutdown(ssl);  // best effort close_notify
      } else {
        Log()->debug("TLS handshake failed reason=\"{}\"", OpenSslError());
      }
    }
    SSL_free(ssl);
    ERR_clear_error();  // the error queue is per thread; leave it empty
  } else {
    ServeHttpConnection(connection->fd, options_, handler_, stopping_);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ::close(connection->fd);
    connection->fd = -1;
  }
  connection->done.store(true);
}

}  // namespace eddy::api

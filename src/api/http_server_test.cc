#include "api/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>

namespace eddy::api {
namespace {

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

void SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads until `count` occurrences of `marker` followed by at least `tail` bytes, or EOF.
std::string ReadUntilClosed(int fd) {
  std::string out;
  char buffer[4096];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

std::unique_ptr<HttpServer> StartEchoServer(HttpServerOptions options = {}) {
  options.listen = "127.0.0.1:0";
  auto server = HttpServer::Start(options, [](const HttpRequest& request, HttpResponse* response) {
    response->status = 200;
    response->headers.emplace_back("x-method", request.method);
    const std::string* target = request.Header("x-amz-target");
    response->headers.emplace_back("x-target", target ? *target : "");
    response->body = "echo:" + request.body;
  });
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return std::move(server).value();
}

TEST(HttpServer, ServesPipelinedHttp1RequestsOnOneConnection) {
  auto server = StartEchoServer();
  ASSERT_NE(server->port(), 0);
  int fd = Connect(server->port());
  SendAll(fd,
          "POST / HTTP/1.1\r\nX-Amz-Target: A\r\nContent-Length: 3\r\n\r\nabc"
          "POST / HTTP/1.1\r\nX-Amz-Target: B\r\nContent-Length: 1\r\nConnection: close\r\n\r\nz");
  std::string reply = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_NE(reply.find("x-target: A\r\ncontent-length: 8\r\n\r\necho:abc"), std::string::npos)
      << reply;
  EXPECT_NE(reply.find("x-target: B\r\ncontent-length: 6\r\nconnection: close\r\n\r\necho:z"),
            std::string::npos)
      << reply;
}

TEST(HttpServer, SendsLargeBodiesIntactOnAKeptAliveConnection) {
  auto server = StartEchoServer();
  int fd = Connect(server->port());
  std::string big(300 * 1024, 'q');  // above the size sent without copying
  big[0] = 'a';
  big.back() = 'z';
  SendAll(fd, "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big +
                  "POST / HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  std::string reply = ReadUntilClosed(fd);
  ::close(fd);
  std::string first = "content-length: " + std::to_string(big.size() + 5) + "\r\n\r\necho:" + big +
                      "HTTP/1.1 200";
  EXPECT_NE(reply.find(first), std::string::npos) << reply.size();
  EXPECT_NE(reply.find("connection: close\r\n\r\necho:ok"), std::string::npos);
}

TEST(HttpServer, AnswersExpectContinueAndRejectsOversizedBodies) {
  HttpServerOptions options;
  options.limits.max_body_bytes = 16;
  auto server = StartEchoServer(options);
  int fd = Connect(server->port());
  SendAll(fd, "POST / HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  char buffer[64];
  ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  SendAll(fd, "body");
  SendAll(fd, "POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n");
  std::string reply = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_NE(reply.find("echo:body"), std::string::npos) << reply;
  EXPECT_NE(reply.find("HTTP/1.1 413 Payload Too Large"), std::string::npos) << reply;
}

TEST(HttpServer, SurvivesGarbageAndKeepsServing) {
  auto server = StartEchoServer();
  for (std::string garbage : {std::string("\x16\x03\x01\x02\x00", 5), std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nxxxxxxxxxxxxxxxx"),
                              std::string("GET / HTTP/9.9\r\n\r\n")}) {
    int fd = Connect(server->port());
    SendAll(fd, garbage);
    ::shutdown(fd, SHUT_WR);
    ReadUntilClosed(fd);
    ::close(fd);
  }
  int fd = Connect(server->port());
  SendAll(fd, "POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_NE(ReadUntilClosed(fd).find("echo:ok"), std::string::npos);
  ::close(fd);
}

// A minimal HTTP/2 client over nghttp2 to check the h2c prior-knowledge path.
struct H2Client {
  std::map<int32_t, std::string> bodies;
  std::map<int32_t, std::string> statuses;
  int closed = 0;
};

TEST(HttpServer, ServesHttp2WithPriorKnowledge) {
  auto server = StartEchoServer();
  int fd = Connect(server->port());
  H2Client client;
  nghttp2_session_callbacks* callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                    const uint8_t* value, size_t valuelen, uint8_t, void* user) -> int {
        auto* c = static_cast<H2Client*>(user);
        if (std::string_view(reinterpret_cast<const char*>(name), namelen) == ":status") {
          c->statuses[frame->hd.stream_id] = std::string(reinterpret_cast<const char*>(value), valuelen);
        }
        return 0;
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      callbacks, [](nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                    void* user) -> int {
        static_cast<H2Client*>(user)->bodies[stream_id].append(reinterpret_cast<const char*>(data), len);
        return 0;
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      callbacks, [](nghttp2_session*, int32_t, uint32_t, void* user) -> int {
        static_cast<H2Client*>(user)->closed++;
        return 0;
      });
  nghttp2_session* session;
  ASSERT_EQ(nghttp2_session_client_new(&session, callbacks, &client), 0);
  nghttp2_session_callbacks_del(callbacks);
  ASSERT_EQ(nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0), 0);

  static std::string body = "{\"StreamName\":\"s\"}";
  static size_t offset = 0;
  auto nv = [](const char* name, const char* value) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(value)), std::strlen(name),
                      std::strlen(value), NGHTTP2_NV_FLAG_NONE};
  };
  nghttp2_nv headers[] = {nv(":method", "POST"), nv(":path", "/"), nv(":scheme", "http"),
                          nv(":authority", "localhost"), nv("x-amz-target", "T.Op")};
  nghttp2_data_provider provider;
  provider.source.ptr = nullptr;
  provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                              uint32_t* flags, nghttp2_data_source*, void*) -> ssize_t {
    size_t n = std::min(length, body.size() - offset);
    std::memcpy(buf, body.data() + offset, n);
    offset += n;
    if (offset == body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  };
  int32_t first = nghttp2_submit_request(session, nullptr, headers, 5, &provider, nullptr);
  int32_t second = nghttp2_submit_request(session, nullptr, headers, 5, nullptr, nullptr);
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);
  while (client.closed < 2) {
    const uint8_t* out;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session, &out)) > 0) {
      SendAll(fd, std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(n)));
    }
    char buffer[4096];
    ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(got, 0) << "server closed before both responses";
    ASSERT_GE(nghttp2_session_mem_recv(session, reinterpret_cast<uint8_t*>(buffer), static_cast<size_t>(got)), 0);
  }
  nghttp2_session_del(session);
  ::close(fd);
  EXPECT_EQ(client.statuses[first], "200");
  EXPECT_EQ(client.bodies[first], "echo:" + body);
  EXPECT_EQ(client.bodies[second], "echo:");
}

TEST(HttpServer, RejectsIncompleteOrUnreadableTlsSettings) {
  auto handler = [](const HttpRequest&, HttpResponse*) {};
  HttpServerOptions only_cert;
  only_cert.listen = "127.0.0.1:0";
  only_cert.tls_cert_file = "/nonexistent/cert.pem";
  auto started = HttpServer::Start(only_cert, handler);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find("both a certificate file and a key file"), std::string::npos);

  HttpServerOptions missing = only_cert;
  missing.tls_key_file = "/nonexistent/key.pem";
  started = HttpServer::Start(missing, handler);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(started.status().message().find("/nonexistent/cert.pem"), std::string::npos)
      << started.status().message();
}

TEST(HttpServer, StopClosesIdleConnections) {
  auto server = StartEchoServer();
  int fd = Connect(server->port());
  SendAll(fd, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  std::string reply;
  char buffer[1024];
  while (reply.find("echo:") == std::string::npos) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0);
    reply.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_NE(reply.find("200 OK"), std::string::npos);
  server->Stop();  // must not hang on the idle keep-alive connection
  EXPECT_EQ(::recv(fd, buffer, sizeof(buffer), 0), 0);  // the server closed it
  ::close(fd);
}

}  // namespace
}  // namespace eddy::api

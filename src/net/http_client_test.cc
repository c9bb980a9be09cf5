#include "net/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "api/http_server.h"
#include "io/file_system.h"

namespace eddy::net {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<api::HttpServer> StartServer(api::HttpHandler handler,
                                             api::HttpServerOptions options = {}) {
  options.listen = "127.0.0.1:0";
  auto server = api::HttpServer::Start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return std::move(server).value();
}

std::string Url(const api::HttpServer& server, std::string_view scheme = "http",
                std::string_view path = "/hook") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(server.port()) + std::string(path);
}

std::unique_ptr<HttpClient> MakeClient(HttpClientOptions options = {}) {
  auto client = HttpClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return std::move(client).value();
}

// A port nothing listens on: bound, then closed.
uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(HttpClient, SendsMethodHeadersAndBodyAndReturnsTheReply) {
  auto server = StartServer([](const api::HttpRequest& request, api::HttpResponse* response) {
    response->status = 201;
    response->headers.emplace_back("x-method", request.method);
    response->headers.emplace_back("x-target", request.target);
    const std::string* auth = request.Header("authorization");
    response->headers.emplace_back("x-auth", auth ? *auth : "-");
    const std::string* expect = request.Header("expect");
    response->headers.emplace_back("x-expect", expect ? *expect : "-");
    response->body = "got:" + request.body;
  });
  auto client = MakeClient();
  // Above curl's threshold for Expect: 100-continue, and sent through the large upload buffer
  // in several pieces (a pattern, so a piece out of place shows).
  std::string big((2 << 20) + 12345, 'b');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
  for (std::string_view method : {"POST", "PUT"}) {
    auto reply = client->Send(method, Url(*server), {{"Authorization", "Bearer x"}}, big);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->status, 201);
    EXPECT_EQ(*reply->Header("x-method"), method);
    EXPECT_EQ(*reply->Header("x-target"), "/hook");
    EXPECT_EQ(*reply->Header("x-auth"), "Bearer x");
    EXPECT_EQ(*reply->Header("x-expect"), "-");
    EXPECT_EQ(reply->body, "got:" + big);
  }
  auto get = client->Get(Url(*server, "http", "/q?a=1"));
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(*get->Header("x-method"), "GET");
  EXPECT_EQ(*get->Header("x-target"), "/q?a=1");
  EXPECT_EQ(get->body, "got:");
}

TEST(HttpClient, ReusesItsConnection) {
  auto server = StartServer(
      [](const api::HttpRequest&, api::HttpResponse* response) { response->body = "ok"; });
  auto client = MakeClient();
  auto first = client->Post(Url(*server), {}, "1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->new_connections, 1);
  for (int i = 0; i < 3; ++i) {
    auto next = client->Post(Url(*server), {}, "2");
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(next->new_connections, 0) << "request " << i << " opened a new connection";
  }
}

TEST(HttpClient, NonSuccessStatusesAreValuesNotErrors) {
  auto server = StartServer([](const api::HttpRequest&, api::HttpResponse* response) {
    response->status = 503;
    response->body = "busy";
  });
  auto reply = MakeClient()->Post(Url(*server), {}, "x");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body, "busy");
}

TEST(HttpClient, ConnectionRefusedIsUnavailable) {
  auto reply =
      MakeClient()->Post("http://127.0.0.1:" + std::to_string(UnusedPort()) + "/", {}, "x");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kUnavailable) << reply.status().ToString();
  EXPECT_TRUE(reply.status().IsRetriable());
}

TEST(HttpClient, SlowReplyIsATimeout) {
  std::mutex mutex;
  std::condition_variable released_cv;
  bool released = false;
  auto server = StartServer([&](const api::HttpRequest&, api::HttpResponse* response) {
    std::unique_lock lock(mutex);
    released_cv.wait_for(lock, 10s, [&] { return released; });
    response->body = "late";
  });
  HttpClientOptions options;
  options.request_timeout = 300ms;
  auto reply = MakeClient(options)->Post(Url(*server), {}, "x");
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  released_cv.notify_all();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kTimeout) << reply.status().ToString();
  EXPECT_TRUE(reply.status().IsRetriable());
}

// Accepts one connection, reads the request's first bytes, then resets the connection.
class ResettingPeer {
 public:
  ResettingPeer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      int connection = ::accept(fd_, nullptr, nullptr);
      if (connection < 0) return;
      char buffer[1024];
      (void)::recv(connection, buffer, sizeof(buffer), 0);
      linger hard{1, 0};  // close with RST
      ::setsockopt(connection, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
      ::close(connection);
    });
  }
  ~ResettingPeer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(HttpClient, ResetConnectionIsUnavailable) {
  ResettingPeer peer;
  auto reply = MakeClient()->Post("http://127.0.0.1:" + std::to_string(peer.port()) + "/", {}, "x");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kUnavailable) << reply.status().ToString();
}

TEST(HttpClient, MalformedUrlsAndHeadersAreInvalidArguments) {
  auto client = MakeClient();
  for (const char* url : {"http://", "ftp://127.0.0.1/", "not a url", "http://[::1/"}) {
    auto reply = client->Post(url, {}, "x");
    ASSERT_FALSE(reply.ok()) << url;
    EXPECT_EQ(reply.status().code(), ErrorCode::kInvalidArgument)
        << url << ": " << reply.status().ToString();
  }
  auto injected = client->Post("http://127.0.0.1:1/", {{"X-A", "b\r\nX-Evil: 1"}}, "x");
  EXPECT_EQ(injected.status().code(), ErrorCode::kInvalidArgument);
}

TEST(HttpClient, MessagesLeaveOutCredentialsAndQuery) {
  auto reply = MakeClient()->Post(
      "http://user:secret@127.0.0.1:" + std::to_string(UnusedPort()) + "/p?token=hidden", {}, "");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().message().find("secret"), std::string::npos) << reply.status().message();
  EXPECT_EQ(reply.status().message().find("hidden"), std::string::npos) << reply.status().message();
  EXPECT_NE(reply.status().message().find("/p"), std::string::npos) << reply.status().message();
}

TEST(HttpClient, RepliesAboveTheLimitAreResourceExhausted) {
  auto server = StartServer([](const api::HttpRequest&, api::HttpResponse* response) {
    response->body = std::string(100'000, 'z');
  });
  HttpClientOptions options;
  options.max_response_bytes = 1000;
  auto reply = MakeClient(options)->Get(Url(*server));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kResourceExhausted) << reply.status().ToString();
}

TEST(HttpClient, CancelStopsARunningRequestAndLaterOnes) {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false;
  bool released = false;
  auto server = StartServer([&](const api::HttpRequest&, api::HttpResponse*) {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, 20s, [&] { return released; });
  });
  std::atomic<bool> cancel{false};
  HttpClientOptions options;
  options.cancel = &cancel;
  auto client = MakeClient(options);
  std::thread canceller([&] {
    std::unique_lock lock(mutex);
    cv.wait_for(lock, 10s, [&] { return entered; });
    cancel = true;
  });
  auto started = std::chrono::steady_clock::now();
  auto reply = client->Post(Url(*server), {}, "x");
  canceller.join();
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  cv.notify_all();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kAborted) << reply.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(client->Post(Url(*server), {}, "x").status().code(), ErrorCode::kAborted);
}

// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files.
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

TestCertificate MakeSelfSignedCertificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("eddy test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
  }
  X509_sign(cert, key, EVP_sha256());
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<size_t>(size));
    BIO_free(bio);
    return text;
  };
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  TestCertificate out{to_string(cert_bio), to_string(key_bio)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

class HttpClientTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-http-client-tls-" + std::to_string(::getpid()));
    io::FileSystem* fs = io::DefaultFileSystem();
    ASSERT_TRUE(fs->CreateDirectory(dir_.string()).ok());
    certificate_ = MakeSelfSignedCertificate();
    api::HttpServerOptions options;
    options.tls_cert_file = (dir_ / "cert.pem").string();
    options.tls_key_file = (dir_ / "key.pem").string();
    ASSERT_TRUE(fs->WriteFileAtomically(options.tls_cert_file, certificate_.cert_pem).ok());
    ASSERT_TRUE(fs->WriteFileAtomically(options.tls_key_file, certificate_.key_pem).ok());
    server_ =
        StartServer([](const api::HttpRequest& request,
                       api::HttpResponse* response) { response->body = "tls:" + request.body; },
                    options);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::filesystem::path dir_;
  TestCertificate certificate_;
  std::unique_ptr<api::HttpServer> server_;
};

TEST_F(HttpClientTls, VerifiesWithTheGivenCa) {
  HttpClientOptions options;
  options.ca_pem = certificate_.cert_pem;
  auto reply = MakeClient(options)->Post(Url(*server_, "https"), {}, "x");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "tls:x");
}

TEST_F(HttpClientTls, UnverifiedCertificateIsAFailedPreconditionNamingTheFix) {
  auto reply = MakeClient()->Post(Url(*server_, "https"), {}, "x");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kFailedPrecondition) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("ca_file"), std::string::npos);
  EXPECT_FALSE(reply.status().IsRetriable());
}

}  // namespace
}  // namespace eddy::net

#include "api/http_routes.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http_server.h"
#include "api/metrics_endpoint.h"
#include "base/metrics.h"

namespace eddy::api {
namespace {

HttpHandler Reply(std::string body) {
  return [body](const HttpRequest&, HttpResponse* response) {
    response->status = 200;
    response->body = body;
  };
}

HttpResponse Call(const HttpRoutes& routes, std::string method, std::string target) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  HttpResponse response;
  routes.Handle(request, &response);
  return response;
}

const std::string* FindHeader(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

TEST(HttpRoutes, ExactRoutesFirstThenTheFallback) {
  HttpRoutes routes;
  routes.Add("GET", "/metrics", Reply("metrics"));
  routes.Add("GET", "/healthz", Reply("healthy"));
  routes.SetFallback(Reply("aws"));

  EXPECT_EQ(Call(routes, "GET", "/metrics").body, "metrics");
  EXPECT_EQ(Call(routes, "GET", "/metrics?name=x").body, "metrics");  // query ignored
  EXPECT_EQ(Call(routes, "GET", "/healthz").body, "healthy");
  // Everything else is the AWS JSON protocol's: POST / with X-Amz-Target, and unknown paths.
  EXPECT_EQ(Call(routes, "POST", "/").body, "aws");
  EXPECT_EQ(Call(routes, "GET", "/").body, "aws");
  EXPECT_EQ(Call(routes, "GET", "/metrics/extra").body, "aws");  // exact, not a prefix
}

TEST(HttpRoutes, WrongMethodIs405WithAllow) {
  HttpRoutes routes;
  routes.Add("GET", "/metrics", Reply("metrics"));
  routes.SetFallback(Reply("aws"));
  HttpResponse response = Call(routes, "POST", "/metrics");
  EXPECT_EQ(response.status, 405);
  ASSERT_NE(FindHeader(response, "allow"), nullptr);
  EXPECT_EQ(*FindHeader(response, "allow"), "GET");
}

TEST(HttpRoutes, ARouteCanLeaveOtherMethodsToTheFallback) {
  HttpRoutes routes;
  HttpRoute console{"GET", "/", Reply("console")};
  console.other_methods_to_fallback = true;
  routes.Add(console);
  routes.SetFallback(Reply("aws"));
  EXPECT_EQ(Call(routes, "GET", "/").body, "console");
  EXPECT_EQ(Call(routes, "POST", "/").body, "aws");
}

TEST(HttpRoutes, PrefixRoutesServeEveryMethodUnderTheirPathAfterExactRoutes) {
  HttpRoutes routes;
  routes.Add(HttpRoute{"", "/admin/v1/", Reply("admin"), true});
  routes.Add(HttpRoute{"", "/admin/v1/sinks/", Reply("sinks"), true});
  routes.Add("GET", "/admin/v1/exact", Reply("exact"));
  routes.SetFallback(Reply("aws"));
  EXPECT_EQ(Call(routes, "DELETE", "/admin/v1/streams").body, "admin");
  EXPECT_EQ(Call(routes, "POST", "/admin/v1/sinks/a/pause?x=1").body, "sinks");  // longest
  EXPECT_EQ(Call(routes, "GET", "/admin/v1/exact").body, "exact");
  EXPECT_EQ(Call(routes, "GET", "/admin/v2/").body, "aws");
  EXPECT_EQ(Call(routes, "GET", "/admin/v1").body, "aws");  // not under the prefix
}

TEST(HttpRoutes, NoRouteAndNoFallbackIs404) {
  HttpRoutes routes;
  routes.Add("GET", "/metrics", Reply("metrics"));
  HttpResponse response = Call(routes, "GET", "/nothing");
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(response.body.find("GET /nothing"), std::string::npos) << response.body;
}

TEST(HttpRoutes, AddingTheSameRouteReplacesItAndToHandlerTakesACopy) {
  HttpRoutes routes;
  routes.Add("GET", "/a", Reply("first"));
  routes.Add("GET", "/a", Reply("second"));
  EXPECT_EQ(routes.size(), 1u);
  HttpHandler handler = routes.ToHandler();
  routes.Add("GET", "/a", Reply("third"));  // after ToHandler: not seen by it
  HttpRequest request;
  request.method = "GET";
  request.target = "/a";
  HttpResponse response;
  handler(request, &response);
  EXPECT_EQ(response.body, "second");
}

TEST(RequestPath, StripsQueryAndFragment) {
  EXPECT_EQ(RequestPath("/metrics"), "/metrics");
  EXPECT_EQ(RequestPath("/metrics?a=b"), "/metrics");
  EXPECT_EQ(RequestPath("/x#y"), "/x");
  EXPECT_EQ(RequestPath(""), "");
}

// A raw HTTP/1.1 exchange with Connection: close; returns everything the server sent.
std::string Exchange(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string reply;
  char buffer[4096];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

TEST(MetricsEndpoint, ServesThePrometheusTextFormatOverHttpBesideTheFallback) {
  auto& family = prometheus::BuildCounter()
                     .Name("eddy_routes_test_events_total")
                     .Help("Counted by the routes test")
                     .Register(metrics::Registry());
  family.Add({{"kind", "x"}}).Increment(3);

  HttpRoutes routes;
  routes.Add(MetricsRoute());
  routes.SetFallback([](const HttpRequest& request, HttpResponse* response) {
    response->status = 200;
    response->body = "fallback:" + request.body;
  });
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = HttpServer::Start(options, routes.ToHandler());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  uint16_t port = (*server)->port();

  std::string reply =
      Exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("content-type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos)
      << reply;
  EXPECT_NE(reply.find("# TYPE eddy_routes_test_events_total counter\n"), std::string::npos)
      << reply;
  EXPECT_NE(reply.find("eddy_routes_test_events_total{kind=\"x\"} 3"), std::string::npos) << reply;

  std::string other =
      Exchange(port,
               "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams"
               "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  EXPECT_NE(other.find("\r\n\r\nfallback:{}"), std::string::npos) << other;
  (*server)->Stop();
}

}  // namespace
}  // namespace eddy::api

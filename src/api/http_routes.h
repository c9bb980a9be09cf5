// HttpRoutes: a path router in front of one fallback handler, so several services share one
// HttpServer port without the server knowing any of them (DESIGN.md layering: the server
// stays below everything that serves on it; whoever wires the process registers the routes).
//
//   HttpRoutes routes;
//   routes.Add("GET", "/metrics", MetricsHandler());   // exact method + path, checked first
//   routes.SetFallback(aws_json_handler);              // everything else (POST / X-Amz-Target)
//   HttpServer::Start(options, routes.ToHandler());
//
// Matching: the request path is the target up to '?' (the query string is ignored). Exact
// routes first, then prefix routes (the longest prefix wins), then the fallback. A path
// that has routes but not for the request's method gets 405 with an `allow` header; a request
// no route matches goes to the fallback, or gets 404 when there is none.
//
// Thread safety: build (Add/SetFallback) on one thread before serving; Handle and the handler
// from ToHandler() may then be called concurrently (routes are not changed after that).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"

namespace eddy::api {

struct HttpRoute {
  std::string method;  // "GET", "POST", ...; ignored for a prefix route
  std::string path;    // exact, starts with '/': "/metrics"
  HttpHandler handler;
  // The route serves every path that starts with `path` ("/admin/v1/"), whatever the method
  // (its handler answers 405 itself). Exact routes are checked first.
  bool prefix = false;
  // Requests of other methods on this exact path go to the fallback instead of a 405 (the
  // console's GET / beside the AWS protocol's POST /).
  bool other_methods_to_fallback = false;
};

class HttpRoutes {
 public:
  // Adds a route; one for the same method and path replaces it.
  HttpRoutes& Add(std::string method, std::string path, HttpHandler handler);
  HttpRoutes& Add(HttpRoute route);
  // Requests no route matches; unset: 404.
  HttpRoutes& SetFallback(HttpHandler handler);

  void Handle(const HttpRequest& request, HttpResponse* response) const;
  // A handler holding a copy of these routes (later changes to *this do not affect it).
  HttpHandler ToHandler() const;

  size_t size() const { return routes_.size(); }

 private:
  std::vector<HttpRoute> routes_;
  HttpHandler fallback_;
};

// The path of a request target: "/metrics?x=1" -> "/metrics".
std::string_view RequestPath(std::string_view target);

}  // namespace eddy::api

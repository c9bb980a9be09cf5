#include "api/http_routes.h"

#include <memory>

namespace eddy::api {

std::string_view RequestPath(std::string_view target) {
  size_t query = target.find_first_of("?#");
  return query == std::string_view::npos ? target : target.substr(0, query);
}

HttpRoutes& HttpRoutes::Add(std::string method, std::string path, HttpHandler handler) {
  return Add(HttpRoute{std::move(method), std::move(path), std::move(handler)});
}

HttpRoutes& HttpRoutes::Add(HttpRoute route) {
  for (HttpRoute& existing : routes_) {
    if (existing.prefix == route.prefix && existing.path == route.path &&
        (route.prefix || existing.method == route.method)) {
      existing = std::move(route);
      return *this;
    }
  }
  routes_.push_back(std::move(route));
  return *this;
}

HttpRoutes& HttpRoutes::SetFallback(HttpHandler handler) {
  fallback_ = std::move(handler);
  return *this;
}

void HttpRoutes::Handle(const HttpRequest& request, HttpResponse* response) const {
  std::string_view path = RequestPath(request.target);
  std::string allowed;
  for (const HttpRoute& route : routes_) {
    if (route.prefix || route.path != path) continue;
    if (route.method == request.method) {
      route.handler(request, response);
      return;
    }
    if (!route.other_methods_to_fallback) allowed += (allowed.empty() ? "" : ", ") + route.method;
  }
  if (!allowed.empty()) {
    response->status = 405;
    response->headers.emplace_back("allow", allowed);
    response->headers.emplace_back("content-type", "text/plain; charset=utf-8");
    response->body = std::string(path) + " allows " + allowed + "\n";
    return;
  }
  const HttpRoute* longest = nullptr;
  for (const HttpRoute& route : routes_) {
    if (route.prefix && path.substr(0, route.path.size()) == route.path &&
        (!longest || route.path.size() > longest->path.size())) {
      longest = &route;
    }
  }
  if (longest) {
    longest->handler(request, response);
    return;
  }
  if (fallback_) {
    fallback_(request, response);
    return;
  }
  response->status = 404;
  response->headers.emplace_back("content-type", "text/plain; charset=utf-8");
  response->body = "no route for " + request.method + " " + std::string(path) + "\n";
}

HttpHandler HttpRoutes::ToHandler() const {
  auto routes = std::make_shared<const HttpRoutes>(*this);
  return [routes](const HttpRequest& request, HttpResponse* response) {
    routes->Handle(request, response);
  };
}

}  // namespace eddy::api

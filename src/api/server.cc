#include "api/server.h"

#include "api/api_router.h"
#include "api/http_server.h"
#include "api/record_rendering.h"

namespace eddy::api {

struct Server::State {
  ApiContext context;
  std::unique_ptr<ApiRouter> router;
  std::unique_ptr<HttpServer> http;
};

Server::Server(std::unique_ptr<State> state) : state_(std::move(state)) {}
Server::~Server() { Stop(); }

uint16_t Server::port() const { return state_->http ? state_->http->port() : 0; }

void Server::Stop() {
  if (state_ && state_->http) state_->http->Stop();
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options, log::LogStore* store) {
  if (store == nullptr) return InvalidArgument("api::Server::Start needs a LogStore");
  auto state = std::make_unique<State>();
  ApiContext& context = state->context;
  context.store = store;
  context.clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  if (options.iterator_key.empty()) {
    EDDY_ASSIGN_OR_RETURN(context.iterators, IteratorCodec::WithRandomKey());
  } else {
    if (options.iterator_key.size() < 16) {
      return InvalidArgument("the shard iterator key must be at least 16 bytes");
    }
    context.iterators = IteratorCodec(options.iterator_key);
  }
  context.region = options.region;
  context.account_id = options.account_id;
  if (context.account_id.size() != 12 ||
      context.account_id.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("account id '" + context.account_id +
                           "' must be 12 digits (AWS clients parse ARNs with that pattern)");
  }
  context.max_shards_per_stream = options.max_shards_per_stream;
  RecordRendering standard = StandardRecordRendering(options.region);
  context.rendering.kinesis_data =
      options.rendering.kinesis_data ? options.rendering.kinesis_data : standard.kinesis_data;
  context.rendering.dynamodb_record = options.rendering.dynamodb_record
                                          ? options.rendering.dynamodb_record
                                          : standard.dynamodb_record;
  state->router = std::make_unique<ApiRouter>(&state->context, std::move(options.verifier));

  HttpServerOptions http;
  http.listen = options.listen;
  http.max_connections = options.max_connections;
  http.limits.max_body_bytes = options.max_body_bytes;
  http.idle_timeout_seconds = options.idle_timeout_seconds;
  http.tls_cert_file = options.tls_cert;
  http.tls_key_file = options.tls_key;
  ApiRouter* router = state->router.get();
  HttpRoutes routes;
  for (HttpRoute& route : options.routes) routes.Add(std::move(route));
  routes.SetFallback([router](const HttpRequest& request, HttpResponse* response) {
    router->Handle(request, response);
  });
  EDDY_ASSIGN_OR_RETURN(state->http, HttpServer::Start(http, routes.ToHandler()));
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

}  // namespace eddy::api

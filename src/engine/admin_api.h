// The admin API: eddy's own resources under /admin/v1/ on the API port (JSON; every request
// and response in docs/admin-api.md). Streams are listed from the log; sinks are listed,
// paused, resumed, reset, created and deleted through the Engine (engine.h), which uses the
// runner's operator controls and the same checks and destination registry as configured
// sinks.
//
// Errors have one shape: {"error": {"status": 404, "code": "NotFound", "message": "..."}}.
//
// Authentication: with a token, every request needs `Authorization: Bearer TOKEN` (401
// otherwise); tokens are compared in constant time (SHA-256 of both, then CRYPTO_memcmp, so
// neither the content nor the length leaks through timing).
//
// Thread safety: the handler is called concurrently from the server's connection threads;
// `engine` must outlive the server (the engine stops its API before it is destroyed).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/http_routes.h"

namespace eddy::engine {

class Engine;
class ControlAuth;

// The prefix route serving /admin/v1/ for `engine`; `auth` (engine/control_auth.h: bearer
// token or SigV4) decides who may call it.
api::HttpRoute AdminHttpRoute(Engine* engine, std::shared_ptr<const ControlAuth> auth);

// True when `token` (non-empty) matches the `authorization` header value "Bearer TOKEN".
bool AdminAuthorized(std::string_view authorization, std::string_view token);

// True for listen addresses only this machine reaches: 127.0.0.0/8, ::1, localhost.
bool IsLoopbackListen(std::string_view listen);

}  // namespace eddy::engine

// LocalFunction: the "function" `eddy demo` pushes changes to, standing in for an AWS Lambda
// function behind an HTTP endpoint (the webhook sink's embedded default for the demo).
//
// It serves POST on 127.0.0.1 (a free port), accepts Lambda's Kinesis and DynamoDB Streams
// event shapes, appends every request body as one JSON line to `<dir>/<path>.jsonl` (path =
// the request path without its leading slash, e.g. `/retail-postgres` ->
// `retail-postgres.jsonl`), counts events and records, and answers 200 `{}` (full success in
// Lambda's partial-batch reply rules). A body that is not a JSON object with a `Records`
// array gets 400, so a malformed push is visible in the demo as retries.
//
// Durability: lines are written through io::FileSystem and not fsync'd (a demo artefact).
// Thread safety: requests arrive on the server's connection threads; the counters and the
// files are guarded by one mutex. Stop() (or the destructor) joins the server.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/http_server.h"
#include "base/status.h"
#include "io/file_system.h"

namespace eddy::demo {

class LocalFunction {
 public:
  // Creates `dir` when missing and starts serving.
  static Result<std::unique_ptr<LocalFunction>> Start(const std::string& dir,
                                                      io::FileSystem* fs = nullptr);
  ~LocalFunction();
  LocalFunction(const LocalFunction&) = delete;
  LocalFunction& operator=(const LocalFunction&) = delete;

  // "http://127.0.0.1:PORT"
  std::string base_url() const;
  const std::string& dir() const { return dir_; }
  uint64_t events() const;
  uint64_t records() const;
  void Stop();

 private:
  LocalFunction(std::string dir, io::FileSystem* fs) : dir_(std::move(dir)), fs_(fs) {}
  void Handle(const api::HttpRequest& request, api::HttpResponse* response);

  std::string dir_;
  io::FileSystem* fs_;
  std::unique_ptr<api::HttpServer> server_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<io::File>> files_;  // guarded by mu_
  uint64_t events_ = 0;                                      // guarded by mu_
  uint64_t records_ = 0;                                     // guarded by mu_
};

}  // namespace eddy::demo

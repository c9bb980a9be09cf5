#include "demo/local_function.h"

#include <simdjson.h>

namespace eddy::demo {
namespace {

// "/retail-postgres?x" -> "retail-postgres"; anything outside [A-Za-z0-9._-] becomes '_'.
std::string FileStem(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  while (!path.empty() && path.front() == '/') path.erase(path.begin());
  if (path.empty()) path = "events";
  for (char& c : path) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_';
    if (!keep) c = '_';
  }
  if (path.front() == '.') path.front() = '_';  // never a hidden file or ".."
  return path;
}

void Reply(api::HttpResponse* response, int status, std::string body) {
  response->status = status;
  response->headers = {{"content-type", "application/json"}};
  response->body = std::move(body);
}

}  // namespace

Result<std::unique_ptr<LocalFunction>> LocalFunction::Start(const std::string& dir,
                                                            io::FileSystem* fs) {
  if (fs == nullptr) fs = io::DefaultFileSystem();
  EDDY_RETURN_IF_ERROR(fs->CreateDirectories(dir));
  std::unique_ptr<LocalFunction> function(new LocalFunction(dir, fs));
  api::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  LocalFunction* self = function.get();
  EDDY_ASSIGN_OR_RETURN(function->server_,
                        api::HttpServer::Start(options, [self](const api::HttpRequest& request,
                                                               api::HttpResponse* response) {
                          self->Handle(request, response);
                        }));
  return function;
}

LocalFunction::~LocalFunction() { Stop(); }

void LocalFunction::Stop() {
  if (server_) server_->Stop();
}

std::string LocalFunction::base_url() const {
  return "http://127.0.0.1:" + std::to_string(server_ ? server_->port() : 0);
}

uint64_t LocalFunction::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

uint64_t LocalFunction::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

void LocalFunction::Handle(const api::HttpRequest& request, api::HttpResponse* response) {
  if (request.method != "POST") {
    Reply(response, 405, R"({"message":"the demo function takes POST"})");
    return;
  }
  simdjson::ondemand::parser parser;
  simdjson::padded_string body(request.body);
  size_t records = 0;
  bool valid = false;
  {
    simdjson::ondemand::document document;
    simdjson::ondemand::array array;
    if (parser.iterate(body).get(document) == simdjson::SUCCESS &&
        document["Records"].get_array().get(array) == simdjson::SUCCESS) {
      valid = true;
      for (auto element : array) {
        if (element.error() != simdjson::SUCCESS) {
          valid = false;
          break;
        }
        ++records;
      }
    }
  }
  if (!valid) {
    Reply(response, 400, R"({"message":"expected a Lambda event: an object with a Records array"})");
    return;
  }
  std::string stem = FileStem(request.target);
  std::lock_guard lock(mu_);
  auto it = files_.find(stem);
  if (it == files_.end()) {
    auto file = fs_->Open(io::JoinPath(dir_, stem + ".jsonl"), io::OpenMode::kCreateOrTruncate);
    if (!file.ok()) {
      Reply(response, 500, R"({"message":"the demo function cannot write its file"})");
      return;
    }
    it = files_.emplace(stem, std::move(*file)).first;
  }
  std::string line = request.body;
  for (char& c : line) {
    if (c == '\n') c = ' ';  // JSON never needs a raw newline; one event per line
  }
  line.push_back('\n');
  if (Status status = it->second->Append(line); !status.ok()) {
    Reply(response, 500, R"({"message":"the demo function cannot write its file"})");
    return;
  }
  ++events_;
  records_ += records;
  Reply(response, 200, "{}");
}

}  // namespace eddy::demo

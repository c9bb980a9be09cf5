// eddy-api-testserver: opens a change-log directory and serves the stream API on it, for the
// end-to-end tests with real AWS clients (the main binary's `eddy serve` does the same).
//
//   eddy-api-testserver --data-dir DIR [--listen 127.0.0.1:0] [--port-file FILE]
//                       [--cdc-stream NAME --cdc-format FORMAT --cdc-events N]
//                       [--credentials ACCESS_KEY_ID:SECRET]   (verify SigV4 signatures)
//                       [--tls-cert CERT.pem --tls-key KEY.pem]  (HTTPS, h2/http1.1 by ALPN)
//
// Writes the bound port to --port-file (atomically: write then rename) once serving, and
// runs until SIGTERM/SIGINT. --cdc-stream creates a CDC stream (eddy:cdc=true) and appends
// N sample change events (inserts, updates and deletes of a few keys, in order) so that CDC
// read paths (DynamoDB Streams, formats) can be tested without a database.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <pthread.h>

#include "api/server.h"
#include "base/logging.h"
#include "log/log_store.h"
#include "model/event.h"
#include "model/event_codec.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "eddy-api-testserver: %s\n", message.c_str());
  return 1;
}

eddy::model::ChangeEvent SampleEvent(int i) {
  using namespace eddy::model;
  ChangeEvent event;
  int key = i % 5;
  int version = i / 5;
  event.op = version == 0 ? Operation::kInsert : (i % 7 == 6 ? Operation::kDelete : Operation::kUpdate);
  event.table = TableId{"shop", "public", "orders"};
  event.key = Row{Field{"id", Value::Int64(key)}};
  Row after{Field{"id", Value::Int64(key)}, Field{"version", Value::Int64(version)},
            Field{"note", Value::Text("note " + std::to_string(i))}};
  if (event.op != Operation::kInsert) {
    event.before = Row{Field{"id", Value::Int64(key)}, Field{"version", Value::Int64(version - 1)},
                       Field{"note", Value::Text("earlier")}};
  }
  if (event.op != Operation::kDelete) event.after = after;
  event.commit_time_ns = 1'700'000'000'000'000'000 + int64_t{i} * 1'000'000;
  event.transaction_id = std::to_string(1000 + i);
  return event;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir, listen = "127.0.0.1:0", port_file, cdc_stream, cdc_format = "native";
  int cdc_events = 0;
  std::string credentials;  // AKID:SECRET enables signature verification
  std::string tls_cert, tls_key;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--data-dir") data_dir = value();
    else if (arg == "--listen") listen = value();
    else if (arg == "--port-file") port_file = value();
    else if (arg == "--cdc-stream") cdc_stream = value();
    else if (arg == "--cdc-format") cdc_format = value();
    else if (arg == "--cdc-events") cdc_events = std::atoi(value().c_str());
    else if (arg == "--credentials") credentials = value();
    else if (arg == "--tls-cert") tls_cert = value();
    else if (arg == "--tls-key") tls_key = value();
    else return Fail("unknown argument " + arg);
  }
  if (data_dir.empty()) return Fail("--data-dir is required");
  if (const char* level = std::getenv("EDDY_LOG_LEVEL")) {
    eddy::logging::Configure(level, eddy::logging::Format::kText);
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto store = eddy::log::LogStore::Open(data_dir);
  if (!store.ok()) return Fail(store.status().ToString());
  if (!cdc_stream.empty()) {
    eddy::log::StreamOptions options;
    options.shard_count = 2;
    options.tags["eddy:cdc"] = "true";
    options.tags["eddy:format"] = cdc_format;
    options.tags["eddy:view_type"] = "NEW_AND_OLD_IMAGES";
    options.tags["eddy:table"] = "orders";
    options.tags["eddy:key_columns"] = "id";
    auto stream = (*store)->GetStream(cdc_stream);
    if (!stream.ok()) stream = (*store)->CreateStream(cdc_stream, options);
    if (!stream.ok()) return Fail(stream.status().ToString());
    for (int i = 0; i < cdc_events; ++i) {
      eddy::model::ChangeEvent event = SampleEvent(i);
      eddy::log::AppendRecord record;
      record.partition_key = event.PartitionKey();
      record.payload = eddy::model::EncodeEvent(event);
      std::vector<eddy::log::AppendRecord> records;
      records.push_back(std::move(record));
      auto appended = (*stream)->AppendTransaction(std::move(records), eddy::SourcePosition());
      if (!appended.ok()) return Fail(appended.status().ToString());
    }
  }

  eddy::api::ServerOptions options;
  options.listen = listen;
  options.tls_cert = tls_cert;
  options.tls_key = tls_key;
  if (!credentials.empty()) {
    size_t colon = credentials.find(':');
    if (colon == std::string::npos) return Fail("--credentials wants ACCESS_KEY_ID:SECRET");
    options.verifier = eddy::api::MakeStaticCredentialVerifier(
        {{credentials.substr(0, colon), credentials.substr(colon + 1)}});
  }
  auto server = eddy::api::Server::Start(options, store->get());
  if (!server.ok()) return Fail(server.status().ToString());
  if (!port_file.empty()) {
    std::string temporary = port_file + ".tmp";
    {
      std::ofstream out(temporary);
      out << (*server)->port() << "\n";
      if (!out) return Fail("cannot write " + temporary);
    }
    if (std::rename(temporary.c_str(), port_file.c_str()) != 0) {
      return Fail("cannot rename " + temporary + ": " + std::strerror(errno));
    }
  }
  std::fprintf(stderr, "eddy-api-testserver: serving on 127.0.0.1:%u\n", (*server)->port());
  int received = 0;
  sigwait(&signals, &received);
  (*server)->Stop();
  return 0;
}

// A native load generator for bench/api/kinesis_vs_kinesalite.mjs (--client=native): the same
// PutRecords / GetRecords work as the JavaScript raw client, over keep-alive HTTP/1.1
// connections, with every reply parsed and checked in full by simdjson instead of JSON.parse.
// On a 2-core machine the JavaScript client needs ~3 us of CPU per record read, four times
// what eddy spends serving it, so it rather than the server bounds what is measured; this
// client leaves the cores to the server under test. It does the same work for every server.
//
//   kinesis_load put --port=P --stream=S --records=N --size=B --connections=C
//   kinesis_load get --port=P --stream=S --shards=id,id,... --connections=C
//
// It prepares everything (connections, request bodies), prints "ready", waits for a line on
// stdin, runs, and prints {"count":N,"seconds":S,"cpu":C} (C: its own CPU seconds while
// running). Any HTTP or protocol error exits 1.
#include <arpa/inet.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <simdjson.h>

namespace {

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "kinesis_load: %s\n", what.c_str());
  std::exit(1);
}

std::string Flag(int argc, char** argv, const char* name, const char* fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 2; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  if (fallback == nullptr) Fail(std::string("missing --") + name);
  return fallback;
}

// One keep-alive HTTP/1.1 connection; one request in flight.
class Connection {
 public:
  explicit Connection(int port) : port_(port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) Fail("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      Fail("connect to port " + std::to_string(port) + ": " + std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one Kinesis JSON 1.1 request and returns the 200 reply's body (else exits).
  std::string_view Call(std::string_view operation, std::string_view body) {
    std::string request;
    request.reserve(body.size() + 512);
    request += "POST / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
               "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.";
    request += operation;
    request += "\r\nX-Amz-Date: 20261121T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 "
               "Credential=bench/20261121/us-east-1/kinesis/aws4_request, "
               "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=";
    request.append(64, '0');
    request += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    request += body;
    for (size_t sent = 0; sent < request.size();) {
      ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        Fail(std::string("send: ") + std::strerror(errno));
      }
      sent += static_cast<size_t>(n);
    }
    return ReadReply(operation);
  }

 private:
  // Reads until `buffer_` holds at least `size` bytes after `start_`.
  void Fill(size_t size) {
    while (buffer_.size() - start_ < size) {
      if (start_ > 0 && start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
      }
      size_t old = buffer_.size();
      buffer_.resize(old + 256 * 1024);
      // Acknowledge at once: a server that writes a reply's head and body separately (node's
      // http, so kinesalite) would otherwise wait on our delayed ACK under Nagle's algorithm,
      // ~40 ms per reply, which would measure this client rather than the server.
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
      ssize_t n = ::recv(fd_, buffer_.data() + old, 256 * 1024, 0);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) {
          buffer_.resize(old);
          continue;
        }
        Fail(n == 0 ? "server closed the connection" : std::string("recv: ") + std::strerror(errno));
      }
      buffer_.resize(old + static_cast<size_t>(n));
    }
  }

  std::string_view ReadReply(std::string_view operation) {
    // Head.
    size_t head_end;
    while ((head_end = std::string_view(buffer_).substr(start_).find("\r\n\r\n")) ==
           std::string_view::npos) {
      Fill(buffer_.size() - start_ + 1);
    }
    std::string head = buffer_.substr(start_, head_end);
    start_ += head_end + 4;
    if (head.compare(0, 12, "HTTP/1.1 200") != 0) {
      Fail(std::string(operation) + ": " + head.substr(0, head.find("\r\n")));
    }
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    body_.clear();
    size_t length_at = head.find("\r\ncontent-length:");
    if (length_at != std::string::npos) {
      size_t length = std::strtoull(head.c_str() + length_at + 17, nullptr, 10);
      Fill(length);
      body_.assign(buffer_, start_, length);
      start_ += length;
    } else if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
      for (;;) {
        size_t line_end;
        while ((line_end = std::string_view(buffer_).substr(start_).find("\r\n")) ==
               std::string_view::npos) {
          Fill(buffer_.size() - start_ + 1);
        }
        size_t chunk = std::strtoull(buffer_.c_str() + start_, nullptr, 16);
        start_ += line_end + 2;
        Fill(chunk + 2);
        body_.append(buffer_, start_, chunk);
        start_ += chunk + 2;
        if (chunk == 0) break;
      }
    } else {
      Fail(std::string(operation) + ": reply without a length");
    }
    if (start_ == buffer_.size()) {
      buffer_.clear();
      start_ = 0;
    }
    return body_;
  }

  int port_;
  int fd_;
  std::string buffer_;
  size_t start_ = 0;
  std::string body_;
};

// Parses `reply` in full (every byte validated, as JSON.parse would) and returns its document.
simdjson::dom::element Parse(simdjson::dom::parser& parser, std::string_view reply,
                             std::string_view operation) {
  auto document = parser.parse(reply.data(), reply.size(), true);
  if (document.error()) {
    Fail(std::string(operation) + " reply is not JSON: " + simdjson::error_message(document.error()));
  }
  return document.value();
}

struct Totals {
  std::atomic<uint64_t> count{0};
};

double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Prints the result line: records, wall seconds and this process's CPU seconds since `cpu`.
void Report(const Totals& totals, std::chrono::steady_clock::time_point began, double cpu) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::cout << "{\"count\":" << totals.count.load() << ",\"seconds\":" << seconds
            << ",\"cpu\":" << CpuSeconds() - cpu << "}" << std::endl;
}

// Opens `connections` connections, prints "ready", waits for the go line, then runs
// work(connection, parser, index) for every index below `items`, spread over one thread per
// connection, and prints the result line.
template <typename Work>
void RunOnConnections(int port, int connections, size_t items, const Totals& totals, Work work) {
  std::vector<std::unique_ptr<Connection>> pool;
  for (int i = 0; i < connections; ++i) pool.push_back(std::make_unique<Connection>(port));
  std::cout << "ready" << std::endl;
  std::string line;
  std::getline(std::cin, line);
  std::atomic<size_t> next{0};
  const double cpu = CpuSeconds();
  auto began = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      simdjson::dom::parser parser;
      for (size_t index; (index = next.fetch_add(1)) < items;) {
        work(*pool[static_cast<size_t>(c)], parser, index);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  Report(totals, began, cpu);
}

void RunPut(int port, const std::string& stream, uint64_t records, size_t size,
            int connections, Totals& totals) {
  constexpr uint64_t kBatch = 500;
  std::string data;
  {
    // base64 of `size` bytes of 'x' (0x78): "eHh4" repeated, as the JavaScript client sends.
    std::string raw(size, 'x');
    static const char* alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < raw.size(); i += 3) {
      uint32_t chunk = static_cast<uint8_t>(raw[i]) << 16;
      if (i + 1 < raw.size()) chunk |= static_cast<uint8_t>(raw[i + 1]) << 8;
      if (i + 2 < raw.size()) chunk |= static_cast<uint8_t>(raw[i + 2]);
      data.push_back(alphabet[(chunk >> 18) & 63]);
      data.push_back(alphabet[(chunk >> 12) & 63]);
      data.push_back(i + 1 < raw.size() ? alphabet[(chunk >> 6) & 63] : '=');
      data.push_back(i + 2 < raw.size() ? alphabet[chunk & 63] : '=');
    }
  }
  std::vector<std::string> bodies;
  std::vector<uint64_t> sizes;
  for (uint64_t first = 0; first < records; first += kBatch) {
    std::string body = "{\"StreamName\":\"" + stream + "\",\"Records\":[";
    uint64_t last = std::min(records, first + kBatch);
    for (uint64_t i = first; i < last; ++i) {
      if (i > first) body += ',';
      body += "{\"Data\":\"" + data + "\",\"PartitionKey\":\"key-" + std::to_string(i) + "\"}";
    }
    body += "]}";
    bodies.push_back(std::move(body));
    sizes.push_back(last - first);
  }
  RunOnConnections(port, connections, bodies.size(), totals,
                   [&](Connection& connection, simdjson::dom::parser& parser, size_t index) {
    std::string_view reply = connection.Call("PutRecords", bodies[index]);
    simdjson::dom::element document = Parse(parser, reply, "PutRecords");
    int64_t failed = 0;
    if (document["FailedRecordCount"].get(failed) || failed != 0) {
      Fail("PutRecords: FailedRecordCount " + std::to_string(failed));
    }
    simdjson::dom::array results;
    if (document["Records"].get(results) || results.size() != sizes[index]) {
      Fail("PutRecords: wrong number of results");
    }
    totals.count += sizes[index];
  });
}

void RunGet(int port, const std::string& stream, const std::vector<std::string>& shards,
            int connections, Totals& totals) {
  RunOnConnections(port, connections, shards.size(), totals,
                   [&](Connection& connection, simdjson::dom::parser& parser, size_t index) {
    std::string request = "{\"StreamName\":\"" + stream + "\",\"ShardId\":\"" + shards[index] +
                          "\",\"ShardIteratorType\":\"TRIM_HORIZON\"}";
    std::string_view reply = connection.Call("GetShardIterator", request);
    std::string_view iterator_view;
    if (Parse(parser, reply, "GetShardIterator")["ShardIterator"].get(iterator_view)) {
      Fail("GetShardIterator: no ShardIterator");
    }
    std::string iterator(iterator_view);
    for (;;) {
      std::string body = "{\"ShardIterator\":\"" + iterator + "\",\"Limit\":10000}";
      simdjson::dom::element document =
          Parse(parser, connection.Call("GetRecords", body), "GetRecords");
      simdjson::dom::array records;
      if (document["Records"].get(records)) Fail("GetRecords: no Records");
      size_t count = 0;
      for (simdjson::dom::element record : records) {
        std::string_view data;
        std::string_view sequence;
        if (record["Data"].get(data) || record["SequenceNumber"].get(sequence)) {
          Fail("GetRecords: a record without Data or SequenceNumber");
        }
        ++count;
      }
      totals.count += count;
      std::string_view next_iterator;
      if (count == 0 || document["NextShardIterator"].get(next_iterator)) break;
      iterator.assign(next_iterator);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Fail("usage: kinesis_load put|get --port=P --stream=S ...");
  std::string phase = argv[1];
  int port = std::atoi(Flag(argc, argv, "port", nullptr).c_str());
  std::string stream = Flag(argc, argv, "stream", nullptr);
  int connections = std::atoi(Flag(argc, argv, "connections", "8").c_str());
  Totals totals;
  if (phase == "put") {
    RunPut(port, stream, std::strtoull(Flag(argc, argv, "records", nullptr).c_str(), nullptr, 10),
           std::strtoull(Flag(argc, argv, "size", "200").c_str(), nullptr, 10), connections, totals);
  } else if (phase == "get") {
    std::vector<std::string> shards;
    std::string list = Flag(argc, argv, "shards", nullptr);
    for (size_t at = 0; at <= list.size();) {
      size_t comma = list.find(',', at);
      if (comma == std::string::npos) comma = list.size();
      if (comma > at) shards.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
    RunGet(port, stream, shards, connections, totals);
  } else {
    Fail("unknown phase " + phase);
  }
  return 0;
}

// kafka-mock-cluster: a Kafka cluster for tests and benchmarks: librdkafka's mock cluster
// (rdkafka_mock.h in Debian's librdkafka-dev) hosted by sink/kafka/mock_cluster.h, as a
// process. Debian ships no Kafka broker; the mock speaks the Kafka protocol on loopback (produce,
// fetch, consumer groups, idempotent and transactional producers), keeps its log in memory and has
// no CreateTopics, compaction, TLS or SASL (docs/sinks/kafka.md lists what that means for the
// tests).
//
//   kafka-mock-cluster [--brokers N]
//
// Prints `BROKERS=127.0.0.1:PORT,...` on stdout once the brokers listen, then reads commands,
// one per line on stdin, and answers each with `OK <command>` or `ERROR <what>`:
//   down ID                          take broker ID (1..N) down (connections are closed)
//   up ID                            bring it back
//   create TOPIC PARTITIONS [RF]     create a topic (the mock's auto-creation makes 4
//                                    partitions; tests that need another count create it)
//   stop                             exit (so does the end of stdin)
// Exit status 0 on a clean stop, 2 on bad arguments, 1 when the cluster cannot start.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "sink/kafka/mock_cluster.h"

namespace {

int Usage(const char* what) {
  std::fprintf(stderr, "kafka-mock-cluster: %s\nusage: kafka-mock-cluster [--brokers N]\n", what);
  return 2;
}

// A decimal number of 1 to 9 digits; -1 otherwise.
long ParseNumber(const std::string& text) {
  if (text.empty() || text.size() > 9) return -1;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
  }
  return std::strtol(text.c_str(), nullptr, 10);
}

}  // namespace

int main(int argc, char** argv) {
  long brokers = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      brokers = ParseNumber(argv[++i]);
      if (brokers < 1 || brokers > 16) return Usage("--brokers takes 1 to 16");
    } else {
      return Usage(("unknown argument '" + arg + "'").c_str());
    }
  }
  auto cluster = eddy::sink::kafka::MockCluster::Start(static_cast<int>(brokers));
  if (!cluster.ok()) {
    std::fprintf(stderr, "kafka-mock-cluster: %s\n", cluster.status().message().c_str());
    return 1;
  }
  std::printf("BROKERS=%s\n", (*cluster)->bootstrap().c_str());
  std::fflush(stdout);

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream words(line);
    std::string command;
    words >> command;
    if (command.empty()) continue;
    if (command == "stop") break;
    eddy::Status done = eddy::Status::Ok();
    if (command == "down" || command == "up") {
      std::string id_text;
      words >> id_text;
      int id = static_cast<int>(ParseNumber(id_text));
      done = command == "down" ? (*cluster)->SetBrokerDown(id) : (*cluster)->SetBrokerUp(id);
    } else if (command == "create") {
      std::string topic, partitions_text, replication_text;
      words >> topic >> partitions_text >> replication_text;
      long replication = replication_text.empty() ? 1 : ParseNumber(replication_text);
      done = (*cluster)->CreateTopic(topic, static_cast<int>(ParseNumber(partitions_text)),
                                     static_cast<int>(replication));
    } else {
      done = eddy::InvalidArgument("unknown command '" + command +
                                   "'; use down ID, up ID, create TOPIC N, stop");
    }
    if (done.ok()) {
      std::printf("OK %s\n", line.c_str());
    } else {
      std::printf("ERROR %s\n", done.message().c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}

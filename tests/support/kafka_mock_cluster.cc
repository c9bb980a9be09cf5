// kafka-mock-cluster: a Kafka cluster for tests and benchmarks, built on librdkafka's mock
// cluster (rdkafka_mock.h in Debian's librdkafka-dev). Debian ships no Kafka broker; the mock
// speaks the Kafka protocol on loopback (produce, fetch, consumer groups, idempotent and
// transactional producers), keeps its log in memory and has no CreateTopics, compaction, TLS
// or SASL (docs/sinks/kafka.md lists what that means for the tests).
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
#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

namespace {

int Usage(const char* what) {
  std::fprintf(stderr, "kafka-mock-cluster: %s\nusage: kafka-mock-cluster [--brokers N]\n", what);
  return 2;
}

bool ParsePositive(const std::string& text, long max, long* out) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::strtol(text.c_str(), nullptr, 10);
  return *out >= 1 && *out <= max;
}

// Kafka brokers set TCP_NODELAY on their connections; the mock's sockets keep Nagle's
// algorithm, so a second response written before the client acknowledged the first waits for
// the client's delayed ACK (about 40 ms): every multi-partition produce took about 45 ms.
// Accepted sockets inherit TCP_NODELAY from their listening socket on Linux, so it is set on
// every listening TCP socket of this process (the mock's brokers).
void DisableNagleOnListeners() {
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return;
  while (dirent* entry = readdir(fds)) {
    int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    int listening = 0;
    socklen_t length = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening) continue;
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }
  closedir(fds);
}

}  // namespace

int main(int argc, char** argv) {
  long brokers = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      if (!ParsePositive(argv[++i], 16, &brokers)) return Usage("--brokers takes 1 to 16");
    } else {
      return Usage(("unknown argument '" + arg + "'").c_str());
    }
  }
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the mock cluster's threads; it never connects anywhere.
  if (rd_kafka_conf_set(conf, "log_level", "3", error, sizeof(error)) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "kafka-mock-cluster: %s\n", error);
    return 1;
  }
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {
    std::fprintf(stderr, "kafka-mock-cluster: creating the librdkafka handle: %s\n", error);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle, static_cast<int>(brokers));
  if (cluster == nullptr) {
    std::fprintf(stderr, "kafka-mock-cluster: the mock cluster did not start\n");
    rd_kafka_destroy(handle);
    return 1;
  }
  DisableNagleOnListeners();
  std::printf("BROKERS=%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream words(line);
    std::string command;
    words >> command;
    if (command.empty()) continue;
    if (command == "stop") break;
    std::string reply;
    if (command == "down" || command == "up") {
      std::string id_text;
      long id = 0;
      words >> id_text;
      if (!ParsePositive(id_text, brokers, &id)) {
        reply = "ERROR broker id must be 1 to " + std::to_string(brokers);
      } else {
        rd_kafka_resp_err_t err =
            command == "down" ? rd_kafka_mock_broker_set_down(cluster, static_cast<int32_t>(id))
                              : rd_kafka_mock_broker_set_up(cluster, static_cast<int32_t>(id));
        reply = err ? std::string("ERROR ") + rd_kafka_err2str(err) : "OK " + line;
      }
    } else if (command == "create") {
      std::string topic, partitions_text, rf_text;
      long partitions = 0;
      long replication = 1;
      words >> topic >> partitions_text >> rf_text;
      if (topic.empty() || !ParsePositive(partitions_text, 100000, &partitions) ||
          (!rf_text.empty() && !ParsePositive(rf_text, brokers, &replication))) {
        reply = "ERROR write: create TOPIC PARTITIONS [REPLICATION_FACTOR <= brokers]";
      } else {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
            cluster, topic.c_str(), static_cast<int>(partitions), static_cast<int>(replication));
        reply = err ? std::string("ERROR ") + rd_kafka_err2str(err) : "OK " + line;
      }
    } else {
      reply = "ERROR unknown command '" + command + "'; use down ID, up ID, create TOPIC N, stop";
    }
    std::printf("%s\n", reply.c_str());
    std::fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(handle);
  return 0;
}

// librdkafka's mock cluster (rdkafka_mock.h, in Debian's librdkafka-dev) hosted in this process:
// the Kafka protocol on loopback for the demo (`eddy demo`), the tests and the benchmarks
// (tests/support/kafka-mock-cluster is this class as a process). Debian ships no Kafka broker.
//
// What the mock is: brokers 1..N listening on 127.0.0.1 (ephemeral ports), produce, fetch,
// consumer groups, idempotent and transactional producers; an in-memory log capped per
// partition (about 5 MiB or 100,000 message sets, oldest dropped), topics auto-created with 4
// partitions by a metadata request; no CreateTopics, compaction, TLS, SASL or read isolation
// (docs/sinks/kafka.md, "Tests and the mock cluster"). External clients (kcat,
// python3-confluent-kafka, kafkajs) connect to bootstrap().
//
// TCP_NODELAY: Kafka brokers set it on their connections; the mock's sockets keep Nagle's
// algorithm, so a second response written before the client acknowledged the first waited for
// the client's delayed ACK (about 40 ms). Start sets it on the listening sockets the mock
// opened (accepted sockets inherit it on Linux), and on no other socket of the process.
//
// Ownership and threads: the cluster runs on librdkafka's threads until the object is
// destroyed; its methods may be called from any thread. Clients still connected when it is
// destroyed see their connections closed.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace eddy::sink::kafka {

class MockCluster {
 public:
  // Starts `brokers` (1-16) brokers. Unavailable when the mock cannot start.
  static Result<std::unique_ptr<MockCluster>> Start(int brokers);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:PORT,..." (a client's bootstrap.servers).
  const std::string& bootstrap() const { return bootstrap_; }
  int brokers() const { return brokers_; }

  // Takes broker `id` (1..brokers) down (its connections are closed) or brings it back.
  [[nodiscard]] Status SetBrokerDown(int id);
  [[nodiscard]] Status SetBrokerUp(int id);
  // Creates a topic with `partitions` partitions (the auto-creation makes 4).
  [[nodiscard]] Status CreateTopic(const std::string& topic, int partitions,
                                   int replication_factor = 1);

 private:
  struct Handles;
  MockCluster(std::unique_ptr<Handles> handles, std::string bootstrap, int brokers);

  std::unique_ptr<Handles> handles_;
  std::string bootstrap_;
  int brokers_ = 0;
};

}  // namespace eddy::sink::kafka

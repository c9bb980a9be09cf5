#include "sink/kafka/mock_cluster.h"

#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>
#include <set>

namespace eddy::sink::kafka {

namespace {

// The listening TCP sockets of this process, by descriptor.
std::set<int> ListeningSockets() {
  std::set<int> out;
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return out;
  while (dirent* entry = readdir(fds)) {
    int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    int listening = 0;
    socklen_t length = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening) {
      out.insert(fd);
    }
  }
  closedir(fds);
  return out;
}

}  // namespace

struct MockCluster::Handles {
  rd_kafka_t* handle = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~Handles() {
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
    if (handle != nullptr) rd_kafka_destroy(handle);
  }
};

Result<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1 || brokers > 16) {
    return InvalidArgument("a mock Kafka cluster has 1 to 16 brokers, not " +
                           std::to_string(brokers));
  }
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the mock cluster's threads; it never connects anywhere.
  if (rd_kafka_conf_set(conf, "log_level", "3", error, sizeof(error)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Internal(std::string("configuring the mock Kafka cluster's handle: ") + error);
  }
  auto handles = std::make_unique<Handles>();
  handles->handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handles->handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Unavailable(std::string("creating the mock Kafka cluster's handle: ") + error);
  }
  std::set<int> before = ListeningSockets();
  handles->cluster = rd_kafka_mock_cluster_new(handles->handle, brokers);
  if (handles->cluster == nullptr) {
    return Unavailable(
        "librdkafka's mock Kafka cluster did not start (no loopback address or no free port?)");
  }
  for (int fd : ListeningSockets()) {
    if (before.count(fd) > 0) continue;
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }
  std::string bootstrap = rd_kafka_mock_cluster_bootstraps(handles->cluster);
  return std::unique_ptr<MockCluster>(new MockCluster(std::move(handles), bootstrap, brokers));
}

MockCluster::MockCluster(std::unique_ptr<Handles> handles, std::string bootstrap, int brokers)
    : handles_(std::move(handles)), bootstrap_(std::move(bootstrap)), brokers_(brokers) {}

MockCluster::~MockCluster() = default;

Status MockCluster::SetBrokerDown(int id) {
  if (id < 1 || id > brokers_) {
    return InvalidArgument("broker id must be 1 to " + std::to_string(brokers_));
  }
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(handles_->cluster, id);
  return err ? Internal(rd_kafka_err2str(err)) : Status::Ok();
}

Status MockCluster::SetBrokerUp(int id) {
  if (id < 1 || id > brokers_) {
    return InvalidArgument("broker id must be 1 to " + std::to_string(brokers_));
  }
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(handles_->cluster, id);
  return err ? Internal(rd_kafka_err2str(err)) : Status::Ok();
}

Status MockCluster::CreateTopic(const std::string& topic, int partitions, int replication_factor) {
  if (topic.empty() || partitions < 1 || replication_factor < 1 || replication_factor > brokers_) {
    return InvalidArgument(
        "create TOPIC PARTITIONS [REPLICATION_FACTOR <= brokers]: a topic "
        "name, at least one partition, a replication factor of 1 to " +
        std::to_string(brokers_));
  }
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(handles_->cluster, topic.c_str(), partitions, replication_factor);
  return err ? Internal(rd_kafka_err2str(err)) : Status::Ok();
}

}  // namespace eddy::sink::kafka

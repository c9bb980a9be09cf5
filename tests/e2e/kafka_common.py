"""Shared pieces of the Kafka sink's end-to-end tests (kafka_sink.py, kafka_crash_loop.py,
bench/kafka): the Java producer's partitioner computed independently of librdkafka, waits with
deadlines, a read_committed consumer (python3-confluent-kafka), and the mock cluster."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kafka_cluster import KafkaMockCluster  # noqa: E402,F401
from e2e_common import free_port, wait_for  # noqa: E402,F401


def murmur2(data: bytes) -> int:
    """org.apache.kafka.common.utils.Utils.murmur2, as an unsigned 32-bit value."""
    m = 0x5BD1E995
    h = (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    whole = len(data) // 4
    for i in range(whole):
        k = data[4 * i] | (data[4 * i + 1] << 8) | (data[4 * i + 2] << 16) | (data[4 * i + 3] << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = len(data) & ~3
    extra = len(data) % 4
    if extra == 3:
        h ^= data[tail + 2] << 16
    if extra >= 2:
        h ^= data[tail + 1] << 8
    if extra >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def java_partition(key: bytes, partitions: int) -> int:
    """BuiltInPartitioner.partitionForKey: toPositive(murmur2(key)) % partitions."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def consumer(bootstrap, group):
    from confluent_kafka import Consumer
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})


def topic_partitions(bootstrap, topic):
    from confluent_kafka.admin import AdminClient
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return len(metadata.topics[topic].partitions)


def list_topics(bootstrap):
    from confluent_kafka.admin import AdminClient
    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)


def metric_state(api_port, sink):
    """The sink's state from eddy's /metrics (eddy_sink_state{sink=..,state=..} 1)."""
    import urllib.request
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{api_port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if (line.startswith("eddy_sink_state{") and f'sink="{sink}"' in line
                and float(line.rsplit(" ", 1)[1]) == 1):
            return line.split('state="')[1].split('"')[0]
    return None

#!/usr/bin/env python3
"""The Kafka sink end to end: real PostgreSQL 15 and MariaDB 10.11 (eddy-localdb), `eddy run`
publishing into librdkafka's mock cluster (kafka-mock-cluster: Debian has no Kafka broker, so
this is the Kafka protocol with an in-memory log), read back by three real consumers:
python3-confluent-kafka (isolation.level=read_committed), kcat and kafkajs.

    kafka_sink.py EDDY LOCALDB KAFKA_MOCK_CLUSTER NODE

Checks:
- topic names as Debezium's: <prefix>.<schema>.<table>, <prefix>.transaction,
  __debezium-heartbeat.<prefix>, and (MariaDB) the schema change topic <prefix>;
- key bytes equal JsonConverter's (schemas.enable=true) built here independently; the partition
  of every keyed record equals the Java producer's murmur2(key) % partitions computed here;
- a delete is followed by its tombstone; a primary-key update is a delete with header
  __debezium.newkey, a tombstone, a create with header __debezium.oldkey; a keyless table's
  records have null keys; BEGIN/END records and heartbeats;
- the three consumers agree on (topic, partition, key) of every record;
- bad input (no topic_prefix, unreachable brokers, a property librdkafka rejects) stops
  `eddy run` with an error naming the problem.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import urllib.parse

from e2e_common import MariaDB, Postgres, work_directory
from kafka_common import (KafkaMockCluster, consumer, free_port, java_partition, list_topics,
                          topic_partitions, wait_for)

PREFIX = "shop"
SINK = "k1"


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def golden_key(fields, name, version=None):
    """JsonConverter (schemas.enable=true) bytes of a Debezium key struct: schema fields in the
    order type, fields, optional, name[, version]; each field type, optional, field."""
    schema = {"type": "struct",
              "fields": [{"type": t, "optional": False, "field": f} for f, t, _ in fields],
              "optional": False, "name": name}
    if version is not None:
        schema["version"] = version
    return compact({"schema": schema, "payload": {f: v for f, _, v in fields}})


class Collector:
    """A read_committed consumer that keeps every record of the given topics."""

    def __init__(self, bootstrap, topics, group):
        self.consumer = consumer(bootstrap, group)
        self.consumer.subscribe(topics)
        self.records = []

    def poll_until(self, condition, seconds, what):
        def step():
            message = self.consumer.poll(0.2)
            if message is not None and message.error() is None:
                self.records.append(message)
            return condition(self.records)
        try:
            return wait_for(step, seconds, what)
        except AssertionError:
            counts = {}
            for r in self.records:
                counts[r.topic()] = counts.get(r.topic(), 0) + 1
            for r in self.records:
                if "heartbeat" not in r.topic():
                    print(r.topic(), r.partition(), r.key(), (r.value() or b"")[-300:], r.headers(), file=sys.stderr)
            raise AssertionError(f"{what}: records so far by topic {counts}")

    def close(self):
        self.consumer.close()


def run_bad_input(eddy, source_url, work, bootstrap):
    cases = [
        (f"kafka://{bootstrap}", "topic_prefix"),
        ("kafka://127.0.0.1:1?topic_prefix=x&delivery_timeout=2s", "no Kafka broker answered"),
        (f"kafka://{bootstrap}?topic_prefix=x&kafka.linger.ms=abc", "kafka.linger.ms"),
        (f"kafka://{bootstrap}?topic_prefix=x&exactly_once=maybe", "exactly_once"),
    ]
    for index, (sink, needle) in enumerate(cases):
        result = subprocess.run(
            [eddy, "run", "--source", source_url, "--data-dir", f"{work}/bad{index}", "--stream", "bad",
             "--tables", "public.orders", "--api-listen", "127.0.0.1:0", "--sink", sink],
            capture_output=True, text=True, timeout=120)
        output = result.stdout + result.stderr
        assert result.returncode != 0, f"eddy run accepted {sink}"
        assert needle in output, f"{sink}: the error does not name '{needle}':\n{output[-2000:]}"
        print(f"kafka_sink: bad input {sink.split('?')[-1]!r} -> exit {result.returncode}, names {needle!r}")


def check_postgres(args, work, cluster):
    bootstrap = cluster.bootstrap
    db = Postgres(args.localdb, work, "pg")
    run = None
    try:
        url = db.url
        psql = db.sql
        psql("CREATE TABLE orders (id bigint PRIMARY KEY, note text NOT NULL)")
        psql("CREATE TABLE nokey (a int, b text)")
        psql("INSERT INTO orders SELECT i, 'n' || i FROM generate_series(1, 20) i")
        run_bad_input(args.eddy, url, work, bootstrap)

        orders_topic = f"{PREFIX}.public.orders"
        cluster.create(orders_topic, 3)  # a count other than the mock's default 4
        api_port = free_port()
        config = f"""
data_dir = "{work}/pg-data"
[source]
url = "{url}"
[[stream]]
name = "shop"
tables = ["public.orders", "public.nokey"]
shards = 2
transaction_metadata = true
heartbeat_interval = "1s"
[api]
listen = "127.0.0.1:{api_port}"
[[sink]]
name = "{SINK}"
url = "kafka://{bootstrap}?topic_prefix={PREFIX}"
batch_size = 200
"""
        open(work + "/pg.toml", "w").write(config)
        run = subprocess.Popen([args.eddy, "run", "--config", work + "/pg.toml"],
                               stdout=open(work + "/pg-eddy.log", "w"), stderr=subprocess.STDOUT)
        offsets_topic = f"__eddy_offsets.{PREFIX}.{SINK}"
        wait_for(lambda: run.poll() is not None or offsets_topic in list_topics(bootstrap), 60,
                 "eddy to open the sink (its offsets topic)")
        assert run.poll() is None, f"eddy exited: {open(work + '/pg-eddy.log').read()[-3000:]}"
        # The snapshot first, so each later statement is one change.
        snapshot = Collector(bootstrap, [orders_topic], "e2e-snapshot")
        snapshot.poll_until(lambda records: len(records) >= 20, 90, "the 20 snapshot rows")
        snapshot.close()
        psql("UPDATE orders SET note = 'changed' WHERE id = 1")
        psql("UPDATE orders SET id = 105 WHERE id = 5")
        psql("DELETE FROM orders WHERE id = 6")
        psql("INSERT INTO nokey VALUES (1, 'x'), (2, 'y')")
        psql("BEGIN; INSERT INTO orders VALUES (21, 'a'); INSERT INTO orders VALUES (22, 'b'); COMMIT")

        topics = [orders_topic, f"{PREFIX}.public.nokey", f"{PREFIX}.transaction",
                  f"__debezium-heartbeat.{PREFIX}"]
        wait_for(lambda: set(topics) <= list_topics(bootstrap), 60, f"topics {topics}")
        collector = Collector(bootstrap, topics, "e2e-python")
        # 20 snapshot + 1 update + (delete, tombstone, create) + (delete, tombstone) + 2 inserts.
        expected_orders = 20 + 1 + 3 + 2 + 2

        def complete(records):
            by_topic = {}
            for r in records:
                by_topic.setdefault(r.topic(), []).append(r)
            return (len(by_topic.get(orders_topic, [])) >= expected_orders and
                    len(by_topic.get(f"{PREFIX}.public.nokey", [])) >= 2 and
                    len(by_topic.get(f"__debezium-heartbeat.{PREFIX}", [])) >= 1 and
                    any(json.loads(r.value())["payload"]["status"] == "END"
                        for r in by_topic.get(f"{PREFIX}.transaction", [])))

        collector.poll_until(complete, 90, "every change in Kafka")
        records = list(collector.records)
        collector.close()

        # Keys and partitions.
        partitions = topic_partitions(bootstrap, orders_topic)
        assert partitions == 3, partitions
        orders = [r for r in records if r.topic() == orders_topic]
        assert len(orders) == expected_orders, f"{len(orders)} records on {orders_topic}"
        by_id = {}
        for r in orders:
            payload = json.loads(r.key())["payload"]
            assert r.key() == golden_key([("id", "int64", payload["id"])], f"{PREFIX}.public.orders.Key"), r.key()
            assert r.partition() == java_partition(r.key(), partitions), (
                f"key {r.key()!r} on partition {r.partition()}, Java's murmur2 says "
                f"{java_partition(r.key(), partitions)}")
            by_id.setdefault(payload["id"], []).append(r)
        # The snapshot and the plain update.
        first = json.loads(by_id[1][-1].value())
        assert first["payload"]["op"] == "u" and first["payload"]["after"]["note"] == "changed", first
        assert first["schema"]["name"].endswith(".public.orders.Envelope"), first["schema"]["name"]
        # Delete + tombstone.
        deleted = by_id[6]
        assert [json.loads(r.value())["payload"]["op"] if r.value() else None for r in deleted] == ["r", "d", None], deleted
        # Primary-key change: 5 -> 105.
        old_key = golden_key([("id", "int64", 5)], f"{PREFIX}.public.orders.Key")
        new_key = golden_key([("id", "int64", 105)], f"{PREFIX}.public.orders.Key")
        five = by_id[5]
        assert len(five) == 3, five
        delete, tombstone = five[1], five[2]
        assert json.loads(delete.value())["payload"]["op"] == "d"
        assert dict(delete.headers() or []) == {"__debezium.newkey": new_key}, delete.headers()
        assert tombstone.value() is None
        create = by_id[105][0]
        assert json.loads(create.value())["payload"]["op"] == "c"
        assert dict(create.headers() or []) == {"__debezium.oldkey": old_key}, create.headers()
        # A keyless table: null keys.
        nokey = [r for r in records if r.topic() == f"{PREFIX}.public.nokey"]
        assert all(r.key() is None for r in nokey), [r.key() for r in nokey]
        # Transaction metadata and heartbeats.
        transactions = [r for r in records if r.topic() == f"{PREFIX}.transaction"]
        statuses = {json.loads(r.value())["payload"]["status"] for r in transactions}
        assert statuses == {"BEGIN", "END"}, statuses
        for r in transactions:
            tx_id = json.loads(r.value())["payload"]["id"]
            assert r.key() == golden_key([("id", "string", tx_id)],
                                         "io.debezium.connector.common.TransactionMetadataKey", 1), r.key()
        heartbeat = [r for r in records if r.topic() == f"__debezium-heartbeat.{PREFIX}"][0]
        assert heartbeat.key() == golden_key([("serverName", "string", PREFIX)],
                                             "io.debezium.connector.common.ServerNameKey", 1), heartbeat.key()
        print(f"kafka_sink: PostgreSQL: {len(records)} records on {len(topics)} topics; keys byte-equal "
              f"to JsonConverter, partitions equal to Java's murmur2, tombstones, PK change, "
              f"transaction and heartbeat topics")

        # kcat and kafkajs read the same (partition, key) sequence of the orders topic.
        expected = sorted((r.partition(), r.key() or b"", r.offset()) for r in orders)
        kcat = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", orders_topic, "-e", "-q",
                               "-o", "beginning", "-X", "isolation.level=read_committed",
                               "-f", "%p\t%o\t%k\n"], capture_output=True, timeout=60)
        assert kcat.returncode == 0, kcat.stderr
        seen = sorted((int(p), k.encode(), int(o)) for p, o, k in
                      (line.split("\t", 2) for line in kcat.stdout.decode().splitlines() if line))
        assert seen == expected, f"kcat read {len(seen)} records, python {len(expected)}"
        js = subprocess.run([args.node, os.path.join(os.path.dirname(__file__), "kafka_kafkajs_consumer.mjs"),
                             bootstrap, str(len(orders)), orders_topic], capture_output=True, text=True,
                            timeout=120, cwd=os.path.dirname(os.path.abspath(__file__)))
        assert js.returncode == 0, js.stderr
        js_records = [json.loads(line) for line in js.stdout.splitlines() if line.startswith("{")]
        js_seen = sorted((r["partition"], base64.b64decode(r["key"]) if r["key"] else b"") for r in js_records)
        assert js_seen == sorted((p, k) for p, k, _ in expected), "kafkajs disagrees"
        js_headers = [r["headers"] for r in js_records if r["headers"]]
        assert {"__debezium.newkey": base64.b64encode(new_key).decode()} in js_headers, js_headers
        print("kafka_sink: kcat and kafkajs read the same partitions and keys; kafkajs sees the headers")
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, "eddy did not stop cleanly"
        run = None
        check_debezium_config(args, work, cluster, url)
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        db.stop()


def check_debezium_config(args, work, cluster, url):
    """A Debezium PostgreSQL connector's JSON through `eddy run --debezium-config`."""
    parsed = urllib.parse.urlparse(url)
    config = {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "database.hostname": parsed.hostname,
        "database.port": str(parsed.port),
        "database.user": urllib.parse.unquote(parsed.username or ""),
        "database.dbname": parsed.path.lstrip("/"),
        "topic.prefix": "dbz",
        "table.include.list": "public\\.orders",
        "slot.name": "dbz_slot",
        "publication.name": "dbz_pub",
        "plugin.name": "pgoutput",
        "tombstones.on.delete": "false",
    }
    if parsed.password:
        config["database.password"] = urllib.parse.unquote(parsed.password)
    bad = dict(config, **{"transforms": "unwrap", "decimal.handling.mode": "string"})
    open(work + "/bad-connector.json", "w").write(json.dumps({"name": "inventory", "config": bad}))
    result = subprocess.run([args.eddy, "run", "--debezium-config", work + "/bad-connector.json",
                             "--kafka-bootstrap", cluster.bootstrap, "--data-dir", work + "/dbz-bad"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "decimal.handling.mode, transforms" in result.stderr, result.stderr
    open(work + "/connector.json", "w").write(json.dumps({"name": "inventory", "config": config}))
    run = subprocess.Popen([args.eddy, "run", "--debezium-config", work + "/connector.json",
                            "--kafka-bootstrap", cluster.bootstrap, "--data-dir", work + "/dbz-data",
                            "--api-listen", "127.0.0.1:0"],
                           stdout=open(work + "/dbz-eddy.log", "w"), stderr=subprocess.STDOUT)
    try:
        topic = "dbz.public.orders"
        wait_for(lambda: run.poll() is not None or topic in list_topics(cluster.bootstrap), 90, topic)
        assert run.poll() is None, open(work + "/dbz-eddy.log").read()[-3000:]
        collector = Collector(cluster.bootstrap, [topic], "e2e-dbz")
        collector.poll_until(lambda records: len(records) >= 21, 90, "the snapshot on dbz.public.orders")
        records = list(collector.records)
        collector.close()
        for r in records:
            payload = json.loads(r.key())["payload"]
            assert r.key() == golden_key([("id", "int64", payload["id"])], "dbz.public.orders.Key"), r.key()
        print(f"kafka_sink: --debezium-config ran a Debezium connector JSON ({len(records)} records on "
              f"{topic}); unsupported properties named: {result.stderr.strip()[-120:]}")
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def check_mariadb(args, work, cluster):
    bootstrap = cluster.bootstrap
    db = MariaDB(args.localdb, work, "my")
    run = None
    try:
        url, database, sql = db.url, db.database, db.sql
        # An INT key: Debezium's MySQL connector types it int32 in the key schema (issue 13).
        sql("CREATE TABLE items (id int PRIMARY KEY, name varchar(20))")
        sql("INSERT INTO items VALUES (1, 'a')")
        prefix = "inv"
        run = subprocess.Popen(
            [args.eddy, "run", "--source", url, "--data-dir", work + "/my-data", "--stream", "inv",
             "--api-listen", "127.0.0.1:0", "--sink", f"kafka://{bootstrap}?topic_prefix={prefix}&name=k2"],
            stdout=open(work + "/my-eddy.log", "w"), stderr=subprocess.STDOUT)
        items_topic = f"{prefix}.{database}.items"
        wait_for(lambda: run.poll() is not None or items_topic in list_topics(bootstrap), 90,
                 f"topic {items_topic}")
        assert run.poll() is None, open(work + "/my-eddy.log").read()[-3000:]
        sql("ALTER TABLE items ADD COLUMN qty int")
        sql("INSERT INTO items VALUES (2, 'b', 3)")
        wait_for(lambda: prefix in list_topics(bootstrap), 60, f"the schema change topic '{prefix}'")
        collector = Collector(bootstrap, [prefix, items_topic], "e2e-mariadb")

        def complete(records):
            return (any(r.topic() == prefix and b"ADD COLUMN" in (r.value() or b"").upper() for r in records)
                    and sum(1 for r in records if r.topic() == items_topic) >= 2)

        collector.poll_until(complete, 60, "the ALTER TABLE on the schema change topic")
        records = list(collector.records)
        collector.close()
        partitions = topic_partitions(bootstrap, items_topic)
        for r in records:
            if r.topic() == items_topic:
                payload = json.loads(r.key())["payload"]
                assert r.key() == golden_key([("id", "int32", payload["id"])],
                                             f"{prefix}.{database}.items.Key"), r.key()
                assert r.partition() == java_partition(r.key(), partitions)
        ddl = [r for r in records if r.topic() == prefix]
        for r in ddl:
            assert r.key() == golden_key([("databaseName", "string", database)],
                                         "io.debezium.connector.mysql.SchemaChangeKey", 1), r.key()
            value = json.loads(r.value())
            assert value["payload"]["databaseName"] == database, value["payload"]
        print(f"kafka_sink: MariaDB: topic {items_topic}, {len(ddl)} schema change record(s) on "
              f"'{prefix}' keyed by databaseName")
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0
        run = None
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        db.stop()


def main():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("mock")
    parser.add_argument("node")
    args = parser.parse_args()
    with work_directory("kafka-sink") as work:
        with KafkaMockCluster(args.mock, brokers=1) as cluster:
            check_postgres(args, work, cluster)
            check_mariadb(args, work, cluster)
    print("kafka_sink: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

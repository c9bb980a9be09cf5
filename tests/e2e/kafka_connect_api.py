#!/usr/bin/env python3
"""eddy's Kafka Connect REST API, driven as Debezium scripts drive Kafka Connect.

    kafka_connect_api.py EDDY_BINARY EDDY_LOCALDB_BINARY KAFKA_MOCK_CLUSTER

The client is curl plus this script's urllib calls (kafka_connect_common.py says why).
Kafka is librdkafka's mock cluster (kafka-mock-cluster; Debian has no Kafka broker).

Starts a throwaway PostgreSQL 15 and `eddy run --config` with no stream (its one `[[source]]`
is a placeholder no stream captures: each connector brings its own source). Then:

1. without [kafka]: POST /connectors with a Debezium PostgreSQL connector JSON creates a source,
   a stream named after topic.prefix and no sink; the status says the changes stay in the eddy
   stream; rows arrive there; pause stops the capture (a row written meanwhile arrives only
   after resume); bad configs and unknown connectors get Connect's error bodies;
2. restart with [kafka] bootstrap_servers: the first connector is back (PAUSED state kept
   across restarts is checked by pausing before the restart), a second connector gets a Kafka
   sink and its rows reach the Debezium topic (read_committed consumer);
   GET /offsets shows the capture position and the Kafka sink's checkpoint; DELETE/PATCH are
   refused while the connector runs; PUT /config on the running connector (a column excluded)
   restarts only its capture and sink; stopped, DELETE /offsets resets the sink and resume
   delivers the rows again;
3. DELETE removes a connector's source, stream and sink, also after a restart.
"""
import json
import os
import sys
import urllib.error
import urllib.request

from e2e_common import EddyProcess, Postgres, free_port, stop_all, wait_for, work_directory
from kafka_common import KafkaMockCluster, consumer
from kafka_connect_common import curl, postgres_connector_config, write_eddy_config

EDDY, LOCALDB, MOCK = sys.argv[1], sys.argv[2], sys.argv[3]


def call(port, method, path, body=None):
    """(status, parsed JSON body or None) of a Connect REST request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def expect(port, method, path, status, body=None):
    got, answer = call(port, method, path, body)
    assert got == status, f"{method} {path}: expected {status}, got {got} {answer}"
    return answer


def connector_config(postgres, name, prefix, slot):
    return {"name": name, "config": postgres_connector_config(
        postgres, prefix, slot, tasks__max="1", plugin__name="pgoutput")}


def stream_records(port, stream):
    status, answer = call(port, "GET", f"/admin/v1/streams/{stream}")
    return answer["records"] if status == 200 else -1


def main():
    with work_directory("kafka-connect-api") as work, KafkaMockCluster(MOCK, brokers=1) as cluster:
        running = []
        try:
            postgres = Postgres(LOCALDB, work)
            running.append(postgres)
            postgres.sql("CREATE TABLE orders (id int PRIMARY KEY, note text)")
            postgres.sql("INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 4) g")
            port = free_port()
            config = os.path.join(work, "eddy.toml")
            write_eddy_config(config, work, port)
            eddy = EddyProcess(EDDY, ["run", "--config", config], work, port)
            running.append(eddy)

            code, plugins = curl(port, "GET", "/connector-plugins")
            assert code == 200 and any(p["class"].endswith("PostgresConnector") for p in plugins), plugins
            assert expect(port, "GET", "/connectors", 200) == []

            # 1. A connector without a Kafka cluster: its changes stay in the eddy stream.
            created = expect(port, "POST", "/connectors", 201,
                             connector_config(postgres, "inventory", "fulfillment", "dbz_a"))
            assert created["name"] == "inventory" and created["type"] == "source", created
            assert created["config"]["topic.prefix"] == "fulfillment", created
            expect(port, "POST", "/connectors", 409,
                   connector_config(postgres, "inventory", "other", "dbz_b"))
            wait_for(lambda: stream_records(port, "fulfillment") >= 4, 60, "the snapshot rows")
            code, status = curl(port, "GET", "/connectors/inventory/status")
            assert code == 200 and status["connector"]["state"] == "RUNNING", status
            assert status["tasks"][0]["state"] == "RUNNING", status
            assert "stay in eddy stream 'fulfillment'" in status["eddy"]["delivery"], status
            assert expect(port, "GET", "/connectors/inventory/config", 200)["slot.name"] == "dbz_a"
            assert expect(port, "GET", "/connectors", 200) == ["inventory"]

            # Pause: the capture stops, a row written meanwhile waits for resume.
            expect(port, "PUT", "/connectors/inventory/pause", 202)
            assert expect(port, "GET", "/connectors/inventory/status", 200)["connector"]["state"] == "PAUSED"
            before = stream_records(port, "fulfillment")
            postgres.sql("INSERT INTO orders VALUES (5, 'while paused')")
            expect(port, "PUT", "/connectors/inventory/resume", 202)
            wait_for(lambda: stream_records(port, "fulfillment") > before, 60, "the row written while paused")
            expect(port, "POST", "/connectors/inventory/restart", 204)
            wait_for(lambda: call(port, "GET", "/connectors/inventory/status")[1]["connector"]["state"]
                     == "RUNNING", 30, "RUNNING after restart")

            # Connect's errors.
            bad = connector_config(postgres, "broken", "broken", "dbz_c")
            bad["config"]["snapshot.mode"] = "sometimes"
            answer = expect(port, "POST", "/connectors", 400, bad)
            assert answer["error_code"] == 400 and "snapshot.mode" in answer["message"], answer
            answer = expect(port, "GET", "/connectors/nothing/status", 404)
            assert answer == {"error_code": 404, "message": "Connector nothing not found"}, answer
            expect(port, "DELETE", "/connectors/inventory/pause", 405)
            expect(port, "POST", "/connectors", 400, {"config": {}})

            # 2. Paused across a restart, then a connector with a Kafka cluster.
            expect(port, "PUT", "/connectors/inventory/pause", 202)
            eddy.stop()
            running.remove(eddy)
            write_eddy_config(config, work, port, cluster.bootstrap)
            eddy = EddyProcess(EDDY, ["run", "--config", config], work, port)
            running.append(eddy)
            status = expect(port, "GET", "/connectors/inventory/status", 200)
            assert status["connector"]["state"] == "PAUSED", status
            expect(port, "PUT", "/connectors/inventory/resume", 202)
            postgres.sql("INSERT INTO orders VALUES (6, 'after restart')")
            wait_for(lambda: stream_records(port, "fulfillment") >= 6, 60, "row 6 in fulfillment")

            expect(port, "PUT", "/connectors/shipping/config", 201,
                   connector_config(postgres, "shipping", "shipping", "dbz_d")["config"])
            status = expect(port, "GET", "/connectors/shipping/status", 200)
            assert status["eddy"]["sink"] == "shipping", status
            kafka = consumer(cluster.bootstrap, "connect-e2e")
            kafka.subscribe(["shipping.public.orders"])
            ids = set()

            def all_rows():
                message = kafka.poll(0.5)
                if message is not None and message.error() is None and message.value():
                    envelope = json.loads(message.value())
                    after = envelope.get("payload", envelope).get("after")
                    if after:
                        ids.add(int(after["id"]))
                return ids >= {1, 2, 3, 4, 5, 6}
            wait_for(all_rows, 90, "rows 1-6 in Kafka topic shipping.public.orders")

            # Offsets (KIP-875): the capture position and the Kafka sink's checkpoint.
            def sink_offsets():
                offsets = expect(port, "GET", "/connectors/shipping/offsets", 200)["offsets"]
                return [o for o in offsets if "eddy_sink" in o["partition"]]
            offsets = expect(port, "GET", "/connectors/shipping/offsets", 200)["offsets"]
            capture = [o for o in offsets if o["partition"] == {"server": "shipping"}]
            assert len(capture) == 1 and capture[0]["offset"]["lsn"] > 0, offsets
            wait_for(lambda: sum(o["offset"]["next_sequence"] for o in sink_offsets()) > 0, 30,
                     "the Kafka sink's checkpoint in GET /offsets")
            # Modifying them needs a STOPPED connector, as in Connect.
            answer = expect(port, "DELETE", "/connectors/shipping/offsets", 400)
            assert answer["error_code"] == 400 and "STOPPED" in answer["message"], answer

            # PUT /config on a running connector: only its capture and sink restart.
            inventory_before = stream_records(port, "fulfillment")
            changed = connector_config(postgres, "shipping", "shipping", "dbz_d")["config"]
            changed["column.exclude.list"] = "public.orders.note"
            answer = expect(port, "PUT", "/connectors/shipping/config", 200, changed)
            assert answer["config"]["column.exclude.list"] == "public.orders.note", answer
            bad = dict(changed, **{"snapshot.mode": "sometimes"})
            answer = expect(port, "PUT", "/connectors/shipping/config", 400, bad)
            assert "snapshot.mode" in answer["message"], answer
            answer = expect(port, "PUT", "/connectors/shipping/config", 400,
                            dict(changed, **{"topic.prefix": "renamed"}))
            assert "topic.prefix cannot change" in answer["message"], answer
            assert expect(port, "GET", "/connectors/shipping/config", 200)["column.exclude.list"] \
                == "public.orders.note"
            postgres.sql("INSERT INTO orders VALUES (7, 'secret')")
            after7 = {}

            def row7():
                message = kafka.poll(0.5)
                if message is not None and message.error() is None and message.value():
                    envelope = json.loads(message.value())
                    after = envelope.get("payload", envelope).get("after")
                    if after and int(after["id"]) == 7:
                        after7.update(after)
                return bool(after7)
            wait_for(row7, 90, "row 7 in Kafka after the configuration change")
            assert "note" not in after7, after7
            # The other connector kept capturing (its capture was not restarted).
            wait_for(lambda: stream_records(port, "fulfillment") > inventory_before, 60,
                     "row 7 in the untouched connector's stream")

            # Stopped: DELETE resets the Kafka sink's offsets, resume delivers every row again.
            expect(port, "PUT", "/connectors/shipping/stop", 204)
            delivered_up_to = sum(o["offset"]["next_sequence"] for o in sink_offsets())
            answer = expect(port, "PATCH", "/connectors/shipping/offsets", 400,
                            {"offsets": [{"partition": {"server": "shipping"},
                                          "offset": {"lsn": 1}}]})
            assert "capture position" in answer["message"], answer
            answer = expect(port, "DELETE", "/connectors/shipping/offsets", 200)
            assert "reset successfully" in answer["message"], answer
            # Every shard back at its beginning (sequence numbers start at 1).
            assert all(o["offset"]["next_sequence"] <= 1 for o in sink_offsets()), sink_offsets()
            assert sum(o["offset"]["next_sequence"] for o in sink_offsets()) < delivered_up_to
            shard = sink_offsets()[0]["partition"] if sink_offsets() else \
                {"server": "shipping", "eddy_sink": "shipping", "shard": "shardId-000000000000"}
            answer = expect(port, "PATCH", "/connectors/shipping/offsets", 200,
                            {"offsets": [{"partition": shard, "offset": None}]})
            assert "altered successfully" in answer["message"], answer
            again = set()

            def redelivered():
                message = kafka.poll(0.5)
                if message is not None and message.error() is None and message.value():
                    envelope = json.loads(message.value())
                    after = envelope.get("payload", envelope).get("after")
                    if after:
                        again.add(int(after["id"]))
                return again >= {1, 2, 3, 4}
            expect(port, "PUT", "/connectors/shipping/resume", 202)
            wait_for(redelivered, 90, "rows 1-4 delivered again after the offsets reset")
            kafka.close()

            # 3. DELETE: the connector's parts are gone, also after a restart.
            expect(port, "DELETE", "/connectors/shipping", 204)
            expect(port, "GET", "/connectors/shipping", 404)
            sources = [s["name"] for s in expect(port, "GET", "/admin/v1/sources", 200)["sources"]]
            assert "shipping" not in sources and "inventory" in sources, sources
            eddy.stop()
            running.remove(eddy)
            eddy = EddyProcess(EDDY, ["run", "--config", config], work, port)
            running.append(eddy)
            assert expect(port, "GET", "/connectors", 200) == ["inventory"]
            print("kafka_connect_api: OK")
        finally:
            stop_all(running)


if __name__ == "__main__":
    main()

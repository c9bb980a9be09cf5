#!/usr/bin/env python3
"""Several sources in one `eddy run`, streams created at run time, and a restart.

    multi_source.py EDDY_BINARY EDDY_LOCALDB_BINARY

Starts a throwaway PostgreSQL 15 and MariaDB 10.11 (eddy-localdb) and `eddy run --config`
with one `[[source]]` (PostgreSQL) and no stream: eddy starts, serves the API and waits. Then,
through the admin API (urllib):

- a stream on the PostgreSQL source is created and captures public.orders;
- the MariaDB source is added at run time and a stream on it created; the PostgreSQL capture
  keeps its replication connection (the walsender's pid in pg_stat_replication does not
  change): adding a source restarts nothing;
- rows written to both databases reach their streams, read with boto3 through the Kinesis API;
- GET /admin/v1/sources shows each capture's replication position: the PostgreSQL slot (its
  name as in pg_replication_slots, active) and the MariaDB binlog file and position, with the
  lag in bytes a number;
- bad requests get the documented errors (unknown source 400 naming it, a taken name 409, a
  source still captured 409, a bad URL 400);
- eddy restarts: the run-time source and streams are listed again (origin runtime), rows
  written while it was down and after arrive, each change once;
- the MariaDB stream and source are deleted and stay deleted after another restart.

Waits are bounded polls on conditions (e2e_common.wait_for), never fixed sleeps.
"""
import json
import os
import sys
import urllib.error
import urllib.request

import boto3
import botocore.config

from e2e_common import EddyProcess, MariaDB, Postgres, free_port, stop_all, wait_for, \
    work_directory

EDDY, LOCALDB = sys.argv[1], sys.argv[2]


def call(port, method, path, body=None):
    """(status, parsed JSON body) of an admin API request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/admin/v1/{path}", data=data,
                                     method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def ok(port, method, path, body=None, expect=200):
    status, answer = call(port, method, path, body)
    assert status == expect, f"{method} {path}: {status} {answer}"
    return answer


def refused(port, method, path, body, status, contains):
    got, answer = call(port, method, path, body)
    assert got == status and contains in answer["error"]["message"], (
        f"{method} {path} {body}: expected {status} saying {contains!r}, got {got} {answer}")


def stream_keys(port, stream):
    """The keys of every insert or snapshot row in `stream` (one shard), in log order."""
    kinesis = boto3.client("kinesis", endpoint_url=f"http://127.0.0.1:{port}",
                           region_name="us-east-1", aws_access_key_id="e2e",
                           aws_secret_access_key="e2e",
                           config=botocore.config.Config(retries={"max_attempts": 2}))
    keys = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            reply = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            for record in reply["Records"]:
                change = json.loads(record["Data"])
                if change.get("op") in ("c", "r"):
                    keys.append(int(change["after"]["k"]))
            iterator = reply.get("NextShardIterator")
            if not reply["Records"] and reply.get("MillisBehindLatest", 0) == 0:
                break
    return keys


def walsender_pid(postgres):
    return postgres.query("SELECT pid FROM pg_stat_replication ORDER BY backend_start "
                          "LIMIT 1").strip()


def main():
    with work_directory("multi-source") as work:
        running = []
        try:
            postgres = Postgres(LOCALDB, work, "postgres")
            running.append(postgres)
            mariadb = MariaDB(LOCALDB, work)
            running.append(mariadb)
            postgres.sql("CREATE TABLE orders (k int PRIMARY KEY, v int)")
            mariadb.sql("CREATE TABLE items (k int PRIMARY KEY, v int)")
            postgres.sql("INSERT INTO orders SELECT g, g FROM generate_series(1, 5) g")
            mariadb.sql("INSERT INTO items VALUES (1, 1), (2, 2), (3, 3)")

            port = free_port()
            config = os.path.join(work, "eddy.toml")
            with open(config, "w") as f:
                f.write(f'data_dir = "{work}/data"\n[api]\nlisten = "127.0.0.1:{port}"\n'
                        f'[[source]]\nname = "pg"\nurl = "{postgres.url}"\n')

            eddy = EddyProcess(EDDY, ["run", "--config", config], work)
            running.append(eddy)
            eddy.wait_serving(port)
            sources = ok(port, "GET", "sources")["sources"]
            assert [s["name"] for s in sources] == ["pg"] and sources[0]["origin"] == "config", sources
            assert ok(port, "GET", "streams")["streams"] == []

            # A stream on the configured source, created at run time.
            created = ok(port, "POST", "streams",
                         {"name": "pg-orders", "source": "pg",
                          "settings": {"tables": ["public.orders"], "shards": 1}}, expect=201)
            assert created["source"] == "pg" and created["origin"] == "runtime", created
            wait_for(lambda: sorted(stream_keys(port, "pg-orders")) == [1, 2, 3, 4, 5], 60,
                     "the PostgreSQL snapshot in pg-orders")
            postgres.sql("INSERT INTO orders VALUES (6, 6)")
            wait_for(lambda: 6 in stream_keys(port, "pg-orders"), 60, "key 6 in pg-orders")
            pid = wait_for(lambda: walsender_pid(postgres), 30, "the PostgreSQL walsender")

            # Bad requests.
            refused(port, "POST", "streams", {"name": "x", "source": "oracle"}, 400, "'oracle'")
            refused(port, "POST", "streams", {"name": "pg-orders", "source": "pg"}, 409,
                    "exists")
            refused(port, "POST", "sources", {"name": "bad", "url": "ftp://h/x"}, 400, "url")
            refused(port, "POST", "sources", {"name": "pg", "url": postgres.url}, 409, "exists")
            refused(port, "DELETE", "sources/pg", None, 409, "config file")
            refused(port, "GET", "streams/nothing", None, 404, "no stream")

            # A second source (MariaDB) added at run time, and a stream on it.
            ok(port, "POST", "sources",
               {"name": "maria", "url": mariadb.url, "settings": {"server_id": 7301}},
               expect=201)
            ok(port, "POST", "streams",
               {"name": "maria-items", "source": "maria",
                "settings": {"tables": [f"{mariadb.database}.items"], "shards": 1}}, expect=201)
            wait_for(lambda: sorted(stream_keys(port, "maria-items")) == [1, 2, 3], 60,
                     "the MariaDB snapshot in maria-items")
            refused(port, "DELETE", "sources/maria", None, 409, "maria-items")
            mariadb.sql("INSERT INTO items VALUES (4, 4)")
            postgres.sql("INSERT INTO orders VALUES (7, 7)")
            wait_for(lambda: 4 in stream_keys(port, "maria-items"), 60, "key 4 in maria-items")
            wait_for(lambda: 7 in stream_keys(port, "pg-orders"), 60, "key 7 in pg-orders")
            assert walsender_pid(postgres) == pid, "adding a source restarted the PostgreSQL capture"
            streams = {s["name"]: s for s in ok(port, "GET", "streams")["streams"]}
            assert streams["maria-items"]["source"] == "maria", streams
            assert streams["pg-orders"]["capture_state"] == "streaming", streams
            # Each capture says where it stands in its source and what its snapshot read.
            assert streams["pg-orders"]["capture_position"].startswith("durable_lsn="), streams
            assert streams["maria-items"]["capture_position"].startswith("binlog="), streams
            assert "3 rows" in streams["maria-items"]["snapshot_progress"], streams
            # The sources view has each capture's replication position: the PostgreSQL slot and
            # the MariaDB binlog position, lag in bytes a number.
            def replication(source):
                found = {s["name"]: s for s in ok(port, "GET", "sources")["sources"]}[source]
                rows = found["replication"]
                return rows[0] if rows and isinstance(rows[0]["lag_bytes"], int) and \
                    (rows[0].get("binlog_file") or rows[0].get("restart_lsn")) else None
            maria = wait_for(lambda: replication("maria"), 60, "maria's binlog position")
            assert maria["kind"] == "mysql" and maria["stream"] == "maria-items", maria
            assert maria["binlog_file"] == maria["server_binlog_file"] or maria["lag_bytes"] > 0, maria
            assert maria["binlog_position"] > 0 and maria["server_binlog_position"] > 0, maria
            pg = wait_for(lambda: replication("pg"), 60, "pg's slot")
            assert pg["kind"] == "postgresql" and pg["slot_exists"] and pg["active"] is True, pg
            slot_names = postgres.query("SELECT slot_name FROM pg_replication_slots").split()
            assert pg["slot_name"] in slot_names, (pg, slot_names)

            # Restart: the run-time source and streams come back and capture on.
            eddy.stop()
            running.remove(eddy)
            postgres.sql("INSERT INTO orders VALUES (8, 8)")
            mariadb.sql("INSERT INTO items VALUES (5, 5)")
            eddy = EddyProcess(EDDY, ["run", "--config", config], work)
            running.append(eddy)
            eddy.wait_serving(port)
            sources = {s["name"]: s for s in ok(port, "GET", "sources")["sources"]}
            assert sources["maria"]["origin"] == "runtime", sources
            assert sources["maria"]["streams"] == ["maria-items"], sources
            assert "***" in sources["maria"]["url"] or "@" not in mariadb.url, sources
            postgres.sql("INSERT INTO orders VALUES (9, 9)")
            mariadb.sql("INSERT INTO items VALUES (6, 6)")
            wait_for(lambda: sorted(stream_keys(port, "pg-orders")) == list(range(1, 10)), 60,
                     "keys 1-9 once each in pg-orders")
            wait_for(lambda: sorted(stream_keys(port, "maria-items")) == list(range(1, 7)), 60,
                     "keys 1-6 once each in maria-items")

            # Delete the MariaDB stream and source: gone, and still gone after a restart.
            ok(port, "DELETE", "streams/maria-items")
            ok(port, "DELETE", "sources/maria")
            refused(port, "GET", "sources/maria", None, 404, "no source")
            eddy.stop()
            running.remove(eddy)
            eddy = EddyProcess(EDDY, ["run", "--config", config], work)
            running.append(eddy)
            eddy.wait_serving(port)
            assert [s["name"] for s in ok(port, "GET", "sources")["sources"]] == ["pg"]
            names = [s["name"] for s in ok(port, "GET", "streams")["streams"]]
            assert names == ["pg-orders"], names
            postgres.sql("INSERT INTO orders VALUES (10, 10)")
            wait_for(lambda: sorted(stream_keys(port, "pg-orders")) == list(range(1, 11)), 60,
                     "keys 1-10 once each in pg-orders")
            print("multi_source: OK")
        finally:
            stop_all(running)


if __name__ == "__main__":
    main()

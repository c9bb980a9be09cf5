#!/usr/bin/env python3
"""Incremental (DBLog) snapshot through the real `eddy` binary, with kill -9.

    incremental_snapshot.py EDDY_BINARY EDDY_LOCALDB_BINARY [postgres|mariadb]

Starts a throwaway PostgreSQL 15 or MariaDB 10.11 (eddy-localdb) with a 6,000-row table, runs `eddy run` with
source.snapshot_type = "incremental" (chunks of 300 rows, snapshot_parallelism = 2: the table
is split into two key ranges read at once) and kills it with SIGKILL at random
moments a few times while psql / mariadb change the table (MariaDB: the watermarks go to the
default watermark table, <database>.eddy_watermark); each restart resumes the snapshot. Then it
waits for the snapshot to complete, asks for an on-demand snapshot of some rows with
`eddy snapshot --where ... --wait`, asks for another through the admin API
(POST /admin/v1/streams/snap/snapshots with urllib, GET for the progress per table, bad bodies
answered 400 naming the field), checks `eddy snapshot`'s errors (unknown stream, no capture
running), and reads the stream back with boto3's Kinesis client: the log folded by key
(last writer wins) equals the table, and no row was read twice by the same snapshot although
the capture was killed mid-snapshot. Waits are bounded polls on conditions, never fixed sleeps.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

import urllib.error
import urllib.request

import boto3
import botocore.config

from e2e_common import MariaDB, Postgres, free_port, stop_all, wait_for, work_directory

EDDY, LOCALDB = sys.argv[1], sys.argv[2]
SOURCE = sys.argv[3] if len(sys.argv) > 3 else "postgres"
STREAM = "snap"
ROWS = 6000
SEED = int(os.environ.get("EDDY_TEST_SEED", random.randrange(1 << 30)))


def status_line(work):
    try:
        return open(work + "/data/status").read()
    except OSError:
        return ""


def read_stream(endpoint):
    kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="demo", aws_secret_access_key="demo",
                           config=botocore.config.Config(retries={"max_attempts": 2}))
    shard = kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    events = []
    while iterator:
        reply = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        events.extend(json.loads(record["Data"]) for record in reply["Records"])
        if reply.get("MillisBehindLatest", 0) == 0 and not reply["Records"]:
            break
        iterator = reply.get("NextShardIterator")
    return events


def admin(endpoint, method, path, body=None):
    """(status, parsed JSON) of an admin API call."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(endpoint + "/admin/v1/" + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def main():
    print(f"seed={SEED} (EDDY_TEST_SEED replays)", flush=True)
    rng = random.Random(SEED)
    with work_directory("e2e-incremental-" + SOURCE) as work:
        processes = []
        try:
            if SOURCE == "mariadb":
                db = MariaDB(LOCALDB, work)
                schema = db.database
                upsert = "INSERT INTO t VALUES ({key}, 1) ON DUPLICATE KEY UPDATE v = v + 1"
                db.sql(f"CREATE TABLE t (id bigint PRIMARY KEY, v bigint NOT NULL)")
                db.sql(f"INSERT INTO t SELECT seq, seq FROM seq_1_to_{ROWS}")
            else:
                db = Postgres(LOCALDB, work)
                schema = "public"
                upsert = "INSERT INTO t VALUES ({key}, 1) ON CONFLICT (id) DO UPDATE SET v = t.v + 1"
                db.query("CREATE TABLE t (id bigint PRIMARY KEY, v bigint NOT NULL)")
                db.query(f"INSERT INTO t SELECT g, g FROM generate_series(1, {ROWS}) g")
            processes.append(db)
            url = db.url
            port = free_port()
            endpoint = f"http://127.0.0.1:{port}"
            with open(work + "/eddy.toml", "w") as config:
                config.write(f"""data_dir = "{work}/data"
[source]
url = "{url}"
snapshot_type = "incremental"
snapshot_chunk_size = 300
snapshot_parallelism = 2
signal_table = "{schema}.eddy_signal"
[[stream]]
name = "{STREAM}"
tables = ["{schema}.t"]
ordering = "ORDERED"
shards = 1
[api]
listen = "127.0.0.1:{port}"
""")

            def start():
                run = subprocess.Popen([EDDY, "run", "--config", work + "/eddy.toml"],
                                       stdout=subprocess.DEVNULL,
                                       stderr=open(work + "/run.log", "a"))
                processes.append(run)
                return run

            def change_some():
                for _ in range(20):
                    key = rng.randrange(1, ROWS + 200)
                    kind = rng.randrange(3)
                    if kind == 0:
                        db.query(upsert.format(key=key))
                    elif kind == 1:
                        db.query(f"DELETE FROM t WHERE id = {key}")
                    else:
                        db.query(f"UPDATE t SET v = v + 100 WHERE id = {key}")

            # kill -9 mid-snapshot, a few times; each run resumes where the log stands.
            for attempt in range(3):
                run = start()
                wait_for(lambda: run.poll() is not None
                         or "incremental_snapshot=running" in status_line(work)
                         or "incremental_snapshot=complete" in status_line(work), 60,
                         "the incremental snapshot to run")
                assert run.poll() is None, f"eddy run exited with {run.returncode}"
                change_some()
                deadline = time.monotonic() + rng.uniform(0.2, 1.5)
                wait_for(lambda: time.monotonic() >= deadline or run.poll() is not None, 5,
                         "a random moment")
                assert run.poll() is None, f"eddy run exited early with {run.returncode}"
                run.send_signal(signal.SIGKILL)
                run.wait()
                if os.path.exists(work + "/data/status"):
                    os.remove(work + "/data/status")
                print(f"killed eddy run {attempt + 1}", flush=True)

            run = start()
            wait_for(lambda: "incremental_snapshot=complete" in status_line(work), 120,
                     "the incremental snapshot to complete")
            change_some()

            # On demand: rows id <= 50 again, through the request file; returns when done.
            done = subprocess.run([EDDY, "snapshot", "--data-dir", work + "/data", "--stream",
                                   STREAM, "--tables", f"{schema}.t", "--where", "id <= 50", "--wait",
                                   "--timeout", "30s"], capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, done.stderr
            assert "accepted" in done.stdout and "done" in done.stdout, done.stdout
            # Bad input: an unknown stream, an SQL condition the database refuses (logged, skipped).
            wrong = subprocess.run([EDDY, "snapshot", "--data-dir", work + "/data", "--stream",
                                    "nope", "--tables", f"{schema}.t"], capture_output=True,
                                   text=True)
            assert wrong.returncode == 1 and "no capture of stream 'nope'" in wrong.stderr, \
                wrong.stderr
            # The same through the admin API: rows id <= 20 once more; 202 once accepted.
            status, reply = admin(endpoint, "POST", f"streams/{STREAM}/snapshots",
                                  {"tables": [f"{schema}.t"], "where": "id <= 20"})
            assert status == 202 and reply["state"] == "accepted" and reply["request"], reply

            def api_snapshot_done():
                status, progress = admin(endpoint, "GET", f"streams/{STREAM}/snapshots")
                assert status == 200, progress
                return progress if progress["status"] == "complete" else None

            progress = wait_for(api_snapshot_done, 60, "the admin API's snapshot to complete")
            tables = progress["snapshot"]["tables"]
            assert [t["table"] for t in tables] == [f"{schema}.t"], progress
            assert tables[0]["state"] == "done" and tables[0]["condition"] == "id <= 20", progress
            assert progress["snapshot"]["origin"].startswith("request:"), progress
            # Bad input: each answer names what is wrong.
            for body, says in ((b"{", "not valid JSON"), ({}, "'tables' is required"),
                               ({"tables": "t"}, "'tables' must be a list"),
                               ({"tables": []}, "names no table"),
                               ({"tables": ["t"], "where": 1}, "'where' must be a string"),
                               ({"tables": ["t"], "colour": "x"}, "'colour' is not known")):
                status, reply = admin(endpoint, "POST", f"streams/{STREAM}/snapshots", body)
                assert status == 400 and says in reply["error"]["message"], (body, reply)
            status, reply = admin(endpoint, "POST", "streams/nope/snapshots", {"tables": ["t"]})
            assert status == 404 and "no stream named 'nope'" in reply["error"]["message"], reply
            status, reply = admin(endpoint, "DELETE", f"streams/{STREAM}/snapshots")
            assert status == 405, reply
            # A table the stream does not capture: the capture rejects the request, saying why.
            status, reply = admin(endpoint, "POST", f"streams/{STREAM}/snapshots",
                                  {"tables": [f"{schema}.elsewhere"]})
            assert status == 400 and f"{schema}.elsewhere" in reply["error"]["message"] \
                and "does not capture" in reply["error"]["message"], reply
            db.query("INSERT INTO t VALUES (999999, 7)")  # the last change: the log must reach it

            def caught_up():
                events = read_stream(endpoint)
                last = any(e["after"] and e["after"]["id"] == 999999 for e in events)
                return events if last else None

            events = wait_for(caught_up, 60, "the stream to reach the last change")
            folded = {}
            reads = {}
            for event in events:
                if event["op"] == "d":
                    folded.pop(event["before"]["id"], None)
                    continue
                if event["op"] in ("c", "u", "r"):
                    folded[event["after"]["id"]] = event["after"]["v"]
                if event["op"] == "r":
                    reads[event["after"]["id"]] = reads.get(event["after"]["id"], 0) + 1
            separator = "\t" if SOURCE == "mariadb" else "|"
            table = {int(i): int(v) for i, v in
                     (line.split(separator) for line in
                      db.query("SELECT id, v FROM t").strip().split("\n"))}
            assert folded == table, (f"log folded by key differs from the table: "
                                     f"{len(set(folded.items()) ^ set(table.items()))} differences")
            # Rows id <= 20 are read by three snapshots (initial, eddy snapshot, admin API),
            # 21..50 by two, the rest by one.
            def snapshots_of(key):
                return 3 if key <= 20 else 2 if key <= 50 else 1

            twice = [key for key, count in reads.items() if count > snapshots_of(key)]
            assert not twice, f"rows read more than once by one snapshot: {twice[:10]}"
            assert any(reads.get(key, 0) == 2 for key in range(21, 51)), \
                "the on-demand snapshot read nothing"
            assert any(reads.get(key, 0) == 3 for key in range(1, 21)), \
                "the admin API's snapshot read nothing"
            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=60) == 0, "eddy run did not stop cleanly"

            # No capture running: the request is withdrawn after the timeout.
            idle = subprocess.run([EDDY, "snapshot", "--data-dir", work + "/data", "--stream",
                                   STREAM, "--tables", f"{schema}.t", "--timeout", "1s"],
                                  capture_output=True, text=True)
            assert idle.returncode == 1 and "withdrawn" in idle.stderr, idle.stderr
            print(f"ok ({SOURCE}): {len(events)} events, {len(table)} rows, 3 kills", flush=True)
        except Exception:
            for name in ("run.log", "localdb.log"):
                try:
                    print(f"--- {name} (tail)\n" + open(work + "/" + name).read()[-4000:])
                except OSError:
                    pass
            raise
        finally:
            stop_all(processes)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The objects sink end to end: a real PostgreSQL captured by `eddy run` into s3rver.

    objects_s3.py EDDY_BINARY EDDY_LOCALDB_BINARY AWS_CLI NODE

Starts a throwaway PostgreSQL 15 (eddy-localdb) and s3rver (npm; Debian has no S3 server, and
s3rver has no conditional writes and no multipart abort, which this test does not rely on),
runs `eddy run --sink 's3://lake/cdc?endpoint=...'` with a Hive-style prefix and GZIP, applies
inserts, updates and deletes with psql, and checks:
- the keys, listed with the aws CLI (ListObjectsV2), follow the layout
  cdc/table=items/dt=YYYY-MM-DD/items-1-YYYY-MM-DD-HH-mm-SS-SHARD-SEQUENCE.json.gz;
- DuckDB (read_ndjson, gzip from the extension, hive_partitioning) reads every object, and the
  table rebuilt from the records equals the database's own rows, column by column; every
  change is in exactly one object (each (id, v) once);
- s3rver stopped while changes keep coming: the sink turns IMPAIRED with the reason
  (`eddy status`), then ACTIVE when s3rver is back, with nothing lost;
- bad input at start: a missing bucket, an unreachable endpoint and a bad setting stop
  `eddy run` with a message that names the cause and the fix.
Always stops everything it started.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.parse

from e2e_common import work_directory
from objects_support import (S3_ENV, Postgres, S3rver, aws, duckdb, free_port, list_keys,
                             read_lines, wait_for)

EDDY, LOCALDB, AWS, NODE = sys.argv[1:5]
STREAM = "items"
PREFIX = "table=!{partitionKeyFromQuery:source.table}/dt=!{timestamp:yyyy-MM-dd}/"
KEY_PATTERN = re.compile(
    r"^cdc/table=items/dt=\d{4}-\d{2}-\d{2}/items-1-\d{4}(-\d{2}){5}-\d{6}-\d{20}\.json\.gz$")


def sink_url(endpoint, bucket="lake", **overrides):
    settings = {"endpoint": endpoint, "region": "us-east-1", "compression": "GZIP",
                "buffer_interval": "1", "prefix": PREFIX, **overrides}
    return f"s3://{bucket}/cdc?" + urllib.parse.urlencode(settings, quote_via=urllib.parse.quote)


def eddy_command(db_url, data_dir, sink):
    return [EDDY, "run", "--source", db_url, "--data-dir", data_dir, "--stream", STREAM,
            "--tables", "public.items", "--shards", "2", "--api-listen", "127.0.0.1:0",
            "--sink", sink]


def database_rows(db):
    text = db.query(
        "SELECT json_build_object('id', id, 'v', v, 'region', region, 'amount', amount::text,"
        " 'note', note, 'seen', to_char(seen AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')) FROM items ORDER BY id")
    return {row["id"]: row for row in (json.loads(line) for line in text.split("\n") if line)}


def rebuild(changes):
    """The table from (op, after, before) records: each key's row with the highest v, unless
    its last change is a delete. Also returns how often each (id, v, op) appeared."""
    rows, counts, deleted = {}, {}, set()
    for op, after, before in changes:
        image = after if after is not None else before
        # A delete's before image holds the key only (REPLICA IDENTITY DEFAULT).
        identity = (image["id"], image.get("v"), op)
        counts[identity] = counts.get(identity, 0) + 1
        if op == "d":
            deleted.add(image["id"])
        elif op in ("c", "r", "u"):
            if image["id"] not in rows or rows[image["id"]]["v"] < image["v"]:
                rows[image["id"]] = image
    for key in deleted:
        rows.pop(key, None)
    return rows, counts


def comparable(row):
    return {"id": row["id"], "v": row["v"], "region": row["region"], "amount": row["amount"],
            "note": row["note"], "seen": row["seen"]}


def fetched_changes(endpoint, download):
    """Every record in the bucket, fetched with the aws CLI."""
    shutil.rmtree(download, ignore_errors=True)
    aws(AWS, endpoint, "s3", "cp", "s3://lake/cdc/", download, "--recursive", "--quiet")
    changes = []
    for root, _, files in os.walk(download):
        for name in files:
            for line in read_lines(os.path.join(root, name)):
                record = json.loads(line)
                changes.append((record["op"], record["after"], record["before"]))
    return changes


def status_of(data_dir):
    reply = subprocess.run([EDDY, "status", "--data-dir", data_dir], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    return reply.stdout


def start_fails(command, env, says):
    """`eddy run` must exit non-zero within the deadline, saying `says`."""
    process = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=120)
    assert process.returncode != 0, f"eddy run started: {process.stdout[-500:]}"
    assert says in process.stdout, f"expected {says!r} in: {process.stdout[-1500:]}"
    print(f"objects_s3: refused at start as expected: {process.stdout.strip().splitlines()[-1]}")


def main():
    with work_directory("objects-s3") as work:
        db = s3 = run = None
        env = dict(os.environ, **S3_ENV)
        try:
            db = Postgres(LOCALDB, work)
            db.sql("CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, region text NOT NULL,"
                   " amount numeric(12,2), note text, seen timestamptz NOT NULL DEFAULT now())")
            db.sql("INSERT INTO items (id, v, region, amount, note) SELECT g, 1,"
                   " CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g * 1.25,"
                   " CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 30) g")
            s3 = S3rver(work + "/s3", "lake")
            data_dir = work + "/data"
            run = subprocess.Popen(eddy_command(db.url, data_dir, sink_url(s3.endpoint)), env=env,
                                   stdout=open(work + "/eddy.log", "w"), stderr=subprocess.STDOUT)
            db.sql("UPDATE items SET v = v + 1, amount = amount * 2 WHERE id <= 10")
            db.sql("DELETE FROM items WHERE id BETWEEN 25 AND 27")
            db.sql("INSERT INTO items (id, v, region, amount, note) VALUES"
                   " (100, 1, 'ap', 0.01, NULL), (101, 1, 'ap', NULL, 'x''y \"z\"')")
            db.sql("UPDATE items SET v = v + 1, note = NULL WHERE id = 100")

            def matches():
                if run.poll() is not None:
                    raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
                rows, _ = rebuild(fetched_changes(s3.endpoint, work + "/download"))
                expected = database_rows(db)
                return {k: comparable(r) for k, r in rows.items()} == expected

            wait_for(matches, 120, "the objects to hold every change")

            keys = list_keys(AWS, s3.endpoint, "lake", "cdc/")
            assert keys, "no objects listed"
            bad = [key for key in keys if not KEY_PATTERN.match(key)]
            assert not bad, f"keys off the layout: {bad[:3]}"
            print(f"objects_s3: {len(keys)} objects, e.g. {keys[0]}")

            # DuckDB reads what the aws CLI fetched: gzip from the extension, Hive partitions.
            result = duckdb(NODE, [work + "/download/**/*.json.gz", "hive"])
            assert all(row["table_partition"] == "items" for row in result["rows"]), result["rows"][:2]
            changes = [(row["op"], json.loads(row["after"]) if row["after"] else None,
                        json.loads(row["before"]) if row["before"] else None)
                       for row in result["rows"]]
            rows, counts = rebuild(changes)
            expected = database_rows(db)
            assert {k: comparable(r) for k, r in rows.items()} == expected, (
                f"DuckDB's rows differ from PostgreSQL's: {sorted(rows.items())[:3]} vs "
                f"{sorted(expected.items())[:3]}")
            twice = [identity for identity, count in counts.items() if count > 1]
            assert not twice, f"changes in more than one object: {twice[:5]}"
            print(f"objects_s3: DuckDB read {len(result['rows'])} records; {len(expected)} rows "
                  "equal PostgreSQL's, each change once")

            # s3rver goes away: IMPAIRED with the reason, then ACTIVE again, nothing lost.
            s3.stop()
            db.sql("UPDATE items SET v = v + 1 WHERE id > 10")
            wait_for(lambda: "IMPAIRED" in status_of(data_dir), 90, "the sink to turn IMPAIRED")
            status = status_of(data_dir)
            reason = next((line.strip() for line in status.splitlines() if "reason:" in line), "")
            assert f"127.0.0.1:{s3.port}" in reason and "s3://lake/cdc/" in reason, status
            print("objects_s3: while s3rver is down: " +
                  next(line.strip() for line in status.splitlines() if "IMPAIRED" in line) +
                  "\n  " + reason)
            s3.start()
            wait_for(matches, 120, "the changes made while s3rver was down")
            wait_for(lambda: "ACTIVE" in status_of(data_dir), 60, "the sink to be ACTIVE again")
            _, counts = rebuild(fetched_changes(s3.endpoint, work + "/download"))
            twice = [identity for identity, count in counts.items() if count > 1]
            assert not twice, f"changes in more than one object after the outage: {twice[:5]}"
            print("objects_s3: s3rver back: ACTIVE, every change once")

            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=60) == 0, f"eddy did not stop cleanly; see {work}/eddy.log"
            run = None

            # Bad input at start.
            start_fails(eddy_command(db.url, work + "/bad1", sink_url(s3.endpoint, "no-such-bucket")),
                        env, "does not exist")
            start_fails(eddy_command(db.url, work + "/bad2", sink_url(f"http://127.0.0.1:{free_port()}")),
                        env, "cannot be reached")
            start_fails(eddy_command(db.url, work + "/bad3", sink_url(s3.endpoint, compression="snappy")),
                        env, "objects setting 'compression' is \"snappy\"")
            start_fails(eddy_command(db.url, work + "/bad4", sink_url(s3.endpoint)),
                        dict(env, AWS_ACCESS_KEY_ID="WRONGKEY"), "credentials")
            print("objects_s3: 1 passed, 0 failed")
            return 0
        finally:
            if run is not None and run.poll() is None:
                run.kill()
                run.wait()
            if s3 is not None:
                s3.stop()
            if db is not None:
                db.stop()


if __name__ == "__main__":
    sys.exit(main())

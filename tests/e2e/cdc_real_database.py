#!/usr/bin/env python3
"""Changes made in a real PostgreSQL read back through real clients.

    cdc_real_database.py EDDY_BINARY EDDY_LOCALDB_BINARY AWS_CLI

Starts a throwaway PostgreSQL 15 (eddy-localdb), runs `eddy run` capturing one table into a
4-shard stream with the API on 127.0.0.1, applies inserts/updates/deletes with psql, and reads
the changes back with boto3's Kinesis client (per-key order checked against the order
applied), splits a shard and checks that parents are read before children and per-key order
holds across the split, reads the DynamoDB Streams shape with boto3's dynamodbstreams client,
and reads one shard with the aws CLI. Always stops everything it started. Waits are bounded
polls on conditions (deadlines), never fixed sleeps.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import boto3
import botocore.config

from e2e_common import Postgres, free_port, stop_all, wait_for

EDDY, LOCALDB, AWS = sys.argv[1], sys.argv[2], sys.argv[3]
STREAM = "orders"
KEYS = list(range(1, 13))


def kinesis_client(endpoint):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="demo", aws_secret_access_key="demo",
                        config=botocore.config.Config(retries={"max_attempts": 2}))


def read_stream(kinesis):
    """Reads every shard, parents before children (following ChildShards), returning the
    decoded events in per-shard order and the order in which shards were finished."""
    shards = []
    for page in kinesis.get_paginator("list_shards").paginate(StreamName=STREAM):
        shards.extend(page["Shards"])
    by_id = {shard["ShardId"]: shard for shard in shards}
    events, finished = [], []
    # Start with shards whose parents are gone or absent; children are reached from parents.
    pending = [s["ShardId"] for s in shards if s.get("ParentShardId") not in by_id]
    seen = set()
    while pending:
        shard_id = pending.pop(0)
        if shard_id in seen:
            continue
        seen.add(shard_id)
        iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard_id,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            reply = kinesis.get_records(ShardIterator=iterator, Limit=5)
            for record in reply["Records"]:
                events.append(json.loads(record["Data"]))
            if "NextShardIterator" not in reply:  # closed shard fully read
                for child in reply.get("ChildShards", []):
                    pending.append(child["ShardId"])
                break
            iterator = reply["NextShardIterator"]
            if not reply["Records"] and reply["MillisBehindLatest"] == 0:
                break  # open shard, caught up
        finished.append(shard_id)
    return events, finished


def key_history(events):
    history = {}
    for event in events:
        row = event["after"] if event["after"] is not None else event["before"]
        history.setdefault(row["id"], []).append(
            (event["op"], None if event["after"] is None else event["after"]["amount"]))
    return history


def main():
    work = tempfile.mkdtemp(prefix="eddy-e2e-cdc-")
    processes = []
    try:
        db = Postgres(LOCALDB, work)
        processes.append(db)
        url = db.url
        db.sql("CREATE TABLE orders (id bigint PRIMARY KEY, customer text, amount numeric(10,2))")
        db.sql("INSERT INTO orders VALUES (1, 'snapshot row', 1.00)")

        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        run = subprocess.Popen([EDDY, "run", "--source", url, "--data-dir", work + "/data",
                                "--stream", STREAM, "--tables", "public.orders", "--shards", "4",
                                "--api-listen", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=open(work + "/run.log", "w"))
        processes.append(run)
        kinesis = kinesis_client(endpoint)

        def snapshot_seen():
            try:
                return len(read_stream(kinesis)[0]) >= 1
            except Exception:  # the API is not up yet
                return False
        wait_for(snapshot_seen, 60, "the snapshot row through the API")

        # Every key gets an insert (1 already exists: update it), three updates in their own
        # transactions, and every third key a delete.
        expected = {1: [("r", "1.00")]}
        for key in KEYS[1:]:
            db.sql(f"INSERT INTO orders VALUES ({key}, 'c{key}', {key}.00)")
            expected[key] = [("c", f"{key}.00")]
        for round_number in range(1, 4):
            statements = ";".join(
                f"UPDATE orders SET amount = {key * 10 + round_number}.00 WHERE id = {key}"
                for key in KEYS)
            db.sql(f"BEGIN;{statements};COMMIT")
            for key in KEYS:
                expected[key].append(("u", f"{key * 10 + round_number}.00"))
        for key in KEYS[::3]:
            db.sql(f"DELETE FROM orders WHERE id = {key}")
            expected[key].append(("d", None))
        total = sum(len(v) for v in expected.values())

        events = wait_for(lambda: (lambda e: e if len(e) >= total else None)(read_stream(kinesis)[0]),
                          60, f"{total} events")
        assert len(events) == total, f"expected {total} events, got {len(events)}"
        assert key_history(events) == expected, f"per-key order differs:\n{key_history(events)}\n{expected}"

        # Split a shard, change every key again: parents are read before children and per-key
        # order holds across the split.
        shard = kinesis.list_shards(StreamName=STREAM)["Shards"][0]
        low = int(shard["HashKeyRange"]["StartingHashKey"])
        high = int(shard["HashKeyRange"]["EndingHashKey"])
        kinesis.split_shard(StreamName=STREAM, ShardToSplit=shard["ShardId"],
                            NewStartingHashKey=str((low + high) // 2 + 1))
        live = [key for key in KEYS if expected[key][-1][0] != "d"]
        statements = ";".join(f"UPDATE orders SET amount = {key}.99 WHERE id = {key}" for key in live)
        db.sql(f"BEGIN;{statements};COMMIT")
        for key in live:
            expected[key].append(("u", f"{key}.99"))
        total = sum(len(v) for v in expected.values())
        events, finished = wait_for(
            lambda: (lambda r: r if len(r[0]) >= total else None)(read_stream(kinesis)), 60,
            "events after the split")
        assert key_history(events) == expected, "per-key order broken across the split"
        parent = shard["ShardId"]
        children = [s["ShardId"] for s in kinesis.list_shards(StreamName=STREAM)["Shards"]
                    if s.get("ParentShardId") == parent]
        assert len(children) == 2, children
        for child in children:
            assert finished.index(parent) < finished.index(child), "child read before its parent"

        # DynamoDB Streams view of the same changes.
        streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1",
                               aws_access_key_id="demo", aws_secret_access_key="demo")
        arn = next(s["StreamArn"] for s in streams.list_streams()["Streams"]
                   if STREAM in s["StreamArn"])
        description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        names = set()
        for ddb_shard in description["Shards"]:
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=ddb_shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            for _ in range(50):
                reply = streams.get_records(ShardIterator=iterator, Limit=100)
                names.update(r["eventName"] for r in reply["Records"])
                iterator = reply.get("NextShardIterator")
                if not iterator or not reply["Records"]:
                    break
        assert {"INSERT", "MODIFY", "REMOVE"} <= names, names

        # The aws CLI reads the same stream.
        env = dict(os.environ, AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        base = [AWS, "--endpoint-url", endpoint, "kinesis"]
        iterator = subprocess.run(
            base + ["get-shard-iterator", "--stream-name", STREAM, "--shard-id", parent,
                    "--shard-iterator-type", "TRIM_HORIZON", "--query", "ShardIterator",
                    "--output", "text"], env=env, check=True, capture_output=True, text=True).stdout.strip()
        reply = json.loads(subprocess.run(base + ["get-records", "--shard-iterator", iterator],
                                          env=env, check=True, capture_output=True, text=True).stdout)
        assert "Records" in reply and "MillisBehindLatest" in reply, reply

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, open(work + "/run.log").read()
        print(f"cdc_real_database: {total} changes read back in order through boto3 (Kinesis and "
              f"DynamoDB Streams) and the aws CLI, across a split")
        return 0
    finally:
        stop_all(processes)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

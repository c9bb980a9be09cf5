#!/usr/bin/env python3
"""boto3 (Debian python3-boto3) against eddy's Kinesis API: the standard consumer loop.

Creates a stream, writes with put_record and put_records, lists shards with the paginator
(page size 1, so botocore resends StreamName with NextToken), reads every shard from
TRIM_HORIZON with get_records until caught up, decodes each record's JSON and checks count and
per-key order. Then splits a shard, writes more, and follows ChildShards from the parent's end
to read parents before children. Also checks the AWS errors boto3 raises for bad input.
"""
import json
import os
import sys

import boto3
import botocore.config
import botocore.exceptions

ENDPOINT = os.environ["EDDY_ENDPOINT"]
STREAM = "orders-e2e"
KEYS = [f"customer-{i}" for i in range(20)]


def client():
    return boto3.client(
        "kinesis", endpoint_url=ENDPOINT, region_name="us-east-1",
        config=botocore.config.Config(retries={"max_attempts": 1}))


def expect_error(code, fn, **kwargs):
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as error:
        got = error.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {error}"
        assert error.response["ResponseMetadata"]["RequestId"], "no x-amzn-RequestId"
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def list_all_shards(kinesis, **kwargs):
    paginator = kinesis.get_paginator("list_shards")
    shards = []
    for page in paginator.paginate(StreamName=STREAM, PaginationConfig={"PageSize": 1}, **kwargs):
        shards.extend(page["Shards"])
    return shards


def read_shard(kinesis, shard_id, iterator_type="TRIM_HORIZON", limit=7):
    """Reads one shard to its current end (or to its end if closed): (records, child shards)."""
    iterator = kinesis.get_shard_iterator(
        StreamName=STREAM, ShardId=shard_id, ShardIteratorType=iterator_type)["ShardIterator"]
    records = []
    while True:
        reply = kinesis.get_records(ShardIterator=iterator, Limit=limit)
        records.extend(reply["Records"])
        assert "MillisBehindLatest" in reply
        if "NextShardIterator" not in reply:
            assert reply.get("ChildShards"), "closed shard end without ChildShards"
            return records, reply["ChildShards"]
        assert not reply.get("ChildShards"), "ChildShards together with NextShardIterator"
        iterator = reply["NextShardIterator"]
        if not reply["Records"] and reply["MillisBehindLatest"] == 0:
            return records, []


def check_order(records, expected_total):
    per_key = {}
    for record in records:
        body = json.loads(record["Data"])
        assert record["PartitionKey"] == body["key"], record
        per_key.setdefault(body["key"], []).append(body["n"])
    total = sum(len(v) for v in per_key.values())
    assert total == expected_total, f"read {total} records, wrote {expected_total}"
    for key, numbers in per_key.items():
        assert numbers == sorted(numbers), f"key {key} out of order: {numbers}"
        assert numbers == list(range(len(numbers))), f"key {key} lost or duplicated: {numbers}"
    return per_key


def main():
    kinesis = client()
    kinesis.create_stream(StreamName=STREAM, ShardCount=3)
    kinesis.get_waiter("stream_exists").wait(StreamName=STREAM,
                                             WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    described = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]
    assert described["StreamStatus"] == "ACTIVE" and len(described["Shards"]) == 3
    summary = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
    assert "StreamId" not in summary and summary["OpenShardCount"] == 3
    names = kinesis.list_streams()["StreamNames"]
    assert STREAM in names, names

    counters = {key: 0 for key in KEYS}
    written = 0

    def next_record(key):
        nonlocal written
        body = {"key": key, "n": counters[key], "payload": "x" * 50}
        counters[key] += 1
        written += 1
        return json.dumps(body).encode()

    for i in range(30):
        key = KEYS[i % len(KEYS)]
        reply = kinesis.put_record(StreamName=STREAM, PartitionKey=key, Data=next_record(key))
        assert reply["ShardId"].startswith("shardId-") and len(reply["SequenceNumber"]) == 56
    for batch in range(4):
        entries = []
        for i in range(100):
            key = KEYS[(batch * 100 + i * 7) % len(KEYS)]
            entries.append({"PartitionKey": key, "Data": next_record(key)})
        reply = kinesis.put_records(StreamName=STREAM, Records=entries)
        assert reply["FailedRecordCount"] == 0 and len(reply["Records"]) == 100

    shards = list_all_shards(kinesis)
    assert len(shards) == 3, shards
    records = []
    for shard in shards:
        shard_records, children = read_shard(kinesis, shard["ShardId"])
        assert not children
        records.extend(shard_records)
    check_order(records, written)
    print(f"kinesis_boto3: read {len(records)} records from {len(shards)} shards, per-key order ok")

    # Split shard 0 at the middle of its range; records after the split go to the children.
    parent = shards[0]
    start = int(parent["HashKeyRange"]["StartingHashKey"])
    end = int(parent["HashKeyRange"]["EndingHashKey"])
    kinesis.split_shard(StreamName=STREAM, ShardToSplit=parent["ShardId"],
                        NewStartingHashKey=str((start + end) // 2 + 1))
    for i in range(200):
        key = KEYS[i % len(KEYS)]
        kinesis.put_record(StreamName=STREAM, PartitionKey=key, Data=next_record(key))
    shards = list_all_shards(kinesis)
    assert len(shards) == 5, [s["ShardId"] for s in shards]

    # Consumer that starts at the roots and follows ChildShards: parents before children.
    records = []
    pending = [s["ShardId"] for s in list_all_shards(kinesis, ShardFilter={"Type": "AT_TRIM_HORIZON"})]
    done = set()
    while pending:
        shard_id = pending.pop(0)
        if shard_id in done:
            continue
        shard_records, children = read_shard(kinesis, shard_id)
        done.add(shard_id)
        records.extend(shard_records)
        for child in children:
            assert shard_id in child["ParentShards"], child
            pending.append(child["ShardId"])
    assert len(done) == 5, done
    check_order(records, written)
    print(f"kinesis_boto3: after split read {len(records)} records, parents before children ok")

    # Errors as AWS shapes them.
    expect_error("ResourceNotFoundException", kinesis.describe_stream, StreamName="missing")
    expect_error("ResourceInUseException", kinesis.create_stream, StreamName=STREAM, ShardCount=1)
    expect_error("InvalidArgumentException", kinesis.get_records, ShardIterator="AAAAforged==")
    expect_error("ValidationException", kinesis.get_records,
                 ShardIterator=read_iterator(kinesis, shards[1]["ShardId"]), Limit=20000)
    expect_error("InvalidArgumentException", kinesis.split_shard, StreamName=STREAM,
                 ShardToSplit=parent["ShardId"], NewStartingHashKey=str(start + 5))
    kinesis.delete_stream(StreamName=STREAM)
    expect_error("ResourceNotFoundException", kinesis.describe_stream_summary, StreamName=STREAM)
    print("kinesis_boto3: ok")
    return 0


def read_iterator(kinesis, shard_id):
    return kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard_id,
                                      ShardIteratorType="LATEST")["ShardIterator"]


if __name__ == "__main__":
    sys.exit(main())

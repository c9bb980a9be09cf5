#!/usr/bin/env python3
"""boto3's dynamodbstreams client against eddy's DynamoDB Streams API.

The server was started with a CDC stream (orders-cdc, table "orders", key "id") holding 60
sample change events over 5 keys: inserts, then updates and deletes with a version column that
grows by one per change of a key. The standard consumer loop: list_streams, describe_stream
(paginated), get_shard_iterator at TRIM_HORIZON, get_records until caught
up; checks the record shape (eventName, Keys/NewImage/OldImage typed attribute values,
SequenceNumber, SizeBytes, StreamViewType) and per-key order.
"""
import os
import sys

import boto3
import botocore.exceptions

ENDPOINT = os.environ["EDDY_ENDPOINT"]
EVENTS = 60
KEYS = 5


def main():
    streams = boto3.client("dynamodbstreams", endpoint_url=ENDPOINT, region_name="us-east-1")
    listed = streams.list_streams()["Streams"]
    assert len(listed) == 1, listed
    arn = listed[0]["StreamArn"]
    assert listed[0]["TableName"] == "orders"
    assert arn.startswith("arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/"), arn
    assert streams.list_streams(TableName="other")["Streams"] == []

    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert description["StreamStatus"] == "ENABLED"
    assert description["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert description["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    shards = []
    start = None
    while True:  # paginate with Limit 1
        kwargs = {"StreamArn": arn, "Limit": 1}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        page = streams.describe_stream(**kwargs)["StreamDescription"]
        shards.extend(page["Shards"])
        start = page.get("LastEvaluatedShardId")
        if not start:
            break
    assert len(shards) == 2, shards
    for shard in shards:
        assert len(shard["ShardId"]) == 37 and shard["ShardId"].startswith("shardId-"), shard
    # (ShardFilter CHILD_SHARDS is newer than Debian's botocore 1.29; the node test covers it.)

    records = []
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            reply = streams.get_records(ShardIterator=iterator, Limit=7)
            records.extend(reply["Records"])
            iterator = reply.get("NextShardIterator")
            if not reply["Records"]:
                break
    assert len(records) == EVENTS, f"read {len(records)} records, expected {EVENTS}"

    per_key = {}
    names = set()
    for record in records:
        names.add(record["eventName"])
        assert record["eventSource"] == "aws:dynamodb", record
        body = record["dynamodb"]
        assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert 21 <= len(body["SequenceNumber"]) <= 40
        assert body["SizeBytes"] >= 1
        key = body["Keys"]["id"]["N"]
        if record["eventName"] == "INSERT":
            assert "OldImage" not in body and "NewImage" in body, record
            version = int(body["NewImage"]["version"]["N"])
        elif record["eventName"] == "REMOVE":
            assert "NewImage" not in body and "OldImage" in body, record
            version = int(body["OldImage"]["version"]["N"]) + 1
        else:
            assert record["eventName"] == "MODIFY"
            version = int(body["NewImage"]["version"]["N"])
            assert int(body["OldImage"]["version"]["N"]) == version - 1
        per_key.setdefault(key, []).append((int(body["SequenceNumber"]), version))
    assert names == {"INSERT", "MODIFY", "REMOVE"}, names
    assert len(per_key) == KEYS
    for key, changes in per_key.items():
        sequences = [s for s, _ in changes]
        versions = [v for _, v in changes]
        assert sequences == sorted(sequences), f"key {key}: sequence numbers out of order"
        assert versions == list(range(EVENTS // KEYS)), f"key {key}: versions {versions}"

    # A shard iterator from AT_SEQUENCE_NUMBER resumes at that record.
    first = records[0]["dynamodb"]["SequenceNumber"]
    shard_of_first = shards[0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of_first,
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          SequenceNumber=first)["ShardIterator"]
    again = streams.get_records(ShardIterator=iterator, Limit=1)["Records"]
    assert again and again[0]["dynamodb"]["SequenceNumber"] == first

    try:
        streams.describe_stream(
            StreamArn="arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2020-01-01T00:00:00.000")
        raise AssertionError("describe_stream of a missing stream succeeded")
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException", error
    print(f"dynamodbstreams_boto3: {len(records)} records over {len(shards)} shards ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The aws CLI against eddy's Kinesis API, with dummy credentials from the environment.

    aws_cli.py AWS_EXECUTABLE

create-stream, describe-stream (the CLI paginates shards itself), list-streams, put-record,
get-shard-iterator, get-records, list-shards, delete-stream, and one error
(describe-stream of a missing stream exits non-zero with ResourceNotFoundException).
"""
import base64
import json
import os
import subprocess
import sys

AWS = sys.argv[1]
ENDPOINT = os.environ["EDDY_ENDPOINT"]
STREAM = "cli-stream"


def aws(*args, check=True):
    command = [AWS, "--endpoint-url", ENDPOINT, "--region", "us-east-1", "--output", "json",
               "kinesis", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}")
    if not check:
        return result
    return json.loads(result.stdout) if result.stdout.strip() else {}


def main():
    aws("create-stream", "--stream-name", STREAM, "--shard-count", "2")
    described = aws("describe-stream", "--stream-name", STREAM)["StreamDescription"]
    assert described["StreamStatus"] == "ACTIVE", described
    assert len(described["Shards"]) == 2
    assert STREAM in aws("list-streams")["StreamNames"]
    assert len(aws("list-shards", "--stream-name", STREAM, "--max-items", "5")["Shards"]) == 2

    payloads = {}
    for i in range(10):
        data = json.dumps({"n": i})
        # CLI v2 takes blobs as base64 by default; v1 as raw text.
        blob = base64.b64encode(data.encode()).decode() if "aws-cli/2" in version() else data
        reply = aws("put-record", "--stream-name", STREAM, "--partition-key", f"key-{i}",
                    "--data", blob)
        payloads.setdefault(reply["ShardId"], []).append(data)

    total = 0
    for shard in described["Shards"]:
        iterator = aws("get-shard-iterator", "--stream-name", STREAM, "--shard-id",
                       shard["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
        records = aws("get-records", "--shard-iterator", iterator)["Records"]
        got = [base64.b64decode(r["Data"]).decode() for r in records]
        assert got == payloads.get(shard["ShardId"], []), (got, payloads)
        total += len(got)
    assert total == 10, total

    missing = aws("describe-stream", "--stream-name", "no-such-stream", check=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr, missing.stderr
    aws("delete-stream", "--stream-name", STREAM)
    assert STREAM not in aws("list-streams")["StreamNames"]
    print(f"aws_cli ({version()}): ok")
    return 0


_version = None


def version():
    global _version
    if _version is None:
        result = subprocess.run([AWS, "--version"], capture_output=True, text=True)
        _version = (result.stdout + result.stderr).strip()
    return _version


if __name__ == "__main__":
    sys.exit(main())

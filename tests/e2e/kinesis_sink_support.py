"""Shared pieces of the Kinesis sink's end-to-end tests and benchmark: kinesalite (npm, in
tests/e2e/node_modules) and `eddy serve` as Kinesis targets, boto3 clients (Debian's
python3-boto3: run with /usr/bin/python3), reading a whole stream back with eddy's chunked
records reassembled (the sink state from eddy's /metrics is e2e_common.sink_state).

Chunked records (docs/sinks/kinesis.md): a record whose Data starts with the 4 bytes "CHNK"
(little-endian u32 0x4b4e4843) is a head: u32 fragment count, u64 total size, u32 masked
CRC-32C, then the first piece; the next `count` records of the same partition key in the same
shard are the rest, in order.
"""
import json
import os
import shutil
import struct
import subprocess

import boto3
import botocore.config

from e2e_common import free_port, port_open, sink_state, wait_for  # noqa: F401 (re-exported)

HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK_MAGIC = b"CHNK"


def node_binary():
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not on PATH: kinesalite (npm) needs it; install nodejs")
    return node


def start_kinesalite(port=None):
    """kinesalite on loopback (in memory). Fails, never skips, when it cannot start."""
    cli = os.path.join(HERE, "node_modules", "kinesalite", "cli.js")
    if not os.path.exists(cli):
        raise AssertionError(f"{cli} is missing: run npm ci in tests/e2e")
    port = port or free_port()
    process = subprocess.Popen([node_binary(), cli, "--port", str(port), "--createStreamMs", "0",
                                "--deleteStreamMs", "0", "--updateStreamMs", "0",
                                "--shardLimit", "100"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: process.poll() is not None or port_open(port), 30, "kinesalite to listen")
    if process.poll() is not None:
        raise AssertionError(f"kinesalite exited with {process.returncode}")
    return process, port


def start_eddy_serve(eddy, data_dir, port=None, log=None):
    """`eddy serve` (eddy's own Kinesis API, durable) as a target."""
    port = port or free_port()
    process = subprocess.Popen([eddy, "serve", "--data-dir", data_dir,
                                "--api-listen", f"127.0.0.1:{port}"],
                               stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for(lambda: process.poll() is not None or port_open(port), 60, "eddy serve to listen")
    if process.poll() is not None:
        raise AssertionError(f"eddy serve exited with {process.returncode}")
    return process, port


def client(port, tls_ca=None, region="us-east-1"):
    scheme = "https" if tls_ca else "http"
    return boto3.client("kinesis", endpoint_url=f"{scheme}://127.0.0.1:{port}",
                        region_name=region, aws_access_key_id="AKIDEDDYTEST",
                        aws_secret_access_key="eddy-test-secret", verify=tls_ca or True,
                        config=botocore.config.Config(retries={"max_attempts": 5}))


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 made by the openssl CLI."""
    cert, key = os.path.join(directory, "tls.pem"), os.path.join(directory, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def start_verifying_server(testserver, data_dir, cert, key, credentials):
    """eddy-api-testserver over HTTPS, verifying every request's SigV4 signature."""
    port_file = data_dir + ".port"
    process = subprocess.Popen([testserver, "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                                "--port-file", port_file, "--credentials", credentials,
                                "--tls-cert", cert, "--tls-key", key],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = wait_for(lambda: process.poll() is not None or
                    (os.path.exists(port_file) and open(port_file).read().strip()), 60,
                    "eddy-api-testserver to listen")
    if process.poll() is not None:
        raise AssertionError(f"eddy-api-testserver exited with {process.returncode}")
    return process, int(port)


def create_stream(kinesis, name, shards):
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    wait_for(lambda: kinesis.describe_stream_summary(StreamName=name)
             ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 30, f"stream {name} ACTIVE")


def read_all(kinesis, stream):
    """Every record of every shard from TRIM_HORIZON, chunk groups reassembled: a list of
    (shard_id, partition_key, data bytes) in per-shard order, and the count of entries read."""
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    records = []
    entries = 0
    for shard in shards:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        groups = {}  # partition key -> [remaining, total, pieces]
        while iterator:
            reply = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            for record in reply["Records"]:
                entries += 1
                key, data = record["PartitionKey"], record["Data"]
                group = groups.get(key)
                if group is not None and data[:4] == CHUNK_MAGIC and len(data) >= 20:
                    del groups[key]  # a group cut by a producer crash: put again from its head
                    group = None
                if group is not None:
                    group[2].append(data)
                    group[0] -= 1
                    if group[0] == 0:
                        whole = b"".join(group[2])
                        assert len(whole) == group[1], f"chunk group of {key}: size mismatch"
                        records.append((shard["ShardId"], key, whole))
                        del groups[key]
                    continue
                if data[:4] == CHUNK_MAGIC and len(data) >= 20:
                    count, total, _crc = struct.unpack_from("<IQI", data, 4)
                    groups[key] = [count, total, [data[20:]]]
                    if count == 0:
                        records.append((shard["ShardId"], key, data[20:]))
                        del groups[key]
                    continue
                records.append((shard["ShardId"], key, data))
            iterator = reply.get("NextShardIterator")
            if not reply["Records"] and reply.get("MillisBehindLatest", 0) == 0:
                break
    return records, entries


def changes(records):
    """(k, v) of each row change (op c/u/r, eddy's native JSON) in per-shard order."""
    out = []
    for _shard, _key, data in records:
        change = json.loads(data)
        if change.get("op") in ("c", "u", "r"):
            out.append((int(change["after"]["k"]), int(change["after"]["v"]), change))
    return out

#!/usr/bin/env python3
"""Throughput of the Kinesis sink against boto3 putting the same records, in the same run,
into the same target; prints the ratio.

    /usr/bin/python3 bench/sink/kinesis_throughput.py EDDY_BINARY
        [--records=100000] [--size=200] [--keys=20000] [--shards=4] [--repeat=3]
        [--batch-size=10000]

1. Source: `eddy serve` (data directory A) with stream `src` of --shards shards, filled with
   --records records of --size bytes and --keys distinct partition keys (boto3 PutRecords).
2. Target: a second `eddy serve` (data directory B), streams `dst-eddy-N` and `dst-ref-N`
   of --shards shards each.
3. eddy: `eddy serve` on A restarted with `--sink kinesis+http://B?stream=dst-eddy-N
   &source_stream=src&batch_size=B&starting_position=TRIM_HORIZON&max_batching_window=0`: it reads `src` and
   puts every record into B (PutRecords, SigV4-signed, one lane per shard). Timed from the
   sink's start until its eddy_sink_delivered_records_total reaches --records (polled on
   A's /metrics every 20 ms).
4. Reference: boto3 (botocore, SigV4) PutRecords of the same records (same data, same keys,
   500 per call) into `dst-ref-N`, one thread per source shard as the sink has one lane per
   shard, each thread putting its shard's records in order. Timed from the first call to the
   last reply.
Both write to the same durable target (fsync per call) on the same machine. --repeat
alternates the two phases and prints the median ratio eddy / boto3.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
import botocore.config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_common import free_port, port_open, wait_for  # noqa: E402



def client(port):
    return boto3.client("kinesis", endpoint_url=f"http://127.0.0.1:{port}",
                        region_name="us-east-1", aws_access_key_id="bench",
                        aws_secret_access_key="bench",
                        config=botocore.config.Config(retries={"max_attempts": 10},
                                                      max_pool_connections=32))


def serve(eddy, data_dir, port, sink=None):
    command = [eddy, "serve", "--data-dir", data_dir, "--api-listen", f"127.0.0.1:{port}"]
    if sink:
        command += ["--sink", sink]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, AWS_ACCESS_KEY_ID="bench",
                                        AWS_SECRET_ACCESS_KEY="bench"))
    wait_for(lambda: process.poll() is not None or port_open(port), 60, "eddy serve",
             interval=0.02)
    if process.poll() is not None:
        raise SystemExit(f"eddy serve exited with {process.returncode}")
    return process


def stop(process):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def create(kinesis, name, shards):
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    wait_for(lambda: kinesis.describe_stream_summary(StreamName=name)
             ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 30, name, interval=0.02)


def delivered(metrics_port, sink):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("eddy_sink_delivered_records_total{") and f'sink="{sink}"' in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def read_shards(kinesis, stream):
    """The records of each shard, in order: {shard_id: [(key, data), ...]}."""
    shards = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = []
        while iterator:
            reply = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            records.extend((r["PartitionKey"], r["Data"]) for r in reply["Records"])
            iterator = reply.get("NextShardIterator")
            if not reply["Records"] and reply.get("MillisBehindLatest", 0) == 0:
                break
        shards[shard["ShardId"]] = records
    return shards


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    # The runner's batch (its checkpoint is written once per batch); the sink splits a batch
    # into PutRecords calls of at most 500 records.
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-bench-kinesis-")
    processes = []
    try:
        source_port, target_port = free_port(), free_port()
        target = serve(args.eddy, work + "/b", target_port)
        processes.append(target)
        source = serve(args.eddy, work + "/a", source_port)
        processes.append(source)
        to_source, to_target = client(source_port), client(target_port)
        create(to_source, "src", args.shards)
        payload = ("x" * args.size).encode()
        for start in range(0, args.records, 500):
            batch = [{"Data": payload, "PartitionKey": f"key-{i % args.keys}"}
                     for i in range(start, min(start + 500, args.records))]
            reply = to_source.put_records(StreamName="src", Records=batch)
            assert reply["FailedRecordCount"] == 0
        per_shard = read_shards(to_source, "src")
        assert sum(len(r) for r in per_shard.values()) == args.records
        stop(source)

        # What start-up alone costs (eddy serve on A until its port answers), for the reader
        # of the eddy figure, which includes it.
        started = time.monotonic()
        source = serve(args.eddy, work + "/a", source_port)
        startup = time.monotonic() - started
        stop(source)
        print(f"eddy serve start-up on the source data: {startup:.2f} s", flush=True)

        ratios = []
        for round_index in range(args.repeat):
            # eddy's sink.
            create(to_target, f"dst-eddy-{round_index}", args.shards)
            sink = (f"kinesis+http://127.0.0.1:{target_port}?stream=dst-eddy-{round_index}"
                    f"&source_stream=src&name=bench-{round_index}&batch_size={args.batch_size}"
                    f"&max_batching_window=0"
                    f"&starting_position=TRIM_HORIZON")
            started = time.monotonic()
            source = serve(args.eddy, work + "/a", source_port, sink)
            processes.append(source)
            wait_for(lambda: delivered(source_port, f"bench-{round_index}") >= args.records, 600,
                     "the sink to deliver every record", interval=0.02)
            eddy_seconds = time.monotonic() - started
            if os.environ.get("EDDY_BENCH_DEBUG"):
                with urllib.request.urlopen(f"http://127.0.0.1:{target_port}/metrics") as r:
                    print("\n".join(l for l in r.read().decode().splitlines()
                                    if "PutRecords" in l and "count" in l))
                with urllib.request.urlopen(f"http://127.0.0.1:{source_port}/metrics") as r:
                    print("\n".join(l for l in r.read().decode().splitlines()
                                    if "eddy_sink_batch_duration_seconds_count" in l or
                                    "eddy_sink_batch_duration_seconds_sum" in l))
            stop(source)

            # boto3 putting the same records, one thread per source shard.
            create(to_target, f"dst-ref-{round_index}", args.shards)
            errors = []

            def put(records, stream=f"dst-ref-{round_index}"):
                kinesis = client(target_port)
                try:
                    for start in range(0, len(records), 500):
                        batch = [{"Data": d, "PartitionKey": k} for k, d in records[start:start + 500]]
                        pending = batch
                        while pending:
                            reply = kinesis.put_records(StreamName=stream, Records=pending)
                            pending = [entry for entry, result in zip(pending, reply["Records"])
                                       if "ErrorCode" in result]
                except Exception as error:  # reported below
                    errors.append(error)

            threads = [threading.Thread(target=put, args=(records,))
                       for records in per_shard.values()]
            ref_started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            ref_seconds = time.monotonic() - ref_started
            if errors:
                raise SystemExit(f"boto3 reference failed: {errors[0]}")
            eddy_rate = args.records / eddy_seconds
            ref_rate = args.records / ref_seconds
            ratios.append(eddy_rate / ref_rate)
            print(f"round {round_index}: eddy kinesis sink {eddy_rate:,.0f} records/s "
                  f"({eddy_seconds:.2f} s, incl. start-up), boto3 put_records {ref_rate:,.0f} "
                  f"records/s ({ref_seconds:.2f} s), ratio {ratios[-1]:.2f}", flush=True)
        # The sink's copy holds every record (not counted in the timing).
        copied = sum(len(r) for r in read_shards(to_target, f"dst-eddy-{args.repeat - 1}").values())
        assert copied >= args.records, f"the sink's target stream holds {copied} records"
        print(f"median ratio eddy / boto3: {statistics.median(ratios):.2f} "
              f"({args.records} records of {args.size} B, {args.keys} keys, {args.shards} shards, "
              f"batch_size {args.batch_size})")
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                stop(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

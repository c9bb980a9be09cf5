#!/usr/bin/env python3
"""Latency from a commit in a real PostgreSQL to a Kafka consumer through eddy's Kafka sink
(issue 13: p50 and p99 at 5,000 changes/s; target p99 under 30 ms).

    python3 bench/kafka/kafka_latency.py EDDY LOCALDB KAFKA_MOCK_CLUSTER
        [--rate=5000] [--seconds=20] [--warmup=3] [--rows-per-txn=10] [--shards=4]
        [--batch-size=N] [--exactly-once=true]

Starts librdkafka's mock cluster (kafka-mock-cluster), a throwaway PostgreSQL and `eddy run`
with `--sink kafka://...?max_batching_window=0&format=debezium`; a paced writer (psql, one
autocommit INSERT of --rows-per-txn rows at a time, --rate rows/s in all) writes rows carrying
their insert wall-clock time (column default clock_timestamp(), so the commit is included).
A python3-confluent-kafka consumer (isolation.level=read_committed, fetch.wait.max.ms=5) takes
latency = its wall-clock time when it receives the record - the row's written time. Rows
written during the warm-up are not counted. Prints p50/p95/p99/max.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "support"))
from kafka_cluster import KafkaMockCluster  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_common import librdkafka_cpu_seconds  # noqa: E402


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)  # polling a condition with a deadline
    raise SystemExit(f"timed out after {seconds}s waiting for {what}")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(port, name):
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[index]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("mock")
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rows-per-txn", type=int, default=10)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="the sink's batch_size (default: not set, the sink's own default)")
    parser.add_argument("--exactly-once", default="true")
    parser.add_argument("--sink-settings", default="", help="more sink settings: a=b&c=d")
    args = parser.parse_args()
    from confluent_kafka import Consumer

    lock = threading.Lock()
    latencies = []  # (written_us, latency_ms, commit_to_capture_ms)
    stop = threading.Event()
    work = tempfile.mkdtemp(prefix="eddy-kafka-latency-")
    db = run = None
    with KafkaMockCluster(args.mock, brokers=1) as cluster:
        topic = "lat.public.lat"
        cluster.create(topic, 4)

        def consume():
            consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "latency",
                                 "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                                 "fetch.wait.max.ms": 5, "enable.auto.commit": False})
            consumer.subscribe([topic])
            while not stop.is_set():
                message = consumer.poll(0.1)
                if message is None or message.error() is not None or message.value() is None:
                    continue
                now_us = time.time() * 1e6
                change = json.loads(message.value())
                after = change.get("after")
                if after:
                    written = int(after["written_us"])
                    with lock:
                        latencies.append((written if change["op"] == "c" else 0, (now_us - written) / 1000.0,
                                          (int(change["ts_ns"]) / 1000 - written) / 1000.0))
            consumer.close()

        reader = threading.Thread(target=consume, daemon=True)
        reader.start()
        try:
            # synchronous_commit=on, PostgreSQL's default: the throwaway server's own (off) leaves
            # commits to the WAL writer's 200 ms cycle, which logical decoding waits for.
            db = subprocess.Popen([args.localdb, "start", "postgres", "--url-file", work + "/url",
                                   "--set", "synchronous_commit=on"],
                                  stdout=subprocess.DEVNULL, stderr=open(work + "/localdb.log", "w"))
            url = wait_for(lambda: os.path.exists(work + "/url") and open(work + "/url").read().strip(),
                           120, "PostgreSQL to start")
            subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c",
                            "CREATE TABLE lat (id bigserial PRIMARY KEY, written_us bigint NOT NULL "
                            "DEFAULT (extract(epoch from clock_timestamp()) * 1000000)::bigint, pad text)"],
                           check=True, stdout=subprocess.DEVNULL)
            api_port = free_port()
            sink = (f"kafka://{cluster.bootstrap}?topic_prefix=lat&format=debezium&max_batching_window=0"
                    f"&exactly_once={args.exactly_once}")
            if args.batch_size is not None:
                sink += f"&batch_size={args.batch_size}"
            if args.sink_settings:
                sink += "&" + args.sink_settings
            run = subprocess.Popen([args.eddy, "run", "--source", url, "--data-dir", work + "/data",
                                    "--stream", "lat", "--tables", "public.lat", "--shards", str(args.shards),
                                    "--api-listen", f"127.0.0.1:{api_port}", "--sink", sink],
                                   stdout=open(work + "/eddy.log", "w"), stderr=subprocess.STDOUT)
            subprocess.run(["psql", url, "-q", "-c", "INSERT INTO lat (pad) VALUES ('probe')"],
                           check=True, stdout=subprocess.DEVNULL)
            wait_for(lambda: len(latencies) > 0 or run.poll() is not None, 60, "the first row")
            if run.poll() is not None:
                raise SystemExit(f"eddy exited {run.returncode}; see {work}/eddy.log")
            writer = subprocess.Popen(["psql", url, "-q"], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, text=True)
            values = ",".join(["('x')"] * args.rows_per_txn)
            statement = f"INSERT INTO lat (pad) VALUES {values};\n"
            txn_per_second = args.rate / args.rows_per_txn
            start = time.monotonic()
            warm_until_us = (time.time() + args.warmup) * 1e6
            sent = 0
            while time.monotonic() - start < args.warmup + args.seconds:
                delay = start + sent / txn_per_second - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # pacing the writer, not waiting for a result
                writer.stdin.write(statement)
                writer.stdin.flush()
                sent += 1
            writer.stdin.close()
            writer.wait(timeout=60)
            total = 1 + sent * args.rows_per_txn
            wait_for(lambda: len(latencies) >= total, 120, "every row to reach the consumer")
            elapsed = time.monotonic() - start
            with open(f"/proc/{run.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            eddy_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            rdk_main_cpu, rdk_cpu = librdkafka_cpu_seconds(run.pid)
            batches = metric(api_port, "eddy_sink_batch_duration_seconds_count")
            in_deliver = metric(api_port, "eddy_sink_batch_duration_seconds_sum")
            # At this rate the one lane is never idle (each batch holds what arrived during the
            # one before), so a batch's cycle is the run's time per batch: Deliver plus the
            # runner's work around it (the checkpoint file saved after each batch, ...).
            cycle_ms = 1000 * elapsed / max(batches, 1)
            print(f"{batches:.0f} batches, {total / max(batches, 1):.1f} records each, "
                  f"{1000 * in_deliver / max(batches, 1):.1f} ms each in the destination's Deliver "
                  f"of a {cycle_ms:.1f} ms cycle per batch; eddy's CPU {eddy_cpu:.2f} s in all, of which "
                  f"librdkafka's threads {rdk_cpu:.2f} s, its main thread {rdk_main_cpu:.2f} s "
                  f"({1000 * rdk_main_cpu / max(batches, 1):.2f} ms per transaction where exactly once)")
            with lock:
                measured = sorted(latency for written, latency, _ in latencies if written >= warm_until_us)
                captured = sorted(part for written, _, part in latencies if written >= warm_until_us)
            print(f"rows {len(measured)} measured ({total} written at {sent * args.rows_per_txn / elapsed:,.0f} "
                  f"rows/s), exactly_once={args.exactly_once}, commit -> read_committed consumer latency ms: "
                  f"p50 {percentile(measured, 50):.1f}, p95 {percentile(measured, 95):.1f}, "
                  f"p99 {percentile(measured, 99):.1f}, max {measured[-1]:.1f} (target p99 < 30 ms); of which commit "
                  f"to captured (the record's ts_ns): p50 {percentile(captured, 50):.1f}, "
                  f"p99 {percentile(captured, 99):.1f}")
            return 0
        finally:
            stop.set()
            if run is not None and run.poll() is None:
                run.send_signal(signal.SIGTERM)
                try:
                    run.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    run.kill()
            if db is not None:
                db.send_signal(signal.SIGTERM)
                try:
                    db.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    db.kill()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

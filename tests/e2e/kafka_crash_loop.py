#!/usr/bin/env python3
"""kill -9 loop for the Kafka sink's exactly-once delivery: every committed change reaches a
read_committed consumer exactly once, in per-key order, across crashes of `eddy run`.

    kafka_crash_loop.py EDDY LOCALDB KAFKA_MOCK_CLUSTER [--rounds N] [--seed S] [--brokers N]

Starts a throwaway PostgreSQL 15 (eddy-localdb) and librdkafka's mock cluster
(kafka-mock-cluster; Debian has no Kafka broker). A writer commits transactions that bump
per-key counters (`v` goes 1, 2, 3, ... for each key `k`). `eddy run --sink kafka://...` (the
default exactly_once: one Kafka transaction per batch holding the records and the sink's
checkpoint) is killed with SIGKILL at random moments (seeded, 0.3-2.5 s into each run) and
restarted, N rounds, while the writer keeps writing; then the writer stops and the last eddy
runs until the consumer has every change.

A python3-confluent-kafka consumer with isolation.level=read_committed reads the topic from
the beginning throughout. Checks, per key (a key's records are on one partition, so the
consumer sees them in the order they were written): nothing lost (every value 1..final
arrives), per-key order (the values come in runs that each go up by exactly 1, a run starting
no later than one past the highest value seen: a replay restarts from the committed
checkpoint, never skips ahead), and duplicates.

On the duplicates, what the mock can and cannot show: librdkafka's mock cluster implements the
transactional producer's protocol (InitProducerId with fencing, AddPartitionsToTxn, EndTxn)
but not read isolation: it keeps no last stable offset, writes no abort markers and returns
records of open and aborted transactions to read_committed consumers (checked against
librdkafka 2.0.2; docs/sinks/kafka.md). A Kafka broker hides those records; the mock shows
them. So here the duplicates are exactly the records of the one transaction open at each kill
(eddy commits one transaction at a time), and the test asserts at most batch_size duplicates
per kill (plus one batch for the brokers-down phase); on a real broker a read_committed
consumer sees 0 of them. The test prints the count.
With --impair, every broker is also taken down for a while during the last run: the sink must
report IMPAIRED (eddy's /metrics), then ACTIVE, with nothing lost.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from kafka_common import KafkaMockCluster, consumer, free_port, metric_state, wait_for

KEYS = 40
BATCH_SIZE = 50
SINK = "kv-kafka"


class Reader:
    """Keeps (k, v) of every committed record of the topic, in arrival order."""

    def __init__(self, bootstrap, topic):
        self.consumer = consumer(bootstrap, "crash-loop-reader")
        self.consumer.subscribe([topic])
        self.lock = threading.Lock()
        self.received = []
        self.errors = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop.is_set():
            message = self.consumer.poll(0.2)
            if message is None:
                continue
            if message.error() is not None:
                continue  # partition EOF or a transient broker error
            if message.value() is None:
                continue  # a tombstone (no deletes in this workload)
            try:
                change = json.loads(message.value())
                after = change["after"]
                with self.lock:
                    self.received.append((int(after["k"]), int(after["v"])))
            except Exception as error:
                with self.lock:
                    self.errors.append(f"{error}: {message.value()[:200]!r}")
        self.consumer.close()

    def snapshot(self):
        with self.lock:
            return list(self.received)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("mock")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("EDDY_CRASH_ROUNDS", "8")))
    parser.add_argument("--brokers", type=int, default=1)
    parser.add_argument("--impair", action="store_true")
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30)))))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"kafka_crash_loop: seed {args.seed} (EDDY_TEST_SEED replays), rounds {args.rounds}",
          flush=True)
    work = tempfile.mkdtemp(prefix="eddy-kafka-crash-")
    db = run = reader = None
    stop_writer = threading.Event()
    committed = {}
    writer_error = []
    cluster = KafkaMockCluster(args.mock, brokers=args.brokers)
    try:
        cluster.__enter__()
        db = subprocess.Popen([args.localdb, "start", "postgres", "--url-file", work + "/url"],
                              stdout=subprocess.DEVNULL, stderr=open(work + "/localdb.log", "w"))
        url = wait_for(lambda: os.path.exists(work + "/url") and open(work + "/url").read().strip(),
                       120, "PostgreSQL to start")

        def psql(sql):
            subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                           stdout=subprocess.DEVNULL)

        psql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL)")
        psql("INSERT INTO kv SELECT k, 1 FROM generate_series(1, %d) k" % KEYS)
        for k in range(1, KEYS + 1):
            committed[k] = 1

        def writer():
            proc = subprocess.Popen(["psql", url, "-v", "ON_ERROR_STOP=1", "-q"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            writer_rng = random.Random(args.seed + 1)
            try:
                while not stop_writer.is_set():
                    keys = writer_rng.sample(range(1, KEYS + 1), 3)
                    statements = "".join(f"UPDATE kv SET v = v + 1 WHERE k = {k};" for k in keys)
                    proc.stdin.write("BEGIN;" + statements + "COMMIT;\n")
                    proc.stdin.flush()
                    for k in keys:
                        committed[k] += 1
                    time.sleep(0.002)  # pacing the workload (about 1,500 changes/s), not a wait
                proc.stdin.write("\\q\n")
                proc.stdin.close()
                if proc.wait(timeout=60) != 0:
                    writer_error.append(proc.stderr.read())
            except Exception as error:
                writer_error.append(str(error))

        topic = "crash.public.kv"
        cluster.create(topic, 3)
        api_port = free_port()
        sink = (f"kafka://{cluster.bootstrap}?topic_prefix=crash&name={SINK}&format=debezium"
                f"&batch_size={BATCH_SIZE}"
                f"&delivery_timeout=5s")
        command = [args.eddy, "run", "--source", url, "--data-dir", work + "/data",
                   "--stream", "kv", "--tables", "public.kv", "--shards", "4",
                   "--api-listen", f"127.0.0.1:{api_port}", "--sink", sink]
        log = open(work + "/eddy.log", "a")
        reader = Reader(cluster.bootstrap, topic)

        def start():
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

        writer_thread = threading.Thread(target=writer, daemon=True)
        crashes = 0
        for round_index in range(args.rounds):
            run = start()
            if round_index == 0:
                wait_for(lambda: run.poll() is not None or
                         len({k for k, _ in reader.snapshot()}) == KEYS, 120,
                         "the snapshot rows to reach Kafka")
                writer_thread.start()
            before = len(reader.snapshot())
            wait_for(lambda: run.poll() is not None or len(reader.snapshot()) > before, 60,
                     f"round {round_index}: delivery to start")
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            time.sleep(rng.uniform(0.3, 2.5))  # the random crash moment
            run.send_signal(signal.SIGKILL)
            run.wait()
            crashes += 1
        if args.impair:
            run = start()
            wait_for(lambda: metric_state(api_port, SINK) == "ACTIVE", 60, "the sink to be ACTIVE")
            for broker in range(1, args.brokers + 1):
                cluster.down(broker)
            wait_for(lambda: metric_state(api_port, SINK) == "IMPAIRED", 60,
                     "the sink to report IMPAIRED with the brokers down")
            print("kafka_crash_loop: brokers down -> IMPAIRED", flush=True)
            for broker in range(1, args.brokers + 1):
                cluster.up(broker)
            wait_for(lambda: metric_state(api_port, SINK) == "ACTIVE", 90,
                     "the sink to return to ACTIVE with the brokers up")
            print("kafka_crash_loop: brokers up -> ACTIVE", flush=True)
        stop_writer.set()
        writer_thread.join(timeout=120)
        if writer_error:
            raise AssertionError("the workload failed: " + "; ".join(writer_error))
        final = dict(committed)
        total = sum(final.values())
        if run is None or run.poll() is not None:
            run = start()

        def caught_up():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            return len(reader.snapshot()) >= total

        wait_for(caught_up, 240, f"{total} committed changes to reach the consumer")
        run.send_signal(signal.SIGTERM)
        if run.wait(timeout=60) != 0:
            raise AssertionError(f"eddy did not stop cleanly on SIGTERM: {run.returncode}")
        run = None
        # Anything late (a duplicate would be) has had the time eddy took to stop.
        reader.close()
        if reader.errors:
            raise AssertionError("malformed records: " + "\n".join(reader.errors[:5]))
        received = reader.snapshot()
        per_key = {}
        for k, v in received:
            per_key.setdefault(k, []).append(v)
        duplicates = len(received) - len(set(received))
        for k, last in final.items():
            values = per_key.get(k, [])
            missing = sorted(set(range(1, last + 1)) - set(values))
            extra = sorted(set(values) - set(range(1, last + 1)))
            assert not missing, f"key {k}: lost values {missing[:10]}"
            assert not extra, f"key {k}: values never committed {extra[:10]}"
            highest = 0
            previous = None
            for v in values:
                if previous is not None and v != previous + 1:
                    # A replay from the committed checkpoint: never ahead of what was seen.
                    assert v <= previous, f"key {k}: {v} after {previous} (a change skipped or reordered): {values[:40]}"
                assert v <= highest + 1, f"key {k}: {v} before {highest + 1}: {values[:40]}"
                highest = max(highest, v)
                previous = v
        bound = (crashes + (1 if args.impair else 0)) * BATCH_SIZE
        print(f"kafka_crash_loop: {total} committed changes, {len(received)} read, 0 lost, per-key "
              f"order kept, {duplicates} duplicates after {crashes} kill -9 (records of the "
              f"transaction open at a kill, which the mock cluster does not hide from "
              f"read_committed readers; bound {bound})", flush=True)
        assert duplicates <= bound, f"{duplicates} duplicates exceed one batch per kill ({bound})"
        print("kafka_crash_loop: 1 passed, 0 failed")
        return 0
    finally:
        stop_writer.set()
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        if reader is not None:
            reader.close()
        if db is not None:
            db.send_signal(signal.SIGTERM)
            try:
                db.wait(timeout=60)
            except subprocess.TimeoutExpired:
                db.kill()
        cluster.stop()
        if os.environ.get("EDDY_KEEP_WORK"):
            print(f"kafka_crash_loop: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

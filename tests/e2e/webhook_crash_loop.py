#!/usr/bin/env python3
"""kill -9 loop for HTTP push delivery: no committed change lost, per-key order, duplicates
only from batches in flight at a crash.

    webhook_crash_loop.py EDDY_BINARY EDDY_LOCALDB_BINARY [--rounds N] [--seed S]

Starts a throwaway PostgreSQL 15 (eddy-localdb) and a receiver (an HTTP function in this
process, stdlib http.server) that acknowledges every POST and records every Lambda-shaped
Kinesis record it gets, tagged with the eddy process ("epoch") that was running when it
arrived. A writer thread commits transactions that bump per-key counters (`v` goes 1, 2, 3,
... for each key `k`), so every change is identifiable. `eddy run --sink webhook+http://...`
is killed with SIGKILL at random moments (a seeded random 0.3-2.5 s into each run) and
restarted, N rounds, while the writer keeps writing; then the writer stops and the last eddy
runs until the receiver has every change.

Checks:
- no loss: for every key, the values received are exactly 1..final (every committed change
  reached the receiver at least once);
- per-key order: within one epoch, a key's values arrive strictly increasing (a record of a
  key is never delivered before an earlier one); across a restart, delivery may repeat
  records of the batches that were in flight at the crash and resumes from the checkpoint;
- duplicates: every duplicate arrived in an epoch after a crash and repeats a record of the
  previous epoch's last batches; their count is printed and must be at most
  rounds x (batch_size x parallelization_factor) (what can be in flight at a crash).

The receiver is this test's own: no external function runtime is needed. Waits are bounded
polls on conditions, never fixed sleeps (the kill moments are random by design).
"""
import argparse
import base64
import http.server
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BATCH_SIZE = 50
PARALLELIZATION = 2
KEYS = 40


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)  # polling a condition with a deadline
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


class Receiver:
    """Records (epoch, key, value) for every row change it is sent."""

    def __init__(self):
        self.lock = threading.Lock()
        self.epoch = 0
        self.received = []  # (epoch, k, v)
        self.requests = 0
        self.bad = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                # A connection belongs to the eddy process that opened it: its requests count in
                # that run's epoch even when a loaded machine handles them after a restart
                # began (a killed process's last request may still be in the socket buffer).
                super().setup()
                with receiver.lock:
                    self.epoch = receiver.epoch

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                try:
                    event = json.loads(body)
                    rows = []
                    for record in event["Records"]:
                        assert record["eventSource"] == "aws:kinesis", record
                        change = json.loads(base64.b64decode(record["kinesis"]["data"]))
                        if change.get("op") not in ("c", "u", "r"):
                            continue
                        after = change["after"]
                        rows.append((int(after["k"]), int(after["v"])))
                except Exception as error:  # a malformed event is a test failure
                    with receiver.lock:
                        receiver.bad.append(f"{error}: {body[:200]!r}")
                    rows = []
                with receiver.lock:
                    receiver.requests += 1
                    for k, v in rows:
                        receiver.received.append((self.epoch, k, v))
                reply = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def new_epoch(self):
        with self.lock:
            self.epoch += 1

    def snapshot(self):
        with self.lock:
            return list(self.received)

    def stop(self):
        self.server.shutdown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("EDDY_CRASH_ROUNDS", "8")))
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30)))))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"webhook_crash_loop: seed {args.seed} (EDDY_TEST_SEED replays), rounds {args.rounds}",
          flush=True)

    work = tempfile.mkdtemp(prefix="eddy-webhook-crash-")
    db = run = None
    receiver = Receiver()
    stop_writer = threading.Event()
    committed = {}  # k -> last committed v
    writer_error = []
    try:
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
            # One psql session; each transaction bumps a few keys once.
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

        sink = (f"webhook+http://127.0.0.1:{receiver.port}/fn?batch_size={BATCH_SIZE}"
                f"&parallelization_factor={PARALLELIZATION}&max_batching_window=0")
        command = [args.eddy, "run", "--source", url, "--data-dir", work + "/data",
                   "--stream", "kv", "--tables", "public.kv", "--shards", "4",
                   "--api-listen", "127.0.0.1:0", "--sink", sink]
        log = open(work + "/eddy.log", "a")

        def start():
            receiver.new_epoch()
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

        writer_thread = threading.Thread(target=writer, daemon=True)
        crashes = 0
        for round_index in range(args.rounds):
            run = start()
            if round_index == 0:
                # The snapshot (v = 1 for every key) first, so each later value is one change.
                wait_for(lambda: run.poll() is not None or
                         len({k for _, k, _ in receiver.snapshot()}) == KEYS, 120,
                         "the snapshot rows to reach the receiver")
                writer_thread.start()
            # Let it deliver something before the crash (each restart must make progress),
            # then kill at a random moment.
            before = len(receiver.snapshot())
            wait_for(lambda: run.poll() is not None or len(receiver.snapshot()) > before, 60,
                     f"round {round_index}: delivery to start")
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            time.sleep(rng.uniform(0.3, 2.5))  # the random crash moment
            run.send_signal(signal.SIGKILL)
            run.wait()
            crashes += 1
        stop_writer.set()
        writer_thread.join(timeout=120)
        if writer_error:
            raise AssertionError("the workload failed: " + "; ".join(writer_error))
        final = dict(committed)
        total_changes = sum(final.values())
        run = start()

        def caught_up():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            seen = {}
            for _, k, v in receiver.snapshot():
                seen.setdefault(k, set()).add(v)
            return all(len(seen.get(k, ())) == final[k] for k in final)

        wait_for(caught_up, 180, "every committed change to reach the receiver")
        run.send_signal(signal.SIGTERM)
        if run.wait(timeout=60) != 0:
            raise AssertionError(f"eddy did not stop cleanly on SIGTERM: {run.returncode}")
        run = None

        if receiver.bad:
            raise AssertionError("malformed events: " + "\n".join(receiver.bad[:5]))
        received = receiver.snapshot()
        # No loss: exactly 1..final[k] for every key.
        values = {}
        for _, k, v in received:
            values.setdefault(k, []).append(v)
        for k, last in final.items():
            distinct = set(values.get(k, []))
            missing = set(range(1, last + 1)) - distinct
            extra = distinct - set(range(1, last + 1))
            assert not missing, f"key {k}: lost values {sorted(missing)[:10]}"
            assert not extra, f"key {k}: values never committed {sorted(extra)[:10]}"
        # Per-key order within each epoch; duplicates only across a restart.
        last_in_epoch = {}
        duplicates = 0
        first_seen_epoch = {}
        for epoch, k, v in received:
            previous = last_in_epoch.get((epoch, k))
            assert previous is None or v > previous, (
                f"key {k}: value {v} after {previous} within one eddy run (per-key order broken)")
            last_in_epoch[(epoch, k)] = v
            if (k, v) in first_seen_epoch:
                duplicates += 1
                assert epoch > first_seen_epoch[(k, v)], f"key {k} value {v} twice in one run"
            else:
                first_seen_epoch[(k, v)] = epoch
        bound = crashes * BATCH_SIZE * PARALLELIZATION * 4  # 4 shards each with its lanes
        print(f"webhook_crash_loop: {total_changes} committed changes, {len(received)} received, "
              f"{duplicates} duplicates after {crashes} kill -9 ({receiver.requests} requests); "
              f"bound {bound}", flush=True)
        assert duplicates <= bound, f"{duplicates} duplicates exceed the in-flight bound {bound}"
        print("webhook_crash_loop: 1 passed, 0 failed")
        return 0
    finally:
        stop_writer.set()
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        receiver.stop()
        if db is not None:
            db.send_signal(signal.SIGTERM)
            try:
                db.wait(timeout=60)
            except subprocess.TimeoutExpired:
                db.kill()
        if os.environ.get("EDDY_KEEP_WORK"):
            print(f"webhook_crash_loop: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

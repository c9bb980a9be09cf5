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
import base64
import http.server
import json
import random
import sys
import threading

from crash_loop import (CounterWorkload, CrashLoop, all_values_delivered,
                        check_every_value_once_or_more, parse_args, shut_down, work_directory)
from e2e_common import Postgres

BATCH_SIZE = 50
PARALLELIZATION = 2
KEYS = 40


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
    args = parse_args("webhook_crash_loop")
    rng = random.Random(args.seed)
    with work_directory("webhook-crash") as work:
        db = loop = workload = None
        receiver = Receiver()
        try:
            db = Postgres(args.localdb, work)
            workload = CounterWorkload(db, KEYS, args.seed)
            sink = (f"webhook+http://127.0.0.1:{receiver.port}/fn?batch_size={BATCH_SIZE}"
                    f"&parallelization_factor={PARALLELIZATION}&max_batching_window=0")
            loop = CrashLoop("webhook_crash_loop", work,
                             [args.eddy, "run", "--source", db.url, "--data-dir", work + "/data",
                              "--stream", "kv", "--tables", "public.kv", "--shards", "4",
                              "--api-listen", "127.0.0.1:0", "--sink", sink],
                             before_start=receiver.new_epoch)
            loop.rounds(args.rounds, rng, workload,
                        delivered=lambda: len(receiver.snapshot()),
                        snapshot_delivered=lambda: len({k for _, k, _ in receiver.snapshot()}) == KEYS)
            final = workload.stop()
            total_changes = sum(final.values())
            loop.finish(lambda: all_values_delivered(final, [(k, v) for _, k, v in receiver.snapshot()]),
                        180, "every committed change to reach the receiver")

            if receiver.bad:
                raise AssertionError("malformed events: " + "\n".join(receiver.bad[:5]))
            received = receiver.snapshot()
            check_every_value_once_or_more(final, [(k, v) for _, k, v in received])
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
            bound = loop.crashes * BATCH_SIZE * PARALLELIZATION * 4  # 4 shards with their lanes
            print(f"webhook_crash_loop: {total_changes} committed changes, {len(received)} received, "
                  f"{duplicates} duplicates after {loop.crashes} kill -9 ({receiver.requests} "
                  f"requests); bound {bound}", flush=True)
            assert duplicates <= bound, f"{duplicates} duplicates exceed the in-flight bound {bound}"
            print("webhook_crash_loop: 1 passed, 0 failed")
            return 0
        finally:
            shut_down(workload, loop, db, receiver)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Latency from a commit in a real PostgreSQL to the webhook receiver (issue 12: p50 and p99
at 5,000 changes/s with max_batching_window 0; target p99 under 25 ms).

    python3 bench/sink/webhook_latency.py EDDY_BINARY EDDY_LOCALDB_BINARY
        [--rate=5000] [--seconds=20] [--warmup=3] [--rows-per-txn=10] [--shards=4]
        [--batch-size=100]

Starts a throwaway PostgreSQL (`eddy-localdb start postgres`) and `eddy run` capturing one
table with `--sink webhook+http://127.0.0.1:R/?max_batching_window=0&batch_size=B`; then a
paced writer (`psql` fed one autocommit INSERT of --rows-per-txn rows at a time, --rate rows/s
in all) writes rows that carry their insert wall-clock time (column default
`clock_timestamp()` in microseconds: the measure includes the commit itself). The receiver
(stdlib http.server in this process) decodes each Lambda Kinesis record's data (native JSON)
and takes latency = its wall-clock time when the request is read - the row's written time.
Rows written during the warm-up are not counted. Prints count and p50/p95/p99/max. Both
clocks are this machine's CLOCK_REALTIME.
"""
import argparse
import base64
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_common import wait_for  # noqa: E402



def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[index]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rows-per-txn", type=int, default=10)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--series", help="write 'written_us latency_ms' per measured row here")
    args = parser.parse_args()

    lock = threading.Lock()
    latencies = []  # (written_us, latency_ms)
    received = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The reply's head and body are separate writes: without TCP_NODELAY the body waits
        # for the client's delayed ACK (about 40 ms), which would be measured as eddy's.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            now_us = time.time() * 1e6
            rows = []
            for record in json.loads(body)["Records"]:
                change = json.loads(base64.b64decode(record["kinesis"]["data"]))
                after = change.get("after")
                if change.get("op") in ("c", "r") and after:
                    written = int(after["written_us"])
                    # Snapshot rows (op r) only count towards readiness, not latency.
                    rows.append((written if change["op"] == "c" else 0,
                                 (now_us - written) / 1000.0,
                                 (int(change["ts_ns"]) / 1000 - written) / 1000.0))
            with lock:
                latencies.extend(rows)
                received[0] += len(rows)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.daemon_threads = True
    threading.Thread(target=receiver.serve_forever, daemon=True).start()

    work = tempfile.mkdtemp(prefix="eddy-webhook-latency-")
    db = run = None
    try:
        # synchronous_commit=on, PostgreSQL's default: the throwaway server's own default (off)
        # leaves commits to the WAL writer (wal_writer_delay, 200 ms), which logical decoding
        # then waits for, so it would measure the server's setting, not eddy.
        db = subprocess.Popen([args.localdb, "start", "postgres", "--url-file", work + "/url",
                               "--set", "synchronous_commit=on"],
                              stdout=subprocess.DEVNULL, stderr=open(work + "/localdb.log", "w"))
        url = wait_for(lambda: os.path.exists(work + "/url") and open(work + "/url").read().strip(),
                       120, "PostgreSQL to start")
        subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c",
                        "CREATE TABLE lat (id bigserial PRIMARY KEY, written_us bigint NOT NULL "
                        "DEFAULT (extract(epoch from clock_timestamp()) * 1000000)::bigint, "
                        "pad text)"], check=True, stdout=subprocess.DEVNULL)
        sink = (f"webhook+http://127.0.0.1:{receiver.server_address[1]}/?max_batching_window=0"
                f"&batch_size={args.batch_size}")
        run = subprocess.Popen([args.eddy, "run", "--source", url, "--data-dir", work + "/data",
                                "--stream", "lat", "--tables", "public.lat",
                                "--shards", str(args.shards), "--api-listen", "127.0.0.1:0",
                                "--sink", sink],
                               stdout=open(work + "/eddy.log", "w"), stderr=subprocess.STDOUT)
        # Ready when a probe row arrives.
        subprocess.run(["psql", url, "-q", "-c", "INSERT INTO lat (pad) VALUES ('probe')"],
                       check=True, stdout=subprocess.DEVNULL)
        wait_for(lambda: received[0] > 0 or run.poll() is not None, 60, "the first row")
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
            due = start + sent / txn_per_second
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the writer, not waiting for a result
            writer.stdin.write(statement)
            writer.stdin.flush()
            sent += 1
        writer.stdin.close()
        writer.wait(timeout=60)
        total_rows = 1 + sent * args.rows_per_txn
        wait_for(lambda: received[0] >= total_rows, 120, "every row to reach the receiver")
        with lock:
            measured = sorted(latency for written, latency, _ in latencies
                              if written >= warm_until_us)
            captured = sorted(part for written, _, part in latencies if written >= warm_until_us)
        if args.series:
            with open(args.series, "w") as out, lock:
                for written, latency, _ in sorted(latencies):
                    if written >= warm_until_us:
                        out.write(f"{written} {latency:.3f}\n")
        elapsed = time.monotonic() - start
        print(f"rows {len(measured)} measured ({total_rows} written at "
              f"{sent * args.rows_per_txn / elapsed:,.0f} rows/s), latency ms: "
              f"p50 {percentile(measured, 50):.1f}, p95 {percentile(measured, 95):.1f}, "
              f"p99 {percentile(measured, 99):.1f}, max {measured[-1] if measured else float('nan'):.1f} "
              f"(target p99 < 25 ms); of which commit to captured (the record's ts_ns): "
              f"p50 {percentile(captured, 50):.1f}, p99 {percentile(captured, 99):.1f}")
        return 0
    finally:
        receiver.shutdown()
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

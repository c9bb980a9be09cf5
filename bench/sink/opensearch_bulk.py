#!/usr/bin/env python3
"""Documents/s of the OpenSearch sink into the stand-in against curl posting the same NDJSON
bodies into the same stand-in, in one run; prints the ratio (the client-side cost of building
and sending bulk requests).

    /usr/bin/python3 bench/sink/opensearch_bulk.py EDDY_BINARY EDDY_LOCALDB_BINARY
        [--rows=50000] [--repeat=3] [--shards=2] [--sink-settings=bulk_window=0]

No OpenSearch server can be installed here, so both sides write into
tests/support/opensearch_standin.py (python, in memory): its own cost bounds both figures, and
the ratio says how close eddy gets to a client that only sends ready-made bodies.

1. A throwaway PostgreSQL 15 (eddy-localdb) with a table of --rows rows (int key, text,
   numeric, bigint, timestamptz); `eddy run` captures its snapshot into a log of --shards
   shards (and delivers it once to a warm-up index), then stops.
2. eddy: `eddy serve --data-dir D --sink opensearch+http://STANDIN?source_stream=s&name=run-N`
   reads the whole log from TRIM_HORIZON and indexes every row (bulk requests of 1,000
   documents, one lane per shard). Timed from the process start until its
   eddy_sink_delivered_records_total reaches --rows (eddy's /metrics, polled every 20 ms). The
   stand-in records every request body (--record).
3. Reference: a fresh stand-in, and one curl process posting the recorded bodies one after the
   other on one kept-alive connection (`curl -K`: the same requests, same URL with eddy's
   filter_path, no client-side work).
   Timed from curl's start to its exit.
--repeat alternates the two and prints the median ratio eddy / curl.
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
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
from opensearch_support import (Standin, free_port, psql, start_postgres, stop_all,  # noqa: E402
                                wait_for)


# The query eddy's requests carry (sink/opensearch/bulk.h, kBulkFilterPath): the same requests.
FILTER = "filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason"


def delivered(metrics_port, sink):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return 0
    match = re.search(r'^eddy_sink_delivered_records_total\{[^}]*sink="%s"[^}]*\} (\S+)$' %
                      re.escape(sink), text, re.M)
    return int(float(match.group(1))) if match else 0


def count(standin, index):
    status, body = standin.request("GET", f"/{index}/_count")
    return body.get("count", 0) if status == 200 else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--sink-settings", default="bulk_window=0",
                        help="extra query settings of the eddy sink URL")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-bench-opensearch-")
    processes = []
    try:
        db, url = start_postgres(args.localdb, work)
        processes.append(db)
        psql(url, "CREATE TABLE t (id int PRIMARY KEY, name text, price numeric(10,2), "
                  "qty bigint, at timestamptz)")
        psql(url, f"INSERT INTO t SELECT k, 'name ' || k, k * 0.01, k * 7, "
                  f"timestamptz '2024-01-01' + k * interval '1 second' "
                  f"FROM generate_series(1, {args.rows}) k")
        data = os.path.join(work, "data")

        warm = Standin(work, name="warm", persist=False)
        capture = subprocess.Popen(
            [args.eddy, "run", "--source", url, "--data-dir", data, "--stream", "s",
             "--tables", "public.t", "--shards", str(args.shards), "--api-listen", "127.0.0.1:0",
             "--sink", f"opensearch+http://127.0.0.1:{warm.port}?name=warm&index=warm"],
            stdout=open(work + "/capture.log", "w"), stderr=subprocess.STDOUT)
        wait_for(lambda: capture.poll() is not None or count(warm, "warm") == args.rows, 600,
                 "the snapshot captured and delivered once")
        capture.send_signal(signal.SIGTERM)
        capture.wait(timeout=60)
        warm.stop()

        eddy_rates, curl_rates, ratios = [], [], []
        for n in range(args.repeat):
            record = os.path.join(work, f"bodies-{n}")
            os.makedirs(record)
            target = Standin(work, name=f"eddy-{n}", persist=False, record=record)
            metrics_port = free_port()
            sink = f"run-{n}"
            started = time.monotonic()
            serve = subprocess.Popen(
                [args.eddy, "serve", "--data-dir", data, "--api-listen", "127.0.0.1:0",
                 "--metrics-listen", f"127.0.0.1:{metrics_port}", "--sink",
                 f"opensearch+http://127.0.0.1:{target.port}?source_stream=s&name={sink}"
                 f"&index=bench&{args.sink_settings}"],
                stdout=open(work + f"/serve-{n}.log", "w"), stderr=subprocess.STDOUT)
            wait_for(lambda: serve.poll() is not None or
                     delivered(metrics_port, sink) >= args.rows, 600, "eddy to index every row",
                     interval=0.02)
            eddy_seconds = time.monotonic() - started
            if serve.poll() is not None:
                raise SystemExit(f"eddy serve exited with {serve.returncode}")
            assert count(target, "bench") == args.rows, count(target, "bench")
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
            target.stop()

            bodies = sorted(os.listdir(record))
            reference = Standin(work, name=f"curl-{n}", persist=False)
            config = os.path.join(work, f"curl-{n}.cfg")
            with open(config, "w") as f:
                for i, body in enumerate(bodies):
                    if i:
                        f.write("next\n")
                    f.write(f'url = "http://127.0.0.1:{reference.port}/_bulk?{FILTER}"\n'
                            f'data-binary = "@{os.path.join(record, body)}"\n'
                            'header = "Content-Type: application/x-ndjson"\n'
                            'output = "/dev/null"\nsilent\nfail\n')
            started = time.monotonic()
            subprocess.run(["curl", "-K", config], check=True)
            curl_seconds = time.monotonic() - started
            assert count(reference, "bench") == args.rows, count(reference, "bench")
            reference.stop()

            eddy_rate, curl_rate = args.rows / eddy_seconds, args.rows / curl_seconds
            eddy_rates.append(eddy_rate)
            curl_rates.append(curl_rate)
            ratios.append(eddy_rate / curl_rate)
            print(f"run {n + 1}: eddy {eddy_rate:,.0f} documents/s ({eddy_seconds:.2f} s, "
                  f"{len(bodies)} bulk requests, start-up included); curl {curl_rate:,.0f} "
                  f"documents/s ({curl_seconds:.2f} s); ratio {eddy_rate / curl_rate:.2f}",
                  flush=True)
            shutil.rmtree(record, ignore_errors=True)
        print(f"opensearch_bulk: {args.rows} rows, {args.shards} shards; median eddy "
              f"{statistics.median(eddy_rates):,.0f} documents/s, curl "
              f"{statistics.median(curl_rates):,.0f} documents/s; median ratio eddy / curl "
              f"{statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")
        return 0
    finally:
        stop_all(processes)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Parquet through the `eddy` binary as users run it, against DuckDB writing the same rows with
`COPY ... TO 'x.parquet'`, in the same run; prints rows/s, MB/s and the ratio.

    python3 bench/parquet/objects_parquet_bench.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE
        [--rows=300000] [--compression=snappy] [--repeat=3]

1. A throwaway PostgreSQL gets --rows retail_trans rows (seed 002's shape: trans_id bigint,
   customer_id, event, sku, device text, quantity int, trans_datetime timestamp); `eddy run`
   captures them (the snapshot) into a 4-shard stream, then stops (untimed). psql exports the
   same rows as CSV (untimed).
2. eddy, timed: `eddy serve --data-dir D --sink 'file://DIR?format=parquet&compression=C&
   buffer_size_mb=128&buffer_interval=0'` from process start until its saved state counts every
   record as acknowledged (`eddy status`): reading the log, decoding each event, the runner's
   rendering (native JSON, for prefixes and batching by bytes), the Parquet encoding and the
   file writes (fsync'd and renamed into place). The same with format=native JSON lines
   (UNCOMPRESSED) gives the shared path's share; `--repeat` runs of each, best and median.
3. DuckDB, timed (bench/parquet/duckdb_copy.mjs): the CSV loaded into a table (untimed), then
   `COPY retail_trans TO 'x.parquet' (FORMAT parquet, COMPRESSION C)`, --repeat times, on all
   of DuckDB's threads. It also checks that eddy's files hold exactly the table's rows.
Ratio = DuckDB seconds / eddy seconds (best runs; above 1: eddy is faster).
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
from objects_support import Postgres, wait_for  # noqa: E402


def delivered(eddy, data_dir, name):
    text = subprocess.run([eddy, "status", "--data-dir", data_dir], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True).stdout
    for line in text.splitlines():
        if line.startswith(f"sink {name}:"):
            found = re.search(r"delivered_records=(\d+)", line)
            return int(found.group(1)) if found else 0
    return 0


def serve(eddy, data_dir, name, url, rows, log):
    """Seconds from `eddy serve` start until the sink `name` acknowledged `rows` records."""
    started = time.monotonic()
    run = subprocess.Popen([eddy, "serve", "--data-dir", data_dir, "--api-listen", "127.0.0.1:0",
                            "--sink", f"{url}&name={name}&stream=retail"],
                           stdout=open(log, "a"), stderr=subprocess.STDOUT)
    try:
        # Polled every 0.2 s: each poll starts an `eddy status` process, which would otherwise
        # compete with the measured one for the cores.
        deadline = started + 600
        while delivered(eddy, data_dir, name) < rows:
            if run.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"sink {name} did not deliver every record; see {log}")
            time.sleep(0.2)
        return time.monotonic() - started
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("node")
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--compression", default="snappy")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-parquet-bench-")
    db = None
    try:
        db = Postgres(args.localdb, work)
        db.sql("CREATE TABLE retail_trans (trans_id bigint PRIMARY KEY, customer_id text,"
               " event text, sku text, device text, quantity int, trans_datetime timestamp)")
        db.sql("INSERT INTO retail_trans SELECT g, 'C' || lpad((g % 50000)::text, 6, '0'),"
               " (ARRAY['purchase','return','view','add_to_cart'])[1 + g % 4],"
               " 'SKU-' || (g % 5003), (ARRAY['web','ios','android'])[1 + g % 3], 1 + g % 7,"
               " TIMESTAMP '2026-01-01' + (g || ' seconds')::interval"
               f" FROM generate_series(1, {args.rows}) g")
        csv = work + "/retail_trans.csv"
        subprocess.run(["psql", db.url, "-q", "-c", f"\\copy retail_trans TO '{csv}' CSV"],
                       check=True)
        data_dir = work + "/data"
        capture = subprocess.Popen(
            [args.eddy, "run", "--source", db.url, "--data-dir", data_dir, "--stream", "retail",
             "--tables", "public.retail_trans", "--shards", "4", "--api-listen", "127.0.0.1:0",
             "--sink", f"file://{work}/check?name=check&buffer_interval=1&buffer_size_mb=64"],
            stdout=open(work + "/capture.log", "w"), stderr=subprocess.STDOUT)
        wait_for(lambda: capture.poll() is None and
                 delivered(args.eddy, data_dir, "check") >= args.rows, 600,
                 "the snapshot to be captured")
        capture.send_signal(signal.SIGTERM)
        capture.wait(timeout=60)

        parquet_seconds, lines_seconds = [], []
        for run in range(args.repeat):
            lake = f"{work}/parquet-{run}"
            parquet_seconds.append(serve(
                args.eddy, data_dir, f"pq{run}",
                f"file://{lake}?format=parquet&compression={args.compression}"
                "&buffer_size_mb=128&buffer_interval=0", args.rows, work + "/serve.log"))
            lines_seconds.append(serve(
                args.eddy, data_dir, f"jl{run}",
                f"file://{work}/lines-{run}?buffer_size_mb=128&buffer_interval=0", args.rows,
                work + "/serve.log"))
        reply = subprocess.run([args.node, os.path.join(HERE, "duckdb_copy.mjs"), csv, work,
                                work + "/parquet-0", f"--repeat={args.repeat}",
                                f"--compression={args.compression}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        if reply.returncode != 0:
            raise AssertionError("DuckDB failed: " + reply.stderr[-2000:])
        duck = json.loads(reply.stdout)
        assert duck["rows"] == args.rows and duck["eddy_rows"] == args.rows, duck
        assert duck["differences"] == 0, f"eddy's Parquet rows differ from the table's: {duck}"

        csv_mb = os.path.getsize(csv) / 1e6
        eddy_best, duck_best = min(parquet_seconds), min(duck["seconds"])
        line = lambda name, seconds, mb: (
            f"  {name:<44} {seconds:7.2f} s {args.rows / seconds:>11,.0f} rows/s "
            f"{csv_mb / seconds:7.1f} MB/s of CSV  ({mb:.1f} MB of Parquet)")
        print(f"objects_parquet_bench: {args.rows:,} retail_trans rows ({csv_mb:.1f} MB as CSV), "
              f"{args.compression}, best of {args.repeat}, load {os.getloadavg()[0]:.1f}")
        print(line("eddy serve --sink file://?format=parquet", eddy_best, duck["eddy_bytes"] / 1e6)
              + f", {duck['eddy_files']} files")
        print(f"  {'eddy serve --sink file:// (JSON lines)':<44} {min(lines_seconds):7.2f} s "
              f"{args.rows / min(lines_seconds):>11,.0f} rows/s  (the shared path's share)")
        print(line(f"DuckDB COPY TO parquet ({duck['threads']} threads)", duck_best,
                   duck["bytes"] / 1e6))
        print(f"  medians: eddy parquet {statistics.median(parquet_seconds):.2f} s, JSON lines "
              f"{statistics.median(lines_seconds):.2f} s, DuckDB {statistics.median(duck['seconds']):.3f} s")
        print(f"  ratio DuckDB seconds / eddy seconds: {duck_best / eddy_best:.2f}")
        return 0
    finally:
        if db is not None:
            db.stop()
        if args.keep:
            print(f"objects_parquet_bench: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

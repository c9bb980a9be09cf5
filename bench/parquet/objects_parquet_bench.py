#!/usr/bin/env python3
"""Parquet through the `eddy` binary as users run it, against DuckDB writing the same rows with
`COPY ... TO 'x.parquet'`, in the same run; prints rows/s, MB/s and the ratio.

    python3 bench/parquet/objects_parquet_bench.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE
        [--rows=300000] [--compression=snappy] [--repeat=3] [--keep]

Like with like: DuckDB's rows are already in its table, so eddy's are already in its log.
1. A throwaway PostgreSQL gets --rows retail_trans rows (seed 002's shape: trans_id bigint,
   customer_id, event, sku, device text, quantity int, trans_datetime timestamp); psql exports
   them as CSV for DuckDB (untimed).
2. From capture (the second figure): `eddy run --source PG --shards 4 --sink
   'file://DIR?format=parquet&...'` from process start until the sink acknowledged every row:
   the snapshot read from PostgreSQL, the log appends and fsyncs, and the Parquet objects. This
   run also leaves the rows in eddy's log for step 3.
3. eddy, timed (the main figure), --repeat times: `eddy serve --data-dir D --sink
   'file://DIR?format=parquet&compression=C&buffer_size_mb=128&buffer_interval=0'`, a new sink
   reading the stream from TRIM_HORIZON, from process start until the sink acknowledged every
   row, i.e. until the last object is durable (fsync'd and renamed into place): start-up,
   reading the log, decoding the events, the Parquet encoding and the object writes. Progress
   is eddy_sink_delivered_records_total on /metrics, polled every 10 ms over HTTP. The CPU
   seconds eddy used are printed too (utime + stime of the process), and the fastest run's CPU
   by thread (objects-encode, sink-lane-0, sink-control, ...).
4. DuckDB, timed (bench/parquet/duckdb_copy.mjs), --repeat times: the CSV loaded into a table
   (untimed), then `COPY retail_trans TO 'x.parquet' (FORMAT parquet, COMPRESSION C)` on all
   of DuckDB's threads. It also checks that eddy's files hold exactly the table's rows.
Ratio = DuckDB seconds / eddy seconds (best runs, and medians; above 1: eddy is faster).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
from e2e_common import Postgres, free_port, stop_process  # noqa: E402
from objects_support import delivered_records  # noqa: E402
sys.path.insert(0, os.path.join(HERE, ".."))
from bench_common import create_retail_trans, format_thread_cpu, thread_cpu_seconds  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a live process, from /proc (what its threads used so far)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def timed_eddy(argv, sink, rows, log):
    """(wall seconds, CPU seconds, CPU by thread as text) from the start of `argv` (an eddy
    command, whose API port serves /metrics) until the sink named `sink` acknowledged `rows`
    records."""
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(argv + ["--api-listen", f"127.0.0.1:{port}"],
                               stdout=open(log, "a"), stderr=subprocess.STDOUT)
    try:
        deadline = started + 600
        while delivered_records(port, sink) < rows:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"sink {sink} did not deliver every record; see {log}")
            time.sleep(0.01)  # polling a condition with a deadline
        seconds = time.monotonic() - started
        return seconds, cpu_seconds(process.pid), format_thread_cpu(thread_cpu_seconds(process.pid))
    finally:
        stop_process(process)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("node")
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--compression", default="snappy")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (the data directory, for profiling)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-parquet-bench-")
    db = None
    try:
        db = Postgres(args.localdb, work)
        create_retail_trans(db, args.rows)
        csv = work + "/retail_trans.csv"
        subprocess.run(["psql", db.url, "-q", "-c", f"\\copy retail_trans TO '{csv}' CSV"],
                       check=True)
        data_dir = work + "/data"
        sink_settings = (f"format=parquet&compression={args.compression}"
                         "&buffer_size_mb=128&buffer_interval=0&stream=retail")
        capture_seconds, capture_cpu, _ = timed_eddy(
            [args.eddy, "run", "--source", db.url, "--data-dir", data_dir, "--stream", "retail",
             "--tables", "public.retail_trans", "--shards", "4",
             "--sink", f"file://{work}/capture?name=capture&{sink_settings}"],
            "capture", args.rows, work + "/capture.log")
        db.stop()
        db = None

        parquet = []  # (wall, cpu, cpu by thread) per run
        for run in range(args.repeat):
            parquet.append(timed_eddy(
                [args.eddy, "serve", "--data-dir", data_dir, "--sink", f"file://{work}/parquet-{run}?name=pq{run}&{sink_settings}"],
                f"pq{run}", args.rows, work + "/serve.log"))
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
        walls = [wall for wall, _, _ in parquet]
        eddy_best, duck_best = min(walls), min(duck["seconds"])
        eddy_median, duck_median = statistics.median(walls), statistics.median(duck["seconds"])

        def line(name, seconds, extra):
            return (f"  {name:<48} {seconds:7.3f} s {args.rows / seconds:>11,.0f} rows/s "
                    f"{csv_mb / seconds:7.1f} MB/s of CSV  {extra}")

        print(f"objects_parquet_bench: {args.rows:,} retail_trans rows ({csv_mb:.1f} MB as CSV), "
              f"{args.compression}, {args.repeat} runs each, load {os.getloadavg()[0]:.1f}")
        print(line("eddy serve --sink file://?format=parquet (log)", eddy_best,
                   f"({duck['eddy_bytes'] / 1e6:.1f} MB, {duck['eddy_files']} files; "
                   f"CPU {min(cpu for _, cpu, _ in parquet):.2f} s)"))
        print(line(f"DuckDB COPY TO parquet ({duck['threads']} threads)", duck_best,
                   f"({duck['bytes'] / 1e6:.1f} MB)"))
        print(f"  eddy runs {', '.join(f'{w:.3f}' for w in walls)} s; DuckDB runs "
              f"{', '.join(f'{s:.3f}' for s in duck['seconds'])} s")
        fastest = min(parquet, key=lambda run: run[0])
        print(f"  eddy's fastest run, CPU by thread: {fastest[2]}")
        print(f"  ratio DuckDB seconds / eddy seconds: {duck_best / eddy_best:.2f} best, "
              f"{duck_median / eddy_median:.2f} median")
        print(line("from capture: eddy run --source PG --sink ...", capture_seconds,
                   f"(CPU {capture_cpu:.2f} s; ratio to DuckDB {duck_best / capture_seconds:.2f})"))
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

#!/usr/bin/env python3
"""JSON lines into s3rver: the objects sink against `aws s3 cp` of the same bytes, in the same
run; prints the ratio.

    python3 bench/sink/objects_s3_bench.py EDDY_BINARY EDDY_LOCALDB_BINARY AWS_CLI
        [--rows=200000] [--compression=GZIP] [--buffer-mb=16]

1. A throwaway PostgreSQL gets --rows rows of a retail-like table; `eddy run` captures them
   (the snapshot) into a 4-shard stream, then stops.
2. eddy: `eddy serve` on that data directory with
   `--sink s3://bench/eddy?endpoint=S3RVER&compression=C&buffer_size_mb=B&buffer_interval=0`
   reads the whole stream from TRIM_HORIZON, renders each record (native JSON), groups,
   compresses and uploads the objects. Timed from the start of `eddy serve` to the moment the
   sink acknowledged every record (eddy_sink_delivered_records_total on the API port's /metrics, polled every
   10 ms over HTTP: a poll starts no process competing with eddy for the cores).
3. Reference: the objects eddy wrote are downloaded (untimed) and uploaded again with
   `aws s3 cp --recursive` to another prefix of the same s3rver: the same bytes, timed.
Ratio = aws seconds / eddy seconds (above 1: eddy puts the same bytes into S3 faster than the
aws CLI uploads them, while also reading, rendering and compressing them).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
from objects_support import (S3_ENV, Postgres, S3rver, aws, delivered_records,  # noqa: E402
                             free_port, wait_for)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a live process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def status(eddy, data_dir):
    return subprocess.run([eddy, "status", "--data-dir", data_dir], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True).stdout


def sink_line(text, name):
    for line in text.splitlines():
        if line.startswith(f"sink {name}:"):
            return line
    return ""


def delivered_all(eddy, data_dir, name, rows):
    """At least `rows` records were acknowledged (the sink's saved state, which the runner
    writes after every acknowledged flush)."""
    line = sink_line(status(eddy, data_dir), name)
    delivered = re.search(r"delivered_records=(\d+)", line)
    return delivered is not None and int(delivered.group(1)) >= rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("aws")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--compression", default="GZIP")
    parser.add_argument("--buffer-mb", type=int, default=16)
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (the captured data directory) for profiling")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-objects-bench-")
    env = dict(os.environ, **S3_ENV)
    db = s3 = run = None
    try:
        db = Postgres(args.localdb, work)
        db.sql("CREATE TABLE retail_trans (id bigint PRIMARY KEY, store_id int NOT NULL,"
               " sku text NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL,"
               " customer text, sold_at timestamptz NOT NULL)")
        db.sql(f"INSERT INTO retail_trans SELECT g, g % 97, 'SKU-' || (g % 5003), 1 + g % 7,"
               f" (g % 10000) / 100.0, CASE WHEN g % 5 = 0 THEN NULL ELSE 'customer-' || g END,"
               f" now() - (g || ' seconds')::interval FROM generate_series(1, {args.rows}) g")
        data_dir = work + "/data"
        capture = subprocess.Popen(
            [args.eddy, "run", "--source", db.url, "--data-dir", data_dir, "--stream", "retail",
             "--tables", "public.retail_trans", "--shards", "4", "--api-listen", "127.0.0.1:0",
             "--sink", f"file://{work}/capture-check?name=check&buffer_interval=1&buffer_size_mb=64"],
            stdout=open(work + "/capture.log", "w"), stderr=subprocess.STDOUT)
        # The capture is done when a sink has every snapshot row (the log holds them all).
        wait_for(lambda: capture.poll() is None and
                 delivered_all(args.eddy, data_dir, "check", args.rows),
                 600, "the snapshot to be captured")
        capture.send_signal(signal.SIGTERM)
        capture.wait(timeout=60)

        s3 = S3rver(work + "/s3", "bench")
        sink = (f"s3://bench/eddy?name=bench&stream=retail&endpoint={s3.endpoint}"
                f"&compression={args.compression}&buffer_size_mb={args.buffer_mb}"
                "&buffer_interval=0")
        metrics_port = free_port()
        started = time.monotonic()
        run = subprocess.Popen([args.eddy, "serve", "--data-dir", data_dir, "--api-listen",
                                f"127.0.0.1:{metrics_port}", "--sink", sink], env=env,
                               stdout=open(work + "/serve.log", "w"), stderr=subprocess.STDOUT)
        wait_for(lambda: run.poll() is not None or
                 delivered_records(metrics_port, "bench") >= args.rows,
                 600, "eddy to deliver every record", interval=0.01)
        eddy_seconds = time.monotonic() - started
        if run.poll() is not None:
            raise AssertionError(f"eddy serve exited with {run.returncode}; see {work}/serve.log")
        eddy_cpu = cpu_seconds(run.pid)
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
        run = None

        download = work + "/download"
        aws(args.aws, s3.endpoint, "s3", "cp", "s3://bench/eddy/", download, "--recursive",
            "--quiet")
        files = [os.path.join(root, name) for root, _, names in os.walk(download) for name in names]
        total_bytes = sum(os.path.getsize(path) for path in files)
        started = time.monotonic()
        aws(args.aws, s3.endpoint, "s3", "cp", download, "s3://bench/aws/", "--recursive", "--quiet")
        aws_seconds = time.monotonic() - started

        mb = total_bytes / 1e6
        load = os.getloadavg()[0]
        print(f"objects_s3_bench: {args.rows} records, {len(files)} objects, {mb:.1f} MB "
              f"({args.compression}), load {load:.1f}")
        print(f"  eddy serve --sink s3://  {eddy_seconds:7.2f} s  {args.rows / eddy_seconds:10.0f} "
              f"records/s  {mb / eddy_seconds:7.2f} MB/s (read, render, compress, upload; "
              f"CPU {eddy_cpu:.2f} s)")
        print(f"  aws s3 cp --recursive    {aws_seconds:7.2f} s  {mb / aws_seconds:29.2f} MB/s "
              "(upload of the same bytes)")
        print(f"  ratio (aws seconds / eddy seconds): {aws_seconds / eddy_seconds:.2f}")
        return 0
    finally:
        for process in (run,):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        if s3 is not None:
            s3.stop()
        if db is not None:
            db.stop()
        if args.keep:
            print(f"objects_s3_bench: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

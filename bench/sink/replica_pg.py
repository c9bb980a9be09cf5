#!/usr/bin/env python3
"""The retail_trans workload applied into a PostgreSQL target by the replica sink, against
COPY of the same final rows into the same target, in the same run; prints the ratio.

    python3 bench/sink/replica_pg.py EDDY_BINARY EDDY_LOCALDB_BINARY [--scale=0.1]

The issue's workload is 1,000,000 inserts, 500,000 updates and 200,000 deletes; --scale
shrinks it (0.1: 100,000 / 50,000 / 20,000) so it runs in minutes on a shared machine.
1. A throwaway PostgreSQL (eddy-localdb) with an empty retail_trans table; `eddy run` captures
   the workload as it is written (inserts of 1,000 rows per transaction, then updates and
   deletes of 1,000 rows per transaction) into a 4-shard stream, then stops (untimed; a
   file:// sink tells when the log holds every change).
2. eddy: `eddy serve` on that data directory with `--sink postgresql://TARGET?schema=bench`
   reads the stream from TRIM_HORIZON and applies every change (snapshot-free: all changes
   are streamed inserts, updates and deletes; batches of up to 10,000 changes per target
   transaction, with the checkpoint row). Timed from the start of `eddy serve` until its saved
   state counts every change acknowledged.
3. Reference: `COPY retail_trans TO STDOUT` from the source piped into `COPY ... FROM STDIN`
   of a fresh table in the same target: the same final rows through PostgreSQL's own bulk
   path, timed.
Ratio = eddy seconds / COPY seconds (how many times longer applying every change takes than
loading the end state). Anchor: Debezium's JDBC sink is published at about 2,300 events/s
batched.
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
from replica_support import ENV, LocalServer, TargetPostgres, stop_process, wait_for  # noqa: E402


def delivered(eddy, data_dir, name):
    text = subprocess.run([eddy, "status", "--data-dir", data_dir], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True).stdout
    for line in text.splitlines():
        if line.startswith(f"sink {name}:"):
            match = re.search(r"delivered_records=(\d+)", line)
            return int(match.group(1)) if match else 0
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--scale", type=float, default=0.1)
    args = parser.parse_args()
    inserts = int(1_000_000 * args.scale)
    updates = int(500_000 * args.scale)
    deletes = int(200_000 * args.scale)
    total = inserts + updates + deletes
    work = tempfile.mkdtemp(prefix="eddy-replica-bench-")
    source = target = capture = run = None
    try:
        source = LocalServer(args.localdb, work)
        target = TargetPostgres(work)
        target.sql("CREATE SCHEMA bench")
        source.sql("CREATE TABLE retail_trans (id bigint PRIMARY KEY, store_id int NOT NULL,"
                   " sku text NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL,"
                   " customer text, sold_at timestamptz NOT NULL)")
        data_dir = work + "/data"
        capture = subprocess.Popen(
            [args.eddy, "run", "--source", source.url, "--data-dir", data_dir, "--stream",
             "retail", "--tables", "public.retail_trans", "--shards", "4", "--api-listen",
             "127.0.0.1:0", "--sink", f"file://{work}/check?name=check&buffer_interval=1"],
            stdout=open(work + "/capture.log", "w"), stderr=subprocess.STDOUT)
        step = 1000
        script = []
        for start in range(1, inserts + 1, step):
            end = min(start + step - 1, inserts)
            script.append(f"INSERT INTO retail_trans SELECT g, g % 97, 'SKU-' || (g % 5003), "
                          f"1 + g % 7, (g % 10000) / 100.0, CASE WHEN g % 5 = 0 THEN NULL ELSE "
                          f"'customer-' || g END, now() - (g || ' seconds')::interval "
                          f"FROM generate_series({start}, {end}) g;")
        # Updates hit every other row of the first 2*updates ids; deletes the last ids.
        for start in range(1, 2 * updates + 1, 2 * step):
            end = min(start + 2 * step - 1, 2 * updates)
            script.append(f"UPDATE retail_trans SET qty = qty + 1, price = price + 0.01 "
                          f"WHERE id BETWEEN {start} AND {end} AND id % 2 = 1;")
        for start in range(inserts - deletes + 1, inserts + 1, step):
            end = min(start + step - 1, inserts)
            script.append(f"DELETE FROM retail_trans WHERE id BETWEEN {start} AND {end};")
        subprocess.run(["psql", source.url, "-v", "ON_ERROR_STOP=1", "-q"],
                       input="\n".join(script), text=True, check=True, env=ENV,
                       stdout=subprocess.DEVNULL)
        wait_for(lambda: capture.poll() is None and delivered(args.eddy, data_dir, "check") >= total,
                 900, "the workload to be captured")
        stop_process(capture)
        capture = None

        sink = f"{target.url}?schema=bench&name=bench&stream=retail"
        started = time.monotonic()
        run = subprocess.Popen([args.eddy, "serve", "--data-dir", data_dir, "--api-listen",
                                "127.0.0.1:0", "--sink", sink],
                               stdout=open(work + "/serve.log", "w"), stderr=subprocess.STDOUT)
        wait_for(lambda: run.poll() is None and delivered(args.eddy, data_dir, "bench") >= total,
                 1800, "eddy to apply every change")
        eddy_seconds = time.monotonic() - started
        stop_process(run)
        run = None
        want = source.query("SELECT count(*), sum(qty), sum(price) FROM retail_trans")
        got = target.query("SELECT count(*), sum(qty), sum(price) FROM bench.retail_trans")
        if want != got:
            raise AssertionError(f"target differs from source: {got!r} vs {want!r}")

        target.sql("CREATE TABLE bench.copy_ref (id bigint PRIMARY KEY, store_id int NOT NULL,"
                   " sku text NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL,"
                   " customer text, sold_at timestamptz NOT NULL)")
        started = time.monotonic()
        out = subprocess.Popen(["psql", source.url, "-qAt", "-c", "COPY retail_trans TO STDOUT"],
                               stdout=subprocess.PIPE, env=ENV)
        subprocess.run(["psql", target.url, "-q", "-c", "COPY bench.copy_ref FROM STDIN"],
                       stdin=out.stdout, check=True, env=ENV, stdout=subprocess.DEVNULL)
        out.wait()
        copy_seconds = time.monotonic() - started
        rows = int(want.split("\t")[0])
        load = os.getloadavg()[0]
        print(f"replica_pg: retail_trans x{args.scale}: {inserts} inserts, {updates} updates, "
              f"{deletes} deletes ({total} changes, {rows} final rows), load {load:.1f}")
        print(f"  eddy serve --sink postgresql://  {eddy_seconds:7.2f} s  "
              f"{total / eddy_seconds:9.0f} changes/s (every change applied, exactly once)")
        print(f"  COPY of the final rows           {copy_seconds:7.2f} s  "
              f"{rows / copy_seconds:9.0f} rows/s")
        print(f"  ratio (eddy seconds / COPY seconds): {eddy_seconds / copy_seconds:.2f}; "
              f"vs Debezium JDBC sink's ~2,300 events/s: {total / eddy_seconds / 2300:.1f}x")
        return 0
    finally:
        for process in (capture, run):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        if target:
            target.close()
        if source:
            source.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

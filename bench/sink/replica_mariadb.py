#!/usr/bin/env python3
"""The retail_trans workload applied into a MariaDB target by the replica sink, against
LOAD DATA of the same final rows into the same target, in the same run; prints the ratio.

    python3 bench/sink/replica_mariadb.py EDDY_BINARY EDDY_LOCALDB_BINARY [--scale=0.1]

The issue's workload is 1,000,000 inserts, 500,000 updates and 200,000 deletes; --scale
shrinks it (0.1: 100,000 / 50,000 / 20,000) so it runs in minutes on a shared machine.
1. A throwaway PostgreSQL (eddy-localdb) with an empty retail_trans table; `eddy run` captures
   the workload as it is written (inserts of 1,000 rows per transaction, then updates and
   deletes of 1,000 rows per transaction) into a 4-shard stream, then stops (untimed; a
   file:// sink tells when the log holds every change).
2. eddy: `eddy serve` on that data directory with `--sink mariadb://TARGET/bench` (a
   throwaway MariaDB 10.11 from eddy-localdb, binlog off) reads the stream from TRIM_HORIZON
   and applies every change (all streamed inserts, updates and deletes; batches of up to
   10,000 changes per InnoDB transaction, with the checkpoint row). Timed from the start of
   `eddy serve` until its saved state counts every change acknowledged. Run twice, into two
   databases: with the default bulk_load=load_data (inserts alone in their batch by LOAD DATA
   LOCAL INFILE from memory) and with bulk_load=insert (multi-row INSERTs).
3. Reference: the source's final rows written to a tab-separated file (`COPY ... TO STDOUT`,
   untimed), then `LOAD DATA LOCAL INFILE` of that file into a fresh table of the same
   definition in the same target: MariaDB's own bulk path, timed.
Ratio = eddy seconds / LOAD DATA seconds (how many times longer applying every change takes
than loading the end state). Anchor: Debezium's JDBC sink is published at about 2,300 events/s
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
from replica_support import ENV, LocalServer, stop_process, wait_for  # noqa: E402


class MariadbTarget(LocalServer):
    """The target: a throwaway MariaDB 10.11 (eddy-localdb, binlog off), LOAD DATA LOCAL on."""

    def __init__(self, localdb, work):
        url_file = f"{work}/target.url"
        self.kind = "mariadb"
        self.process = subprocess.Popen([localdb, "start", "mariadb", "--no-log-bin",
                                         "--url-file", url_file],
                                        stdout=subprocess.DEVNULL,
                                        stderr=open(f"{work}/localdb-target.log", "w"))
        self.url = wait_for(lambda: self.process.poll() is None and os.path.exists(url_file)
                            and open(url_file).read().strip(), 120, "the MariaDB target")
        self.port = re.match(r"mysql://[^@]*@[^:]+:(\d+)", self.url).group(1)

    def _mysql_args(self):
        return ["mariadb", "-u", "eddy", "-peddy", "-h", "127.0.0.1", "-P", self.port,
                "--local-infile=1", "--default-character-set=utf8mb4"]

    def sink_url(self, database):
        return f"mariadb://eddy:eddy@127.0.0.1:{self.port}/{database}"


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
    work = tempfile.mkdtemp(prefix="eddy-replica-mariadb-bench-")
    source = target = capture = run = None
    try:
        source = LocalServer(args.localdb, work)
        target = MariadbTarget(args.localdb, work)
        target.sql("CREATE DATABASE bench")
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

        # Twice, one sink per bulk_load mode (each its own database and checkpoint, reading
        # the same stream from TRIM_HORIZON): LOAD DATA LOCAL for the bulk rows (the default)
        # and multi-row INSERTs.
        want = source.query("SELECT count(*), sum(qty), sum(price) FROM retail_trans").strip()
        seconds = {}
        for mode, database in (("load_data", "bench"), ("insert", "bench_insert")):
            if database != "bench":
                target.sql(f"CREATE DATABASE {database}")
            sink = (f"{target.sink_url(database)}?name={database}&stream=retail"
                    f"&bulk_load={mode}")
            started = time.monotonic()
            run = subprocess.Popen([args.eddy, "serve", "--data-dir", data_dir, "--api-listen",
                                    "127.0.0.1:0", "--sink", sink],
                                   stdout=open(work + f"/serve-{mode}.log", "w"),
                                   stderr=subprocess.STDOUT)
            wait_for(lambda: run.poll() is None and
                     delivered(args.eddy, data_dir, database) >= total,
                     1800, f"eddy to apply every change (bulk_load={mode})")
            seconds[mode] = time.monotonic() - started
            stop_process(run)
            run = None
            got = target.query(f"SELECT count(*), sum(qty), sum(price) FROM "
                               f"{database}.retail_trans").strip()
            if want != got:
                raise AssertionError(f"target ({mode}) differs from source: {got!r} vs {want!r}")
        eddy_seconds = seconds["load_data"]

        rows_file = work + "/retail_trans.tsv"
        with open(rows_file, "w") as out:
            subprocess.run(["psql", source.url, "-qAt", "-c",
                            "COPY (SELECT id, store_id, sku, qty, price, customer, "
                            "to_char(sold_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') "
                            "FROM retail_trans) TO STDOUT"], stdout=out, check=True, env=ENV)
        target.sql("CREATE TABLE bench.load_ref LIKE bench.retail_trans")
        started = time.monotonic()
        target.sql(f"LOAD DATA LOCAL INFILE '{rows_file}' INTO TABLE bench.load_ref")
        load_seconds = time.monotonic() - started
        loaded = target.query("SELECT count(*), sum(qty), sum(price) FROM bench.load_ref").strip()
        if loaded != want:
            raise AssertionError(f"LOAD DATA loaded {loaded!r}, the source holds {want!r}")
        rows = int(want.split("\t")[0])
        load = os.getloadavg()[0]
        print(f"replica_mariadb: retail_trans x{args.scale}: {inserts} inserts, {updates} updates, "
              f"{deletes} deletes ({total} changes, {rows} final rows), load {load:.1f}")
        print(f"  eddy serve --sink mariadb://     {eddy_seconds:7.2f} s  "
              f"{total / eddy_seconds:9.0f} changes/s (every change applied, exactly once; "
              f"bulk rows by LOAD DATA LOCAL)")
        print(f"    the same, bulk_load=insert     {seconds['insert']:7.2f} s  "
              f"{total / seconds['insert']:9.0f} changes/s (bulk rows by multi-row INSERT)")
        print(f"  LOAD DATA of the final rows      {load_seconds:7.2f} s  "
              f"{rows / load_seconds:9.0f} rows/s")
        print(f"  ratio (eddy seconds / LOAD DATA seconds): {eddy_seconds / load_seconds:.2f} "
              f"(bulk_load=insert: {seconds['insert'] / load_seconds:.2f}); "
              f"vs Debezium JDBC sink's ~2,300 events/s: {total / eddy_seconds / 2300:.1f}x")
        return 0
    finally:
        for process in (capture, run):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        if target:
            target.stop()
        if source:
            source.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

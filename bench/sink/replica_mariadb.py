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
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
from replica_bench import Workload, capture_workload, parse_args, serve_until_applied  # noqa: E402
from replica_support import ENV, LocalServer, start_localdb  # noqa: E402


class MariadbTarget(LocalServer):
    """The target: a throwaway MariaDB 10.11 (eddy-localdb, binlog off), LOAD DATA LOCAL on."""

    def __init__(self, localdb, work):
        self.kind = "mariadb"
        self.process, self.url = start_localdb(localdb, "mariadb", work, "localdb-target",
                                               ["--no-log-bin"])
        self.port = re.match(r"mysql://[^@]*@[^:]+:(\d+)", self.url).group(1)

    def _mysql_args(self):
        return ["mariadb", "-u", "eddy", "-peddy", "-h", "127.0.0.1", "-P", self.port,
                "--local-infile=1", "--default-character-set=utf8mb4"]

    def sink_url(self, database):
        return f"mariadb://eddy:eddy@127.0.0.1:{self.port}/{database}"


def main():
    args = parse_args()
    workload = Workload(args.scale)
    total = workload.total
    work = tempfile.mkdtemp(prefix="eddy-replica-mariadb-bench-")
    source = target = None
    try:
        source = LocalServer(args.localdb, work)
        target = MariadbTarget(args.localdb, work)
        target.sql("CREATE DATABASE bench")
        data_dir = capture_workload(args.eddy, source, work, workload)

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
            seconds[mode] = serve_until_applied(args.eddy, data_dir, sink, database, total,
                                                work + f"/serve-{mode}.log")
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
        print(f"replica_mariadb: {workload.describe()}, {rows} final rows), load {load:.1f}")
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
        if target:
            target.stop()
        if source:
            source.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

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
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
from replica_bench import (RETAIL_TRANS_COLUMNS, Workload, capture_workload,  # noqa: E402
                           parse_args, serve_until_applied)
from replica_support import ENV, LocalServer, TargetPostgres  # noqa: E402


def main():
    args = parse_args()
    workload = Workload(args.scale)
    total = workload.total
    work = tempfile.mkdtemp(prefix="eddy-replica-bench-")
    source = target = None
    try:
        source = LocalServer(args.localdb, work)
        target = TargetPostgres(work)
        target.sql("CREATE SCHEMA bench")
        data_dir = capture_workload(args.eddy, source, work, workload)

        sink = f"{target.url}?schema=bench&name=bench&stream=retail"
        eddy_seconds = serve_until_applied(args.eddy, data_dir, sink, "bench", total,
                                           work + "/serve.log")
        want = source.query("SELECT count(*), sum(qty), sum(price) FROM retail_trans")
        got = target.query("SELECT count(*), sum(qty), sum(price) FROM bench.retail_trans")
        if want != got:
            raise AssertionError(f"target differs from source: {got!r} vs {want!r}")

        target.sql("CREATE TABLE bench.copy_ref " + RETAIL_TRANS_COLUMNS)
        started = time.monotonic()
        out = subprocess.Popen(["psql", source.url, "-qAt", "-c", "COPY retail_trans TO STDOUT"],
                               stdout=subprocess.PIPE, env=ENV)
        subprocess.run(["psql", target.url, "-q", "-c", "COPY bench.copy_ref FROM STDIN"],
                       stdin=out.stdout, check=True, env=ENV, stdout=subprocess.DEVNULL)
        out.wait()
        copy_seconds = time.monotonic() - started
        rows = int(want.split("\t")[0])
        load = os.getloadavg()[0]
        print(f"replica_pg: {workload.describe()}, {rows} final rows), load {load:.1f}")
        print(f"  eddy serve --sink postgresql://  {eddy_seconds:7.2f} s  "
              f"{total / eddy_seconds:9.0f} changes/s (every change applied, exactly once)")
        print(f"  COPY of the final rows           {copy_seconds:7.2f} s  "
              f"{rows / copy_seconds:9.0f} rows/s")
        print(f"  ratio (eddy seconds / COPY seconds): {eddy_seconds / copy_seconds:.2f}; "
              f"vs Debezium JDBC sink's ~2,300 events/s: {total / eddy_seconds / 2300:.1f}x")
        return 0
    finally:
        if target:
            target.close()
        if source:
            source.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

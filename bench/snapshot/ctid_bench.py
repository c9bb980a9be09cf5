"""Incremental snapshot of a PostgreSQL table without a key (REPLICA IDENTITY FULL, read in ctid
page ranges) through the `eddy` binary as users run it, against the same table with a primary
key (read in key order) and against the database's own export of the same rows, in the same
run; prints rows/s and the ratios.

    /usr/bin/python3 bench/snapshot/ctid_bench.py EDDY_BINARY EDDY_LOCALDB_BINARY
        [--rows=300000] [--chunk=10000] [--repeat=3]

1. A throwaway PostgreSQL 15 (eddy-localdb) gets --rows retail_trans rows (as
   snapshot_bench.py makes them) and retail_keyless, the same rows without a key and with
   REPLICA IDENTITY FULL (untimed).
2. eddy, timed from process start until "incremental snapshot complete" (logged once the last
   chunk is durable), `snapshot_type = "incremental"`, `snapshot_chunk_size = --chunk`, for each
   table; each run from an empty data directory (snapshot_bench.eddy_snapshot).
3. The reference, timed: `psql -c "\\copy retail_keyless TO '/dev/null'"`.
Ratio = reference seconds / eddy seconds (best runs).
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
from e2e_common import Postgres  # noqa: E402
from snapshot_bench import eddy_snapshot, timed  # noqa: E402
from bench_common import create_retail_trans  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rows", type=int, default=300000)
    parser.add_argument("--chunk", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-ctid-bench-")
    db = Postgres(args.localdb, work, "postgres")
    try:
        create_retail_trans(db, args.rows)
        db.sql("CREATE TABLE retail_keyless AS SELECT * FROM retail_trans")
        db.sql("ALTER TABLE retail_keyless REPLICA IDENTITY FULL")
        db.sql("VACUUM ANALYZE retail_trans")
        db.sql("VACUUM ANALYZE retail_keyless")
        reference = "psql \\copy retail_keyless TO /dev/null"
        names = [reference, "eddy incremental, primary key", "eddy incremental, ctid ranges"]
        times = {name: [] for name in names}
        for run in range(args.repeat):
            times[reference].append(timed(["psql", db.url, "-q", "-c",
                                           "\\copy retail_keyless TO '/dev/null'"]))
            # Distinct run numbers: each eddy gets its own slot and publication.
            times[names[1]].append(eddy_snapshot(args.eddy, work, db.url, "public.retail_trans",
                                                 "incremental", args.chunk, run))
            times[names[2]].append(eddy_snapshot(args.eddy, work, db.url,
                                                 "public.retail_keyless", "incremental",
                                                 args.chunk, 100 + run))
        print(f"ctid_bench: {args.rows:,} rows, chunk {args.chunk}, best of {args.repeat}, "
              f"load {os.getloadavg()[0]:.1f}")
        for name, seconds in times.items():
            print(f"  {name:<36} {min(seconds):8.2f} s (median {statistics.median(seconds):7.2f})"
                  f" {args.rows / min(seconds):>11,.0f} rows/s")
        for name in names[1:]:
            print(f"  ratio {reference} / {name}: {min(times[reference]) / min(times[name]):.2f}")
    finally:
        db.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Initial snapshot of a retail_trans table through the `eddy` binary as users run it, blocking
and incremental, against the database's own export of the same rows in the same run; prints
rows/s and the ratios.

    /usr/bin/python3 bench/snapshot/snapshot_bench.py EDDY_BINARY EDDY_LOCALDB_BINARY
        [--source=mariadb|postgres|both] [--rows=1000000] [--chunk=10000] [--repeat=3]
        [--parallelism=2] [--baseline=OTHER_EDDY_BINARY] [--blocking-only]

1. A throwaway MariaDB 10.11 / PostgreSQL 15 (eddy-localdb) gets --rows retail_trans rows
   (trans_id bigint key, customer_id, event, sku, device text, quantity int, trans_datetime
   timestamp; untimed).
2. eddy, timed from process start until the log holds every row durably: `eddy run --config C`
   with `snapshot_type = "blocking"` (until the log line that the snapshot finished) and with
   `snapshot_type = "incremental"` and `snapshot_chunk_size = --chunk` (until "incremental
   snapshot complete", which is logged only once the last chunk is durable); PostgreSQL also
   blocking with `snapshot_parallelism = --parallelism` (ctid ranges over that many
   connections sharing the exported snapshot). Each run starts
   from an empty data directory (the log is fsync'd, CRC-framed, 1 shard).
3. The reference, timed: MariaDB `mariadb --quick -e "SELECT * FROM t" > /dev/null` and
   `mariadb-dump --quick --single-transaction db t > /dev/null`; PostgreSQL
   `psql -c "\\copy t TO '/dev/null'"` and `pg_dump -t t > /dev/null`.
Ratio = reference seconds / eddy seconds (best runs; 1.0 = as fast as the database's export),
printed against each reference; the issue's target (>= 0.8) is against the plain export
(`psql \\copy`, `mariadb --quick SELECT *`). eddy's CPU seconds (user + system, from
/proc/<pid>/stat when the snapshot is durable) are printed too.
4. --baseline=B: each eddy run is preceded by the same run of binary B (e.g. the branch point's
   build) on the same server, so before and after share the database, the data and the load
   of the moment; both are printed with their ratios and CPU seconds.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
from e2e_common import MariaDB, Postgres  # noqa: E402
sys.path.insert(0, os.path.join(HERE, ".."))
from bench_common import create_retail_trans  # noqa: E402

KEEP = False
PROFILE = None  # a directory: eddy runs under `perf record -g` writing perf-*.data there
DONE = {
    "blocking": re.compile(r"mysql snapshot finished|snapshot complete rows="),
    "incremental": re.compile(r"incremental snapshot complete"),
}


CPU = {}  # (kind, parallelism) -> eddy's CPU seconds (user + system) of each run


def process_cpu_seconds(pid):
    """utime + stime of `pid` from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def eddy_snapshot(eddy, work, url, table, kind, chunk, run, parallelism=1, name=None):
    """Seconds from `eddy run` start until its log says the snapshot is durable (eddy's CPU
    seconds until then go to CPU[name])."""
    name = name or f"eddy {kind} (parallelism {parallelism})"
    tag = re.sub(r"[^a-z0-9]+", "-", name.lower())
    data_dir = f"{work}/data-{tag}-{run}"
    shutil.rmtree(data_dir, ignore_errors=True)
    config = f"{work}/{tag}.toml"
    with open(config, "w") as out:
        out.write(f'data_dir = "{data_dir}"\n[source]\nurl = "{url}"\n'
                  f'snapshot_type = "{kind}"\nsnapshot_chunk_size = {chunk}\n'
                  f'snapshot_parallelism = {parallelism}\n'
                  f'slot_name = "bench_{tag.replace("-", "_")}_{run}"\n'
                  f'publication_name = "bench_{tag.replace("-", "_")}_{run}"\n'
                  f'[[stream]]\nname = "cdc"\ntables = ["{table}"]\nshards = 1\n'
                  f'[api]\nenabled = false\n')
    log = f"{work}/eddy-{tag}-{run}.log"
    started = time.monotonic()
    prefix = []
    if PROFILE:
        prefix = ["perf", "record", "-g", "-o", f"{PROFILE}/perf-{tag}-{run}.data",
                  "--"]
    process = subprocess.Popen([*prefix, eddy, "run", "--config", config], stdout=open(log, "w"),
                               stderr=subprocess.STDOUT)
    try:
        deadline = started + 3600
        # Polled every 5 ms (reading only what was added): the poll's period is part of the
        # measured time, and at 100 ms it was up to a tenth of a 1,000,000-row snapshot.
        text = ""
        with open(log) as lines:
            while True:
                text += lines.read()
                if DONE[kind].search(text):
                    seconds = time.monotonic() - started
                    if not PROFILE:
                        CPU.setdefault(name, []).append(
                            process_cpu_seconds(process.pid))
                    return seconds
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"eddy did not finish the {kind} snapshot; see {log}")
                text = text[-4096:]  # a line being written may end in the next read
                time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        if not KEEP:
            shutil.rmtree(data_dir, ignore_errors=True)


def timed(command):
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, shell=isinstance(command, str))
    return time.monotonic() - started


def bench(args, kind, work):
    if kind == "mariadb":
        db = MariaDB(args.localdb, work)
        db.sql("CREATE TABLE retail_trans (trans_id bigint PRIMARY KEY, customer_id varchar(16),"
               " event varchar(16), sku varchar(16), device varchar(16), quantity int,"
               " trans_datetime datetime)")
        db.sql("INSERT INTO retail_trans SELECT seq, CONCAT('C', LPAD(seq % 50000, 6, '0')),"
               " ELT(1 + seq % 4, 'purchase', 'return', 'view', 'add_to_cart'),"
               " CONCAT('SKU-', seq % 5003), ELT(1 + seq % 3, 'web', 'ios', 'android'),"
               " 1 + seq % 7, TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND"
               f" FROM seq_1_to_{args.rows}")
        table = f"{db.database}.retail_trans"
        issue_reference = "mariadb --quick SELECT *"
        references = {
            "mariadb --quick SELECT *": db.client + ["--quick", db.database, "-e",
                                                     "SELECT * FROM retail_trans"],
            "mariadb-dump --single-transaction": ["mariadb-dump"] + db.client[1:] + [
                "--quick", "--single-transaction", db.database, "retail_trans"],
        }
    else:
        db = Postgres(args.localdb, work, "postgres")
        create_retail_trans(db, args.rows)
        db.sql("VACUUM ANALYZE retail_trans")
        table = "public.retail_trans"
        issue_reference = "psql \\copy TO /dev/null"
        references = {
            "psql \\copy TO /dev/null": ["psql", db.url, "-q", "-c",
                                          "\\copy retail_trans TO '/dev/null'"],
            "pg_dump -t": ["pg_dump", "-t", "retail_trans", db.url],
        }
    try:
        # (name, binary, kind, parallelism); with --baseline each eddy run is also made by the
        # baseline binary right before it, on the same server (before/after in one run).
        binaries = [("eddy", args.eddy)]
        if args.baseline:
            binaries.insert(0, ("baseline", args.baseline))
        modes = [("blocking", "blocking", 1)]
        if not args.blocking_only:
            modes.append(("incremental", "incremental", 1))
        if kind == "postgres" and args.parallelism > 1:
            modes.append((f"blocking, parallelism {args.parallelism}", "blocking",
                          args.parallelism))
        runs = [(f"{label} {mode}", binary, mode_kind, parallelism)
                for mode, mode_kind, parallelism in modes for label, binary in binaries]
        eddies = [name for name, _, _, _ in runs]
        times = {name: [] for name in [*eddies, *references]}
        for run in range(args.repeat):
            for name, command in references.items():
                times[name].append(timed(command))
            for name, binary, mode_kind, parallelism in runs:
                times[name].append(eddy_snapshot(binary, work, db.url, table, mode_kind,
                                                 args.chunk, run, parallelism, name))
                if kind == "postgres":
                    # Each run made a slot of its own; the server allows 16.
                    db.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                           " WHERE NOT active")
        print(f"snapshot_bench {kind}: {args.rows:,} retail_trans rows, chunk {args.chunk}, "
              f"best of {args.repeat}, load {os.getloadavg()[0]:.1f}")
        for name, seconds in times.items():
            print(f"  {name:<36} {min(seconds):8.2f} s (median {statistics.median(seconds):7.2f})"
                  f" {args.rows / min(seconds):>11,.0f} rows/s")
        for name, seconds in CPU.items():
            print(f"  {name} CPU: {min(seconds):.2f} s user+system (best run; median "
                  f"{statistics.median(seconds):.2f})")
        CPU.clear()
        # The issue's reference is the plain export (psql \copy, mariadb --quick SELECT *); the
        # dump tools are printed too for comparison with earlier figures.
        for reference in references:
            mark = " (the issue's reference)" if reference == issue_reference else ""
            for name in eddies:
                print(f"  ratio {reference} / {name}: "
                      f"{min(times[reference]) / min(times[name]):.2f}{mark}")
    finally:
        db.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--source", default="both", choices=["mariadb", "postgres", "both"])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=2,
                        help="PostgreSQL: also the blocking snapshot over this many connections")
    parser.add_argument("--baseline", metavar="EDDY_BINARY",
                        help="also run this eddy binary before each run of EDDY (before/after "
                        "on the same server in one run)")
    parser.add_argument("--blocking-only", action="store_true",
                        help="skip the incremental snapshot")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument("--profile", metavar="DIR",
                        help="run eddy under `perf record -g`, writing DIR/perf-*.data")
    args = parser.parse_args()
    global KEEP, PROFILE
    KEEP = args.keep
    PROFILE = args.profile
    work = tempfile.mkdtemp(prefix="eddy-snapshot-bench-")
    try:
        for kind in (["mariadb", "postgres"] if args.source == "both" else [args.source]):
            bench(args, kind, work)
        return 0
    finally:
        if args.keep:
            print(f"snapshot_bench: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

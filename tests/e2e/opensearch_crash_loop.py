#!/usr/bin/env python3
"""kill -9 loop for the OpenSearch sink: after any number of crashes the index equals the
source table, document by document (nothing lost, nothing stale, nothing resurrected).

    opensearch_crash_loop.py EDDY_BINARY EDDY_LOCALDB_BINARY [--rounds N] [--seed S]

Starts a throwaway PostgreSQL 15 (eddy-localdb) and the OpenSearch stand-in (tests/support/
opensearch_standin.py: no real OpenSearch can be installed here; it stays up while eddy is
killed). A writer thread commits transactions that update per-key counters, delete and
re-insert keys and move keys (primary-key changes), so replays after a crash resend changes
the index already holds: their external versions must make them no-ops (409 counted as
applied) and never bring back an older row or a deleted one. `eddy run --sink
opensearch+http://...` is killed with SIGKILL at random moments (a seeded random 0.3-2.0 s into
each run) and restarted, N rounds, while the writer keeps writing; then the writer stops and
the last eddy runs until the index equals the table.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from opensearch_support import Standin, psql, psql_json, start_postgres, stop_all, wait_for

KEYS = 40
TABLE_SQL = ("SELECT coalesce(json_object_agg(k::text, json_build_object('k', k, 'v', v)), '{}') "
             "FROM kv")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("EDDY_CRASH_ROUNDS", "5")))
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30)))))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"opensearch_crash_loop: seed {args.seed} (EDDY_TEST_SEED replays), rounds {args.rounds}",
          flush=True)

    work = tempfile.mkdtemp(prefix="eddy-opensearch-crash-")
    processes = []
    run = None
    stop_writer = threading.Event()
    writer_error = []
    transactions = [0]
    try:
        db, url = start_postgres(args.localdb, work)
        processes.append(db)
        psql(url, "CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL)")
        psql(url, f"INSERT INTO kv SELECT k, 1 FROM generate_series(1, {KEYS}) k")
        standin = Standin(work)
        processes.append(standin)

        def writer():
            proc = subprocess.Popen(["psql", url, "-v", "ON_ERROR_STOP=1", "-q"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            writer_rng = random.Random(args.seed + 1)
            try:
                while not stop_writer.is_set():
                    statements = []
                    for _ in range(writer_rng.randrange(1, 5)):
                        k = writer_rng.randrange(1, KEYS + 1)
                        roll = writer_rng.random()
                        if roll < 0.6:
                            statements.append(f"UPDATE kv SET v = v + 1 WHERE k IN ({k}, {k + 1000});")
                        elif roll < 0.75:
                            statements.append(f"DELETE FROM kv WHERE k = {k};")
                        elif roll < 0.9:
                            statements.append(f"INSERT INTO kv VALUES ({k}, 1) ON CONFLICT (k) "
                                              "DO UPDATE SET v = kv.v + 1;")
                        else:  # a key change, back and forth between k and k + 1000
                            statements.append(
                                f"UPDATE kv SET k = k + 1000 WHERE k = {k} AND NOT EXISTS "
                                f"(SELECT 1 FROM kv WHERE k = {k + 1000});"
                                f"UPDATE kv SET k = k - 1000 WHERE k = {k + 1000} AND NOT EXISTS "
                                f"(SELECT 1 FROM kv WHERE k = {k});")
                    proc.stdin.write("BEGIN;" + "".join(statements) + "COMMIT;\n")
                    proc.stdin.flush()
                    transactions[0] += 1
                    time.sleep(0.002)  # pacing the workload, not a wait
                proc.stdin.write("\\q\n")
                proc.stdin.close()
                if proc.wait(timeout=60) != 0:
                    writer_error.append(proc.stderr.read())
            except Exception as error:
                writer_error.append(str(error))

        sink = (f"opensearch+http://127.0.0.1:{standin.port}?index=kv&bulk_max_documents=50"
                "&bulk_window=0&parallelization_factor=2")
        command = [args.eddy, "run", "--source", url, "--data-dir", work + "/data",
                   "--stream", "kv", "--tables", "public.kv", "--shards", "2",
                   "--api-listen", "127.0.0.1:0", "--sink", sink]
        log = open(work + "/eddy.log", "a")

        def start():
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

        def requests():
            return standin.stats()["bulk_requests"]

        writer_thread = threading.Thread(target=writer, daemon=True)
        crashes = 0
        for round_index in range(args.rounds):
            run = start()
            if round_index == 0:
                wait_for(lambda: run.poll() is not None or len(standin.documents("kv")) == KEYS,
                         120, "the snapshot rows in the index", interval=0.2)
                writer_thread.start()
            before = requests()
            wait_for(lambda: run.poll() is not None or requests() > before, 60,
                     f"round {round_index}: delivery to start", interval=0.1)
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            time.sleep(rng.uniform(0.3, 2.0))  # the random crash moment
            run.send_signal(signal.SIGKILL)
            run.wait()
            crashes += 1
        stop_writer.set()
        writer_thread.join(timeout=120)
        if writer_error:
            raise AssertionError("the workload failed: " + "; ".join(writer_error))
        expected = psql_json(url, TABLE_SQL)
        run = start()
        processes.append(run)

        def caught_up():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            return standin.documents("kv") == expected

        wait_for(caught_up, 180, "the index to equal the table", interval=0.3)
        run.send_signal(signal.SIGTERM)
        if run.wait(timeout=60) != 0:
            raise AssertionError(f"eddy did not stop cleanly on SIGTERM: {run.returncode}")
        stats = standin.stats()
        print(f"opensearch_crash_loop: {transactions[0]} transactions, {crashes} kill -9; the "
              f"index equals the table ({len(expected)} rows); {stats['bulk_items']} bulk items, "
              f"{stats['conflicts']} replayed ones answered 409 (already applied)", flush=True)
        print("opensearch_crash_loop: 1 passed, 0 failed")
        return 0
    finally:
        stop_writer.set()
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        stop_all(processes)
        if os.environ.get("EDDY_KEEP_WORK"):
            print(f"opensearch_crash_loop: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

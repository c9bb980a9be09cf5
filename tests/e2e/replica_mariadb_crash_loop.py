#!/usr/bin/env python3
"""kill -9 loop for the replica sink into MariaDB: after any crash the target holds every
change exactly once.

    replica_mariadb_crash_loop.py EDDY_BINARY EDDY_LOCALDB_BINARY [--rounds N] [--seed S]

Starts a throwaway PostgreSQL 15 (the source) and MariaDB 10.11 (the target) with
eddy-localdb. A writer (one psql session) commits transactions that bump counters of table
`kv` (primary key), insert and delete rows of `items` (primary key), and append rows to
`events` (no primary key: the replica sink writes those with plain INSERTs, so a batch applied
twice would show up as duplicate rows). `eddy run --sink mariadb://...` is killed with SIGKILL
at random moments (a seeded random 0.3-2.5 s into each run) and restarted, N rounds, while the
writer writes; then the writer stops and the last eddy runs until the target caught up.

Checks:
- `eddy validate --source PG --target MARIADB` exits 0 (row counts and chunk checksums of kv
  and items equal, computed in each database);
- a full comparison: every row of kv and items equal, and events holds exactly the source's
  rows (as a multiset: a duplicated or lost append fails);
- the checkpoint row exists in replica.eddy_checkpoints.

Waits are bounded polls on conditions, never fixed sleeps (the kill moments are random by
design).
"""
import argparse
import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

KEYS = 40


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)  # polling a condition with a deadline
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("EDDY_CRASH_ROUNDS", "4")))
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30)))))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"replica_mariadb_crash_loop: seed {args.seed} (EDDY_TEST_SEED replays), "
          f"rounds {args.rounds}", flush=True)

    work = tempfile.mkdtemp(prefix="eddy-replica-mariadb-crash-")
    pg = maria = run = None
    stop_writer = threading.Event()
    writer_error = []
    writes = [0]
    try:
        pg = subprocess.Popen([args.localdb, "start", "postgres", "--url-file", work + "/pg.url"],
                              stdout=subprocess.DEVNULL, stderr=open(work + "/pg.log", "w"))
        maria = subprocess.Popen([args.localdb, "start", "mariadb", "--no-log-bin",
                                  "--url-file", work + "/maria.url"],
                                 stdout=subprocess.DEVNULL, stderr=open(work + "/maria.log", "w"))
        pg_url = wait_for(lambda: os.path.exists(work + "/pg.url") and
                          open(work + "/pg.url").read().strip(), 120, "PostgreSQL to start")
        maria_url = wait_for(lambda: os.path.exists(work + "/maria.url") and
                             open(work + "/maria.url").read().strip(), 120, "MariaDB to start")
        # mysql://eddy:eddy@127.0.0.1:PORT/eddy
        maria_port = maria_url.rsplit(":", 1)[1].split("/")[0]
        target_url = f"mariadb://eddy:eddy@127.0.0.1:{maria_port}/replica"

        def psql(sql):
            return subprocess.run(["psql", pg_url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                                  check=True, stdout=subprocess.PIPE, text=True).stdout

        def mariadb(sql, quiet=False):
            return subprocess.run(["mariadb", "-h127.0.0.1", f"-P{maria_port}", "-ueddy", "-peddy",
                                   "--batch", "--skip-column-names", "-e", sql],
                                  check=True, stdout=subprocess.PIPE, text=True,
                                  stderr=subprocess.DEVNULL if quiet else None).stdout

        mariadb("CREATE DATABASE replica")
        psql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, note text)")
        psql("CREATE TABLE items (id int PRIMARY KEY, name varchar(40), price numeric(10,2), "
             "at timestamptz)")
        psql("CREATE TABLE events (k int, v bigint, at timestamp)")
        psql("INSERT INTO kv SELECT k, 1, 'key ' || k FROM generate_series(1, %d) k" % KEYS)

        def writer():
            proc = subprocess.Popen(["psql", pg_url, "-v", "ON_ERROR_STOP=1", "-q"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            writer_rng = random.Random(args.seed + 1)
            next_item = 1
            live_items = []
            try:
                while not stop_writer.is_set():
                    statements = []
                    for k in writer_rng.sample(range(1, KEYS + 1), 3):
                        statements.append(f"UPDATE kv SET v = v + 1 WHERE k = {k};")
                        statements.append(f"INSERT INTO events SELECT k, v, now()::timestamp "
                                          f"FROM kv WHERE k = {k};")
                    statements.append(f"INSERT INTO items VALUES ({next_item}, 'item {next_item}', "
                                      f"{next_item % 1000}.25, now());")
                    live_items.append(next_item)
                    next_item += 1
                    if len(live_items) > 20 and writer_rng.random() < 0.5:
                        gone = live_items.pop(writer_rng.randrange(len(live_items)))
                        statements.append(f"DELETE FROM items WHERE id = {gone};")
                    if live_items and writer_rng.random() < 0.5:
                        changed = writer_rng.choice(live_items)
                        statements.append(f"UPDATE items SET price = price + 1, name = "
                                          f"name || '+' WHERE id = {changed};")
                    proc.stdin.write("BEGIN;" + "".join(statements) + "COMMIT;\n")
                    proc.stdin.flush()
                    writes[0] += 1
                    time.sleep(0.003)  # pacing the workload, not a wait
                proc.stdin.write("\\q\n")
                proc.stdin.close()
                if proc.wait(timeout=60) != 0:
                    writer_error.append(proc.stderr.read())
            except Exception as error:
                writer_error.append(str(error))

        sink = f"{target_url}?name=replica&batch_size=200&max_batching_window=0"
        command = [args.eddy, "run", "--source", pg_url, "--data-dir", work + "/data",
                   "--stream", "shop", "--tables", "public.kv,public.items,public.events",
                   "--shards", "2", "--api-listen", "127.0.0.1:0", "--sink", sink]
        log = open(work + "/eddy.log", "a")

        def start():
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

        def target_rows(table):
            try:
                # The table appears with the first batch; until then the query fails.
                return int(mariadb(f"SELECT COUNT(*) FROM replica.{table}", quiet=True).strip())
            except subprocess.CalledProcessError:
                return 0

        writer_thread = threading.Thread(target=writer, daemon=True)
        crashes = 0
        for round_index in range(args.rounds):
            run = start()
            if round_index == 0:
                wait_for(lambda: run.poll() is not None or target_rows("kv") == KEYS, 120,
                         "the snapshot rows to reach the target")
                writer_thread.start()
            before = target_rows("events")
            wait_for(lambda: run.poll() is not None or target_rows("events") > before, 60,
                     f"round {round_index}: changes to reach the target")
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            time.sleep(rng.uniform(0.3, 2.5))  # the random crash moment
            run.send_signal(signal.SIGKILL)
            run.wait()
            crashes += 1
        stop_writer.set()
        writer_thread.join(timeout=120)
        if writer_error:
            raise AssertionError("the workload failed: " + "; ".join(writer_error))
        source_events = int(psql("SELECT COUNT(*) FROM events").strip())
        run = start()

        def caught_up():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            return target_rows("events") >= source_events

        wait_for(caught_up, 180, "the target to catch up")

        def validate():
            result = subprocess.run([args.eddy, "validate", "--source", pg_url, "--target",
                                     target_url, "--tables", "kv,items", "--chunk-size", "500"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            validate.last = result.stdout
            if result.returncode == 2:
                raise AssertionError("eddy validate failed: " + result.stdout)
            return result.returncode == 0

        wait_for(validate, 120, "eddy validate to find the target equal")
        print(validate.last, end="", flush=True)
        run.send_signal(signal.SIGTERM)
        if run.wait(timeout=60) != 0:
            raise AssertionError(f"eddy did not stop cleanly on SIGTERM: {run.returncode}")
        run = None

        # The full comparison, row by row.
        source_kv = psql("SELECT k, v, note FROM kv ORDER BY k").strip().split("\n")
        target_kv = mariadb("SELECT k, v, note FROM replica.kv ORDER BY k").strip().replace(
            "\t", "|").split("\n")
        assert source_kv == target_kv, "kv differs"
        source_items = psql("SELECT id, name, price FROM items ORDER BY id").strip().split("\n")
        target_items = mariadb("SELECT id, name, price FROM replica.items ORDER BY id").strip(
        ).replace("\t", "|").split("\n")
        assert source_items == target_items, "items differ"
        source_events = collections.Counter(psql("SELECT k, v FROM events").split("\n"))
        target_events = collections.Counter(
            mariadb("SELECT k, v FROM replica.events").replace("\t", "|").split("\n"))
        duplicated = target_events - source_events
        lost = source_events - target_events
        assert not duplicated, f"events applied twice: {list(duplicated.items())[:10]}"
        assert not lost, f"events lost: {list(lost.items())[:10]}"
        checkpoint = mariadb("SELECT COUNT(*) FROM replica.eddy_checkpoints WHERE "
                             "sink_name = 'replica'").strip()
        assert checkpoint == "1", f"no checkpoint row ({checkpoint})"
        print(f"replica_mariadb_crash_loop: {writes[0]} source transactions, "
              f"{sum(source_events.values())} appended events, {len(source_kv)} kv rows, "
              f"{len(source_items)} items, after {crashes} kill -9: target equal, "
              f"0 duplicated, 0 lost", flush=True)
        print("replica_mariadb_crash_loop: 1 passed, 0 failed")
        return 0
    finally:
        stop_writer.set()
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        for server in (pg, maria):
            if server is not None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    server.kill()
        if os.environ.get("EDDY_KEEP_WORK"):
            print(f"replica_mariadb_crash_loop: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

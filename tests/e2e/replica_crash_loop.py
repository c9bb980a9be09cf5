#!/usr/bin/env python3
"""kill -9 loop for the replica sink: the target equals the source, every change applied once.

    replica_crash_loop.py EDDY_BINARY EDDY_LOCALDB_BINARY [--rounds N] [--seed S]

A source PostgreSQL (eddy-localdb) and a target PostgreSQL (pg_ctl). A writer thread commits
transactions that bump per-key counters (`v` goes 1, 2, 3, ... for each key `k`), insert new
keys and delete some. `eddy run --sink postgresql://...` is killed with SIGKILL at seeded
random moments (0.3-2.5 s into a run) and restarted, N rounds, while the writer keeps
writing; then the writer stops and the last eddy runs until the target has caught up.

The target table is created beforehand with a trigger that records every row version written
into it (replica.applied): a batch applied twice (a replay past a committed checkpoint) would
write some (k, v) twice, because v only grows. Checks:
- no loss: the target table equals the source table row for row (full comparison);
- exactly once: no (k, v) was written twice into the target, across every crash;
- the checkpoint row exists in replica.eddy_checkpoints.
Waits are bounded polls on conditions, never fixed sleeps (the kill moments are random by
design).
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

from replica_support import ENV, LocalServer, TargetPostgres, start_eddy, stop_process, wait_for

KEYS = 40


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("EDDY_CRASH_ROUNDS", "4")))
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30)))))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"replica_crash_loop: seed {args.seed} (EDDY_TEST_SEED replays), rounds {args.rounds}",
          flush=True)
    work = tempfile.mkdtemp(prefix="eddy-replica-crash-")
    source = target = run = None
    stop_writer = threading.Event()
    writer_error = []
    ok = False
    try:
        source = LocalServer(args.localdb, work)
        target = TargetPostgres(work)
        source.sql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, pad text)")
        source.sql(f"INSERT INTO kv SELECT k, 1, repeat('p', 50) FROM generate_series(1, {KEYS}) k")
        target.sql("CREATE SCHEMA replica; "
                   "CREATE TABLE replica.kv (k int PRIMARY KEY, v bigint NOT NULL, pad text); "
                   "CREATE TABLE replica.applied (k int, v bigint); "
                   "CREATE FUNCTION replica.record() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN INSERT INTO replica.applied VALUES (NEW.k, NEW.v); RETURN NEW; END $$; "
                   "CREATE TRIGGER record AFTER INSERT OR UPDATE ON replica.kv "
                   "FOR EACH ROW EXECUTE FUNCTION replica.record()")

        def writer():
            proc = subprocess.Popen(["psql", source.url, "-v", "ON_ERROR_STOP=1", "-q"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, env=ENV)
            writer_rng = random.Random(args.seed + 1)
            next_key = KEYS + 1
            try:
                while not stop_writer.is_set():
                    keys = writer_rng.sample(range(1, KEYS + 1), 3)
                    statements = "".join(f"UPDATE kv SET v = v + 1 WHERE k = {k};" for k in keys)
                    statements += f"INSERT INTO kv VALUES ({next_key}, 1, 'new');"
                    if next_key % 3 == 0:
                        statements += f"DELETE FROM kv WHERE k = {next_key - 1};"
                    next_key += 1
                    proc.stdin.write("BEGIN;" + statements + "COMMIT;\n")
                    proc.stdin.flush()
                    time.sleep(0.003)  # pacing the workload, not a wait
                proc.stdin.write("\\q\n")
                proc.stdin.close()
                if proc.wait(timeout=60) != 0:
                    writer_error.append(proc.stderr.read())
            except Exception as error:  # reported below
                writer_error.append(str(error))

        sink = target.url + "?schema=replica&name=replica&batch_size=500"
        log = open(work + "/eddy.log", "a")

        def target_count():
            text = target.query("SELECT count(*) FROM replica.kv", check=False)
            return int(text) if text else -1

        writer_thread = threading.Thread(target=writer, daemon=True)
        for round_index in range(args.rounds):
            run = start_eddy(args.eddy, source.url, work + "/data", sink, "public.kv", log)
            if round_index == 0:
                wait_for(lambda: run.poll() is not None or target_count() >= KEYS, 120,
                         "the snapshot rows in the target")
                writer_thread.start()
            time.sleep(rng.uniform(0.3, 2.5))  # the random crash moment
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            run.send_signal(signal.SIGKILL)
            run.wait()
        stop_writer.set()
        writer_thread.join(timeout=120)
        if writer_error:
            raise AssertionError("the workload failed: " + "; ".join(writer_error))
        run = start_eddy(args.eddy, source.url, work + "/data", sink, "public.kv", log)
        want = source.query("SELECT k, v, pad FROM kv ORDER BY k")

        def caught_up():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            return target.query("SELECT k, v, pad FROM replica.kv ORDER BY k", check=False) == want

        wait_for(caught_up, 180, "the target to equal the source")
        stop_process(run)
        twice = target.query("SELECT k, v, count(*) FROM replica.applied GROUP BY k, v "
                             "HAVING count(*) > 1 ORDER BY k, v LIMIT 20")
        if twice.strip():
            raise AssertionError("row versions written twice into the target:\n" + twice)
        checkpoint = target.query("SELECT count(*) FROM replica.eddy_checkpoints "
                                  "WHERE sink_name = 'replica'")
        assert checkpoint.strip() == "1", "no checkpoint row for the sink"
        rows = len(want.splitlines())
        applied = target.query("SELECT count(*) FROM replica.applied").strip()
        print(f"replica_crash_loop: {args.rounds} kills, target == source ({rows} rows), "
              f"{applied} row versions applied, none twice", flush=True)
        ok = True
    finally:
        stop_writer.set()
        stop_process(run)
        if target:
            target.close()
        if source:
            source.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"replica_crash_loop: FAILED; logs in {work}", file=sys.stderr)
    print("replica_crash_loop: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

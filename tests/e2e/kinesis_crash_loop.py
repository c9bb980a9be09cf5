#!/usr/bin/env python3
"""kill -9 loop for the Kinesis sink: no committed change lost, per-key order, duplicates
only from calls in flight at a crash.

    kinesis_crash_loop.py EDDY_BINARY EDDY_LOCALDB_BINARY [--rounds N] [--seed S]

Starts a throwaway PostgreSQL 15 (eddy-localdb) and kinesalite (npm, in memory; it stays up
while eddy is killed). A writer thread commits transactions that bump per-key counters (`v`
goes 1, 2, 3, ... for each key `k`), so every change is identifiable. `eddy run --sink
kinesis+http://...` is killed with SIGKILL at random moments (a seeded random 0.3-2.5 s into
each run) and restarted, N rounds, while the writer keeps writing; then the writer stops and
the last eddy runs until the stream holds every change. The stream is read back with boto3.

Checks:
- no loss: for every key, the values in the stream are exactly 1..final;
- per-key order: a key's values, in its shard's order, appear for the first time in
  increasing order (a value never overtakes an earlier one); a repeat is a duplicate;
- duplicates: counted and printed; at most rounds x (batch_size x parallelization_factor x
  shards), what can be in flight (put but not checkpointed) at a crash.
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

from kinesis_sink_support import (changes, client, create_stream, read_all, start_kinesalite,
                                  wait_for)

BATCH_SIZE = 50
PARALLELIZATION = 2
SHARDS = 4
KEYS = 40


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("EDDY_CRASH_ROUNDS", "8")))
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30)))))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"kinesis_crash_loop: seed {args.seed} (EDDY_TEST_SEED replays), rounds {args.rounds}",
          flush=True)

    work = tempfile.mkdtemp(prefix="eddy-kinesis-crash-")
    db = run = kinesalite = None
    stop_writer = threading.Event()
    committed = {}
    writer_error = []
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEDDYTEST",
               AWS_SECRET_ACCESS_KEY="eddy-test-secret", HOME=work)
    try:
        db = subprocess.Popen([args.localdb, "start", "postgres", "--url-file", work + "/url"],
                              stdout=subprocess.DEVNULL, stderr=open(work + "/localdb.log", "w"))
        url = wait_for(lambda: os.path.exists(work + "/url") and open(work + "/url").read().strip(),
                       120, "PostgreSQL to start")

        def psql(sql):
            subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                           stdout=subprocess.DEVNULL)

        psql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL)")
        psql("INSERT INTO kv SELECT k, 1 FROM generate_series(1, %d) k" % KEYS)
        for k in range(1, KEYS + 1):
            committed[k] = 1

        kinesalite, port = start_kinesalite()
        kinesis = client(port)
        create_stream(kinesis, "out", 2)

        def stream_values():
            records, _ = read_all(kinesis, "out")
            return [(k, v) for k, v, _ in changes(records)]

        def writer():
            proc = subprocess.Popen(["psql", url, "-v", "ON_ERROR_STOP=1", "-q"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            writer_rng = random.Random(args.seed + 1)
            try:
                while not stop_writer.is_set():
                    keys = writer_rng.sample(range(1, KEYS + 1), 3)
                    statements = "".join(f"UPDATE kv SET v = v + 1 WHERE k = {k};" for k in keys)
                    proc.stdin.write("BEGIN;" + statements + "COMMIT;\n")
                    proc.stdin.flush()
                    for k in keys:
                        committed[k] += 1
                    time.sleep(0.002)  # pacing the workload, not a wait
                proc.stdin.write("\\q\n")
                proc.stdin.close()
                if proc.wait(timeout=60) != 0:
                    writer_error.append(proc.stderr.read())
            except Exception as error:
                writer_error.append(str(error))

        sink = (f"kinesis+http://127.0.0.1:{port}?stream=out&batch_size={BATCH_SIZE}"
                f"&parallelization_factor={PARALLELIZATION}&max_batching_window=0")
        command = [args.eddy, "run", "--source", url, "--data-dir", work + "/data",
                   "--stream", "kv", "--tables", "public.kv", "--shards", str(SHARDS),
                   "--api-listen", "127.0.0.1:0", "--sink", sink]
        log = open(work + "/eddy.log", "a")

        def start():
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)

        writer_thread = threading.Thread(target=writer, daemon=True)
        crashes = 0
        for round_index in range(args.rounds):
            run = start()
            if round_index == 0:
                wait_for(lambda: run.poll() is not None or
                         len({k for k, _ in stream_values()}) == KEYS, 120,
                         "the snapshot rows to reach Kinesis", interval=0.2)
                writer_thread.start()
            before = len(stream_values())
            wait_for(lambda: run.poll() is not None or len(stream_values()) > before, 60,
                     f"round {round_index}: delivery to start", interval=0.1)
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
        final = dict(committed)
        total_changes = sum(final.values())
        run = start()

        def caught_up():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            seen = {}
            for k, v in stream_values():
                seen.setdefault(k, set()).add(v)
            return all(len(seen.get(k, ())) == final[k] for k in final)

        wait_for(caught_up, 180, "every committed change to reach Kinesis", interval=0.5)
        run.send_signal(signal.SIGTERM)
        if run.wait(timeout=60) != 0:
            raise AssertionError(f"eddy did not stop cleanly on SIGTERM: {run.returncode}")
        run = None

        received = stream_values()
        values = {}
        duplicates = 0
        for k, v in received:
            history = values.setdefault(k, [])
            if v in history:
                duplicates += 1
                continue
            assert not history or v > history[-1], (
                f"key {k}: value {v} first appears after {history[-1]} (per-key order broken)")
            history.append(v)
        for k, last in final.items():
            assert values.get(k, []) == list(range(1, last + 1)), (
                f"key {k}: lost or unknown values; got {len(values.get(k, []))} of {last}")
        bound = crashes * BATCH_SIZE * PARALLELIZATION * SHARDS
        print(f"kinesis_crash_loop: {total_changes} committed changes, {len(received)} in the "
              f"stream, {duplicates} duplicates after {crashes} kill -9; bound {bound}, lost 0",
              flush=True)
        assert duplicates <= bound, f"{duplicates} duplicates exceed the in-flight bound {bound}"
        print("kinesis_crash_loop: 1 passed, 0 failed")
        return 0
    finally:
        stop_writer.set()
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        for process in (kinesalite, db):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
        if os.environ.get("EDDY_KEEP_WORK"):
            print(f"kinesis_crash_loop: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""kill -9 loop for the objects sink: every committed change in exactly one object.

    objects_crash_loop.py EDDY_BINARY EDDY_LOCALDB_BINARY [--rounds N] [--seed S]
                          [--format parquet --node NODE]

Starts a throwaway PostgreSQL 15 (eddy-localdb). A writer thread commits transactions that
bump per-key counters (`v` goes 1, 2, 3, ... for each key `k`), so every change is
identifiable. `eddy run --sink file://DIR?buffer_interval=1&buffer_size_mb=1&compression=GZIP`
(a 4-shard stream, a Hive-style prefix) is killed with SIGKILL at random moments (in
even rounds at a seeded random 0.3-2.5 s into the run, in odd rounds the moment a new object
appears, racing the checkpoint that follows it) and restarted, N rounds,
while the writer keeps writing; then the writer stops and the last eddy runs until the
objects hold every change.

With --format parquet the sink writes Parquet (format=parquet, Snappy) and the objects are
read back with DuckDB (objects_parquet_read.mjs --duckdb-only); the checks are the same.

Checks, over every object in the directory (temp dot-files left by the kills are not
objects):
- no loss: for every key, the values are exactly 1..final;
- exactly once: no (k, v) is in two objects or twice in one, after every crash (Firehose
  would duplicate here; eddy's object names come from the log range they hold);
- every object's name follows the layout and holds records of its own partition.
Waits are bounded polls on conditions, never fixed sleeps (the kill moments are random by
design).
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from objects_support import Postgres, local_objects, read_lines, wait_for

KEYS = 40
NAME = re.compile(r"^kv/part=(\d)/\d{4}/\d{2}/\d{2}/\d{2}/kv-1-\d{4}(-\d{2}){5}-\d{6}-\d{20}"
                  r"\.(json\.gz|parquet)$")
HERE = os.path.dirname(os.path.abspath(__file__))


def parquet_records(node, lake):
    """(key, [record dicts with op, after]) of every Parquet object, read by DuckDB."""
    reply = subprocess.run([node, os.path.join(HERE, "objects_parquet_read.mjs"), lake,
                            "--duckdb-only"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, cwd=HERE)
    if reply.returncode != 0:
        raise AssertionError("DuckDB could not read the Parquet objects: " + reply.stderr[-2000:])
    records = {}
    for file in json.loads(reply.stdout)["files"]:
        names = [column["name"] for column in file["columns"]]
        rows = []
        for row in file["duckdb"]:
            cells = dict(zip(names, row))
            image = {name: int(cells[name]) for name in ("k", "v", "part")}
            rows.append({"op": cells["_eddy_op"], "after": image, "before": None})
        records[file["file"]] = rows
    return records


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("EDDY_CRASH_ROUNDS", "8")))
    parser.add_argument("--format", choices=["jsonlines", "parquet"], default="jsonlines")
    parser.add_argument("--node", default="node")
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30)))))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"objects_crash_loop: seed {args.seed} (EDDY_TEST_SEED replays), rounds {args.rounds}, "
          f"format {args.format}",
          flush=True)

    work = tempfile.mkdtemp(prefix="eddy-objects-crash-")
    lake = work + "/lake"
    db = run = None
    stop_writer = threading.Event()
    committed = {}
    writer_error = []
    try:
        db = Postgres(args.localdb, work)
        db.sql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, part int NOT NULL)")
        db.sql(f"INSERT INTO kv SELECT k, 1, k % 3 FROM generate_series(1, {KEYS}) k")
        for k in range(1, KEYS + 1):
            committed[k] = 1

        def writer():
            proc = subprocess.Popen(["psql", db.url, "-v", "ON_ERROR_STOP=1", "-q"],
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
                    time.sleep(0.002)  # pacing the workload (about 1,500 changes/s), not a wait
                proc.stdin.write("\\q\n")
                proc.stdin.close()
                if proc.wait(timeout=60) != 0:
                    writer_error.append(proc.stderr.read())
            except Exception as error:
                writer_error.append(str(error))

        encoding = ("format=parquet" if args.format == "parquet" else "compression=GZIP")
        sink = (f"file://{lake}?buffer_interval=1&buffer_size_mb=1&{encoding}"
                "&prefix=kv/part%3D!%7BpartitionKeyFromQuery%3Aafter.part%7D/")
        command = [args.eddy, "run", "--source", db.url, "--data-dir", work + "/data",
                   "--stream", "kv", "--tables", "public.kv", "--shards", "4",
                   "--api-listen", "127.0.0.1:0", "--sink", sink]
        log = open(work + "/eddy.log", "a")

        def records_of():
            """key -> the records of every object."""
            if args.format == "parquet":
                return parquet_records(args.node, lake) if os.path.isdir(lake) else {}
            return {key: [json.loads(line) for line in read_lines(path)]
                    for key, path in local_objects(lake).items()}

        def values():
            """(k, v) -> count over every object, and the objects' names."""
            seen = {}
            objects = records_of()
            for key, records in objects.items():
                for record in records:
                    if record["op"] not in ("c", "u", "r"):
                        continue
                    pair = (record["after"]["k"], record["after"]["v"])
                    seen[pair] = seen.get(pair, 0) + 1
            return seen, objects

        writer_thread = threading.Thread(target=writer, daemon=True)
        crashes = 0
        for round_index in range(args.rounds):
            run = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            if round_index == 0:
                wait_for(lambda: run.poll() is not None or
                         len({k for k, _ in values()[0]}) == KEYS, 120,
                         "the snapshot rows to reach the objects")
                writer_thread.start()
            before = len(local_objects(lake))
            wait_for(lambda: run.poll() is not None or len(local_objects(lake)) > before, 60,
                     f"round {round_index}: an object to be written")
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            if round_index % 2 == 0:
                time.sleep(rng.uniform(0.3, 2.5))  # the random crash moment
            else:
                # Kill the moment the next object appears: most likely between a flush's
                # objects and its checkpoint, the window the exactly-once argument is about.
                count = len(local_objects(lake))
                deadline = time.monotonic() + 30
                while len(local_objects(lake)) == count and time.monotonic() < deadline:
                    pass  # a busy race against the flush, bounded by the deadline
            run.send_signal(signal.SIGKILL)
            run.wait()
            crashes += 1
        stop_writer.set()
        writer_thread.join(timeout=120)
        if writer_error:
            raise AssertionError("the workload failed: " + "; ".join(writer_error))
        final = dict(committed)
        total = sum(final.values())
        run = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

        def caught_up():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            seen, _ = values()
            return all((k, v) in seen for k in final for v in range(1, final[k] + 1))

        wait_for(caught_up, 180, "every committed change to reach the objects")
        run.send_signal(signal.SIGTERM)
        if run.wait(timeout=60) != 0:
            raise AssertionError(f"eddy did not stop cleanly on SIGTERM: {run.returncode}")
        run = None

        seen, objects = values()
        for k, last in final.items():
            got = {v for (key, v) in seen if key == k}
            missing = set(range(1, last + 1)) - got
            extra = got - set(range(1, last + 1))
            assert not missing, f"key {k}: lost values {sorted(missing)[:10]}"
            assert not extra, f"key {k}: values never committed {sorted(extra)[:10]}"
        twice = sorted(pair for pair, count in seen.items() if count > 1)
        for key, records in objects.items():
            match = NAME.match(key)
            assert match, f"object off the layout: {key}"
            for record in records:
                image = record["after"] or record["before"]
                assert str(image["part"]) == match.group(1), f"{key} holds part {image['part']}"
        # How many kills landed between a flush's objects and its checkpoint (the objects
        # were then replaced by the redelivery; If-None-Match is honoured by file://).
        replaced = open(work + "/eddy.log", errors="replace").read().count("replacing object=")
        print(f"objects_crash_loop: {total} committed changes in {len(objects)} objects, "
              f"{len(twice)} duplicated after {crashes} kill -9 ({replaced} objects of "
              "interrupted flushes replaced)", flush=True)
        assert not twice, f"changes in more than one object: {twice[:10]}"
        print("objects_crash_loop: 1 passed, 0 failed")
        return 0
    finally:
        stop_writer.set()
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        if db is not None:
            db.stop()
        if os.environ.get("EDDY_KEEP_WORK"):
            print(f"objects_crash_loop: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

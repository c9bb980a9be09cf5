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
import json
import os
import random
import re
import subprocess
import sys
import time

from crash_loop import (CounterWorkload, CrashLoop, all_values_delivered,
                        check_every_value_once_or_more, parse_args, shut_down, work_directory)
from e2e_common import Postgres
from objects_support import local_objects, read_lines

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
    def extra(parser):
        parser.add_argument("--format", choices=["jsonlines", "parquet"], default="jsonlines")
        parser.add_argument("--node", default="node")

    args = parse_args("objects_crash_loop", extra)
    print(f"objects_crash_loop: format {args.format}", flush=True)
    rng = random.Random(args.seed)
    with work_directory("objects-crash") as work:
        lake = work + "/lake"
        db = loop = workload = None
        try:
            db = Postgres(args.localdb, work)
            workload = CounterWorkload(db, KEYS, args.seed, ", part int NOT NULL", ", k % 3")
            encoding = ("format=parquet" if args.format == "parquet" else "compression=GZIP")
            sink = (f"file://{lake}?buffer_interval=1&buffer_size_mb=1&{encoding}"
                    "&prefix=kv/part%3D!%7BpartitionKeyFromQuery%3Aafter.part%7D/")
            loop = CrashLoop("objects_crash_loop", work,
                             [args.eddy, "run", "--source", db.url, "--data-dir", work + "/data",
                              "--stream", "kv", "--tables", "public.kv", "--shards", "4",
                              "--api-listen", "127.0.0.1:0", "--sink", sink])

            def records_of():
                """key -> the records of every object."""
                if args.format == "parquet":
                    return parquet_records(args.node, lake) if os.path.isdir(lake) else {}
                return {key: [json.loads(line) for line in read_lines(path)]
                        for key, path in local_objects(lake).items()}

            def values():
                """(k, v) -> count over every object, and the objects' records by name."""
                seen = {}
                objects = records_of()
                for records in objects.values():
                    for record in records:
                        if record["op"] not in ("c", "u", "r"):
                            continue
                        pair = (record["after"]["k"], record["after"]["v"])
                        seen[pair] = seen.get(pair, 0) + 1
                return seen, objects

            def kill_moment(round_index):
                if round_index % 2 == 0:
                    time.sleep(rng.uniform(0.3, 2.5))  # the random crash moment
                    return
                # Kill the moment the next object appears: most likely between a flush's
                # objects and its checkpoint, the window the exactly-once argument is about.
                count = len(local_objects(lake))
                deadline = time.monotonic() + 30
                while len(local_objects(lake)) == count and time.monotonic() < deadline:
                    pass  # a busy race against the flush, bounded by the deadline

            loop.rounds(args.rounds, rng, workload, delivered=lambda: len(local_objects(lake)),
                        snapshot_delivered=lambda: len({k for k, _ in values()[0]}) == KEYS,
                        kill_moment=kill_moment)
            final = workload.stop()
            total = sum(final.values())
            loop.finish(lambda: all_values_delivered(final, values()[0]), 180,
                        "every committed change to reach the objects")

            seen, objects = values()
            check_every_value_once_or_more(final, seen)
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
                  f"{len(twice)} duplicated after {loop.crashes} kill -9 ({replaced} objects of "
                  "interrupted flushes replaced)", flush=True)
            assert not twice, f"changes in more than one object: {twice[:10]}"
            print("objects_crash_loop: 1 passed, 0 failed")
            return 0
        finally:
            shut_down(workload, loop, db)


if __name__ == "__main__":
    sys.exit(main())

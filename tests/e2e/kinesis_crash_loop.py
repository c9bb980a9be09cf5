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
import os
import random
import sys

from crash_loop import (CounterWorkload, CrashLoop, all_values_delivered, parse_args, shut_down,
                        work_directory)
from e2e_common import Postgres, stop_process
from kinesis_sink_support import changes, client, create_stream, read_all, start_kinesalite

BATCH_SIZE = 50
PARALLELIZATION = 2
SHARDS = 4
KEYS = 40


def main():
    # Five rounds, and polls every 0.5 s: each poll reads the whole stream back from kinesalite,
    # which on a loaded 2-core machine competes with eddy itself.
    args = parse_args("kinesis_crash_loop", rounds=5)
    rng = random.Random(args.seed)
    with work_directory("kinesis-crash") as work:
        db = loop = workload = kinesalite = None
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEDDYTEST",
                   AWS_SECRET_ACCESS_KEY="eddy-test-secret", HOME=work)
        try:
            db = Postgres(args.localdb, work)
            workload = CounterWorkload(db, KEYS, args.seed)
            kinesalite, port = start_kinesalite()
            kinesis = client(port)
            create_stream(kinesis, "out", 2)

            def stream_values():
                records, _ = read_all(kinesis, "out")
                return [(k, v) for k, v, _ in changes(records)]

            sink = (f"kinesis+http://127.0.0.1:{port}?stream=out&batch_size={BATCH_SIZE}"
                    f"&parallelization_factor={PARALLELIZATION}&max_batching_window=0")
            loop = CrashLoop("kinesis_crash_loop", work,
                             [args.eddy, "run", "--source", db.url, "--data-dir", work + "/data",
                              "--stream", "kv", "--tables", "public.kv", "--shards", str(SHARDS),
                              "--api-listen", "127.0.0.1:0", "--sink", sink], env=env)
            loop.rounds(args.rounds, rng, workload, delivered=lambda: len(stream_values()),
                        snapshot_delivered=lambda: len({k for k, _ in stream_values()}) == KEYS,
                        interval=0.5)
            final = workload.stop()
            total_changes = sum(final.values())
            loop.finish(lambda: all_values_delivered(final, stream_values()), 180,
                        "every committed change to reach Kinesis", interval=0.5)

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
            bound = loop.crashes * BATCH_SIZE * PARALLELIZATION * SHARDS
            print(f"kinesis_crash_loop: {total_changes} committed changes, {len(received)} in the "
                  f"stream, {duplicates} duplicates after {loop.crashes} kill -9; bound {bound}, "
                  "lost 0", flush=True)
            assert duplicates <= bound, f"{duplicates} duplicates exceed the in-flight bound {bound}"
            print("kinesis_crash_loop: 1 passed, 0 failed")
            return 0
        finally:
            shut_down(workload, loop, db)
            stop_process(kinesalite)


if __name__ == "__main__":
    sys.exit(main())

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
the last eddy runs until the index equals the table. The loop is crash_loop.CrashLoop; the
writer is a crash_loop.PsqlWriter.
"""
import json
import random
import sys
import time

from crash_loop import CrashLoop, PsqlWriter, parse_args, shut_down, work_directory
from e2e_common import Postgres
from opensearch_support import Standin

KEYS = 40
TABLE_SQL = ("SELECT coalesce(json_object_agg(k::text, json_build_object('k', k, 'v', v)), '{}') "
             "FROM kv")


class Workload(PsqlWriter):
    """Counter updates, deletes, re-inserts and key changes on kv (1 to 4 a transaction)."""

    def __init__(self, db, seed):
        super().__init__(db, seed)
        db.sql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL)")
        db.sql(f"INSERT INTO kv SELECT k, 1 FROM generate_series(1, {KEYS}) k")

    def transaction(self, rng):
        statements = []
        for _ in range(rng.randrange(1, 5)):
            k = rng.randrange(1, KEYS + 1)
            roll = rng.random()
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
        return "".join(statements)


def main():
    args = parse_args("opensearch_crash_loop", rounds=5)
    rng = random.Random(args.seed)
    with work_directory("opensearch-crash") as work:
        db = standin = workload = loop = None
        try:
            db = Postgres(args.localdb, work)
            workload = Workload(db, args.seed)
            standin = Standin(work)
            sink = (f"opensearch+http://127.0.0.1:{standin.port}?index=kv&bulk_max_documents=50"
                    "&bulk_window=0&parallelization_factor=2")
            command = [args.eddy, "run", "--source", db.url, "--data-dir", work + "/data",
                       "--stream", "kv", "--tables", "public.kv", "--shards", "2",
                       "--api-listen", "127.0.0.1:0", "--sink", sink]
            loop = CrashLoop("opensearch_crash_loop", work, command)
            # The random crash moment: a seeded 0.3-2.0 s into each run.
            loop.rounds(args.rounds, rng, workload,
                        delivered=lambda: standin.stats()["bulk_requests"],
                        snapshot_delivered=lambda: len(standin.documents("kv")) == KEYS,
                        kill_moment=lambda _: time.sleep(rng.uniform(0.3, 2.0)),
                        interval=0.1)
            workload.stop()
            expected = json.loads(db.query(TABLE_SQL))
            loop.finish(lambda: standin.documents("kv") == expected, 180,
                        "the index to equal the table", interval=0.3)
            stats = standin.stats()
            print(f"opensearch_crash_loop: {workload.transactions} transactions, {loop.crashes} "
                  f"kill -9; the index equals the table ({len(expected)} rows); "
                  f"{stats['bulk_items']} bulk items, {stats['conflicts']} replayed ones answered "
                  "409 (already applied)", flush=True)
        finally:
            shut_down(workload, loop, db, standin)
    print("opensearch_crash_loop: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

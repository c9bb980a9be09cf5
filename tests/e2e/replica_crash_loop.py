#!/usr/bin/env python3
"""kill -9 loop for the replica sink: the target equals the source, every change applied once.

    replica_crash_loop.py EDDY_BINARY EDDY_LOCALDB_BINARY [--rounds N] [--seed S]

The loop is crash_loop.CrashLoop (kill -9 at seeded random moments, restart, N rounds, then
the last run catches up and must stop cleanly on SIGTERM). Source: a PostgreSQL from
eddy-localdb; target: a second PostgreSQL (replica_support.TargetPostgres). The writer commits
transactions that bump three keys' counters (`v` goes 1, 2, 3, ... per key), insert a new key
and now and then delete one, so the inserts' bulk path (COPY), upserts and deletes all run
while eddy is killed.

The target table is created beforehand with a trigger that records every row version written
into it (replica.applied): a batch applied twice (a replay past a committed checkpoint) would
write some (k, v) twice, because v only grows. Checks:
- no loss: the target table equals the source table row for row (full comparison);
- exactly once: no (k, v) was written twice into the target, across every crash;
- the checkpoint row exists in replica.eddy_checkpoints.
"""
import random
import sys

from crash_loop import CrashLoop, PsqlWriter, parse_args, shut_down, work_directory
from e2e_common import Postgres
from replica_support import ENV, TargetPostgres

KEYS = 40


class Workload(PsqlWriter):
    """Updates, inserts and deletes on kv in one psql session (the CrashLoop's `workload`)."""

    def __init__(self, db, seed):
        super().__init__(db, seed, pace=0.003, env=ENV)
        db.sql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, pad text)")
        db.sql(f"INSERT INTO kv SELECT k, 1, repeat('p', 50) FROM generate_series(1, {KEYS}) k")
        self.next_key = KEYS + 1

    def transaction(self, rng):
        keys = rng.sample(range(1, KEYS + 1), 3)
        statements = "".join(f"UPDATE kv SET v = v + 1 WHERE k = {k};" for k in keys)
        statements += f"INSERT INTO kv VALUES ({self.next_key}, 1, 'new');"
        if self.next_key % 3 == 0:
            statements += f"DELETE FROM kv WHERE k = {self.next_key - 1};"
        self.next_key += 1
        return statements


def main():
    args = parse_args("replica_crash_loop")
    rng = random.Random(args.seed)
    with work_directory("replica-crash") as work:
        source = target = workload = loop = None
        try:
            source = Postgres(args.localdb, work)
            target = TargetPostgres(work)
            target.sql("CREATE SCHEMA replica; "
                       "CREATE TABLE replica.kv (k int PRIMARY KEY, v bigint NOT NULL, pad text); "
                       "CREATE TABLE replica.applied (k int, v bigint); "
                       "CREATE FUNCTION replica.record() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       "BEGIN INSERT INTO replica.applied VALUES (NEW.k, NEW.v); RETURN NEW; "
                       "END $$; CREATE TRIGGER record AFTER INSERT OR UPDATE ON replica.kv "
                       "FOR EACH ROW EXECUTE FUNCTION replica.record()")
            workload = Workload(source, args.seed)
            sink = target.url + "?schema=replica&name=replica&batch_size=500"
            command = [args.eddy, "run", "--source", source.url, "--data-dir", work + "/data",
                       "--stream", "kv", "--tables", "public.kv", "--api-listen", "127.0.0.1:0",
                       "--sink", sink]
            loop = CrashLoop("replica_crash_loop", work, command)

            def applied():
                text = target.query("SELECT count(*) FROM replica.applied", check=False)
                return int(text) if text else 0

            def snapshot_delivered():
                text = target.query("SELECT count(*) FROM replica.kv", check=False)
                return text is not None and int(text) >= KEYS

            loop.rounds(args.rounds, rng, workload, applied, snapshot_delivered, interval=0.1)
            workload.stop()
            # One text per row, the same whatever separator each helper's psql prints.
            rows = "SELECT concat_ws(',', k, v, pad) FROM {} ORDER BY k"
            want = source.query(rows.format("kv"))
            loop.finish(lambda: target.query(rows.format("replica.kv"), check=False) == want,
                        180, "the target to equal the source", interval=0.1)
            twice = target.query("SELECT k, v, count(*) FROM replica.applied GROUP BY k, v "
                                 "HAVING count(*) > 1 ORDER BY k, v LIMIT 20")
            if twice.strip():
                raise AssertionError("row versions written twice into the target:\n" + twice)
            checkpoint = target.query("SELECT count(*) FROM replica.eddy_checkpoints "
                                      "WHERE sink_name = 'replica'")
            assert checkpoint.strip() == "1", "no checkpoint row for the sink"
            print(f"replica_crash_loop: {loop.crashes} kills, target == source "
                  f"({len(want.splitlines())} rows), {applied()} row versions applied, none "
                  "twice", flush=True)
        except Exception:
            print(f"replica_crash_loop: FAILED; see {work}/eddy.log (EDDY_KEEP_WORK=1 keeps it)",
                  file=sys.stderr)
            raise
        finally:
            shut_down(workload, loop, source, target)
    print("replica_crash_loop: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

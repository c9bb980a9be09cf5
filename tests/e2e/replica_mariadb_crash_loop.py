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

The loop is crash_loop.CrashLoop, the writer a crash_loop.PsqlWriter, the servers
e2e_common.Postgres and e2e_common.MariaDB. Waits are bounded polls on conditions, never fixed
sleeps (the kill moments are random by design).
"""
import collections
import random
import subprocess
import sys

from crash_loop import CrashLoop, PsqlWriter, parse_args, shut_down, work_directory
from e2e_common import MariaDB, Postgres, wait_for

KEYS = 40


class Workload(PsqlWriter):
    """Per transaction: three kv counters bumped, each logged to events; an item inserted,
    now and then one deleted or changed."""

    def __init__(self, db, seed):
        super().__init__(db, seed, pace=0.003)
        db.sql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, note text)")
        db.sql("CREATE TABLE items (id int PRIMARY KEY, name varchar(40), price numeric(10,2), "
               "at timestamptz)")
        db.sql("CREATE TABLE events (k int, v bigint, at timestamp)")
        db.sql("INSERT INTO kv SELECT k, 1, 'key ' || k FROM generate_series(1, %d) k" % KEYS)
        self.next_item = 1
        self.live_items = []

    def transaction(self, rng):
        statements = []
        for k in rng.sample(range(1, KEYS + 1), 3):
            statements.append(f"UPDATE kv SET v = v + 1 WHERE k = {k};")
            statements.append(f"INSERT INTO events SELECT k, v, now()::timestamp "
                              f"FROM kv WHERE k = {k};")
        item = self.next_item
        statements.append(f"INSERT INTO items VALUES ({item}, 'item {item}', "
                          f"{item % 1000}.25, now());")
        self.live_items.append(item)
        self.next_item += 1
        if len(self.live_items) > 20 and rng.random() < 0.5:
            gone = self.live_items.pop(rng.randrange(len(self.live_items)))
            statements.append(f"DELETE FROM items WHERE id = {gone};")
        if self.live_items and rng.random() < 0.5:
            changed = rng.choice(self.live_items)
            statements.append(f"UPDATE items SET price = price + 1, name = "
                              f"name || '+' WHERE id = {changed};")
        return "".join(statements)


def main():
    args = parse_args("replica_mariadb_crash_loop", rounds=4)
    rng = random.Random(args.seed)
    with work_directory("replica-mariadb-crash") as work:
        pg = maria = workload = loop = None
        try:
            pg = Postgres(args.localdb, work, "pg")
            maria = MariaDB(args.localdb, work, "maria", options=("--no-log-bin",))
            # eddy-localdb's MariaDB: mysql://eddy:eddy@127.0.0.1:PORT/eddy
            target_url = f"mariadb://eddy:eddy@127.0.0.1:{maria.port}/replica"
            maria.sql("CREATE DATABASE replica")
            workload = Workload(pg, args.seed)

            sink = f"{target_url}?name=replica&batch_size=200&max_batching_window=0"
            command = [args.eddy, "run", "--source", pg.url, "--data-dir", work + "/data",
                       "--stream", "shop", "--tables", "public.kv,public.items,public.events",
                       "--shards", "2", "--api-listen", "127.0.0.1:0", "--sink", sink]
            loop = CrashLoop("replica_mariadb_crash_loop", work, command)

            def target_rows(table):
                try:
                    # The table appears with the first batch; until then the query fails.
                    return int(maria.query(f"SELECT COUNT(*) FROM replica.{table}",
                                           quiet=True).strip())
                except subprocess.CalledProcessError:
                    return 0

            loop.rounds(args.rounds, rng, workload, lambda: target_rows("events"),
                        lambda: target_rows("kv") == KEYS, interval=0.1)
            workload.stop()
            source_events = int(pg.query("SELECT COUNT(*) FROM events").strip())
            loop.start()

            def caught_up():
                loop.check_alive()
                return target_rows("events") >= source_events

            wait_for(caught_up, 180, "the target to catch up", interval=0.1)

            def validate():
                result = subprocess.run([args.eddy, "validate", "--source", pg.url, "--target",
                                         target_url, "--tables", "kv,items", "--chunk-size",
                                         "500"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
                validate.last = result.stdout
                if result.returncode == 2:
                    raise AssertionError("eddy validate failed: " + result.stdout)
                return result.returncode == 0

            # Then stops eddy with SIGTERM: it must exit 0.
            loop.finish(validate, 120, "eddy validate to find the target equal", interval=0.1)
            print(validate.last, end="", flush=True)

            # The full comparison, row by row.
            source_kv = pg.query("SELECT k, v, note FROM kv ORDER BY k").strip().split("\n")
            target_kv = maria.query("SELECT k, v, note FROM replica.kv ORDER BY k").strip(
            ).replace("\t", "|").split("\n")
            assert source_kv == target_kv, "kv differs"
            source_items = pg.query("SELECT id, name, price FROM items ORDER BY id").strip(
            ).split("\n")
            target_items = maria.query("SELECT id, name, price FROM replica.items ORDER BY id"
                                       ).strip().replace("\t", "|").split("\n")
            assert source_items == target_items, "items differ"
            source_events = collections.Counter(pg.query("SELECT k, v FROM events").split("\n"))
            target_events = collections.Counter(
                maria.query("SELECT k, v FROM replica.events").replace("\t", "|").split("\n"))
            duplicated = target_events - source_events
            lost = source_events - target_events
            assert not duplicated, f"events applied twice: {list(duplicated.items())[:10]}"
            assert not lost, f"events lost: {list(lost.items())[:10]}"
            checkpoint = maria.query("SELECT COUNT(*) FROM replica.eddy_checkpoints WHERE "
                                     "sink_name = 'replica'").strip()
            assert checkpoint == "1", f"no checkpoint row ({checkpoint})"
            print(f"replica_mariadb_crash_loop: {workload.transactions} source transactions, "
                  f"{sum(source_events.values())} appended events, {len(source_kv)} kv rows, "
                  f"{len(source_items)} items, after {loop.crashes} kill -9: target equal, "
                  f"0 duplicated, 0 lost", flush=True)
        finally:
            shut_down(workload, loop, pg, maria)
    print("replica_mariadb_crash_loop: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

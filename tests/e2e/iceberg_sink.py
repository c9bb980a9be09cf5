#!/usr/bin/env python3
"""The Iceberg sink end to end: a real PostgreSQL 15 through `eddy run` into Iceberg tables on
local files, read back by third-party readers.

    iceberg_sink.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE [--rounds N] [--seed S]

1. Mirror: a workload of inserts, updates, deletes, a delete and re-insert, one key changed
   many times in one transaction, a primary-key change, NULLs and a column NULL in every row,
   ADD and DROP COLUMN mid-stream (a new schema, field ids kept), into a keyed table and a
   table without a primary key. The keyed table read by icebird (npm;
   tests/e2e/iceberg_read.mjs) equals the source table; DuckDB re-derives the same state from
   the data and delete files with Iceberg's sequence-number rules; every metadata version reads
   (time travel) without duplicate keys, and a version still reads the source state it
   mirrored after every later commit; structural checks (required metadata fields,
   sequence numbers, manifest counts, file sizes, Parquet field ids) pass. The table without a
   key holds every inserted row (append-only).
2. The warehouse failing and coming back: the table's data directory replaced by a file, so
   writes fail: the sink turns IMPAIRED (`eddy status`) and ACTIVE again once it is restored,
   nothing lost.
3. kill -9 loop: `eddy run` killed with SIGKILL at random moments while a writer keeps
   changing rows, N rounds (default 3), then run to the end: the table equals the source, no
   duplicate keys (exactly once: every snapshot carries the sink's checkpoint). Whole
   transactions: the writer also runs transactions that change all ACCOUNTS rows of a second
   table at once (each row's `v` + 1, the balance sum kept); batches of commit_rows cut them
   (the restarts leave a backlog), yet every version of that table (what readers of main see)
   holds one `v` in every row and the same sum: no snapshot shows part of a transaction.
4. Bad input: wrong URLs and settings stop `eddy run` at start with a message naming the fix.
5. iceberg+s3:// into s3rver (npm; no real S3 offline): a second stream mirrored into a bucket
   with the SQL catalog (the default on S3: a SQLite file in the data directory, read here with
   Python's sqlite3 for the table's metadata_location), read by icebird over HTTP from s3rver
   and by DuckDB from downloaded copies.
Waits are bounded polls on conditions, never fixed sleeps (kill moments are random by design).
"""
import glob
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

from crash_loop import parse_args
from objects_support import S3_ENV, Postgres, S3rver, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = 30
ACCOUNTS = 40  # rows changed by each of the writer's whole-table transactions


def stream_config(path, stream, setting):
    """A config naming the stream with a setting that shows where transactions end (the sink
    publishes a transaction once it has seen its end: an END record, a heartbeat, the next one)."""
    with open(path, "w") as out:
        out.write(f'[[stream]]\nname = "{stream}"\n{setting}\n')
    return path


def normalize(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value)).normalize()
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except Exception:
            return value
    return value


def rows_of(rows, columns):
    return sorted(tuple(normalize(row.get(c)) for c in columns) for row in rows)


def source_rows(db, table, columns):
    text = db.query(f"SELECT coalesce(json_agg(t), '[]') FROM (SELECT {', '.join(columns)} FROM {table}) t")
    return rows_of(json.loads(text), columns)


def sql_catalog_location(database, table):
    """The metadata_location Iceberg's SQL catalog (a SQLite file eddy keeps) holds for `table`,
    read with Python's own sqlite3 as any JDBC/PyIceberg-style reader would."""
    if not os.path.exists(database):
        return None
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT metadata_location FROM iceberg_tables WHERE catalog_name = "
                                 "'eddy' AND table_name = ?", (table,)).fetchone()
    return row[0] if row else None


def read_table(node, table_dir, key, endpoint=None, metadata_location=None, current_only=False):
    env = dict(os.environ)
    if metadata_location:
        env["ICEBERG_METADATA"] = metadata_location
    if current_only:
        env["ICEBERG_CURRENT_ONLY"] = "1"
    reply = subprocess.run([node, HERE + "/iceberg_read.mjs", table_dir, key] + ([endpoint] if endpoint else []),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120,
                           env=env)
    if reply.returncode != 0:
        return None, reply.stderr
    return json.loads(reply.stdout), ""


def status_of(eddy, data_dir):
    return subprocess.run([eddy, "status", "--data-dir", data_dir], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True).stdout


def main():
    args = parse_args("iceberg_sink", lambda parser: parser.add_argument("node"), rounds=3)
    rng = random.Random(args.seed)

    work = tempfile.mkdtemp(prefix="eddy-iceberg-")
    lake = work + "/lake"
    data_dir = work + "/data"
    db = run = None
    log = open(work + "/eddy.log", "a")
    columns = ["id", "name", "qty", "price", "flag", "note"]
    try:
        db = Postgres(args.localdb, work)
        database = db.url.rsplit("/", 1)[1].split("?")[0]
        table_dir = f"{lake}/{database}/public/items"
        db.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int NOT NULL, price numeric(10,2), "
               "flag boolean, note text)")
        db.sql("CREATE TABLE events (msg text, n int)")
        db.sql("CREATE TABLE accounts (id int PRIMARY KEY, v int NOT NULL, balance int NOT NULL)")
        db.sql(f"INSERT INTO accounts SELECT k, 0, 100 FROM generate_series(1, {ACCOUNTS}) k")
        db.sql(f"INSERT INTO items SELECT k, 'item' || k, k * 10, k + 0.25, k % 2 = 0, NULL "
               f"FROM generate_series(1, {KEYS}) k")

        config = stream_config(work + "/lake.toml", "lake", "transaction_metadata = true")
        command = [args.eddy, "run", "--config", config, "--source", db.url, "--data-dir", data_dir,
                   "--stream", "lake", "--tables", "public.items,public.events,public.accounts",
                   "--shards", "2",
                   "--api-listen", "127.0.0.1:0",
                   "--sink", f"iceberg+file://{lake}?commit_interval=1&commit_rows=500&changelog=true"]

        # ---- 4. bad input first (nothing is running yet) ----
        for sink, says in [("iceberg+file://relative/lake", "absolute directory"),
                           (f"iceberg+file://{lake}?commit_rows=0", "commit_rows"),
                           (f"iceberg+file://{lake}?catalog=rest", "hadoop"),
                           (f"iceberg+file://{lake}?parallelization_factor=2", "one writer"),
                           (f"iceberg+file://{lake}?bogus=1", "unknown iceberg setting 'bogus'")]:
            bad = command[:-1] + [sink]
            bad[bad.index("--data-dir") + 1] = work + "/bad-data"
            reply = subprocess.run(bad, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   timeout=120)
            assert reply.returncode != 0 and says in reply.stdout, (sink, reply.stdout[-2000:])
        print("iceberg_sink: bad URLs and settings refused at start with the fix", flush=True)

        # ---- 1. mirror ----
        run = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        workload = [
            "UPDATE items SET qty = qty + 1 WHERE id <= 10",
            "DELETE FROM items WHERE id IN (11, 12, 13)",
            "INSERT INTO items VALUES (12, 'again', 1, 1.50, true, NULL)",
            "BEGIN; " + " ".join(f"UPDATE items SET qty = {n} WHERE id = 1;" for n in range(50))
            + " UPDATE items SET name = NULL, price = NULL, flag = NULL WHERE id = 1; COMMIT",
            "BEGIN; INSERT INTO items VALUES (200, 'short', 1, 2.00, false, NULL); "
            "DELETE FROM items WHERE id = 200; COMMIT",
            "UPDATE items SET id = 105 WHERE id = 5",
            "INSERT INTO events SELECT 'e' || n, n FROM generate_series(1, 25) n",
        ]
        for statement in workload:
            db.sql(statement)

        def mirrored():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            if not os.path.exists(table_dir + "/metadata/version-hint.text"):
                return None
            result, _ = read_table(args.node, table_dir, "id")
            if result is None:
                return None
            current = rows_of(result["versions"][-1]["rows"], columns)
            return result if current == source_rows(db, "items", columns) else None

        result = wait_for(mirrored, 180, "the Iceberg table to equal the source table")
        assert not result["problems"], result["problems"]
        assert result["bounds"] > 0, "no column bounds in the manifests to check"
        assert rows_of(result["duckdb"], columns) == source_rows(db, "items", columns), \
            "DuckDB's sequence-number derivation differs from the source"
        for version in result["versions"]:
            ids = [row["id"] for row in version["rows"]]
            assert len(ids) == len(set(ids)), f"v{version['version']}: duplicate keys"
        # Time travel: this version must read the same later, whatever is committed after it.
        mirrored_version = len(result["versions"])
        mirrored_columns = list(columns)
        mirrored_state = source_rows(db, "items", mirrored_columns)
        # The changelog table: every change once, with its op and transaction. One transaction
        # after the mirror caught up (the snapshot done) changes key 2 twenty times.
        db.sql("BEGIN; " + " ".join(f"UPDATE items SET qty = {n} WHERE id = 2;" for n in range(20))
               + " COMMIT")

        def changelog_complete():
            result, _ = read_table(args.node, table_dir + "_changelog", "id", current_only=True)
            if result is None or result["problems"]:
                return None
            rows = result["versions"][-1]["rows"]
            sequences = [row["_sequence"] for row in rows]
            assert len(sequences) == len(set(sequences)), "a change twice in the changelog table"
            by_transaction = {}
            for row in rows:
                if row["id"] == 2 and row["_op"] == "u":
                    by_transaction[row["_transaction"]] = by_transaction.get(row["_transaction"], 0) + 1
            return rows if 20 in by_transaction.values() and any(r["_op"] == "r" for r in rows) else None

        wait_for(changelog_complete, 60, "the changelog table to hold every change once")
        wait_for(mirrored, 60, "the table to follow the transaction on key 2")
        print("iceberg_sink: the changelog table (changelog=true) holds every change once with its op",
              flush=True)
        print(f"iceberg_sink: icebird and DuckDB read the source table's {KEYS - 2} rows; "
              f"{len(result['versions'])} versions read, no problems", flush=True)

        # ADD and DROP COLUMN mid-stream: a new Iceberg schema, field ids kept, old files read
        # with the new column NULL.
        db.sql("ALTER TABLE items ADD COLUMN extra int")
        db.sql("UPDATE items SET extra = id * 7 WHERE id <= 6")
        db.sql("ALTER TABLE items DROP COLUMN note")
        db.sql("INSERT INTO items (id, name, qty, price, flag, extra) VALUES (300, 'new', 3, 3.00, true, 9)")
        columns[:] = ["id", "name", "qty", "price", "flag", "extra"]
        result = wait_for(mirrored, 120, "the table to follow ADD and DROP COLUMN")
        assert not result["problems"], result["problems"]
        assert rows_of(result["duckdb"], columns) == source_rows(db, "items", columns)
        metadata = json.load(open(f"{table_dir}/metadata/v{len(result['versions'])}.metadata.json"))
        schema = next(s for s in metadata["schemas"] if s["schema-id"] == metadata["current-schema-id"])
        ids = {f["name"]: f["id"] for f in schema["fields"]}
        assert ids["id"] == 1 and ids["qty"] == 3 and ids["extra"] == 7 and "note" not in ids, ids
        print(f"iceberg_sink: ADD/DROP COLUMN: schema {schema['schema-id']} with ids {ids}",
              flush=True)

        events_dir = f"{lake}/{database}/public/events"
        events = wait_for(lambda: (lambda r: r if r and len(r["versions"][-1]["rows"]) == 25 else None)(
            read_table(args.node, events_dir, "n")[0]), 60, "the append-only table's 25 rows")
        assert sorted(row["n"] for row in events["versions"][-1]["rows"]) == list(range(1, 26))
        print("iceberg_sink: the table without a primary key holds every insert (append-only)",
              flush=True)

        # ---- 2. the warehouse failing and coming back ----
        data_path = table_dir + "/data"
        shutil.move(data_path, work + "/data-aside")
        open(data_path, "w").close()  # a file where the directory was: writes fail
        db.sql("UPDATE items SET qty = qty + 100 WHERE id BETWEEN 20 AND 25")
        wait_for(lambda: "IMPAIRED" in status_of(args.eddy, data_dir), 90, "the sink to turn IMPAIRED")
        os.remove(data_path)
        shutil.move(work + "/data-aside", data_path)
        wait_for(lambda: "ACTIVE" in status_of(args.eddy, data_dir), 90, "the sink to be ACTIVE again")
        wait_for(mirrored, 120, "the table to catch up after the outage")
        print("iceberg_sink: warehouse unwritable: IMPAIRED, then ACTIVE, nothing lost", flush=True)

        # ---- 3. kill -9 loop ----
        stop = threading.Event()
        errors = []

        def writer():
            writer_rng = random.Random(args.seed + 1)
            proc = subprocess.Popen(["psql", db.url, "-v", "ON_ERROR_STOP=1", "-q"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            try:
                while not stop.is_set():
                    k = writer_rng.randrange(1, KEYS + 1)
                    choice = writer_rng.random()
                    if choice < 0.6:
                        statement = (f"INSERT INTO items VALUES ({k}, 'w', 1, 1.00, true, NULL) "
                                     f"ON CONFLICT (id) DO UPDATE SET qty = items.qty + 1;")
                    elif choice < 0.7:
                        statement = f"DELETE FROM items WHERE id = {k};"
                    elif choice < 0.8:
                        statement = ("UPDATE accounts SET v = v + 1, balance = balance + "
                                     f"CASE WHEN id = {writer_rng.randrange(1, ACCOUNTS + 1)} "
                                     f"THEN {1 - ACCOUNTS} ELSE 1 END;")
                    else:
                        statement = (f"BEGIN; UPDATE items SET qty = qty + 1 WHERE id = {k}; "
                                     f"UPDATE items SET name = 'n' || qty WHERE id = {k}; COMMIT;")
                    proc.stdin.write(statement + "\n")
                    proc.stdin.flush()
                    time.sleep(0.005)  # pacing the workload, not a wait
                proc.stdin.write("\\q\n")
                proc.stdin.close()
                if proc.wait(timeout=60) != 0:
                    errors.append(proc.stderr.read())
            except Exception as error:
                errors.append(str(error))

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        for round_index in range(args.rounds):
            time.sleep(rng.uniform(0.5, 2.5))  # the random crash moment
            run.send_signal(signal.SIGKILL)
            run.wait()
            run = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(rng.uniform(0.5, 1.5))  # let the last round commit under load
        stop.set()
        thread.join(timeout=120)
        assert not errors, errors
        result = wait_for(mirrored, 180, "the table to equal the source after the kill -9 loop")
        assert not result["problems"], result["problems"]
        assert rows_of(result["duckdb"], columns) == source_rows(db, "items", columns)
        for version in result["versions"]:
            ids = [row["id"] for row in version["rows"]]
            assert len(ids) == len(set(ids)), f"v{version['version']}: duplicate keys"
        old = result["versions"][mirrored_version - 1]
        assert rows_of(old["rows"], mirrored_columns) == mirrored_state, \
            f"v{mirrored_version} reads differently after later commits"
        print(f"iceberg_sink: {args.rounds} kill -9 rounds: the table equals the source, "
              f"no duplicates in any of {len(result['versions'])} versions", flush=True)

        # Whole transactions: every version of accounts is a state between transactions.
        accounts_dir = f"{lake}/{database}/public/accounts"
        account_columns = ["id", "v", "balance"]

        def accounts_mirrored():
            result, _ = read_table(args.node, accounts_dir, "id")
            if result is None:
                return None
            current = rows_of(result["versions"][-1]["rows"], account_columns)
            return result if current == source_rows(db, "accounts", account_columns) else None

        accounts = wait_for(accounts_mirrored, 180, "accounts to equal the source")
        assert not accounts["problems"], accounts["problems"]
        checked = 0
        for version in accounts["versions"]:
            rows = version["rows"]
            if all(row["v"] == 0 for row in rows):
                continue  # the initial load (snapshot reads), before the writer's transactions
            checked += 1
            assert len(rows) == ACCOUNTS, f"accounts v{version['version']}: {len(rows)} rows"
            assert len({row["v"] for row in rows}) == 1, \
                f"accounts v{version['version']} shows part of a transaction: v = " \
                f"{sorted({row['v'] for row in rows})}"
            assert sum(row["balance"] for row in rows) == 100 * ACCOUNTS, version["version"]
        staged = 0
        for name in os.listdir(accounts_dir + "/metadata"):
            if name.endswith(".metadata.json"):
                refs = json.load(open(f"{accounts_dir}/metadata/{name}")).get("refs", {})
                staged += "eddy-staged" in refs
        assert staged > 0 and checked > 0, \
            f"no batch was cut inside a transaction ({staged}, {checked}); the check proved nothing"
        print(f"iceberg_sink: every one of {checked} versions of accounts is "
              f"a whole-transaction state ({staged} versions had a transaction staged)", flush=True)

        # ---- eddy lake expire while the sink runs: readers see the same rows ----
        def current_rows():
            result, _ = read_table(args.node, table_dir, "id", current_only=True)
            if result is None or result["problems"]:
                return None
            return rows_of(result["versions"][-1]["rows"], columns)

        before_expire = wait_for(lambda: (lambda rows: rows if rows == source_rows(db, "items", columns)
                                          else None)(current_rows()), 120, "items before expiry")
        reply = subprocess.run([args.eddy, "lake", "expire", "--warehouse", f"iceberg+file://{lake}",
                                "--older-than", "1s"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=120)
        assert reply.returncode == 0, reply.stdout
        expired = sum(int(line.split(": ")[1].split(" ")[0]) for line in reply.stdout.splitlines()
                      if "snapshots expired" in line)
        assert expired > 0 and "public/items: " in reply.stdout, reply.stdout
        after_expire = current_rows()
        assert after_expire == before_expire, "readers see other rows after eddy lake expire"
        duck, _ = read_table(args.node, table_dir, "id", current_only=True)
        assert rows_of(duck["duckdb"], columns) == before_expire, "DuckDB reads other rows after expiry"
        db.sql("UPDATE items SET qty = qty + 7 WHERE id <= 4")
        wait_for(lambda: current_rows() == source_rows(db, "items", columns), 120,
                 "the sink to commit on the expired table")
        print(f"iceberg_sink: eddy lake expire while the sink runs: {expired} snapshots expired, "
              f"icebird and DuckDB read the same rows before and after; the sink commits on",
              flush=True)
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
        run = None

        # ---- 5. iceberg+s3:// into s3rver ----
        s3 = S3rver(work + "/s3", "lake")
        try:
            s3_config = stream_config(work + "/lake-s3.toml", "lake-s3", 'heartbeat_interval = "1s"')
            s3_command = [args.eddy, "run", "--config", s3_config, "--source", db.url,
                          "--data-dir", work + "/data-s3",
                          "--stream", "lake-s3", "--tables", "public.items", "--shards", "1",
                          "--api-listen", "127.0.0.1:0",
                          "--sink", f"iceberg+s3://lake/warehouse?endpoint={s3.endpoint}"
                                    "&commit_interval=1"]
            run = subprocess.Popen(s3_command, stdout=log, stderr=subprocess.STDOUT,
                                   env=dict(os.environ, **S3_ENV))
            db.sql("UPDATE items SET qty = qty + 1000 WHERE id % 4 = 0")
            db.sql("DELETE FROM items WHERE id % 9 = 0")
            s3_table = f"s3://lake/warehouse/{database}/public/items"

            def mirrored_on_s3():
                if run.poll() is not None:
                    raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
                location = sql_catalog_location(glob.glob(work + "/data-s3/iceberg/*.db")[0]
                                                if glob.glob(work + "/data-s3/iceberg/*.db") else "",
                                                "items")
                if location is None:
                    return None
                result, _ = read_table(args.node, s3_table, "id", s3.endpoint, location)
                if result is None:
                    return None
                current = rows_of(result["versions"][-1]["rows"], columns)
                return result if current == source_rows(db, "items", columns) else None

            result = wait_for(mirrored_on_s3, 180, "the Iceberg table on s3rver to equal the source")
            assert not result["problems"], result["problems"]
            assert rows_of(result["duckdb"], columns) == source_rows(db, "items", columns)
            print(f"iceberg_sink: iceberg+s3:// (s3rver) with the SQL catalog (the default there): "
                  f"icebird and DuckDB read the source table at the catalog's metadata_location, "
                  f"{len(result['versions'])} versions", flush=True)
            # eddy lake compact and remove-orphans on S3 through the SQL catalog, sink running.
            s3_url = f"iceberg+s3://lake/warehouse?endpoint={s3.endpoint}"
            reply = subprocess.run([args.eddy, "lake", "compact", "--warehouse", s3_url,
                                    "--data-dir", work + "/data-s3"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, timeout=300,
                                   env=dict(os.environ, **S3_ENV))
            assert reply.returncode == 0 and "public/items: " in reply.stdout, reply.stdout
            result = wait_for(mirrored_on_s3, 120, "the table on s3rver after eddy lake compact")
            assert not result["problems"], result["problems"]
            assert result["files"]["deletes"] == 0 or "nothing to compact" in reply.stdout, \
                (result["files"], reply.stdout)
            reply = subprocess.run([args.eddy, "lake", "remove-orphans", "--warehouse", s3_url,
                                    "--data-dir", work + "/data-s3", "--dry-run"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   timeout=300, env=dict(os.environ, **S3_ENV))
            assert reply.returncode == 0 and "recent ones kept" in reply.stdout, reply.stdout
            print("iceberg_sink: eddy lake compact on s3rver through the SQL catalog: zero delete "
                  "files, icebird and DuckDB read the source table; remove-orphans --dry-run ran",
                  flush=True)
            run.send_signal(signal.SIGTERM)
            run.wait(timeout=60)
            run = None
        finally:
            s3.stop()
        print("iceberg_sink: OK", flush=True)
    except BaseException:
        print(f"iceberg_sink: FAILED (seed {args.seed}); work directory kept: {work}", flush=True)
        raise
    finally:
        if run is not None and run.poll() is None:
            run.kill()
        if db is not None:
            db.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

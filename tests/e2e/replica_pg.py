#!/usr/bin/env python3
"""The replica sink, PostgreSQL -> PostgreSQL, against two real PostgreSQL 15 servers.

    replica_pg.py EDDY_BINARY EDDY_LOCALDB_BINARY

One `eddy run --sink postgresql://...?schema=replica` applies a source (eddy-localdb) into a
second PostgreSQL (pg_ctl, so it can be restarted), and the test checks, in order:
1. every type of the PostgreSQL capture's type matrix (the rows of
   src/source/postgres/capture_integration_test.cc, EveryTypeThroughSnapshotAndStreaming),
   through the snapshot (COPY) and through streaming (upserts), compares equal column by
   column as the servers print them (the one documented difference: array lower bounds), and
   every target column is declared as the source's (format_type: modifiers, arrays, NOT NULL)
   but for the documented user types (enum, enum array, domain);
2. updates, deletes and a truncate land;
3. ADD COLUMN and DROP COLUMN in the source mid-stream reach the target;
4. a lock held on a target table past the sink's lock_timeout: IMPAIRED, then ACTIVE;
5. the target stopped mid-run: the sink turns IMPAIRED (eddy_sink_state on /metrics), the
   target comes back, the sink is ACTIVE again and nothing is lost or doubled;
6. a target table altered by hand so inserts fail (a CHECK constraint): the sink turns FAILED
   and the reason names the target table.
Before that, bad sink URLs (unreachable port, wrong password, unknown setting, no database,
a bad create_tables) stop `eddy run` with a message naming the problem and the fix.
A failing server start is a failure, never a skip.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from replica_support import (ENV, LocalServer, TargetPostgres, free_port, sink_state, start_eddy,
                             stop_process, wait_for)

TYPES_DDL = """
CREATE TYPE mood AS ENUM ('sad', 'happy', 'very happy');
CREATE DOMAIN positive_int AS int4 CHECK (VALUE > 0);
CREATE TABLE types_t (
  id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, n numeric, nn numeric(10,2),
  f4 float4, f8 float8, t text, vc varchar(20), c char(3), by bytea, d date, tm time,
  ttz timetz, ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb,
  ai int4[], at text[], e mood, ea mood[], dom positive_int, inet_v inet, cidr_v cidr,
  mac macaddr, bits bit(4), vbits varbit, money_v money, x xml, pt point, bx box,
  circ circle, rng int4range, tsr tstzrange, oid_v oid);
"""
NULLS_37 = ", ".join(["NULL"] * 31)
TYPE_ROWS = [
    "(1, true, -32768, -2147483648, -9223372036854775808, 'NaN', 12345678.91, 'NaN', "
    "'-Infinity', E'tab\\there \"q\" \\\\ nl\\n emoji \U0001F600', 'varchar', 'ab', "
    "'\\x00ff', '4714-11-24 BC', '24:00:00', '23:59:59.999999-15:59', "
    "'294276-12-31 23:59:59.999999', '0044-03-15 12:00:00+00 BC', "
    "'-178000000 years -1 days +00:00:00.000001', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
    "'{\"a\": [1, 2.50]}', '{\"b\": null, \"a\": 1}', '{{1,NULL},{3,4}}', "
    "ARRAY['a,b', 'say \"hi\"', NULL, 'NULL', ''], 'very happy', '{sad,\"very happy\"}', 5, "
    "'192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'1', 1234.56, "
    "'<a>b</a>', '(1,2)', '((0,0),(1,1))', '<(1,2),3>', '[1,5)', "
    "'[2024-01-01 00:00:00+00,infinity)', 4294967295)",
    "(2, false, 32767, 2147483647, 9223372036854775807, '" + "9" * 500 + "." + "1" * 500 +
    "', -0.01, 'Infinity', 1.7976931348623157e308, '', NULL, NULL, '\\x', 'infinity', "
    "'00:00:00', '00:00:00+14', '-infinity', 'infinity', '00:00:00', "
    "'00000000-0000-0000-0000-000000000000', 'null', '[]', '{}', '{}', 'sad', '{}', 1, "
    "'::1', '::/0', 'ff:ff:ff:ff:ff:ff', B'0000', B'', -1, '<b/>', '(-1.5,2e-10)', "
    "'((1,1),(1,1))', '<(0,0),0>', 'empty', 'empty', 0)",
    "(3, NULL, NULL, NULL, NULL, '-Infinity', NULL, '-0', 5e-324, NULL, NULL, NULL, NULL, "
    "'2024-02-29', '13:45:01.5', NULL, '1970-01-01 00:00:00', '1970-01-01 01:00:00+01', "
    "'1 year 2 mons 3 days 04:05:06.789', NULL, NULL, NULL, '[0:1]={7,8}', NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(4, NULL, NULL, NULL, NULL, NULL, NULL, '3.4028235e38', '0.1', " + NULLS_37 + ")",
    "(5, NULL, NULL, NULL, NULL, NULL, NULL, '7.0000005', '-0', " + NULLS_37 + ")",
    "(6, NULL, NULL, NULL, NULL, NULL, NULL, '1.17549435e-38', '123456789.12345679', " +
    NULLS_37 + ")",
]
# Array lower bounds are not part of eddy's value model (model/value.h): '[0:1]={7,8}'
# arrives as '{7,8}' (docs/sinks/replica.md lists it).
KNOWN = {("ai", "3"): '"{7,8}"', ("ai", "103"): '"{7,8}"'}


def columns_of(db, table, schema="public"):
    return [line for line in db.query(
        f"SELECT attname FROM pg_attribute WHERE attrelid = '{schema}.{table}'::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum").splitlines()]


# Column types that cannot be the source's in the target (docs/sinks/replica.md): user enums
# and arrays of them become text, a domain its base type.
KNOWN_TYPES = {"e": "text", "ea": "text[]", "dom": "integer"}


def column_types(db, table, schema="public"):
    """(name, type with modifiers as format_type prints it, NOT NULL) per column."""
    text = db.query(f"SELECT attname, format_type(atttypid, atttypmod), attnotnull "
                    f"FROM pg_attribute WHERE attrelid = '{schema}.{table}'::regclass "
                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
    return [tuple(line.split("\t")) for line in text.splitlines() if line]


def column_values(db, table, column):
    # to_json escapes the newlines and tabs some values hold, so each row is one line.
    text = db.query(f"SELECT id, COALESCE(to_json({column}::text)::text, '<NULL>') "
                    f"FROM {table} ORDER BY id")
    return dict(line.split("\t", 1) for line in text.splitlines() if line)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-replica-pg-")
    source = target = run = None
    ok = False
    try:
        source = LocalServer(args.localdb, work)
        target = TargetPostgres(work)
        source.sql(TYPES_DDL)
        source.sql("INSERT INTO types_t VALUES " + ", ".join(TYPE_ROWS))
        source.sql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, note text)")
        source.sql("INSERT INTO kv SELECT k, k, 'n' || k FROM generate_series(1, 50) k")
        # Bad input: eddy does not start, and says what is wrong and how to fix it.
        bad = [(f"postgresql://eddy:target@127.0.0.1:{free_port()}/postgres",
                "check that the server runs"),
               (target.url.replace(":target@", ":wrong@"), "check the user and password"),
               (target.url + "?colour=red", "unknown postgresql sink setting 'colour'"),
               (target.url.rsplit("/", 1)[0], "names no database"),
               (target.url + "?create_tables=maybe", "'create_tables'")]
        for url, expected in bad:
            result = subprocess.run(
                [args.eddy, "run", "--source", source.url, "--data-dir", work + "/bad",
                 "--stream", "bad", "--tables", "public.kv", "--api-listen", "127.0.0.1:0",
                 "--sink", url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                timeout=120)
            if result.returncode == 0 or expected not in result.stdout:
                raise AssertionError(f"--sink {url}: exit {result.returncode}, expected "
                                     f"{expected!r} in:\n{result.stdout[-2000:]}")
            if "wrong" in url and "wrong" in result.stdout:
                raise AssertionError("the password appears in the output")
        print(f"replica_pg: {len(bad)} bad sink URLs refused with the fix named", flush=True)
        metrics_port = free_port()
        sink = (target.url + "?schema=replica&name=replica"
                "&options=-c%20lock_timeout%3D1s")
        target.sql("CREATE SCHEMA replica")
        log = open(work + "/eddy.log", "a")
        run = start_eddy(args.eddy, source.url, work + "/data", sink,
                         "public.types_t,public.kv", log, metrics_port)

        def count(table, where="true"):
            text = target.query(f"SELECT count(*) FROM replica.{table} WHERE {where}", check=False)
            return int(text) if text else -1

        def alive():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            return True

        wait_for(lambda: alive() and count("types_t") == 6 and count("kv") == 50, 120,
                 "the snapshot rows in the target")
        # 1. The type matrix, snapshot rows (COPY) and streamed copies (upserts).
        source.sql("INSERT INTO types_t SELECT id + 100, b, i2, i4, i8, n, nn, f4, f8, t, vc, c, "
                   "by, d, tm, ttz, ts, tstz, iv, u, j, jb, ai, at, e, ea, dom, inet_v, cidr_v, "
                   "mac, bits, vbits, money_v, x, pt, bx, circ, rng, tsr, oid_v FROM types_t")
        wait_for(lambda: alive() and count("types_t") == 12, 60, "the streamed type rows")
        mismatches = []
        columns = columns_of(source, "types_t")
        assert columns == columns_of(target, "types_t", "replica"), "column lists differ"
        # Every column declared as in the source (varchar(20), numeric(10,2), bit(4),
        # int4[], ...), but for the documented exceptions.
        type_mismatches = []
        for want, got in zip(column_types(source, "types_t"),
                             column_types(target, "types_t", "replica")):
            expected = (want[0], KNOWN_TYPES.get(want[0], want[1]), want[2])
            if got != expected:
                type_mismatches.append(f"{want} -> {got}")
        if type_mismatches:
            raise AssertionError("PostgreSQL -> PostgreSQL column types differ:\n  " +
                                 "\n  ".join(type_mismatches))
        for column in columns:
            want = column_values(source, "types_t", column)
            got = column_values(target, "replica.types_t", column)
            for key, value in want.items():
                expected = KNOWN.get((column, key), value)
                if got.get(key) != expected:
                    mismatches.append(f"{column} id={key}: source {value!r} target {got.get(key)!r}")
        if mismatches:
            raise AssertionError("type matrix differs:\n  " + "\n  ".join(mismatches))
        print(f"replica_pg: {len(columns)} columns x 12 rows equal", flush=True)

        # 2. Updates, deletes, a truncate.
        source.sql("BEGIN; UPDATE kv SET v = v * 10 WHERE k <= 10; DELETE FROM kv WHERE k > 45; "
                   "UPDATE kv SET k = 1000 WHERE k = 20; COMMIT")
        source.sql("DELETE FROM types_t WHERE id > 100; UPDATE types_t SET t = 'changed' WHERE id = 1")

        def same(table, cols):
            a = source.query(f"SELECT {cols} FROM {table} ORDER BY 1")
            b = target.query(f"SELECT {cols} FROM replica.{table} ORDER BY 1", check=False)
            return a == b

        wait_for(lambda: alive() and same("kv", "k, v, note") and count("types_t") == 6, 60,
                 "updates and deletes in the target")
        # 3. ADD and DROP COLUMN mid-stream.
        source.sql("ALTER TABLE kv ADD COLUMN extra text")
        source.sql("UPDATE kv SET extra = 'x' || k WHERE k <= 5")
        source.sql("ALTER TABLE kv DROP COLUMN note")
        source.sql("INSERT INTO kv VALUES (2000, 1, 'new')")
        wait_for(lambda: alive() and "note" not in columns_of(target, "kv", "replica")
                 and same("kv", "k, v, extra"), 60, "ADD and DROP COLUMN in the target")
        print("replica_pg: ADD/DROP COLUMN applied", flush=True)
        source.sql("TRUNCATE types_t")
        wait_for(lambda: alive() and count("types_t") == 0, 60, "the truncate in the target")

        # 4. A lock held on the target table: the batch's lock wait times out (55P03, the
        # sink's options=-c lock_timeout=1s), retriable: IMPAIRED until the lock goes.
        wait_for(lambda: sink_state(metrics_port, "replica") == "ACTIVE", 30, "ACTIVE")
        holder = subprocess.Popen(["psql", target.url, "-v", "ON_ERROR_STOP=1", "-q"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                  env=ENV)
        holder.stdin.write("BEGIN; LOCK TABLE replica.kv IN ACCESS EXCLUSIVE MODE;\n")
        holder.stdin.flush()
        wait_for(lambda: target.query("SELECT count(*) FROM pg_locks WHERE granted AND mode = "
                                      "'AccessExclusiveLock' AND relation = "
                                      "'replica.kv'::regclass").strip() == "1", 30,
                 "the lock to be held")
        source.sql("INSERT INTO kv SELECT k, k, NULL FROM generate_series(2500, 2509) k")
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "IMPAIRED", 60,
                 "the sink to turn IMPAIRED on the lock timeout")
        holder.stdin.write("COMMIT;\n\\q\n")
        holder.stdin.close()
        holder.wait(timeout=60)
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "ACTIVE"
                 and same("kv", "k, v, extra"), 120, "the sink to recover after the lock")
        log.flush()
        if "lock timeout" not in open(work + "/eddy.log").read():
            raise AssertionError("the IMPAIRED reason does not say lock timeout; see the log")
        print("replica_pg: lock timeout on the target: IMPAIRED, then ACTIVE, kv equal",
              flush=True)

        # 5. The target stops and starts again.
        wait_for(lambda: sink_state(metrics_port, "replica") == "ACTIVE", 30, "ACTIVE")
        target.stop()
        source.sql("INSERT INTO kv SELECT k, k, NULL FROM generate_series(3000, 3099) k")
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "IMPAIRED", 60,
                 "the sink to turn IMPAIRED while the target is down")
        target.start()
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "ACTIVE"
                 and same("kv", "k, v, extra"), 120, "the sink to recover after the restart")
        print("replica_pg: target restart: IMPAIRED, then ACTIVE, kv equal", flush=True)

        # 6. A target table altered by hand so inserts fail.
        target.sql("ALTER TABLE replica.kv ADD CONSTRAINT small_v CHECK (v < 1000000)")
        source.sql("INSERT INTO kv VALUES (4000, 5000000, 'too big')")
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "FAILED", 60,
                 "the sink to turn FAILED")
        log.flush()
        text = open(work + "/eddy.log").read()
        if "target table replica.kv" not in text:
            raise AssertionError("the FAILED reason does not name the target table; see the log")
        print("replica_pg: a refused insert: FAILED naming replica.kv", flush=True)
        ok = True
    finally:
        stop_process(run)
        if target:
            target.close()
        if source:
            source.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"replica_pg: FAILED; logs in {work}", file=sys.stderr)
    print("replica_pg: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

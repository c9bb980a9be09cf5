#!/usr/bin/env python3
"""The replica sink into MariaDB, against real MariaDB 10.11 and PostgreSQL 15 servers.

    replica_mariadb.py EDDY_BINARY EDDY_LOCALDB_BINARY

1. MariaDB -> MariaDB: every type of the MySQL capture's type matrix (type_matrix.py's
   MY_COLUMNS and MY_ROWS, as replica_mariadb_pg.py creates them), through the snapshot (multi-row INSERT) and the binlog (upserts),
   lands in database `replica` (same server) with every column declared as in the source
   (information_schema's COLUMN_TYPE, collation and nullability, which SHOW CREATE TABLE
   prints; integer display widths aside), and compares equal column by column as MariaDB
   prints it; `eddy validate` exits 0.
2. PostgreSQL -> MariaDB: a PostgreSQL type matrix of values MariaDB can hold, through the
   snapshot and streaming; `eddy validate` exits 0 (canonical forms for the common types, the
   source's text for the rest: timetz, interval, json, arrays, enum, inet, money, xml, point,
   ranges, oid), and a few columns are checked against the mapping table as MariaDB prints
   them. Updates, deletes, a composite text key with case and trailing-space variants.
   Then a column made NOT NULL, a new primary key, RENAME TABLE and DROP TABLE in the source
   reach the target (same column types, same key, the table renamed / dropped).
3. ADD and DROP COLUMN in the source mid-stream reach the target.
4. A lock wait timeout on the target (another session holds the row): the sink turns IMPAIRED
   naming error 1205, then ACTIVE once the lock is gone, the change applied once.
   The target kills the sink's connections mid-stream (as a restart does): reconnect, retry,
   equal.
5. A target table altered by hand so inserts fail (a CHECK constraint): FAILED, naming the
   table.
A failing server start is a failure, never a skip.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile

from replica_mariadb_pg import TYPES_DDL
from replica_support import LocalServer, free_port, sink_state, start_eddy, stop_process, wait_for
from type_matrix import MY_COLUMNS, MY_ROWS

PG_TYPES_DDL = """
CREATE TYPE mood AS ENUM ('sad', 'happy', 'very happy');
CREATE TABLE types_t (
  id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, n numeric, nn numeric(10,2),
  f4 float4, f8 float8, t text, vc varchar(20), c char(3), by bytea, d date, tm time,
  ttz timetz, ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb,
  ai int4[], at text[], e mood, inet_v inet, bits bit(4), vbits varbit, money_v money,
  x xml, pt point, rng int4range, oid_v oid);
CREATE TABLE labels (code text, n int, note varchar(10), PRIMARY KEY (code, n));
"""
PG_TYPE_ROWS = [
    "(1, true, -32768, -2147483648, -9223372036854775808, "
    "'-12345678901234567890123456789012345.123456789012345678901234567890', 12345678.91, "
    "3.4028235e38, 1.7976931348623157e308, E'tab\\there \"q\" \\\\ nl\\n emoji \U0001F600', "
    "'varchar', 'ab', '\\x00ff', '0001-01-01', '24:00:00', '23:59:59.999999-15:59', "
    "'9999-12-31 23:59:59.999999', '2038-01-19 03:14:08+00', "
    "'1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
    "'{\"a\": [1, 2.50]}', '{\"b\": null, \"a\": 1}', '{{1,NULL},{3,4}}', "
    "ARRAY['a,b', 'say \"hi\"', NULL, 'NULL', ''], 'very happy', '192.168.0.1/24', B'1010', "
    "B'1', 1234.56, '<a>b</a>', '(1,2)', '[1,5)', 4294967295)",
    "(2, false, 32767, 2147483647, 9223372036854775807, 0, -0.01, '-0', "
    "2.2250738585072014e-308, '', NULL, 'x', '\\x', '1970-01-01', '00:00:00', '00:00:00+14', "
    "'1000-01-01 00:00:00', '1970-01-01 00:00:00+00', '-1 days +02:03:04', "
    "'00000000-0000-0000-0000-000000000000', 'null', '[]', '{}', '{}', 'sad', '::1', B'0000', "
    "B'', -1, '<b/>', '(-1.5,2e-10)', 'empty', 0)",
    "(3, NULL, NULL, NULL, NULL, 0.000000000000000000000000000001, NULL, 1.5e-7, 0.1, NULL, "
    "NULL, NULL, NULL, '2024-02-29', '13:45:01.5', NULL, '1970-01-01 00:00:00', "
    "'1970-01-01 01:00:00+01', '00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL)",
]
# Columns as MariaDB prints them for row 1 (the mapping table of docs/sinks/replica.md).
PG_EXPECTED_ROW1 = {
    "b": "1", "n": "-12345678901234567890123456789012345.123456789012345678901234567890",
    "tm": "24:00:00.000000", "ttz": "23:59:59.999999-15:59",
    "tstz": "2038-01-19 03:14:08.000000", "iv": "1 year 2 mons 3 days 04:05:06.789",
    "jb": '{"a": 1, "b": null}', "ai": "{{1,NULL},{3,4}}",
    "at": '{"a,b","say \\\\"hi\\\\"",NULL,"NULL",""}', "e": "very happy", "bits": "1010",
    "oid_v": "4294967295", "by": "00FF",
}


class Mariadb:
    def __init__(self, url, database):
        m = re.match(r"mysql://([^:]+):([^@]*)@([^:/]+):(\d+)", url)
        self.user, self.password, self.host, self.port = m.groups()
        self.database = database

    def url(self, scheme="mariadb"):
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def args(self):
        return ["mariadb", "-u", self.user, f"-p{self.password}", "-h", self.host, "-P",
                self.port, "--default-character-set=utf8mb4", self.database]

    def sql(self, statement):
        subprocess.run(self.args() + ["-e", statement], check=True, stdout=subprocess.DEVNULL)

    def query(self, statement, check=True):
        result = subprocess.run(self.args() + ["-N", "-B", "-e",
                                               "SET time_zone = '+00:00'; " + statement],
                                check=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        if check and result.returncode != 0:
            raise AssertionError(result.stderr)
        return result.stdout if result.returncode == 0 else None


def columns_of(db, table):
    return db.query(f"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                    f"'{db.database}' AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
                    ).split()


def column_types(db, table):
    """(name, type, collation, nullable) per column, as SHOW CREATE TABLE declares them; the
    display widths of integers and YEAR (deprecated, not in the binlog) are left out."""
    text = db.query(f"SELECT COLUMN_NAME, COLUMN_TYPE, IFNULL(COLLATION_NAME, '-'), IS_NULLABLE "
                    f"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{db.database}' AND "
                    f"TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION")
    result = []
    for line in text.splitlines():
        name, kind, collation, nullable = line.split("\t")
        kind = re.sub(r"^(tinyint|smallint|mediumint|int|bigint|year)\(\d+\)", r"\1", kind)
        result.append((name, kind, collation, nullable))
    return result


def rows_of(output):
    result = {}
    for line in (output or "").splitlines():
        key, value = line.split("\t", 1)
        result[key] = value
    return result


def validate(eddy, source, target, tables):
    result = subprocess.run([eddy, "validate", "--source", source, "--target", target,
                             "--tables", tables, "--chunk-size", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return result.returncode, result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-replica-mariadb-")
    maria = pg = run = None
    ok = False
    try:
        maria = LocalServer(args.localdb, work, "mariadb")
        pg = LocalServer(args.localdb, work, "postgres")
        source_db = maria.url.rsplit("/", 1)[1].split("?")[0]
        source = Mariadb(maria.url, source_db)
        target = Mariadb(maria.url, "replica")
        maria.sql("CREATE DATABASE replica; CREATE DATABASE from_pg")
        log = open(work + "/eddy.log", "a")

        def alive():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            return True

        def count(db, table):
            text = db.query(f"SELECT COUNT(*) FROM {table}", check=False)
            return int(text) if text else -1

        # 1. MariaDB -> MariaDB.
        maria.sql(TYPES_DDL)
        maria.sql("SET sql_mode = ''; INSERT INTO types VALUES " + ", ".join(MY_ROWS))
        maria.sql("CREATE TABLE ddl_a (id INT NOT NULL PRIMARY KEY, w INT NOT NULL, "
                  "v VARCHAR(10) NULL) ENGINE=InnoDB; "
                  "INSERT INTO ddl_a VALUES (1, 10, 'one'), (2, 20, 'two')")
        ddl_tables = ",".join(f"{source_db}.{t}" for t in ("ddl_a", "ddl_b", "ddl_c"))
        run = start_eddy(args.eddy, maria.url, work + "/data1", target.url() + "?name=replica",
                         f"{source_db}.types,{ddl_tables}", log)
        wait_for(lambda: alive() and count(target, "types") == 3, 120,
                 "the snapshot rows in the target")
        maria.sql("SET sql_mode = ''; INSERT INTO types SELECT id + 100, " +
                  ", ".join(name for name, *_ in MY_COLUMNS[1:]) + " FROM types")
        wait_for(lambda: alive() and count(target, "types") == 6, 60,
                 "the binlog rows in the target")
        columns = columns_of(source, "types")
        assert columns == columns_of(target, "types"), "column lists differ"
        # The target's columns are declared as the source's: type, length, labels, unsigned,
        # character set and collation, nullability.
        want_types, got_types = column_types(source, "types"), column_types(target, "types")
        type_mismatches = [f"{want} -> {got}" for want, got in zip(want_types, got_types)
                           if want != got]
        if type_mismatches:
            raise AssertionError("MariaDB -> MariaDB column types differ:\n  " +
                                 "\n  ".join(type_mismatches))
        # The snapshot (information_schema) and the binlog (TABLE_MAP) gave the table one and
        # the same schema: one version, so the target was never altered back and forth.
        schemas = subprocess.run([args.eddy, "log", "schemas", "--data-dir", work + "/data1",
                                  "--stream", "rep"], stdout=subprocess.PIPE, text=True,
                                 check=True).stdout
        if f"{source_db}.types version 2" in schemas:
            raise AssertionError("the snapshot and the binlog gave `types` different schemas:\n"
                                 + schemas)
        mismatches = []
        for column in columns[1:]:
            if re.fullmatch(r"b\d+", column):
                want_expr = got_expr = f"CAST({column} AS UNSIGNED)"
            elif column in ("bn", "vb", "bl", "mb", "g"):
                want_expr = got_expr = f"HEX({column})"
            else:
                want_expr = got_expr = column
            want = rows_of(source.query(f"SELECT id, IFNULL({want_expr}, '<NULL>') FROM types"))
            got = rows_of(target.query(f"SELECT id, IFNULL({got_expr}, '<NULL>') FROM types"))
            for key, value in want.items():
                if got.get(key) != value:
                    mismatches.append(f"{column} id={key}: source {value[:60]!r} "
                                      f"target {str(got.get(key))[:60]!r}")
        if mismatches:
            raise AssertionError("MariaDB type matrix differs:\n  " + "\n  ".join(mismatches))
        code, text = validate(args.eddy, source.url(), target.url(), "types")
        if code != 0:
            raise AssertionError("eddy validate MariaDB -> MariaDB:\n" + text)
        print(f"replica_mariadb: MariaDB -> MariaDB {len(columns)} columns x 6 rows equal; "
              "eddy validate 0", flush=True)

        # 1b. Nullability, the primary key, RENAME TABLE and DROP TABLE follow.
        def key_of(db, table):
            return db.query(f"SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM "
                            f"information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = "
                            f"'{db.database}' AND TABLE_NAME = '{table}' AND CONSTRAINT_NAME = "
                            f"'PRIMARY'").strip()

        def same_shape(table):
            return (column_types(source, table) == column_types(target, table) and
                    key_of(source, table) == key_of(target, table))

        wait_for(lambda: alive() and count(target, "ddl_a") == 2, 60, "ddl_a in the target")
        maria.sql("ALTER TABLE ddl_a MODIFY v VARCHAR(10) NOT NULL; "
                  "ALTER TABLE ddl_a DROP PRIMARY KEY, ADD PRIMARY KEY (id, w); "
                  "INSERT INTO ddl_a VALUES (1, 11, 'one again')")
        wait_for(lambda: alive() and count(target, "ddl_a") == 3 and same_shape("ddl_a"), 60,
                 "NOT NULL and the new primary key (id, w) in the target")
        maria.sql("RENAME TABLE ddl_a TO ddl_b; INSERT INTO ddl_b VALUES (3, 30, 'three')")
        wait_for(lambda: alive() and count(target, "ddl_b") == 4 and
                 count(target, "ddl_a") == -1, 60, "ddl_a renamed to ddl_b in the target")
        if target.query("SELECT id, w, v FROM ddl_b ORDER BY id, w") != \
                source.query("SELECT id, w, v FROM ddl_b ORDER BY id, w"):
            raise AssertionError("ddl_b differs after the rename")
        maria.sql("CREATE TABLE ddl_c (id INT PRIMARY KEY) ENGINE=InnoDB; "
                  "INSERT INTO ddl_c VALUES (1)")
        wait_for(lambda: alive() and count(target, "ddl_c") == 1, 60, "ddl_c in the target")
        maria.sql("DROP TABLE ddl_c")
        wait_for(lambda: alive() and count(target, "ddl_c") == -1, 60,
                 "ddl_c dropped in the target")
        print("replica_mariadb: NOT NULL, primary key, RENAME TABLE and DROP TABLE followed",
              flush=True)
        stop_process(run)

        # 2. PostgreSQL -> MariaDB.
        pg_target = Mariadb(maria.url, "from_pg")
        pg.sql(PG_TYPES_DDL)
        pg.sql("INSERT INTO types_t VALUES " + ", ".join(PG_TYPE_ROWS))
        pg.sql("INSERT INTO labels VALUES ('a', 1, 'x'), ('A', 1, 'y'), ('a ', 1, 'z'), "
               "('\u00e9', 2, NULL), ('b', 3, 'w')")
        metrics_port = free_port()
        run = start_eddy(args.eddy, pg.url, work + "/data2",
                         pg_target.url() + "?name=replica&max_batching_window=0",
                         "public.types_t,public.labels", log, metrics_port=metrics_port)
        wait_for(lambda: alive() and count(pg_target, "types_t") == 3 and
                 count(pg_target, "labels") == 5, 120, "the PostgreSQL snapshot in the target")
        pg.sql("INSERT INTO types_t SELECT id + 100, b, i2, i4, i8, n, nn, f4, f8, t, vc, c, by, "
               "d, tm, ttz, ts, tstz, iv, u, j, jb, ai, at, e, inet_v, bits, vbits, money_v, x, "
               "pt, rng, oid_v FROM types_t")
        pg.sql("UPDATE labels SET note = 'changed' WHERE code = 'A'; "
               "DELETE FROM labels WHERE code = 'b'; INSERT INTO labels VALUES ('B', 3, 'new')")
        wait_for(lambda: alive() and count(pg_target, "types_t") == 6, 60,
                 "the streamed PostgreSQL rows in the target")
        pg_url_public = pg.url
        wait_for(lambda: alive() and validate(args.eddy, pg_url_public, pg_target.url(),
                                              "labels")[0] == 0, 60, "labels equal")
        code, text = validate(args.eddy, pg_url_public, pg_target.url(), "types_t,labels")
        if code != 0:
            raise AssertionError("eddy validate PostgreSQL -> MariaDB:\n" + text)
        got = {}
        for column in PG_EXPECTED_ROW1:
            expr = f"HEX(`{column}`)" if column == "by" else f"`{column}`"
            got[column] = pg_target.query(f"SELECT {expr} FROM types_t WHERE id = 1").rstrip("\n")
        wrong = {c: (v, got[c]) for c, v in PG_EXPECTED_ROW1.items() if got[c] != v}
        if wrong:
            raise AssertionError(f"PostgreSQL -> MariaDB values (expected, got): {wrong}")
        print("replica_mariadb: PostgreSQL -> MariaDB types_t and labels equal; eddy validate 0",
              flush=True)

        # 3. ADD and DROP COLUMN mid-stream.
        pg.sql("ALTER TABLE labels ADD COLUMN extra int")
        pg.sql("UPDATE labels SET extra = n * 10")
        pg.sql("ALTER TABLE labels DROP COLUMN note")
        # PostgreSQL tells logical replication of a dropped column with the next row change.
        pg.sql("INSERT INTO labels VALUES ('c', 4, 40)")
        wait_for(lambda: alive() and "note" not in columns_of(pg_target, "labels") and
                 validate(args.eddy, pg_url_public, pg_target.url(), "labels")[0] == 0, 60,
                 "ADD and DROP COLUMN in the target")
        print("replica_mariadb: ADD/DROP COLUMN applied", flush=True)

        # 4. A lock wait timeout on the target: IMPAIRED, then ACTIVE.
        wait_for(lambda: sink_state(metrics_port, "replica") == "ACTIVE", 30, "ACTIVE")
        maria.sql("SET GLOBAL innodb_lock_wait_timeout = 1")
        stop_process(run)  # the sink's session takes the global value when it connects
        run = start_eddy(args.eddy, pg.url, work + "/data2",
                         pg_target.url() + "?name=replica&max_batching_window=0",
                         "public.types_t,public.labels", log, metrics_port=metrics_port)
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "ACTIVE", 60,
                 "ACTIVE after the restart")
        blocker = subprocess.Popen(pg_target.args() + ["--batch", "--skip-column-names",
                                                       "--unbuffered"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        blocker.stdin.write("START TRANSACTION; SELECT n FROM labels WHERE code = 'a' AND n = 1 "
                            "FOR UPDATE; SELECT 'locked';\n")
        blocker.stdin.flush()
        wait_for(lambda: "locked" in blocker.stdout.readline(), 30, "the row lock")
        pg.sql("UPDATE labels SET extra = 999 WHERE code = 'a' AND n = 1")
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "IMPAIRED", 60,
                 "the sink to turn IMPAIRED on the lock wait timeout")
        log.flush()
        assert "1205" in open(work + "/eddy.log").read(), "the log does not name error 1205"
        blocker.stdin.write("ROLLBACK;\n")
        blocker.stdin.close()
        blocker.wait(timeout=30)
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "ACTIVE" and
                 validate(args.eddy, pg_url_public, pg_target.url(), "labels")[0] == 0, 120,
                 "the sink to recover after the lock is released")
        print("replica_mariadb: lock wait timeout: IMPAIRED (error 1205), then ACTIVE, equal",
              flush=True)

        # 4b. The target drops the sink's connection (what a target restart does to it) while
        # changes flow: the sink reconnects and retries; nothing lost or doubled.
        killed = 0
        for round_index in range(3):
            pg.sql(f"INSERT INTO labels SELECT 'k{round_index}-' || g, g, g FROM "
                   f"generate_series(1, 200) g")
            ids = pg_target.query("SELECT ID FROM information_schema.PROCESSLIST WHERE "
                                  "DB = 'from_pg' AND ID <> CONNECTION_ID()").split()
            for connection in ids:
                pg_target.query(f"KILL CONNECTION {connection}", check=False)
            killed += len(ids)
        assert killed > 0, "the sink had no connection to kill"
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "ACTIVE" and
                 validate(args.eddy, pg_url_public, pg_target.url(), "labels")[0] == 0, 120,
                 "the sink to recover after its connections were killed")
        print(f"replica_mariadb: {killed} sink connections killed mid-stream: equal", flush=True)

        # 5. A target table altered by hand so inserts fail.
        pg_target.sql("ALTER TABLE labels ADD CONSTRAINT small_n CHECK (n < 1000)")
        pg.sql("INSERT INTO labels VALUES ('big', 5000, 1)")
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "FAILED", 60,
                 "the sink to turn FAILED")
        log.flush()
        if "from_pg.labels" not in open(work + "/eddy.log").read():
            raise AssertionError("the FAILED reason does not name the target table; see the log")
        print("replica_mariadb: a refused insert: FAILED naming from_pg.labels", flush=True)
        ok = True
    finally:
        stop_process(run)
        for server in (pg, maria):
            if server:
                server.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"replica_mariadb: FAILED; logs in {work}", file=sys.stderr)
    print("replica_mariadb: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

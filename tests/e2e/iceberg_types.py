#!/usr/bin/env python3
"""The Iceberg sink's type matrix and the object store failing for a while, end to end.

    iceberg_types.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE

1. Every type: PostgreSQL 15 and MariaDB 10.11 with the type matrices of objects_parquet.py
   (type_matrix.py: the capture tests' matrices plus a column NULL in every row) captured by
   `eddy run` into `iceberg+file://` tables (snapshot rows, then the same rows inserted again,
   streamed). Every data file of a table is read by DuckDB, hyparquet and parquet-wasm
   (objects_parquet_read.mjs): each column has the Parquet type objects_parquet.py expects and
   every cell equals the database's own value, compared the way objects_parquet.py compares
   (epoch microseconds, days, unscaled decimals, float bits, hex bytes, text), each key in
   exactly one data file; the table itself is read by icebird and re-derived by DuckDB with
   Iceberg's sequence-number rules (iceberg_read.mjs, its structural checks included): both
   hold exactly the source's keys but those set aside, and the cells their JSON carries without
   loss (text, booleans, 16- and 32-bit integers) equal the database's. Values no Iceberg type
   holds (PostgreSQL's year-294276 timestamp, MariaDB's DATETIME '2020-00-00') set their records
   aside: each (the snapshot's and the streamed copy) is a JSON object under
   `_eddy_errors/format-conversion-failed/` with the reason naming the column and the whole
   record, and its key is not in the table. BIGINT UNSIGNED is DECIMAL(20,0) in every data file
   and 18446744073709551615 reads back as that number (icebird: as a JS number, positive).
2. The object store failing for a while: an `iceberg+s3://` sink into s3rver (npm; no S3
   server is packaged offline) with the SQL catalog (the default there); s3rver is stopped
   while PostgreSQL keeps changing rows: the sink turns IMPAIRED (`eddy status`); s3rver is
   started again (its data kept): ACTIVE, and the table read by icebird and DuckDB equals the
   source with no duplicate key in any version (nothing lost, nothing twice).
Waits are bounded polls on conditions, never fixed sleeps.
"""
import glob
import json
import os
import signal
import subprocess
import sys

from e2e_common import MariaDB, Postgres, work_directory
from iceberg_sink import (read_table, rows_of, source_rows, sql_catalog_location, status_of,
                          stream_config)
from objects_support import S3_ENV, S3rver, wait_for
from type_matrix import (MY_COLUMNS, MY_ROWS, PG_COLUMNS, PG_ROWS, UNCONVERTIBLE_ID, cells_equal,
                         expected_cell)

EDDY, LOCALDB, NODE = sys.argv[1:4]
HERE = os.path.dirname(os.path.abspath(__file__))
# Values no Iceberg type holds set their record aside (docs/sinks/iceberg.md, "Values a column
# cannot hold"): PostgreSQL's row UNCONVERTIBLE_ID (a timestamp past 294247 AD in `ts`), and a
# MariaDB row with a DATETIME(6) of a zero month ('2020-00-00'). Row 3 of the MariaDB matrix
# holds that value too, among its zero dates and odd decimals: there it becomes the all-zero
# date (NULL, as in Parquet) so that the row's other cells stay checked, and row 4 carries it.
ROWS = PG_ROWS
PG_SET_ASIDE = {UNCONVERTIBLE_ID: "ts"}
MY_ZERO_MONTH_ID = 4
MY_ICEBERG_ROWS = [row.replace("'2020-00-00 00:00:00'", "'0000-00-00 00:00:00'") for row in MY_ROWS]
MY_ICEBERG_ROWS.append("(" + ", ".join(
    [str(MY_ZERO_MONTH_ID)] + ["'2020-00-00 00:00:00'" if name == "dt6" else "NULL"
                              for name, *_ in MY_COLUMNS[1:]]) + ")")
MY_SET_ASIDE = {MY_ZERO_MONTH_ID: "dt6"}
# BIGINT UNSIGNED is decimal(20, 0) in Iceberg, a DECIMAL(20,0) column in the data files
# (the objects sink keeps Parquet's UBIGINT).
ICEBERG_TYPES = {"biu": ("DECIMAL(20,0)", "decimal:0")}
MY_BIGINT_UNSIGNED_MAX_ID = 2  # biu = 18446744073709551615
# Cells iceberg_read.mjs's JSON carries without loss (its bigints become JS numbers, its
# timestamps JS Dates in milliseconds): compared there too, the others through
# objects_parquet_read.mjs's canonical forms.
LOSSLESS_JSON = {"BOOLEAN", "SMALLINT", "INTEGER", "VARCHAR"}


def read_data_files(directory):
    """objects_parquet_read.mjs over the table's data directory: every Parquet file by three
    readers in canonical cells."""
    reply = subprocess.run([NODE, os.path.join(HERE, "objects_parquet_read.mjs"), directory,
                            "--no-hive"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE,
                           timeout=120)
    if reply.returncode != 0:
        raise AssertionError("reading the Parquet files failed: " + reply.stderr[-3000:])
    return json.loads(reply.stdout)


def pg_rows(db):
    select = ", ".join(f"{expr.format(c=name)} AS {name}" for name, _, _, expr, _ in PG_COLUMNS)
    text = db.query("SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET intervalstyle = iso_8601;"
                    f" SELECT row_to_json(r) FROM (SELECT {select} FROM types_t) r")
    return {int(row["id"]): row for row in (json.loads(line) for line in text.splitlines() if line)}


def my_sql(db, statement):
    return db.query("SET SESSION sql_mode = ''; " + statement, options=("-N", "-B", "-r"))


def my_rows(db):
    select = ", ".join(f"'{name}', {expr.format(c=name)}" for name, _, _, expr, _ in MY_COLUMNS)
    text = my_sql(db, f"SET time_zone = '+00:00'; SELECT JSON_OBJECT({select}) FROM types")
    return {int(row["id"]): row for row in (json.loads(line) for line in text.splitlines() if line)}


def check_postgres(db, work):
    db.sql("CREATE TYPE mood AS ENUM ('sad', 'happy', 'very happy');"
           " CREATE DOMAIN positive_int AS int4 CHECK (VALUE > 0);"
           " CREATE TABLE types_t (" +
           ", ".join(f"{name} {sql_type}" for name, sql_type, *_ in PG_COLUMNS) + ")")
    db.sql("INSERT INTO types_t VALUES " + ", ".join(ROWS))
    database = db.url.rsplit("/", 1)[1].split("?")[0]
    check_matrix("postgres", work, db.url, "public.types_t", f"{database}/public/types_t",
                 PG_COLUMNS, len(ROWS), PG_SET_ASIDE,
                 lambda: db.sql("INSERT INTO types_t SELECT id + 100, " +
                                ", ".join(name for name, *_ in PG_COLUMNS[1:]) + " FROM types_t"),
                 lambda: pg_rows(db))


def check_mariadb(db, work):
    my_sql(db, "CREATE TABLE types (" +
           ", ".join(f"{name} {sql_type}" for name, sql_type, *_ in MY_COLUMNS) + ")")
    my_sql(db, "INSERT INTO types VALUES " + ", ".join(MY_ICEBERG_ROWS))
    database = db.url.rsplit("/", 1)[1].split("?")[0]
    check_matrix("mariadb", work, db.url, f"{database}.types", None, MY_COLUMNS,
                 len(MY_ICEBERG_ROWS), MY_SET_ASIDE,
                 lambda: my_sql(db, "INSERT INTO types SELECT id + 100, " +
                                ", ".join(name for name, *_ in MY_COLUMNS[1:]) + " FROM types"),
                 lambda: my_rows(db))


def check_set_aside(lake, set_aside, label):
    """The set-aside objects: one per record whose value no Iceberg type holds (the snapshot's
    id and the streamed id + 100), each naming the column in its reason and carrying the whole
    record. Returns the set-aside ids."""
    found = {}
    for path in glob.glob(f"{lake}/_eddy_errors/format-conversion-failed/**/*.json", recursive=True):
        with open(path) as file:
            entry = json.load(file)
        assert entry["errorCode"] == "DataFormatConversion.InvalidValue", entry
        record_id = int(entry["record"]["after"]["id"])
        assert record_id not in found, f"{record_id} set aside twice: {path}"
        found[record_id] = entry
    want = {i: column for i, column in set_aside.items()}
    want.update({i + 100: column for i, column in set_aside.items()})
    assert sorted(found) == sorted(want), f"{label}: set aside {sorted(found)}, expected {sorted(want)}"
    for record_id, column in want.items():
        entry = found[record_id]
        assert entry["column"] == column and f"column '{column}'" in entry["errorMessage"] and \
            "outside what that type can hold" in entry["errorMessage"], entry
        assert entry["record"]["after"][column] is not None, entry["record"]
    print(f"iceberg_types {label}: {len(found)} records set aside with the reason "
          f"({found[min(found)]['errorMessage'][:100]}...)", flush=True)
    return set(want)


def check_matrix(label, work, url, tables, table_path, columns, row_count, set_aside, insert_again,
                 rows_of_db):
    """`eddy run` from `url` into an iceberg+file:// table (table_path under the warehouse, or
    the only table there when None): the snapshot rows, then insert_again() streams them again
    with ids + 100; every cell against rows_of_db() (id -> {column: comparable text}); the rows
    of `set_aside` (id -> the column whose value no Iceberg type holds) set aside."""
    lake = f"{work}/{label}-lake"
    # The heartbeat shows where the last transaction ends (the sink publishes a transaction once
    # it has seen its end).
    config = stream_config(f"{work}/{label}.toml", "types", 'heartbeat_interval = "1s"')
    log = f"{work}/{label}-eddy.log"
    run = subprocess.Popen(
        [EDDY, "run", "--config", config, "--source", url, "--data-dir", f"{work}/{label}-data",
         "--stream", "types", "--tables", tables, "--api-listen", "127.0.0.1:0",
         "--sink", f"iceberg+file://{lake}?commit_interval=1"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        def table_dir():
            if table_path is not None:
                return f"{lake}/{table_path}"
            found = glob.glob(f"{lake}/**/metadata/version-hint.text", recursive=True)
            return os.path.dirname(os.path.dirname(found[0])) if found else f"{lake}/none"

        def table_holds(count):
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {log}")
            if not os.path.exists(table_dir() + "/metadata/version-hint.text"):
                return None
            result, error = read_table(NODE, table_dir(), "id", current_only=True)
            reader_error[0] = error
            return result if result and len(result["versions"][-1]["rows"]) == count else None

        def wait_holding(count, what):
            try:
                return wait_for(lambda: table_holds(count), 60, what)
            except AssertionError as timeout:
                raise AssertionError(f"{timeout}; the reader's last error: {reader_error[0]}")

        reader_error = [""]
        kept = row_count - len(set_aside)
        wait_holding(kept, f"the {label} snapshot rows in Iceberg")
        insert_again()
        result = wait_holding(2 * kept, f"the {label} streamed rows")
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()

    set_aside_ids = check_set_aside(lake, set_aside, label)
    db_rows = {i: row for i, row in rows_of_db().items() if i not in set_aside_ids}
    by_name = {name: ICEBERG_TYPES.get(name, (duck_type, compare))
               for name, _, duck_type, _, compare in columns}
    failures = []
    # icebird and DuckDB's sequence-number derivation, structure checked (iceberg_read.mjs).
    assert not result["problems"], result["problems"]
    for reader, rows in (("icebird", result["versions"][-1]["rows"]), ("duckdb", result["duckdb"])):
        ids = sorted(int(row["id"]) for row in rows)
        assert ids == sorted(db_rows), f"{reader}: keys {ids}, the database has {sorted(db_rows)}"
        for row in rows:
            want_row = db_rows[int(row["id"])]
            assert set(row) == set(by_name), f"{reader}: columns {sorted(row)}"
            for name, (duck_type, compare) in by_name.items():
                if duck_type not in LOSSLESS_JSON or compare != "text":
                    continue
                got = row[name]
                got = None if got is None else (str(got).lower() if isinstance(got, bool) else str(got))
                if got != want_row.get(name):
                    failures.append(f"{reader} id {row['id']} {name}: got {str(got)[:80]!r}, "
                                    f"database {str(want_row.get(name))[:80]!r}")
    # Every data file, every cell, by DuckDB, hyparquet and parquet-wasm.
    read = read_data_files(table_dir() + "/data")
    seen = {}
    data_files = 0
    for file in read["files"]:
        names = [column["name"] for column in file["columns"]]
        if names == ["id"]:
            continue  # an equality-delete file: the key only
        data_files += 1
        assert names == list(by_name), f"{file['file']}: columns {names}"
        for column in file["columns"]:
            want_type = by_name[column["name"]][0]
            if column["type"] != want_type:
                failures.append(f"{file['file']} {column['name']}: DuckDB reads {column['type']}, "
                                f"expected {want_type} (docs/sinks/iceberg.md)")
        for reader in ("duckdb", "hyparquet", "parquet_wasm"):
            assert len(file[reader]) == len(file["duckdb"]), f"{reader}: row count differs"
            for row in file[reader]:
                row_id = int(row[0])
                if reader == "duckdb":
                    seen[row_id] = seen.get(row_id, 0) + 1
                for c, name in enumerate(names):
                    compare = by_name[name][1]
                    want = expected_cell(compare, db_rows[row_id].get(name))
                    if not cells_equal(compare, row[c], want, reader):
                        failures.append(f"{reader} {file['file']} id {row_id} {name}: got "
                                        f"{str(row[c])[:120]!r}, database {str(want)[:120]!r}")
    if "biu" in by_name:
        # 2^64 - 1 in decimal(20, 0): icebird reads it as a JS number (53 bits), positive.
        for reader, rows in (("icebird", result["versions"][-1]["rows"]),):
            got = next(row["biu"] for row in rows if int(row["id"]) == MY_BIGINT_UNSIGNED_MAX_ID)
            if float(got) != float(18446744073709551615):
                failures.append(f"{reader}: BIGINT UNSIGNED 18446744073709551615 read as {got!r}")
            print(f"iceberg_types {label}: BIGINT UNSIGNED 18446744073709551615 is decimal(20, 0); "
                  f"{reader} reads {got!r}", flush=True)
    assert not failures, f"{len(failures)} mismatches:\n  " + "\n  ".join(failures[:40])
    assert sorted(seen) == sorted(db_rows) and set(seen.values()) == {1}, \
        f"data files hold keys {seen}, the database {sorted(db_rows)}"
    print(f"iceberg_types {label}: {len(db_rows)} rows x {len(columns)} columns of the type "
          f"matrix in {data_files} data files equal the database's, read by DuckDB, hyparquet and "
          "parquet-wasm; icebird and DuckDB's sequence-number derivation read the same keys",
          flush=True)


def check_store_faults(db, work):
    # The type matrix's stream (stopped) leaves its slot and publication: this stream makes its own.
    db.sql("SELECT pg_drop_replication_slot('eddy'); DROP PUBLICATION eddy")
    db.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int NOT NULL)")
    db.sql("INSERT INTO items SELECT k, 'item' || k, k FROM generate_series(1, 50) k")
    columns = ["id", "name", "qty"]
    database = db.url.rsplit("/", 1)[1].split("?")[0]
    s3 = S3rver(work + "/s3", "lake")
    config = stream_config(work + "/s3.toml", "faults", 'heartbeat_interval = "1s"')
    data_dir = work + "/s3-data"
    run = subprocess.Popen(
        [EDDY, "run", "--config", config, "--source", db.url, "--data-dir", data_dir,
         "--stream", "faults", "--tables", "public.items", "--api-listen", "127.0.0.1:0",
         "--sink", f"iceberg+s3://lake/warehouse?endpoint={s3.endpoint}&commit_interval=1"],
        stdout=open(work + "/s3-eddy.log", "w"), stderr=subprocess.STDOUT,
        env=dict(os.environ, **S3_ENV))
    table = f"s3://lake/warehouse/{database}/public/items"
    try:
        def mirrored():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/s3-eddy.log")
            catalogs = glob.glob(data_dir + "/iceberg/*.db")
            location = sql_catalog_location(catalogs[0], "items") if catalogs else None
            if location is None:
                return None
            result, _ = read_table(NODE, table, "id", s3.endpoint, location)
            if result is None:
                return None
            current = rows_of(result["versions"][-1]["rows"], columns)
            return result if current == source_rows(db, "items", columns) else None

        wait_for(mirrored, 60, "the Iceberg table on s3rver to equal the source")
        s3.stop()
        db.sql("UPDATE items SET qty = qty + 1000 WHERE id % 3 = 0")
        db.sql("DELETE FROM items WHERE id % 7 = 0")
        wait_for(lambda: "IMPAIRED" in status_of(EDDY, data_dir), 60,
                 "the sink to turn IMPAIRED with s3rver stopped")
        db.sql("INSERT INTO items SELECT k, 'late' || k, k FROM generate_series(51, 70) k")
        db.sql("UPDATE items SET name = 'after' WHERE id % 5 = 0")
        s3.start()
        wait_for(lambda: "ACTIVE" in status_of(EDDY, data_dir), 60,
                 "the sink to be ACTIVE again once s3rver is back")
        result = wait_for(mirrored, 60, "the table on s3rver to catch up after the outage")
        assert not result["problems"], result["problems"]
        assert rows_of(result["duckdb"], columns) == source_rows(db, "items", columns), \
            "DuckDB's sequence-number derivation differs from the source"
        for version in result["versions"]:
            ids = [row["id"] for row in version["rows"]]
            assert len(ids) == len(set(ids)), f"v{version['version']}: duplicate keys"
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
        print(f"iceberg_types: s3rver stopped mid-workload: IMPAIRED, then ACTIVE once started; "
              f"the table equals the source, no duplicate key in {len(result['versions'])} "
              "versions", flush=True)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        s3.stop()


def main():
    with work_directory("iceberg-types") as work:
        db = Postgres(LOCALDB, work)
        try:
            check_postgres(db, work)
            check_store_faults(db, work)
        finally:
            db.stop()
        db = MariaDB(LOCALDB, work, "my")
        try:
            check_mariadb(db, work)
        finally:
            db.stop()
    print("iceberg_types: OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The objects sink's format=parquet end to end, from real databases through `eddy run`.

    objects_parquet.py EDDY_BINARY EDDY_LOCALDB_BINARY AWS_CLI NODE

PostgreSQL 15 and MariaDB 10.11 (eddy-localdb), each with the type matrix of its capture tests
(src/source/postgres and mysql capture_integration_test.cc) plus a column NULL in every row,
are captured by `eddy run` into Parquet objects: PostgreSQL into s3rver (npm: no S3 server is
packaged in Debian; Snappy, fetched back with the aws CLI) and a local directory (file://,
ZSTD) at once, MariaDB into file:// (Snappy). Values a Parquet column cannot hold (a
PostgreSQL timestamp past what int64 microseconds reach, a MariaDB DATETIME with a zero month)
send their row to the error output (format-conversion-failed) with the reason. Snapshot rows, then the same rows inserted again
(streamed), then ALTER TABLE ADD COLUMN and one more row. Checks, for every Parquet file, read
by DuckDB (@duckdb/node-api), hyparquet and parquet-wasm (objects_parquet_read.mjs):
- every column has the Parquet type of docs/formats/parquet.md (as DuckDB names it), typed
  from the catalog: the all-NULL column is there;
- every cell, read by each of the three readers, equals the database's own value of that row
  (the database computes the comparable form: epoch microseconds, days, unscaled decimals,
  hex bytes, text);
- the keys follow the Hive-style prefix (table=NAME/) and end in .parquet; DuckDB reads the
  whole directory with hive_partitioning and union_by_name;
- the rows after ALTER TABLE are in a new file that has the new column; the files before it
  do not have it;
- every change is in exactly one file (no row id twice per op).
Always stops everything it started.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.parse

from e2e_common import MariaDB, work_directory
from objects_support import S3_ENV, Postgres, S3rver, aws, wait_for
from type_matrix import (MY_COLUMNS, MY_ROWS, PG_COLUMNS, PG_ROWS, UNCONVERTIBLE_ID, cells_equal,
                         expected_cell)

EDDY, LOCALDB, AWS, NODE = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(__file__))
HIVE = "table=!{partitionKeyFromQuery:source.table}/"


def read_parquet(directory):
    reply = subprocess.run([NODE, os.path.join(HERE, "objects_parquet_read.mjs"), directory],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE)
    if reply.returncode != 0:
        raise AssertionError("reading the Parquet files failed: " + reply.stderr[-3000:])
    return json.loads(reply.stdout)


def check_files(label, read, columns, db_rows, table, added=None):
    """Every file's types and cells against the database's rows (id -> {column: text})."""
    by_name = {name: (duck_type, compare) for name, _, duck_type, _, compare in columns}
    if added:
        by_name[added[0]] = (added[1], "text")
    seen = {}
    failures = []
    files_with_added = files_without = 0
    for file in read["files"]:
        assert file["file"].startswith(f"table={table}/") and file["file"].endswith(".parquet"), \
            f"{label}: key off the layout: {file['file']}"
        names = [column["name"] for column in file["columns"]]
        cdc = [name for name in names if name.startswith("_eddy_")]
        assert cdc == ["_eddy_op", "_eddy_commit_time", "_eddy_position",
                       "_eddy_transaction_id"], f"{label} {file['file']}: CDC columns {cdc}"
        table_columns = [c for c in file["columns"] if not c["name"].startswith("_eddy_")]
        expected_names = [name for name, *_ in columns]
        has_added = added is not None and table_columns[-1]["name"] == added[0]
        files_with_added += has_added
        files_without += not has_added
        assert [c["name"] for c in table_columns] == expected_names + ([added[0]] if has_added else []), \
            f"{label} {file['file']}: columns {[c['name'] for c in table_columns]}"
        for column in table_columns:
            want_type = by_name[column["name"]][0]
            if column["type"] != want_type:
                failures.append(f"{file['file']} {column['name']}: DuckDB reads "
                                f"{column['type']}, expected {want_type}")
        id_index = names.index("id")
        op_index = names.index("_eddy_op")
        for reader in ("duckdb", "hyparquet", "parquet_wasm"):
            rows = file[reader]
            assert len(rows) == len(file["duckdb"]), f"{label} {reader}: row count differs"
            for row in rows:
                row_id = int(row[id_index])
                if reader == "duckdb":
                    key = (row_id, row[op_index])
                    seen[key] = seen.get(key, 0) + 1
                    if has_added != (row_id >= 200):
                        failures.append(f"{file['file']}: row {row_id} in a file "
                                        f"{'with' if has_added else 'without'} {added[0]}")
                want_row = db_rows[row_id]
                for c, column in enumerate(file["columns"]):
                    name = column["name"]
                    if name.startswith("_eddy_"):
                        continue
                    compare = by_name[name][1]
                    want = expected_cell(compare, want_row.get(name))
                    if not cells_equal(compare, row[c], want, reader):
                        failures.append(f"{reader} {file['file']} id {row_id} {name} "
                                        f"({column['type']}): got {str(row[c])[:120]!r}, "
                                        f"database {str(want)[:120]!r}")
    assert not failures, f"{label}: {len(failures)} mismatches:\n  " + "\n  ".join(failures[:40])
    twice = [key for key, count in seen.items() if count > 1]
    assert not twice, f"{label}: changes in more than one file: {twice[:5]}"
    missing = set(db_rows) - {row_id for row_id, _ in seen}
    assert not missing, f"{label}: rows not in any file: {sorted(missing)}"
    if added:
        assert files_with_added >= 1 and files_without >= 1, \
            f"{label}: {files_with_added} files with {added[0]}, {files_without} without"
    assert read["hive"]["rows"] == sum(len(f["duckdb"]) for f in read["files"]) and \
        list(read["hive"]["partitions"]) == [table], f"{label}: hive read {read['hive']}"
    print(f"{label}: {len(read['files'])} files, {sum(seen.values())} rows x "
          f"{len(columns)} columns equal the database's, read by DuckDB, hyparquet and "
          "parquet-wasm; hive_partitioning reads them all", flush=True)


def conversion_failures(directory):
    """id -> errorMessage of every record under format-conversion-failed/."""
    failed = {}
    for root, _, names in os.walk(os.path.join(directory, "format-conversion-failed")):
        for name in names:
            for line in open(os.path.join(root, name)).read().splitlines():
                error = json.loads(line)
                assert error["errorCode"] == "DataFormatConversion.InvalidValue", error
                record = json.loads(base64.b64decode(error["rawData"]))
                failed[record["after"]["id"]] = error["errorMessage"]
    return failed


def pg_rows(db):
    select = ", ".join(f"{expr.format(c=name)} AS {name}" for name, _, _, expr, _ in PG_COLUMNS)
    text = db.query("SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET intervalstyle = iso_8601;"
                    f" SELECT row_to_json(r) FROM (SELECT {select}, added::text AS added"
                    " FROM types_t) r")
    return {int(row["id"]): row for row in (json.loads(line) for line in text.splitlines() if line)}


def check_postgres(work):
    db = Postgres(LOCALDB, work)
    s3 = run = None
    try:
        db.sql("CREATE TYPE mood AS ENUM ('sad', 'happy', 'very happy');"
               " CREATE DOMAIN positive_int AS int4 CHECK (VALUE > 0);"
               " CREATE TABLE types_t (" +
               ", ".join(f"{name} {sql_type}" for name, sql_type, *_ in PG_COLUMNS) + ")")
        db.sql("INSERT INTO types_t VALUES " + ", ".join(PG_ROWS))
        s3 = S3rver(work + "/s3", "lake")
        common = {"format": "parquet", "buffer_interval": "1", "prefix": HIVE}
        quote = lambda settings: urllib.parse.urlencode(settings, quote_via=urllib.parse.quote)
        s3_sink = "s3://lake/pg?" + quote({**common, "endpoint": s3.endpoint, "name": "lake"})
        file_sink = f"file://{work}/local?" + quote({**common, "compression": "ZSTD",
                                                     "name": "local"})
        run = subprocess.Popen(
            [EDDY, "run", "--source", db.url, "--data-dir", work + "/pg-data", "--stream", "m",
             "--tables", "public.types_t", "--api-listen", "127.0.0.1:0",
             "--sink", s3_sink, "--sink", file_sink],
            env=dict(os.environ, **S3_ENV), stdout=open(work + "/pg-eddy.log", "w"),
            stderr=subprocess.STDOUT)
        local = work + "/local"

        def rows_in(directory, count):
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/pg-eddy.log")
            if not os.path.isdir(directory):
                return False
            read = read_parquet(directory)
            # Count the rows of the files read one by one (what check_files compares): the hive
            # glob is read after them, so a file written in between is in it and not in them.
            return sum(len(f["duckdb"]) for f in read["files"]) >= count and read

        wait_for(lambda: rows_in(local, 6), 120, "the snapshot rows in the file:// sink")
        db.sql("INSERT INTO types_t SELECT id + 100, b, i2, i4, i8, n, nn, f4, f8, t, vc, c, by,"
               " d, tm, ttz, ts, tstz, iv, u, j, jb, ai, at, e, ea, dom, inet_v, cidr_v, mac,"
               " bits, vbits, money_v, x, pt, bx, circ, rng, tsr, oid_v, never FROM types_t")
        wait_for(lambda: rows_in(local, 12), 120, "the streamed rows in the file:// sink")
        db.sql("ALTER TABLE types_t ADD COLUMN added int")
        db.sql("INSERT INTO types_t (id, b, added) VALUES (200, true, 7)")
        read_local = wait_for(lambda: rows_in(local, 13), 120, "the row after ALTER TABLE")

        def fetched():
            shutil.rmtree(work + "/fetched", ignore_errors=True)
            aws(AWS, s3.endpoint, "s3", "cp", "s3://lake/pg/", work + "/fetched", "--recursive",
                "--quiet")
            return rows_in(work + "/fetched", 13)

        read_s3 = wait_for(fetched, 120, "every row in s3rver")
        db_rows = pg_rows(db)
        assert len(db_rows) == 15, sorted(db_rows)
        unconvertible = {UNCONVERTIBLE_ID, UNCONVERTIBLE_ID + 100}
        for directory in (local, work + "/fetched"):
            failed = conversion_failures(directory)
            assert sorted(failed) == sorted(unconvertible), f"{directory}: error output {failed}"
            assert all("column 'ts'" in message for message in failed.values()), failed
        print("objects_parquet postgres: the rows whose timestamp Parquet cannot hold are in "
              "format-conversion-failed/ with the reason: " + failed[UNCONVERTIBLE_ID][:110],
              flush=True)
        for row_id in unconvertible:
            del db_rows[row_id]
        run.terminate()
        run.wait(timeout=60)
        run = None
        # Bad settings stop `eddy run` at start with what is wrong and what is allowed.
        for settings, says in (({"compression": "GZIP"}, "with format=parquet use SNAPPY"),
                               ({"format": "avro"}, "must be one of native")):
            sink = f"file://{work}/bad?" + quote({**common, **settings})
            refused = subprocess.run(
                [EDDY, "run", "--source", db.url, "--data-dir", work + "/bad-data", "--stream", "m",
                 "--tables", "public.types_t", "--api-listen", "127.0.0.1:0", "--sink", sink],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
            assert refused.returncode != 0 and says in refused.stdout, refused.stdout[-1500:]
            print("objects_parquet: refused at start: " + refused.stdout.strip().splitlines()[-1],
                  flush=True)
        check_files("objects_parquet postgres file:// zstd", read_local, PG_COLUMNS, db_rows,
                    "types_t", added=("added", "INTEGER"))
        check_files("objects_parquet postgres s3rver snappy", read_s3, PG_COLUMNS, db_rows,
                    "types_t", added=("added", "INTEGER"))
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        if s3 is not None:
            s3.stop()
        db.stop()


def check_mariadb(work):
    db = MariaDB(LOCALDB, work, "my")
    run = None
    try:
        url = db.url

        def sql(statement):
            return db.query(statement, options=("-N", "-B", "-r"))

        sql("SET SESSION sql_mode = ''; CREATE TABLE types (" +
            ", ".join(f"{name} {sql_type}" for name, sql_type, *_ in MY_COLUMNS) + ")")
        sql("SET SESSION sql_mode = ''; INSERT INTO types VALUES " + ", ".join(MY_ROWS))
        lake = work + "/my-lake"
        sink = f"file://{lake}?" + urllib.parse.urlencode(
            {"format": "parquet", "buffer_interval": "1", "prefix": HIVE},
            quote_via=urllib.parse.quote)
        run = subprocess.Popen(
            [EDDY, "run", "--source", url, "--data-dir", work + "/my-data", "--stream", "my",
             "--api-listen", "127.0.0.1:0", "--sink", sink],
            stdout=open(work + "/my-eddy.log", "w"), stderr=subprocess.STDOUT)

        def rows_in(count):
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/my-eddy.log")
            if not os.path.isdir(lake):
                return False
            read = read_parquet(lake)
            # Count the rows of the files read one by one (what check_files compares): the hive
            # glob is read after them, so a file written in between is in it and not in them.
            return sum(len(f["duckdb"]) for f in read["files"]) >= count and read

        # Row 3's DATETIME(6) '2020-00-00' (a zero month; MariaDB keeps it, a Parquet TIMESTAMP
        # cannot hold it) sends that row to format-conversion-failed/.
        wait_for(lambda: rows_in(2), 120, "the snapshot rows")
        sql("SET SESSION sql_mode = ''; INSERT INTO types SELECT id + 100, " +
            ", ".join(name for name, *_ in MY_COLUMNS[1:]) + " FROM types")
        wait_for(lambda: rows_in(4), 120, "the streamed rows")
        sql("ALTER TABLE types ADD COLUMN added INT")
        sql("INSERT INTO types (id, added) VALUES (200, 7)")
        read = wait_for(lambda: rows_in(5), 120, "the row after ALTER TABLE")
        select = ", ".join(f"'{name}', {expr.format(c=name)}"
                           for name, _, _, expr, _ in MY_COLUMNS)
        text = sql(f"SET time_zone = '+00:00'; SELECT JSON_OBJECT({select}, 'added', CAST(added AS CHAR)) FROM types")
        db_rows = {int(row["id"]): row for row in (json.loads(line) for line in text.splitlines()
                                                    if line)}
        assert len(db_rows) == 7, sorted(db_rows)
        failed = conversion_failures(lake)
        assert sorted(failed) == [3, 103] and all("column 'dt6'" in m for m in failed.values()), \
            f"error output: {failed}"
        print("objects_parquet mariadb: the rows with DATETIME '2020-00-00' are in "
              "format-conversion-failed/ with the reason: " + failed[3][:100], flush=True)
        del db_rows[3], db_rows[103]
        check_files("objects_parquet mariadb file:// snappy", read, MY_COLUMNS, db_rows, "types",
                    added=("added", "INTEGER"))
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        db.stop()


def main():
    with work_directory("objects-parquet") as work:
        check_postgres(work)
        check_mariadb(work)
    print("objects_parquet: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

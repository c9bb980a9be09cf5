#!/usr/bin/env python3
"""The replica sink, MariaDB -> PostgreSQL, against a real MariaDB 10.11 and PostgreSQL 15.

    replica_mariadb_pg.py EDDY_BINARY EDDY_LOCALDB_BINARY

Every type of the MySQL capture's type matrix (kTypesTable and kTypeRows of
src/source/mysql/capture_integration_test.cc, as type_matrix.py's MY_COLUMNS and MY_ROWS),
through the snapshot (COPY) and through the binlog (upserts), lands in PostgreSQL under the
documented mapping (docs/sinks/replica.md) and
compares equal by value, column by column: each side's text parsed as the mapping says (floats
as IEEE values of their width, bits as numbers, bytes as hex, TIME as an interval, the zero
date as NULL). Then ADD and DROP COLUMN in MariaDB mid-stream reach the target.
A failing server start is a failure, never a skip.
"""
import argparse
import re
import shutil
import struct
import sys
import tempfile

from replica_support import LocalServer, TargetPostgres, start_eddy, stop_process, wait_for
from type_matrix import MY_COLUMNS, MY_ROWS

# The MySQL capture's type matrix, shared with the other destinations' type tests.
TYPES_DDL = ("CREATE TABLE types (" +
             ", ".join(f"{name} {sql_type}" for name, sql_type, *_ in MY_COLUMNS) +
             ") ENGINE=InnoDB")


def kind_of(column):
    """How a column's values compare (by the mapping table in docs/sinks/replica.md)."""
    if column == "f":
        return "float4"
    if column == "db":
        return "float8"
    if column.startswith("b") and column[1:].isdigit():
        return "bits"
    if column in ("bn", "vb", "bl", "mb", "g"):
        return "bytes"
    if column.startswith("t") and column[1:].isdigit():
        return "time"
    if column.startswith(("dt", "ts")) and column != "dt":
        return "timestamp"
    if column == "dt":
        return "date"
    if column in ("d1", "d2", "d3", "d4", "d5"):
        return "decimal"
    if column in ("ti", "tiu", "si", "siu", "mi", "miu", "i", "iu", "bi", "biu", "y"):
        return "integer"
    return "text"


def mariadb_expr(column):
    kind = kind_of(column)
    if kind == "bits":
        return f"BIN({column})"
    if kind == "bytes":
        return f"LOWER(HEX({column}))"
    return column


def pg_expr(column):
    kind = kind_of(column)
    if kind == "bytes":
        return f"encode({column}, 'hex')"
    return f"{column}::text"


def normalize(kind, text):
    """Text of either side -> a comparable value; None is NULL."""
    if text is None or text == "NULL" or text == "<NULL>":
        return None
    if kind == "float4":
        return struct.pack("<f", float(text))
    if kind == "float8":
        return float(text)
    if kind == "bits":
        return int(text, 2)
    if kind == "integer":
        return int(text)
    if kind == "decimal":
        from decimal import Decimal
        return Decimal(text)
    if kind in ("time", "timestamp", "date"):
        if re.match(r"\d{4}-(00-\d\d|\d\d-00)", text):
            return None  # zero and partly-zero dates land as NULL
        text = re.sub(r"\+00$", "", text)
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return text


def rows_of(output):
    result = {}
    for line in output.splitlines():
        key, value = line.split("\t", 1)
        result[key] = value
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-replica-mariadb-pg-")
    source = target = run = None
    ok = False
    try:
        source = LocalServer(args.localdb, work, "mariadb")
        target = TargetPostgres(work)
        source.sql(TYPES_DDL)
        source.sql("SET sql_mode = ''; INSERT INTO types VALUES " + ", ".join(MY_ROWS))
        target.sql("CREATE SCHEMA replica")
        log = open(work + "/eddy.log", "a")
        database = source.url.rsplit("/", 1)[1].split("?")[0]
        run = start_eddy(args.eddy, source.url, work + "/data",
                         target.url + "?schema=replica&name=replica", f"{database}.types", log)

        def count():
            text = target.query("SELECT count(*) FROM replica.types", check=False)
            return int(text) if text else -1

        def alive():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            return True

        wait_for(lambda: alive() and count() == 3, 120, "the snapshot rows in the target")
        source.sql("SET sql_mode = ''; INSERT INTO types SELECT id + 100, " +
                   ", ".join(name for name, *_ in MY_COLUMNS[1:]) + " FROM types")
        wait_for(lambda: alive() and count() == 6, 60, "the binlog rows in the target")
        columns = [line for line in source.query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = 'types' ORDER BY ORDINAL_POSITION").splitlines()]
        mismatches = []
        for column in columns[1:]:
            kind = kind_of(column)
            want = rows_of(source.query(f"SET time_zone = '+00:00'; SELECT id, "
                                        f"IFNULL({mariadb_expr(column)}, '<NULL>') FROM types "
                                        "ORDER BY id"))
            got = rows_of(target.query(f"SELECT id, COALESCE({pg_expr(column)}, '<NULL>') "
                                       "FROM replica.types ORDER BY id"))
            for key, value in want.items():
                a = normalize(kind, value)
                b = normalize(kind, got.get(key))
                if a != b:
                    mismatches.append(f"{column} id={key}: MariaDB {value[:80]!r} "
                                      f"PostgreSQL {str(got.get(key))[:80]!r}")
        if mismatches:
            raise AssertionError("type matrix differs:\n  " + "\n  ".join(mismatches))
        print(f"replica_mariadb_pg: {len(columns)} columns x 6 rows equal by value", flush=True)

        source.sql("ALTER TABLE types ADD COLUMN extra VARCHAR(10)")
        source.sql("UPDATE types SET extra = CONCAT('x', id) WHERE id < 100")
        source.sql("ALTER TABLE types DROP COLUMN ltx")

        def evolved():
            cols = target.query("SELECT string_agg(attname, ',') FROM pg_attribute WHERE "
                                "attrelid = 'replica.types'::regclass AND attnum > 0 AND NOT "
                                "attisdropped", check=False) or ""
            extra = target.query("SELECT string_agg(extra, ',' ORDER BY id) FROM replica.types",
                                 check=False)
            return "ltx" not in cols and "extra" in cols and extra and extra.strip() == "x1,x2,x3"

        wait_for(lambda: alive() and evolved(), 60, "ADD and DROP COLUMN in the target")
        print("replica_mariadb_pg: ADD/DROP COLUMN applied", flush=True)
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
            print(f"replica_mariadb_pg: FAILED; logs in {work}", file=sys.stderr)
    print("replica_mariadb_pg: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

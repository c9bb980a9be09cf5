#!/usr/bin/env python3
"""The replica sink, MariaDB -> PostgreSQL, against a real MariaDB 10.11 and PostgreSQL 15.

    replica_mariadb_pg.py EDDY_BINARY EDDY_LOCALDB_BINARY

Every type of the MySQL capture's type matrix (kTypesTable and kTypeRows of
src/source/mysql/capture_integration_test.cc), through the snapshot (COPY) and through the
binlog (upserts), lands in PostgreSQL under the documented mapping (docs/sinks/replica.md) and
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

TYPES_DDL = """CREATE TABLE types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  d1 DECIMAL(1,0), d2 DECIMAL(10,2), d3 DECIMAL(65,30), d4 DECIMAL(18,9) UNSIGNED, d5 DECIMAL(5,5),
  f FLOAT, db DOUBLE, y YEAR, dt DATE,
  t0 TIME, t1 TIME(1), t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5), t6 TIME(6),
  dt0 DATETIME, dt3 DATETIME(3), dt6 DATETIME(6),
  ts0 TIMESTAMP NULL DEFAULT NULL, ts2 TIMESTAMP(2) NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  b1 BIT(1), b10 BIT(10), b64 BIT(64),
  c CHAR(10), c255 CHAR(255), vc VARCHAR(300), l1 VARCHAR(20) CHARACTER SET latin1,
  u2 VARCHAR(20) CHARACTER SET ucs2, tx TEXT, ltx LONGTEXT,
  bn BINARY(4), vb VARBINARY(20), bl BLOB, mb MEDIUMBLOB,
  e ENUM('small','medium','large'), s SET('a','b','c','d'),
  j JSON, g GEOMETRY
) ENGINE=InnoDB"""

TYPE_ROWS = [
    "(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,"
    " -9, -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999,"
    " 0, -0.99999, -3.40282e38, -1.7976931348623157e308, 1901, '1000-01-01',"
    " '-838:59:59', '-838:59:59.9', '-00:00:00.01', '-00:00:01.001', '-12:34:56.7891',"
    " '-00:00:00.00001', '-838:59:59.000001',"
    " '1000-01-01 00:00:00', '1000-01-01 00:00:00.001', '1000-01-01 00:00:00.000001',"
    " '1970-01-01 00:00:01', '1970-01-01 00:00:01.01', '1970-01-01 00:00:01.000001',"
    " b'0', b'0', b'0', '', '', '', '', '', '', '', '', '', '', '', 'small', '',"
    " '{}', ST_GeomFromText('POINT(0 0)'))",
    "(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,"
    " 9223372036854775807, 18446744073709551615,"
    " 9, 99999999.99, 99999999999999999999999999999999999.999999999999999999999999999999,"
    " 999999999.999999999, 0.99999, 3.40282e38, 1.7976931348623157e308, 2155, '9999-12-31',"
    " '838:59:59', '838:59:59.9', '838:59:59.99', '838:59:59.999', '838:59:59.9999',"
    " '838:59:59.99999', '838:59:59.999999',"
    " '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999',"
    " '2038-01-19 03:14:07', '2038-01-19 03:14:07.99', '2038-01-19 03:14:07.999999',"
    " b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',"
    " 'abcdefghij', REPEAT('\U0001F600', 255), REPEAT('\u00e9', 300), 'caf\u00e9 \u20ac',"
    " 'caf\u00e9', '\U0001F389 text', REPEAT('x', 70000),"
    " 0x00FF0102, 0x000102FF, 0xDEADBEEF00, REPEAT(0x5A, 70000), 'large', 'a,b,c,d',"
    " '{\"k\": [1, 2.5, \"s\", null, true], \"n\": {\"x\": -1}}',"
    " ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'))",
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " 0, 0.01, -0.000000000000000000000000000001, 0.000000001, 0.00001, 0, 0, 0, '0000-00-00',"
    " '00:00:00', '00:00:00.0', '00:00:00.00', '00:00:00.000', '00:00:00.0000', '00:00:00.00000',"
    " '00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '2020-00-00 00:00:00',"
    " '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
]


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
        source.sql("SET sql_mode = ''; INSERT INTO types VALUES " + ", ".join(TYPE_ROWS))
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
        source.sql("SET sql_mode = ''; INSERT INTO types SELECT id + 100, ti, tiu, si, siu, mi, "
                   "miu, i, iu, bi, biu, d1, d2, d3, d4, d5, f, db, y, dt, t0, t1, t2, t3, t4, "
                   "t5, t6, dt0, dt3, dt6, ts0, ts2, ts6, b1, b10, b64, c, c255, vc, l1, u2, tx, "
                   "ltx, bn, vb, bl, mb, e, s, j, g FROM types")
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

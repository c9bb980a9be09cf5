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
import math
import os
import shutil
import struct
import subprocess
import sys
import urllib.parse

from e2e_common import MariaDB, work_directory
from objects_support import S3_ENV, Postgres, S3rver, aws, wait_for

EDDY, LOCALDB, AWS, NODE = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(__file__))
HIVE = "table=!{partitionKeyFromQuery:source.table}/"

# PostgreSQL: the capture test's matrix. Per column: its SQL type, the type DuckDB reads the
# Parquet column as, how the database computes the comparable form ({c} is the column), and
# how it is compared ("text": equal text; "f4"/"f8": float bits; "json": equal JSON;
# "timetz": the native format's time with zone).
PG_COLUMNS = [
    ("id", "int PRIMARY KEY", "INTEGER", "{c}::text", "text"),
    ("b", "bool", "BOOLEAN", "{c}::text", "text"),
    ("i2", "int2", "SMALLINT", "{c}::text", "text"),
    ("i4", "int4", "INTEGER", "{c}::text", "text"),
    ("i8", "int8", "BIGINT", "{c}::text", "text"),
    ("n", "numeric", "VARCHAR", "{c}::text", "text"),
    ("nn", "numeric(10,2)", "DECIMAL(10,2)", "{c}::text", "decimal:2"),
    ("f4", "float4", "FLOAT", "{c}::text", "f4"),
    ("f8", "float8", "DOUBLE", "{c}::text", "f8"),
    ("t", "text", "VARCHAR", "{c}", "text"),
    ("vc", "varchar(20)", "VARCHAR", "{c}", "text"),
    ("c", "char(3)", "VARCHAR", "{c}", "text"),  # the type's output: padded
    ("by", "bytea", "BLOB", "encode({c}, 'hex')", "text"),
    ("d", "date", "DATE",
     "CASE WHEN {c} IS NULL THEN NULL WHEN {c} = 'infinity' THEN '2147483647'"
     " WHEN {c} = '-infinity' THEN '-2147483647' ELSE ({c} - DATE '1970-01-01')::text END", "text"),
    ("tm", "time", "TIME", "(extract(epoch FROM {c}) * 1000000)::bigint::text", "text"),
    ("ttz", "timetz", "VARCHAR", "{c}::text", "timetz"),
    ("ts", "timestamp", "TIMESTAMP",
     "CASE WHEN {c} IS NULL THEN NULL WHEN {c} = 'infinity' THEN '9223372036854775807'"
     " WHEN {c} = '-infinity' THEN '-9223372036854775807'"
     " ELSE (extract(epoch FROM {c}) * 1000000)::numeric(30, 0)::text END", "text"),
    ("tstz", "timestamptz", "TIMESTAMP WITH TIME ZONE",
     "CASE WHEN {c} IS NULL THEN NULL WHEN {c} = 'infinity' THEN '9223372036854775807'"
     " WHEN {c} = '-infinity' THEN '-9223372036854775807'"
     " ELSE (extract(epoch FROM {c}) * 1000000)::numeric(30, 0)::text END", "text"),
    ("iv", "interval", "VARCHAR", "{c}::text", "text"),
    ("u", "uuid", "UUID", "{c}::text", "text"),
    ("j", "json", "VARCHAR", "{c}::text", "text"),
    ("jb", "jsonb", "VARCHAR", "{c}::text", "text"),
    ("ai", "int4[]", "VARCHAR", "array_to_json({c})::text", "json"),
    ("at", "text[]", "VARCHAR", "array_to_json({c})::text", "json"),
    ("e", "mood", "VARCHAR", "{c}::text", "text"),
    ("ea", "mood[]", "VARCHAR", "array_to_json({c})::text", "json"),
    ("dom", "positive_int", "INTEGER", "{c}::text", "text"),  # the domain's base type
    ("inet_v", "inet", "VARCHAR", "{c}", "text"),  # the output function, not text(inet)
    ("cidr_v", "cidr", "VARCHAR", "{c}", "text"),
    ("mac", "macaddr", "VARCHAR", "{c}::text", "text"),
    ("bits", "bit(4)", "VARCHAR", "{c}::text", "text"),
    ("vbits", "varbit", "VARCHAR", "{c}::text", "text"),
    ("money_v", "money", "VARCHAR", "{c}::text", "text"),
    ("x", "xml", "VARCHAR", "{c}::text", "text"),
    ("pt", "point", "VARCHAR", "{c}::text", "text"),
    ("bx", "box", "VARCHAR", "{c}::text", "text"),
    ("circ", "circle", "VARCHAR", "{c}::text", "text"),
    ("rng", "int4range", "VARCHAR", "{c}::text", "text"),
    ("tsr", "tstzrange", "VARCHAR", "{c}::text", "text"),
    ("oid_v", "oid", "BIGINT", "{c}::text", "text"),
    ("never", "text", "VARCHAR", "{c}", "text"),  # NULL in every row
]
PG_ROWS = [
    "(1, true, -32768, -2147483648, -9223372036854775808, 'NaN', 12345678.91, 'NaN', "
    "'-Infinity', E'tab\\there \"q\" \\\\ nl\\n emoji \U0001F600', 'varchar', 'ab', "
    "'\\x00ff', '4714-11-24 BC', '24:00:00', '23:59:59.999999-15:59', "
    "'294246-12-31 23:59:59.999999', '0044-03-15 12:00:00+00 BC', "
    "'-178000000 years -1 days +00:00:00.000001', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
    "'{\"a\": [1, 2.50]}', '{\"b\": null, \"a\": 1}', '{{1,NULL},{3,4}}', "
    "ARRAY['a,b', 'say \"hi\"', NULL, 'NULL', ''], 'very happy', '{sad,\"very happy\"}', 5, "
    "'192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'1', 1234.56, "
    "'<a>b</a>', '(1,2)', '((0,0),(1,1))', '<(1,2),3>', '[1,5)', "
    "'[2024-01-01 00:00:00+00,infinity)', 4294967295, NULL)",
    "(2, false, 32767, 2147483647, 9223372036854775807, '" + "9" * 500 + "." + "1" * 500 +
    "', -0.01, 'Infinity', 1.7976931348623157e308, '', NULL, NULL, '\\x', 'infinity', "
    "'00:00:00', '00:00:00+14', '-infinity', 'infinity', '00:00:00', "
    "'00000000-0000-0000-0000-000000000000', 'null', '[]', '{}', '{}', 'sad', '{}', 1, "
    "'::1', '::/0', 'ff:ff:ff:ff:ff:ff', B'0000', B'', -1, '<b/>', '(-1.5,2e-10)', "
    "'((1,1),(1,1))', '<(0,0),0>', 'empty', 'empty', 0, NULL)",
    "(3, NULL, NULL, NULL, NULL, '-Infinity', NULL, '-0', 5e-324, NULL, NULL, NULL, NULL, "
    "'2024-02-29', '13:45:01.5', NULL, '1970-01-01 00:00:00', '1970-01-01 01:00:00+01', "
    "'1 year 2 mons 3 days 04:05:06.789', NULL, NULL, NULL, '[0:1]={7,8}', NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(4, NULL, NULL, NULL, NULL, NULL, NULL, '3.4028235e38', '0.1', NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(5, NULL, NULL, NULL, NULL, NULL, NULL, '7.0000005', '-0', NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "(6, NULL, NULL, NULL, NULL, NULL, NULL, '1.17549435e-38', '123456789.12345679', NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL)",
]
# A timestamp past what Parquet's int64 microseconds hold (PostgreSQL goes to 294276 AD, the
# microseconds to 294247): the row cannot be converted and goes to the error output
# (format-conversion-failed), the other rows of its flush into the file.
UNCONVERTIBLE_ID = 7
PG_ROWS.append("(" + ", ".join(["7"] + ["NULL"] * 15 + ["'294276-12-31 23:59:59.999999'"] +
                               ["NULL"] * 24) + ")")

# MariaDB: the capture test's matrix (src/source/mysql/capture_integration_test.cc, kTypesTable
# and kTypeRows) plus a column NULL in every row. TIME is a signed duration in MariaDB: STRING
# "-838:59:59.000000". Zero dates are NULL in Parquet.
MY_DATETIME = ("IF({c} IS NULL OR {c} = '0000-00-00 00:00:00', NULL,"
               " CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {c}) AS CHAR))")
MY_COLUMNS = [
    ("id", "INT NOT NULL PRIMARY KEY", "INTEGER", "CAST({c} AS CHAR)", "text"),
    ("ti", "TINYINT", "TINYINT", "CAST({c} AS CHAR)", "text"),
    ("tiu", "TINYINT UNSIGNED", "UTINYINT", "CAST({c} AS CHAR)", "text"),
    ("si", "SMALLINT", "SMALLINT", "CAST({c} AS CHAR)", "text"),
    ("siu", "SMALLINT UNSIGNED", "USMALLINT", "CAST({c} AS CHAR)", "text"),
    ("mi", "MEDIUMINT", "INTEGER", "CAST({c} AS CHAR)", "text"),
    ("miu", "MEDIUMINT UNSIGNED", "UINTEGER", "CAST({c} AS CHAR)", "text"),
    ("i", "INT", "INTEGER", "CAST({c} AS CHAR)", "text"),
    ("iu", "INT UNSIGNED", "UINTEGER", "CAST({c} AS CHAR)", "text"),
    ("bi", "BIGINT", "BIGINT", "CAST({c} AS CHAR)", "text"),
    ("biu", "BIGINT UNSIGNED", "UBIGINT", "CAST({c} AS CHAR)", "text"),
    ("d1", "DECIMAL(1,0)", "DECIMAL(1,0)", "CAST({c} AS CHAR)", "decimal:0"),
    ("d2", "DECIMAL(10,2)", "DECIMAL(10,2)", "CAST({c} AS CHAR)", "decimal:2"),
    ("d3", "DECIMAL(65,30)", "VARCHAR", "CAST({c} AS CHAR)", "text"),
    ("d4", "DECIMAL(18,9) UNSIGNED", "DECIMAL(18,9)", "CAST({c} AS CHAR)", "decimal:9"),
    ("d5", "DECIMAL(5,5)", "DECIMAL(5,5)", "CAST({c} AS CHAR)", "decimal:5"),
    ("f", "FLOAT", "FLOAT", "CAST({c} AS CHAR)", "f4"),
    ("db", "DOUBLE", "DOUBLE", "CAST({c} AS CHAR)", "f8"),
    ("y", "YEAR", "SMALLINT", "CAST({c} + 0 AS CHAR)", "text"),
    ("dt", "DATE", "DATE",
     "IF({c} IS NULL OR {c} = '0000-00-00', NULL, CAST(DATEDIFF({c}, '1970-01-01') AS CHAR))",
     "text"),
] + [(f"t{n}", f"TIME({n})" if n else "TIME", "VARCHAR", "CAST({c} AS CHAR)", "mytime")
     for n in range(7)] + [
    ("dt0", "DATETIME", "TIMESTAMP", MY_DATETIME, "text"),
    ("dt3", "DATETIME(3)", "TIMESTAMP", MY_DATETIME, "text"),
    ("dt6", "DATETIME(6)", "TIMESTAMP", MY_DATETIME, "text"),
    ("ts0", "TIMESTAMP NULL DEFAULT NULL", "TIMESTAMP WITH TIME ZONE", MY_DATETIME, "text"),
    ("ts2", "TIMESTAMP(2) NULL DEFAULT NULL", "TIMESTAMP WITH TIME ZONE", MY_DATETIME, "text"),
    ("ts6", "TIMESTAMP(6) NULL DEFAULT NULL", "TIMESTAMP WITH TIME ZONE", MY_DATETIME, "text"),
    ("b1", "BIT(1)", "VARCHAR", "LPAD(BIN({c}), 1, '0')", "text"),
    ("b10", "BIT(10)", "VARCHAR", "LPAD(BIN({c}), 10, '0')", "text"),
    ("b64", "BIT(64)", "VARCHAR", "LPAD(BIN({c}), 64, '0')", "text"),
    ("c", "CHAR(10)", "VARCHAR", "{c}", "text"),
    ("c255", "CHAR(255)", "VARCHAR", "{c}", "text"),
    ("vc", "VARCHAR(300)", "VARCHAR", "{c}", "text"),
    ("l1", "VARCHAR(20) CHARACTER SET latin1", "VARCHAR", "CONVERT({c} USING utf8mb4)", "text"),
    ("u2", "VARCHAR(20) CHARACTER SET ucs2", "VARCHAR", "CONVERT({c} USING utf8mb4)", "text"),
    ("tx", "TEXT", "VARCHAR", "{c}", "text"),
    ("ltx", "LONGTEXT", "VARCHAR", "{c}", "text"),
    ("bn", "BINARY(4)", "BLOB", "LOWER(HEX({c}))", "text"),
    ("vb", "VARBINARY(20)", "BLOB", "LOWER(HEX({c}))", "text"),
    ("bl", "BLOB", "BLOB", "LOWER(HEX({c}))", "text"),
    ("mb", "MEDIUMBLOB", "BLOB", "LOWER(HEX({c}))", "text"),
    ("e", "ENUM('small','medium','large')", "VARCHAR", "{c}", "text"),
    ("s", "SET('a','b','c','d')", "VARCHAR", "{c}", "text"),
    ("j", "JSON", "VARCHAR", "{c}", "json"),
    ("g", "GEOMETRY", "BLOB", "LOWER(HEX({c}))", "text"),  # MariaDB's SRID + WKB bytes
    ("never", "TEXT", "VARCHAR", "{c}", "text"),  # NULL in every row
]
MY_ROWS = [
    # Minimums, negatives, zero dates, empty strings.
    "(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,"
    " -9, -99999999.99, -99999999999999999999999999999999999.999999999999999999999999999999,"
    " 0, -0.99999, -3.40282e38, -1.7976931348623157e308, 1901, '1000-01-01',"
    " '-838:59:59', '-838:59:59.9', '-00:00:00.01', '-00:00:01.001', '-12:34:56.7891',"
    " '-00:00:00.00001', '-838:59:59.000001',"
    " '1000-01-01 00:00:00', '1000-01-01 00:00:00.001', '1000-01-01 00:00:00.000001',"
    " '1970-01-01 00:00:01', '1970-01-01 00:00:01.01', '1970-01-01 00:00:01.000001',"
    " b'0', b'0', b'0', '', '', '', '', '', '', '', '', '', '', '', 'small', '',"
    " '{}', ST_GeomFromText('POINT(0 0)'), NULL)",
    # Maximums and 4-byte UTF-8.
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
    " ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), NULL)",
    # Zero dates and odd decimals; NULLs elsewhere.
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " 0, 0.01, -0.000000000000000000000000000001, 0.000000001, 0.00001, 0, 0, 0, '0000-00-00',"
    " '00:00:00', '00:00:00.0', '00:00:00.00', '00:00:00.000', '00:00:00.0000', '00:00:00.00000',"
    " '00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '2020-00-00 00:00:00',"
    " '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
]


def float_bits(value, single):
    if math.isnan(value):
        return "nan"
    if single:
        value = struct.unpack("<f", struct.pack("<f", value))[0]
    return struct.pack(">d", value).hex()


def pg_float(text):
    return float({"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(text, text))


def timetz_native(text):
    """PostgreSQL's timetz text ('23:59:59.999999-15:59', '00:00:00+14') as the native
    format writes it ('23:59:59.999999-15:59', '00:00:00.000000+14:00')."""
    sign_at = max(text.rfind("+"), text.rfind("-"))
    clock, zone = text[:sign_at], text[sign_at:]
    if "." not in clock:
        clock += ".000000"
    clock = clock.split(".")[0] + "." + clock.split(".")[1].ljust(6, "0")
    if ":" not in zone:
        zone += ":00"
    return clock + zone


def mytime_native(text):
    """MariaDB's TIME text ('-838:59:59', '00:00:00.000000') with six fraction digits."""
    if "." not in text:
        return text + ".000000"
    whole, fraction = text.split(".")
    return whole + "." + fraction.ljust(6, "0")


def unscaled(text, scale):
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    digits = (whole + fraction.ljust(scale, "0")[:scale]).lstrip("0") or "0"
    return ("-" if negative and digits != "0" else "") + digits


def expected_cell(compare, db_text):
    """The database's comparable text -> what a reader's canonical cell must be."""
    if db_text is None:
        return None
    if not isinstance(db_text, str):  # MariaDB's JSON_OBJECT embeds a JSON column as JSON
        db_text = json.dumps(db_text)
    if compare == "f4":
        return float_bits(pg_float(db_text), True)
    if compare == "f8":
        return float_bits(pg_float(db_text), False)
    if compare == "timetz":
        return timetz_native(db_text)
    if compare == "mytime":
        return mytime_native(db_text)
    if compare.startswith("decimal:"):
        scale = int(compare.split(":")[1])
        return unscaled(db_text, scale)
    return db_text


def cells_equal(compare, got, want, reader):
    if want is None or got is None:
        return got is None and want is None
    if compare == "json":
        return json.loads(got) == json.loads(want)
    if isinstance(got, dict) and "approx" in got:  # hyparquet's decimal as a JS number
        scale = int(compare.split(":")[1])
        exact = int(want) / 10 ** scale
        return math.isclose(got["approx"], exact, rel_tol=1e-12, abs_tol=10 ** -scale / 2)
    return got == want


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

"""The type matrices of the end-to-end tests that check every source type at a destination
(objects_parquet.py: Parquet objects; iceberg_types.py: Iceberg tables; replica_mariadb_pg.py:
MariaDB's matrix in PostgreSQL tables), and how a reader's
canonical cell is compared with the database's own value.

PostgreSQL 15 and MariaDB 10.11, each with the type matrix of its capture tests
(src/source/postgres and mysql capture_integration_test.cc) plus a column NULL in every row.
Canonical cells are those objects_parquet_read.mjs prints: null; integers and booleans as
text; floats as the hex of their float64 bits ("nan" for NaN); decimals as the unscaled
integer; dates as days; times and timestamps as microseconds; UUIDs in canonical text; bytes
in hex; strings as themselves.
"""
import json
import math
import struct

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

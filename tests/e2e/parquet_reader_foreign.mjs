// eddy's Parquet reader (parquet/reader.h, through tests/e2e/parquet_dump.cc) against files
// other writers made, the way they land in Iceberg tables written by other engines:
//   DuckDB (@duckdb/node-api): data page v1, dictionary and PLAIN values, every codec eddy
//     reads (uncompressed, snappy, gzip, zstd), small row groups, the type matrix (integers
//     of every width, signed and unsigned, decimals in INT32/INT64/FIXED_LEN_BYTE_ARRAY,
//     float, double, text, blob, date, time, timestamp, timestamptz, uuid), NULLs everywhere,
//     a column NULL in every row;
//   hyparquet-writer (npm): data page v2, RLE booleans, dictionaries, snappy and none,
//     legacy ConvertedType annotations (UTF8, JSON, TIMESTAMP_MILLIS, UINT_32, DECIMAL).
// The oracle is DuckDB reading the same file: each value in the canonical text parquet_dump
// prints. A reader that cannot start fails the test.
//
//   node parquet_reader_foreign.mjs PATH_TO_parquet_dump
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetWriteFile } from 'hyparquet-writer';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dump = process.argv[2];
if (!dump) {
  console.error('usage: node parquet_reader_foreign.mjs PATH_TO_parquet_dump');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'eddy-parquet-reader-'));
const instance = await DuckDBInstance.create(':memory:');
const duck = await instance.connect();
const sql = async (text) => (await duck.runAndReadAll(text)).getRows();

let failures = 0;
let compared = 0;
function fail(message) {
  failures++;
  if (failures <= 40) console.error('FAIL ' + message);
}

// DuckDB's canonical text of each column, matching parquet_dump's.
async function canonicalSelect(file) {
  const columns = await sql(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  const exprs = [];
  const kinds = [];
  for (const [name, type] of columns) {
    const c = `"${name}"`;
    let e = `CAST(${c} AS VARCHAR)`;
    let kind = 'text';
    if (type === 'FLOAT' || type === 'DOUBLE') kind = type;
    else if (type === 'BLOB') e = `hex(${c})`;
    else if (type === 'DATE') e = `CAST(date_diff('day', DATE '1970-01-01', ${c}) AS VARCHAR)`;
    else if (type === 'TIME') e = `CAST(date_diff('microsecond', TIME '00:00:00', ${c}) AS VARCHAR)`;
    else if (type.startsWith('TIMESTAMP')) e = `CAST(epoch_us(${c}) AS VARCHAR)`;
    else if (type === 'BOOLEAN') e = `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
    if (kind !== 'text') e = c;
    exprs.push(e);
    kinds.push(kind);
  }
  return { select: `SELECT ${exprs.join(', ')} FROM read_parquet('${file}')`, kinds };
}

async function check(label, file, expectRows) {
  let lines;
  try {
    lines = execFileSync(dump, [file], { encoding: 'utf8', maxBuffer: 1 << 28 })
      .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  } catch (error) {
    fail(`${label}: eddy's reader failed: ${error.stderr || error.message}`);
    return;
  }
  const { select, kinds } = await canonicalSelect(file);
  const oracle = await sql(select);
  if (lines.length !== oracle.length || lines.length !== expectRows) {
    fail(`${label}: eddy read ${lines.length} rows, DuckDB ${oracle.length}, expected ${expectRows}`);
    return;
  }
  for (let r = 0; r < oracle.length; r++) {
    for (let c = 0; c < kinds.length; c++) {
      compared++;
      const want = oracle[r][c];
      const got = lines[r][c];
      let same;
      if (want === null || got === null) same = want === got;
      else if (kinds[c] === 'FLOAT') same = Math.fround(Number(got)) === Math.fround(Number(want));
      else if (kinds[c] === 'DOUBLE') same = Number(got) === Number(want);
      else same = String(want) === got;
      if (!same) fail(`${label}: row ${r} column ${c}: eddy ${JSON.stringify(got)}, DuckDB ${JSON.stringify(String(want))}`);
    }
  }
  console.log(`${label}: ${lines.length} rows equal`);
}

// --- DuckDB-written files ---------------------------------------------------------------
const rows = 3000;
const matrix = `
  SELECT i::BIGINT AS id,
         CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 120)::TINYINT END AS tiny,
         (i * 7 - 9000)::SMALLINT AS small,
         CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 100003 - 150000000)::INTEGER END AS int,
         (i::BIGINT * 1000000007 - 9000000000)::BIGINT AS big,
         (i * 1400000)::UINTEGER AS uint,
         (i::UBIGINT * 6000000000000000)::UBIGINT AS ubig,
         (i % 3 = 0) AS flag,
         CASE WHEN i % 4 = 0 THEN NULL ELSE (i / 7.0)::FLOAT END AS f,
         (i / 3.0 - 100)::DOUBLE AS g,
         (i / 100.0 - 10)::DECIMAL(4,1) AS d4,
         (i * 1234.5678)::DECIMAL(18,4) AS d18,
         (i * 12345678901.25 - 1)::DECIMAL(30,2) AS d30,
         CASE WHEN i % 6 = 0 THEN NULL ELSE 'value ' || (i % 50) END AS t,
         'unique text ' || i || repeat('x', i % 40) AS u,
         CASE WHEN i % 9 = 0 THEN NULL ELSE ('\\x' || lpad(printf('%x', i), 4, '0'))::BLOB END AS b,
         (DATE '1900-01-01' + (i * 17)::INTEGER) AS dt,
         (TIME '00:00:00' + to_seconds((i * 28)::BIGINT) + to_microseconds(i::BIGINT)) AS tm,
         (TIMESTAMP '1969-12-31 23:00:00' + to_microseconds((i * 3601001)::BIGINT)) AS ts,
         (TIMESTAMPTZ '2024-02-29 12:00:00+00' + to_seconds((i * 60)::BIGINT)) AS tz,
         CASE WHEN i % 8 = 0 THEN NULL ELSE uuid() END AS uu,
         NULL::VARCHAR AS always_null
  FROM range(${rows}) r(i)`;
await sql('SET TimeZone = \'UTC\'');
for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd']) {
  const file = join(dir, `duckdb-${codec}.parquet`);
  await sql(`COPY (${matrix}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 1000)`);
  await check(`duckdb ${codec}`, file, rows);
}

// --- hyparquet-writer files (data page v2) --------------------------------------------
const n = 500;
const range = Array.from({ length: n }, (_, i) => i);
for (const compressed of [true, false]) {
  const file = join(dir, `hyparquet-${compressed ? 'snappy' : 'none'}.parquet`);
  parquetWriteFile({
    filename: file,
    compressed,
    rowGroupSize: 200,
    columnData: [
      { name: 'id', data: range.map((i) => BigInt(i)), type: 'INT64' },
      { name: 'flag', data: range.map((i) => (i % 13 === 0 ? null : i % 3 === 0)), type: 'BOOLEAN' },
      { name: 'n', data: range.map((i) => (i % 10 === 0 ? null : i * 1000 - 7)), type: 'INT32' },
      { name: 'dbl', data: range.map((i) => i / 8 - 3), type: 'DOUBLE' },
      { name: 'name', data: range.map((i) => (i % 7 === 0 ? null : 'name ' + (i % 20))), type: 'STRING' },
      { name: 'doc', data: range.map((i) => ({ k: i })), type: 'JSON' },
      { name: 'at', data: range.map((i) => new Date(Date.UTC(2024, 0, 1) + i * 86_400_123)), type: 'TIMESTAMP' },
    ],
  });
  await check(`hyparquet-writer ${compressed ? 'snappy' : 'none'}`, file, n);
}

rmSync(dir, { recursive: true, force: true });
if (failures > 0) {
  console.error(`${failures} differences in ${compared} values`);
  process.exit(1);
}
console.log(`parquet reader: ${compared} values equal to DuckDB's`);

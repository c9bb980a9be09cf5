// Reads every Parquet file the objects sink wrote under a directory with three independent
// readers and prints what each one read, in canonical forms, for objects_parquet.py to compare
// with the source database:
//   DuckDB (@duckdb/node-api): the column types (DESCRIBE), every value, and the whole
//     directory through read_parquet(..., hive_partitioning = true, union_by_name = true)
//   hyparquet (+ hyparquet-compressors) and parquet-wasm (arrow-rs) + apache-arrow: every value
// A reader that cannot be loaded fails the test (the imports are static).
//
//   node objects_parquet_read.mjs DIRECTORY [--duckdb-only] [--no-hive]
//
// --duckdb-only reads with DuckDB alone (the kill -9 loop polls with it). --no-hive skips the
// whole-directory read (files not laid out in table=NAME/ partitions: an Iceberg table's data).
// Prints JSON: {"files": [{"file", "columns": [{"name", "type"}], "duckdb": [[cell...]...],
// "hyparquet": [...], "parquet_wasm": [...]}], "hive": {"rows", "partitions": {...}}}.
// Canonical cells (the same forms as parquet_readers.mjs): null; integers and booleans as
// text; floats as the hex of their float64 bits ("nan" for NaN); decimals as the unscaled
// integer (hyparquet: {"approx": number}, it reads decimals as JS numbers); dates as days;
// times and timestamps as microseconds; UUIDs in canonical text; bytes in hex; strings as
// themselves.
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { readParquet } from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.argv[2];
const duckdbOnly = process.argv.slice(3).includes('--duckdb-only');
const noHive = process.argv.slice(3).includes('--no-hive');
if (!root) {
  console.error('usage: node objects_parquet_read.mjs DIRECTORY');
  process.exit(2);
}

function parquetFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;  // the file:// sink's temp files
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...parquetFiles(path));
    else if (entry.name.endsWith('.parquet')) found.push(path);
  }
  return found.sort();
}

function kindOf(type) {
  if (type === 'BOOLEAN') return 'bool';
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT)$/.test(type)) return 'int';
  if (type.startsWith('DECIMAL')) return 'decimal';
  if (type === 'FLOAT' || type === 'DOUBLE') return 'float';
  if (type === 'DATE') return 'date';
  if (type === 'TIME') return 'time';
  if (type.startsWith('TIMESTAMP')) return 'timestamp';
  if (type === 'UUID') return 'uuid';
  if (type === 'VARCHAR') return 'string';
  if (type === 'BLOB') return 'bytes';
  throw new Error('unexpected DuckDB type ' + type);
}
const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
function floatBits(number) {
  if (Number.isNaN(number)) return 'nan';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, number);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}
function uuidText(bytes) {
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function duckdbCanonical(kind, value) {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'bool': case 'int': case 'string': return String(value);
    case 'float': return floatBits(value);
    case 'decimal': return String(value.value);
    case 'date': return String(value.days);
    case 'time': case 'timestamp': return String(value.micros);
    case 'uuid': return value.toString();
    case 'bytes': return hex(value.bytes);
  }
  throw new Error('no canonical form for ' + kind);
}

function hyparquetCanonical(kind, value) {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'bool': case 'int': case 'string': case 'uuid': case 'date': case 'time': case 'timestamp':
      return String(value);
    case 'float': return floatBits(value);
    case 'decimal': return { approx: Number(value) };
    case 'bytes': return hex(value);
  }
  throw new Error('no canonical form for ' + kind);
}

function arrowRaw(vector, index) {
  let start = 0;
  for (const data of vector.data) {
    if (index < start + data.length) return data.values[data.offset + index - start];
    start += data.length;
  }
  throw new Error('index out of range');
}
function arrowCanonical(kind, vector, index) {
  if (!vector.isValid(index)) return null;
  switch (kind) {
    case 'bool': case 'int': case 'string': case 'time': case 'decimal':
      return String(vector.get(index));
    case 'float': return floatBits(vector.get(index));
    case 'date': case 'timestamp': return String(arrowRaw(vector, index));
    case 'uuid': return uuidText(vector.get(index));
    case 'bytes': return hex(vector.get(index));
  }
  throw new Error('no canonical form for ' + kind);
}

const instance = await DuckDBInstance.create(':memory:');
const duck = await instance.connect();
async function sql(text) {
  return (await duck.runAndReadAll(text)).getRowObjects();
}
const quote = (text) => `'${text.replaceAll("'", "''")}'`;

const out = { files: [] };
for (const path of parquetFiles(root)) {
  const described = await sql(`DESCRIBE SELECT * FROM read_parquet(${quote(path)}, hive_partitioning = false)`);
  const columns = described.map((row) => ({ name: row.column_name, type: row.column_type }));
  const kinds = columns.map((column) => kindOf(column.type));
  const names = columns.map((column) => `"${column.name}"`).join(', ');
  const duckRows = (await sql(`SELECT ${names} FROM read_parquet(${quote(path)}, ` +
                              `hive_partitioning = false, file_row_number = true) ORDER BY file_row_number`))
      .map((row) => columns.map((column, c) => duckdbCanonical(kinds[c], row[column.name])));

  if (duckdbOnly) {
    out.files.push({ file: relative(root, path), columns, duckdb: duckRows });
    continue;
  }
  const objects = await parquetReadObjects({
    file: await asyncBufferFromFile(path), compressors, utf8: false,
    parsers: { timestampFromMicroseconds: (v) => v, dateFromDays: (d) => d },
  });
  const hyRows = objects.map((object) =>
      columns.map((column, c) => hyparquetCanonical(kinds[c], object[column.name])));

  const table = tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
  const wasmRows = Array.from({ length: table.numRows }, () => []);
  columns.forEach((column, c) => {
    const vector = table.getChild(column.name);
    if (vector === null) throw new Error(`parquet-wasm: no column ${column.name} in ${path}`);
    for (let r = 0; r < table.numRows; r++) wasmRows[r].push(arrowCanonical(kinds[c], vector, r));
  });
  out.files.push({ file: relative(root, path), columns, duckdb: duckRows, hyparquet: hyRows,
                   parquet_wasm: wasmRows });
}

// The whole directory as one table, with the Hive partitions as columns.
out.hive = { rows: 0, partitions: {} };
if (!duckdbOnly && !noHive && out.files.length > 0) {
  const glob = quote(join(root, '**', '*.parquet'));
  const [{ rows }] = await sql(`SELECT count(*)::INTEGER AS rows FROM read_parquet(${glob}, ` +
                               `hive_partitioning = true, union_by_name = true)`);
  const partitionRows = await sql(`SELECT "table" AS t, count(*)::INTEGER AS n FROM read_parquet(${glob}, ` +
                                  `hive_partitioning = true, union_by_name = true) GROUP BY 1 ORDER BY 1`);
  out.hive = { rows, partitions: Object.fromEntries(partitionRows.map((row) => [row.t, row.n])) };
}
duck.closeSync();
instance.closeSync();
// No process.exit: it would cut a large write to a pipe short.
process.stdout.write(JSON.stringify(out));

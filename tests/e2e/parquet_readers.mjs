// Reads every Parquet file eddy's writer produced (tests/e2e/parquet_matrix_writer.cc) with
// three independent readers and compares them value for value with expected.json:
//   DuckDB (@duckdb/node-api, C++): values, logical types (DESCRIBE), field ids
//     (parquet_schema), statistics and codecs (parquet_metadata), key-value metadata,
//     created_by and row group counts (parquet_file_metadata)
//   hyparquet (+ hyparquet-compressors, JavaScript): values, field ids, row groups, metadata
//   parquet-wasm (arrow-rs, the Parquet code of delta-rs and iceberg-rust) + apache-arrow:
//     values, Arrow types, PARQUET:field_id
// A reader that cannot be loaded or started fails the test (the imports are static).
//
//   node parquet_readers.mjs PATH_TO_parquet_matrix_writer
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { readParquet } from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const writer = process.argv[2];
if (!writer) {
  console.error('usage: node parquet_readers.mjs PATH_TO_parquet_matrix_writer');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'eddy-parquet-'));
execFileSync(writer, [dir], { stdio: 'inherit' });
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));

let failures = 0;
let comparisons = 0;
function check(ok, message) {
  comparisons++;
  if (!ok) {
    failures++;
    if (failures <= 60) console.error('FAIL ' + message);
  }
}

// ---- canonical forms (the same as parquet_matrix_writer.cc's) ----
function kindOf(column) {
  const logical = column.logical;
  if (logical.startsWith('INT(')) return 'int';
  if (logical.startsWith('DECIMAL')) return 'decimal';
  if (logical.startsWith('TIMESTAMP')) return 'timestamp';
  if (logical.startsWith('TIME(')) return 'time';
  return { BOOLEAN: 'bool', FLOAT: 'float', DOUBLE: 'float', DATE: 'date', UUID: 'uuid',
           STRING: 'string', BYTE_ARRAY: 'bytes' }[logical];
}
function duckdbType(column) {
  const logical = column.logical;
  const int = logical.match(/^INT\((\d+),(signed|unsigned)\)$/);
  if (int) {
    const name = { 8: 'TINYINT', 16: 'SMALLINT', 32: 'INTEGER', 64: 'BIGINT' }[int[1]];
    return int[2] === 'unsigned' ? 'U' + name : name;
  }
  if (logical.startsWith('DECIMAL')) return logical;
  return { BOOLEAN: 'BOOLEAN', FLOAT: 'FLOAT', DOUBLE: 'DOUBLE', DATE: 'DATE',
           'TIME(MICROS,local)': 'TIME', 'TIMESTAMP(MICROS,local)': 'TIMESTAMP',
           'TIMESTAMP(MICROS,UTC)': 'TIMESTAMP WITH TIME ZONE', UUID: 'UUID', STRING: 'VARCHAR',
           BYTE_ARRAY: 'BLOB' }[logical];
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
function show(value) {
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 80) + '...' : text;
}

function compareRows(reader, file, rows, expectedRows) {
  check(rows.length === expectedRows.length,
        `${reader} ${file.file}: ${rows.length} rows, expected ${expectedRows.length}`);
  for (let r = 0; r < Math.min(rows.length, expectedRows.length); r++) {
    for (let c = 0; c < file.columns.length; c++) {
      const want = expectedRows[r][c];
      const got = rows[r][c];
      check(got === want, `${reader} ${file.file} row ${r} column ${file.columns[c].name} ` +
                          `(${file.columns[c].logical}): got ${show(got)}, expected ${show(want)}`);
    }
  }
}

// ---- DuckDB ----
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

const instance = await DuckDBInstance.create(':memory:');
const duck = await instance.connect();
async function sql(text) {
  return (await duck.runAndReadAll(text)).getRowObjects();
}

async function checkDuckdb(file, path) {
  const quoted = `'${path}'`;
  const described = await sql(`DESCRIBE SELECT * FROM read_parquet(${quoted})`);
  check(described.length === file.columns.length,
        `duckdb ${file.file}: ${described.length} columns, expected ${file.columns.length}`);
  file.columns.forEach((column, i) => {
    check(described[i]?.column_name === column.name && described[i]?.column_type === duckdbType(column),
          `duckdb ${file.file} column ${i}: ${described[i]?.column_name} ${described[i]?.column_type}, ` +
          `expected ${column.name} ${duckdbType(column)}`);
  });
  const schema = await sql(`SELECT name, field_id FROM parquet_schema(${quoted})`);
  file.columns.forEach((column, i) => {
    const element = schema[i + 1];
    const want = column.field_id ?? null;
    check(element?.name === column.name && (element?.field_id == null ? null : Number(element.field_id)) === want,
          `duckdb ${file.file} ${column.name}: field_id ${element?.field_id}, expected ${want}`);
  });
  const [meta] = await sql(`SELECT created_by, num_rows, num_row_groups FROM parquet_file_metadata(${quoted})`);
  check(/^eddy version \d+\.\d+\.\d+ \(build [^)]+\)$/.test(meta.created_by),
        `duckdb ${file.file}: created_by '${meta.created_by}' does not parse as 'app version x.y.z (build h)'`);
  check(Number(meta.num_rows) === file.rows.length, `duckdb ${file.file}: num_rows ${meta.num_rows}`);
  check(Number(meta.num_row_groups) === file.row_groups,
        `duckdb ${file.file}: ${meta.num_row_groups} row groups, expected ${file.row_groups}`);
  const kv = await sql(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${quoted})`);
  const kvObject = Object.fromEntries(kv.map((row) => [row.key, row.value]));
  check(JSON.stringify(kvObject) === JSON.stringify(file.key_value_metadata),
        `duckdb ${file.file}: key-value metadata ${JSON.stringify(kvObject)}`);

  // Values, in file order.
  const names = file.columns.map((column) => `"${column.name}"`).join(', ');
  const rows = (await sql(`SELECT ${names} FROM read_parquet(${quoted}, file_row_number = true) ` +
                          `ORDER BY file_row_number`))
      .map((row) => file.columns.map((column) => duckdbCanonical(kindOf(column), row[column.name])));
  compareRows('duckdb', file, rows, file.rows);

  // Statistics of every column chunk: null counts from the expected rows; min/max equal to
  // DuckDB's own min/max over the chunk's rows (NaN excluded), truncated strings bracketing them.
  const chunks = await sql(`SELECT row_group_id, row_group_num_rows, column_id, compression, ` +
                           `stats_min_value, stats_max_value, stats_null_count ` +
                           `FROM parquet_metadata(${quoted}) ORDER BY row_group_id, column_id`);
  const codec = { none: 'UNCOMPRESSED', snappy: 'SNAPPY', zstd: 'ZSTD' }[file.compression];
  let firstRow = 0;
  for (let g = 0; g < file.row_groups; g++) {
    const groupChunks = chunks.filter((chunk) => Number(chunk.row_group_id) === g);
    const groupRows = Number(groupChunks[0].row_group_num_rows);
    const slice = file.rows.slice(firstRow, firstRow + groupRows);
    const where = `file_row_number >= ${firstRow} AND file_row_number < ${firstRow + groupRows}`;
    for (const chunk of groupChunks) {
      const c = Number(chunk.column_id);
      const column = file.columns[c];
      const kind = kindOf(column);
      const label = `duckdb ${file.file} row group ${g} ${column.name}`;
      check(chunk.compression === codec, `${label}: codec ${chunk.compression}, expected ${codec}`);
      const nulls = slice.filter((row) => row[c] === null).length;
      check(Number(chunk.stats_null_count) === nulls,
            `${label}: stats null_count ${chunk.stats_null_count}, expected ${nulls}`);
      const present = slice.map((row) => row[c]).filter((v) => v !== null && v !== 'nan');
      if (present.length === 0) {
        check(chunk.stats_min_value === null && chunk.stats_max_value === null,
              `${label}: bounds ${chunk.stats_min_value}..${chunk.stats_max_value} without values`);
        continue;
      }
      if (kind === 'string') {
        const sorted = present.map((v) => Buffer.from(v, 'utf8')).sort(Buffer.compare);
        const [lo, hi] = [sorted[0], sorted[sorted.length - 1]];
        const min = Buffer.from(chunk.stats_min_value ?? '', 'utf8');
        const max = chunk.stats_max_value === null ? null : Buffer.from(chunk.stats_max_value, 'utf8');
        if (lo.length <= 64) {
          check(min.equals(lo), `${label}: min '${show(chunk.stats_min_value)}', expected exact`);
        } else {
          check(min.length <= 64 && lo.subarray(0, min.length).equals(min),
                `${label}: truncated min is not a prefix of the minimum`);
        }
        if (hi.length <= 64) {
          check(max !== null && max.equals(hi), `${label}: max '${show(chunk.stats_max_value)}', expected exact`);
        } else {
          check(max === null || (max.length <= 64 && Buffer.compare(max, hi) > 0),
                `${label}: truncated max is not above the maximum`);
        }
        continue;
      }
      if (kind === 'bytes') continue;  // DuckDB renders BLOB bounds with escapes; hyparquet checks them
      const filter = kind === 'float' ? `FILTER (WHERE NOT isnan("${column.name}"))` : '';
      const [own] = await sql(`SELECT min("${column.name}") ${filter}::VARCHAR AS lo, ` +
                              `max("${column.name}") ${filter}::VARCHAR AS hi ` +
                              `FROM read_parquet(${quoted}, file_row_number = true) WHERE ${where}`);
      if (kind === 'float') {
        // DuckDB shows an infinite bound as NULL (it does not use infinite float statistics);
        // hyparquet's check of the raw statistics covers those.
        const same = (stat, data) => (stat === null && !Number.isFinite(Number(data))) ||
                                     Number(stat) === Number(data);
        check(same(chunk.stats_min_value, own.lo) && same(chunk.stats_max_value, own.hi),
              `${label}: bounds ${chunk.stats_min_value}..${chunk.stats_max_value}, data ${own.lo}..${own.hi}`);
      } else {
        check(chunk.stats_min_value === own.lo && chunk.stats_max_value === own.hi,
              `${label}: bounds ${chunk.stats_min_value}..${chunk.stats_max_value}, data ${own.lo}..${own.hi}`);
      }
    }
    firstRow += groupRows;
  }
}

// ---- hyparquet ----
function hyparquetCanonical(kind, column, value) {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'bool': case 'int': case 'string': case 'uuid': case 'date': case 'time': case 'timestamp':
      return String(value);
    case 'float': return floatBits(value);
    case 'decimal': return { decimal: value, scale: column.scale };
    case 'bytes': return hex(value);
  }
  throw new Error('no canonical form for ' + kind);
}

async function checkHyparquet(file, path) {
  const buffer = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(buffer);
  check(metadata.row_groups.length === file.row_groups,
        `hyparquet ${file.file}: ${metadata.row_groups.length} row groups`);
  check(Number(metadata.num_rows) === file.rows.length, `hyparquet ${file.file}: num_rows`);
  file.columns.forEach((column, i) => {
    const element = metadata.schema[i + 1];
    check(element.name === column.name && (element.field_id ?? null) === (column.field_id ?? null),
          `hyparquet ${file.file} ${column.name}: field_id ${element.field_id}`);
    const nulls = metadata.row_groups.reduce(
        (sum, group) => sum + Number(group.columns[i].meta_data.statistics?.null_count ?? -1e9), 0);
    check(nulls === file.null_counts[i], `hyparquet ${file.file} ${column.name}: null_count ${nulls}`);
  });
  const kv = Object.fromEntries((metadata.key_value_metadata ?? []).map(({ key, value }) => [key, value]));
  check(JSON.stringify(kv) === JSON.stringify(file.key_value_metadata),
        `hyparquet ${file.file}: key-value metadata ${JSON.stringify(kv)}`);
  // Raw parsers: timestamps as bigint microseconds, dates as days; byte arrays stay bytes
  // unless annotated STRING.
  const objects = await parquetReadObjects({
    file: buffer, compressors, utf8: false,
    parsers: { timestampFromMicroseconds: (v) => v, dateFromDays: (d) => d },
  });
  const rows = objects.map((object) =>
      file.columns.map((column) => {
        const canonical = hyparquetCanonical(kindOf(column), column, object[column.name]);
        return typeof canonical === 'object' && canonical !== null ? canonical : canonical;
      }));
  // hyparquet returns DECIMAL as a JS number (unscaled * 10^-scale): compare with that number.
  const expectedRows = file.rows.map((row) => row.map((cell, c) => {
    const column = file.columns[c];
    if (kindOf(column) !== 'decimal' || cell === null) return cell;
    return Number(BigInt(cell)) * 10 ** -column.scale;
  }));
  compareRows('hyparquet', file,
              rows.map((row) => row.map((cell) => (cell !== null && typeof cell === 'object' ? cell.decimal : cell))),
              expectedRows);
}

// ---- parquet-wasm (arrow-rs) ----
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

function checkParquetWasm(file, path) {
  const table = tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
  check(table.numRows === file.rows.length, `parquet-wasm ${file.file}: ${table.numRows} rows`);
  const rows = Array.from({ length: table.numRows }, () => []);
  file.columns.forEach((column, c) => {
    const field = table.schema.fields[c];
    check(field?.name === column.name, `parquet-wasm ${file.file} column ${c}: ${field?.name}`);
    const fieldId = field?.metadata.get('PARQUET:field_id');
    check((fieldId === undefined ? null : Number(fieldId)) === (column.field_id ?? null),
          `parquet-wasm ${file.file} ${column.name}: PARQUET:field_id ${fieldId}`);
    const vector = table.getChildAt(c);
    for (let r = 0; r < table.numRows; r++) rows[r].push(arrowCanonical(kindOf(column), vector, r));
  });
  compareRows('parquet-wasm', file, rows, file.rows);
}

for (const file of expected.files) {
  const path = join(dir, file.file);
  check(statSync(path).size === file.file_bytes,
        `${file.file}: ${statSync(path).size} bytes on disk, Finish() said ${file.file_bytes}`);
  await checkDuckdb(file, path);
  await checkHyparquet(file, path);
  checkParquetWasm(file, path);
  console.log(`${file.file}: ${file.rows.length} rows x ${file.columns.length} columns, ` +
              `${file.row_groups} row groups, ${file.compression}: read by DuckDB, hyparquet, parquet-wasm`);
}

if (failures > 0) {
  console.error(`${failures} of ${comparisons} checks failed (files kept in ${dir})`);
  process.exit(1);
}
rmSync(dir, { recursive: true, force: true });
console.log(`all ${comparisons} checks passed across ${expected.files.length} files and 3 readers`);

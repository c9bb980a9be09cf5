// Reads an Iceberg table eddy wrote, with two independent readers, and checks its structure.
//
//   node iceberg_read.mjs TABLE_DIR KEY_COLUMN
//   node iceberg_read.mjs s3://BUCKET/TABLE_KEY KEY_COLUMN S3_ENDPOINT
//
// The table's versions are v1..v<version-hint> (hadoop catalog), or, with ICEBERG_METADATA set
// to the metadata_location a SQL catalog holds, that file and the ones its metadata-log names.
// ICEBERG_CURRENT_ONLY=1 reads the latest version only (after `eddy lake expire`, older
// versions name snapshots whose files are gone).
//
// Prints JSON: {"versions": [{"version": N, "rows": [...]}...], "duckdb": [...rows...],
//               "problems": [...], "files": {"data": N, "deletes": M}} where
// - versions: icebird (npm) reading the table at every metadata version (time travel), through
//   a file:// fetch shim (Range requests served from disk), or from an S3 endpoint (s3rver) by
//   mapping the AWS URLs icebird makes of s3:// paths onto it; the last one is the current state;
// - duckdb: the current state re-derived by DuckDB (@duckdb/node-api) from the data and delete
//   files with Iceberg's sequence-number rules (an equality delete removes rows of data files
//   with a strictly smaller sequence number), the file list taken from the manifests;
// - problems: structural violations: required metadata fields, sequence numbers, manifest
//   record counts versus the files, file_size_in_bytes versus the file on disk, Parquet field
//   ids versus the schema;
// - files: how many data and delete files the current snapshot's manifests name;
// - avsc (npm), a second Avro decoder, decodes the current snapshot's manifest list and every
//   manifest independently of icebird and must find the same files, contents, counts and
//   sizes; parquet-wasm (arrow-rs) reads every data and delete file and must count the
//   manifest's record_count (both add to problems when they disagree);
// - bounds: how many column bounds (avsc-decoded lower_bounds / upper_bounds) DuckDB checked
//   against the file's rows: no value outside them, numeric bounds equal to a value held.
// Rows are objects sorted by KEY_COLUMN, values as JSON (bigints as numbers, Dates as ISO).
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergManifests, icebergMetadata, icebergRead } from 'icebird';
import avro from 'avsc';
import { readParquet } from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';

const [tableDir, keyColumn, s3Endpoint] = process.argv.slice(2);
const onS3 = tableDir.startsWith('s3://');
const tableUrl = onS3 ? tableDir : `file://${tableDir}`;

// file:// for icebird's fetch (hyparquet asks for byte ranges).
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const text = String(url);
  const aws = /^https:\/\/([^/]+)\.s3\.amazonaws\.com\/(.*)$/.exec(text);
  if (aws && s3Endpoint) return realFetch(`${s3Endpoint}/${aws[1]}/${aws[2]}`, init);
  if (!text.startsWith('file://')) return realFetch(url, init);
  let bytes;
  try {
    bytes = await readFile(decodeURIComponent(text.slice(7)));
  } catch {
    return new Response('not found', { status: 404 });
  }
  const range = init?.headers?.Range ?? init?.headers?.range ?? (init?.headers?.get?.('range'));
  if (range) {
    const [, start, end] = /bytes=(\d+)-(\d*)/.exec(range);
    bytes = bytes.subarray(Number(start), end === '' ? bytes.length : Number(end) + 1);
    return new Response(bytes, { status: 206, headers: { 'content-length': String(bytes.length) } });
  }
  return new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length) } });
};

// A path inside the table (or a full file:// / s3:// URI) as bytes, and its size.
function toUrl(pathOrUri) {
  if (pathOrUri.startsWith('s3://')) {
    const rest = pathOrUri.slice(5);
    return `${s3Endpoint}/${rest}`;
  }
  return pathOrUri.startsWith('file://') ? pathOrUri : `file://${pathOrUri}`;
}
async function readText(pathOrUri) {
  const reply = await globalThis.fetch(toUrl(pathOrUri));
  if (!reply.ok) throw new Error(`${pathOrUri}: ${reply.status}`);
  return reply.text();
}
async function sizeOf(pathOrUri) {
  if (!onS3) return (await stat(pathOrUri.replace(/^file:\/\//, ''))).size;
  const reply = await realFetch(toUrl(pathOrUri), { method: 'HEAD' });
  return Number(reply.headers.get('content-length'));
}

function plain(value) {
  if (typeof value === 'bigint') return Number(value);
  // A JS Date holds +-8.64e15 ms: timestamps past it (PostgreSQL's infinity, year 294246)
  // read as an invalid Date, printed as such rather than failing the read.
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid Date' : value.toISOString();
  if (value === undefined) return null;
  return value;
}
function canonical(rows) {
  return rows
    .map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])))
    .sort((a, b) => (a[keyColumn] < b[keyColumn] ? -1 : a[keyColumn] > b[keyColumn] ? 1 : 0));
}

const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };

const metadataFiles = [];
if (process.env.ICEBERG_METADATA) {
  const location = process.env.ICEBERG_METADATA;
  const current = JSON.parse(await readText(location));
  for (const entry of current['metadata-log'] ?? []) metadataFiles.push(entry['metadata-file']);
  metadataFiles.push(location);
} else {
  const hint = Number((await readText(`${tableDir}/metadata/version-hint.text`)).trim());
  for (let version = 1; version <= hint; version++) metadataFiles.push(`v${version}.metadata.json`);
}
if (process.env.ICEBERG_CURRENT_ONLY) metadataFiles.splice(0, metadataFiles.length - 1);
const versions = [];
let previousSequence = 0;
let previousStaged = false;
for (const [index, file] of metadataFiles.entries()) {
  const version = index + 1;
  const metadataFileName = file.split('/').pop();
  const metadata = JSON.parse(await readText(`${tableDir}/metadata/${metadataFileName}`));
  for (const field of ['format-version', 'table-uuid', 'location', 'last-sequence-number',
    'last-updated-ms', 'last-column-id', 'schemas', 'current-schema-id', 'partition-specs',
    'default-spec-id', 'last-partition-id', 'sort-orders', 'default-sort-order-id']) {
    check(field in metadata, `v${version}: required field ${field} missing`);
  }
  check(metadata['format-version'] === 2, `v${version}: format-version ${metadata['format-version']}`);
  // A version that only publishes a staged snapshot (a transaction seen whole) adds none.
  check(metadata['last-sequence-number'] > previousSequence ||
        (previousStaged && metadata['last-sequence-number'] === previousSequence),
        `v${version}: last-sequence-number ${metadata['last-sequence-number']} not above ${previousSequence}`);
  previousSequence = metadata['last-sequence-number'];
  // The newest snapshot is main's, or that of the eddy-staged branch (part of a transaction
  // not seen whole yet, invisible to readers of main).
  const stagedId = metadata.refs?.['eddy-staged']?.['snapshot-id'];
  previousStaged = stagedId !== undefined;
  const head = metadata.snapshots.find(
    (s) => s['snapshot-id'] === (stagedId ?? metadata['current-snapshot-id']));
  check(head && head['sequence-number'] === metadata['last-sequence-number'],
        `v${version}: the newest snapshot's sequence number is not last-sequence-number`);
  check(metadata.refs?.main?.['snapshot-id'] === metadata['current-snapshot-id'],
        `v${version}: refs.main is not the current snapshot`);
  const rows = await icebergRead({ tableUrl, metadataFileName });
  versions.push({ version, rows: canonical(rows) });
}

// The current version's files, from the manifests (icebird's Avro decoding of eddy's files).
const metadata = await icebergMetadata({ tableUrl, metadataFileName: metadataFiles.at(-1).split('/').pop() });
const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
const manifests = await icebergManifests(metadata);
const dataFiles = [];
const deleteFiles = [];
const scratch = onS3 ? await mkdtemp(`${tmpdir()}/iceberg-read-`) : '';
for (const { entries } of manifests) {
  for (const entry of entries) {
    const file = entry.data_file;
    const path = onS3 ? file.file_path : file.file_path.slice('file://'.length);
    const size = await sizeOf(path);
    check(size === Number(file.file_size_in_bytes),
          `${path}: file_size_in_bytes ${file.file_size_in_bytes}, the file has ${size}`);
    // DuckDB (no httpfs offline) reads local copies of files on S3.
    let local = path;
    if (onS3) {
      local = `${scratch}/${path.split('/').pop()}`;
      const reply = await realFetch(toUrl(path));
      await writeFile(local, Buffer.from(await reply.arrayBuffer()));
    }
    (file.content === 2 ? deleteFiles : dataFiles)
      .push({ path: local, source: path, sequence: Number(entry.sequence_number),
              records: Number(file.record_count), equalityIds: file.equality_ids });
  }
}
check(dataFiles.length > 0, 'no data files');

// ---- the second oracle: avsc decodes the manifest list and the manifests ----
async function bytesOf(pathOrUri) {
  if (pathOrUri.startsWith('s3://')) {
    const reply = await realFetch(toUrl(pathOrUri));
    if (!reply.ok) throw new Error(`${pathOrUri}: ${reply.status}`);
    return Buffer.from(await reply.arrayBuffer());
  }
  return readFile(pathOrUri.replace(/^file:\/\//, ''));
}
// Iceberg's ids are longs beyond 2^53: avsc reads them as BigInt (its documented LongType hook).
const bigLong = avro.types.LongType.__with({
  fromBuffer: (buf) => buf.readBigInt64LE(),
  toBuffer: (n) => { const buf = Buffer.alloc(8); buf.writeBigInt64LE(BigInt(n)); return buf; },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n) => typeof n === 'bigint',
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
});
async function avscRecords(pathOrUri) {
  const bytes = await bytesOf(pathOrUri);
  return new Promise((resolve, reject) => {
    const records = [];
    const decoder = new avro.streams.BlockDecoder({
      parseHook: (schema) => avro.Type.forSchema(schema, {
        wrapUnions: false, registry: { long: bigLong } }),
    });
    decoder.on('data', (record) => records.push(record));
    decoder.on('end', () => resolve(records));
    decoder.on('error', reject);
    decoder.end(bytes);
  });
}
const describe = (entry) => {
  const f = entry.data_file;
  return [entry.status, f.content, f.file_path, Number(f.record_count),
          Number(f.file_size_in_bytes)].join(' | ');
};
const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
const listed = await avscRecords(current['manifest-list']);
check(listed.length === manifests.length,
      `avsc: the manifest list names ${listed.length} manifests, icebird read ${manifests.length}`);
const avscEntries = [];
const boundsByPath = new Map();  // file path -> [{id, lower, upper}] (Buffers; either may be absent)
for (const manifest of listed) {
  for (const entry of await avscRecords(manifest.manifest_path)) {
    avscEntries.push(describe(entry));
    const f = entry.data_file;
    const bounds = new Map();
    for (const { key, value } of f.lower_bounds ?? []) bounds.set(key, { id: key, lower: value });
    for (const { key, value } of f.upper_bounds ?? []) {
      bounds.set(key, { ...(bounds.get(key) ?? { id: key }), upper: value });
    }
    boundsByPath.set(onS3 ? f.file_path : f.file_path.slice('file://'.length), [...bounds.values()]);
  }
}
const icebirdEntries = manifests.flatMap(({ entries }) => entries.map(describe));
avscEntries.sort();
icebirdEntries.sort();
check(JSON.stringify(avscEntries) === JSON.stringify(icebirdEntries),
      `avsc and icebird decode the manifests differently: ${avscEntries.length} entries ` +
      `(first ${avscEntries[0]}) against ${icebirdEntries.length} (first ${icebirdEntries[0]})`);

// ---- parquet-wasm (arrow-rs) reads every data and delete file ----
for (const file of [...dataFiles, ...deleteFiles]) {
  const table = tableFromIPC(readParquet(await readFile(file.path)).intoIPCStream());
  check(table.numRows === file.records,
        `parquet-wasm ${file.path}: ${table.numRows} rows, the manifest says ${file.records}`);
}

// An Iceberg single-value serialization (spec, Appendix D) as a DuckDB literal comparable with
// boundColumn(type, column); null for no bound or a type eddy writes none for.
let boundsChecked = 0;
function boundLiteral(type, bytes) {
  if (!bytes) return null;
  const b = Buffer.from(bytes);
  const integer = () => (b.length === 4 ? String(b.readInt32LE(0)) : String(b.readBigInt64LE(0)));
  if (type === 'boolean') return b[0] ? 'true' : 'false';
  if (type === 'int' || type === 'long' || type === 'date') return integer();
  if (type === 'time' || type === 'timestamp' || type === 'timestamptz') return integer();
  // -0.0 keeps its sign (String(-0) is "0"): DuckDB orders -0.0 below +0.0.
  const float = (v) => (Object.is(v, -0) ? '-0.0' : String(v));
  if (type === 'float') return `'${float(b.readFloatLE(0))}'::FLOAT`;
  if (type === 'double') return `'${float(b.readDoubleLE(0))}'::DOUBLE`;
  if (type === 'string') return quote(b.toString('utf8'));
  if (type === 'binary' || type.startsWith('fixed')) return `from_hex('${b.toString('hex')}')`;
  const decimal = /^decimal\((\d+), (\d+)\)$/.exec(type);
  if (decimal) {
    let unscaled = 0n;
    for (const byte of b) unscaled = (unscaled << 8n) | BigInt(byte);
    if (b.length > 0 && b[0] & 0x80) unscaled -= 1n << BigInt(8 * b.length);
    const scale = Number(decimal[2]);
    const negative = unscaled < 0n;
    const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
    const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    return `CAST('${negative ? '-' : ''}${text}' AS DECIMAL(${decimal[1]}, ${scale}))`;
  }
  return null;
}
function boundColumn(type, column) {
  if (type === 'date') return `(${column} - DATE '1970-01-01')`;
  if (type === 'timestamp' || type === 'timestamptz') return `epoch_us(${column})`;
  if (type === 'time') return `datediff('microsecond', TIME '00:00:00', ${column})`;
  if (type === 'binary' || type.startsWith('fixed')) return `${column}::BLOB`;
  return column;
}

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const quote = (text) => `'${text.replaceAll("'", "''")}'`;
for (const file of [...dataFiles, ...deleteFiles]) {
  const counted = (await connection.runAndReadAll(
    `SELECT count(*) AS n FROM read_parquet(${quote(file.path)})`)).getRowObjectsJson();
  check(Number(counted[0].n) === file.records,
        `${file.path}: manifest record_count ${file.records}, the file has ${counted[0].n}`);
  const ids = (await connection.runAndReadAll(
    `SELECT name, field_id FROM parquet_schema(${quote(file.path)}) WHERE num_children IS NULL`))
    .getRowObjectsJson();
  for (const { name, field_id } of ids) {
    // Files written before a schema change hold columns of an older schema.
    const known = metadata.schemas.flatMap((s) => s.fields).filter((f) => f.name === name);
    const field = schema.fields.find((f) => f.name === name);
    check(field ? Number(field_id) === field.id : known.some((f) => f.id === Number(field_id)),
          `${file.path}: column ${name} has field_id ${field_id}, the schemas say ` +
          `${known.map((f) => f.id).join(' or ') || 'nothing'}`);
  }
  // Column bounds, checked against the rows by DuckDB: no value of the file lies outside
  // [lower, upper] (NaN is never inside bounds: the spec keeps it out), and a numeric bound is
  // a value the column holds (exact, not merely wide).
  for (const { id, lower, upper } of boundsByPath.get(file.source) ?? []) {
    const field = schema.fields.find((f) => f.id === id);
    if (!field || !ids.some((c) => c.name === field.name)) continue;
    const literal = boundLiteral(field.type, lower), upperLiteral = boundLiteral(field.type, upper);
    const column = boundColumn(field.type, `"${field.name}"`);
    if (literal === null && upperLiteral === null) {
      check(false, `${file.path}: column ${field.name} (${field.type}) has a bound eddy should not write`);
      continue;
    }
    const outside = [];
    if (literal !== null) outside.push(`${column} < ${literal}`);
    if (upperLiteral !== null) outside.push(`${column} > ${upperLiteral}`);
    // DuckDB reads the timestamp micros +-(2^63 - 1) as +-infinity (epoch_us is NULL there).
    const equals = (bound) => (bound === null ? 'true'
      : /^timestamp/.test(field.type) && /^-?9223372036854775807$/.test(bound)
        ? `isinf("${field.name}")` : `${column} = ${bound}`);
    const row = (await connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE (${outside.join(' OR ')})${
        ['float', 'double'].includes(field.type) ? ` AND NOT isnan("${field.name}")` : ''}) AS outside,
              count(*) FILTER (WHERE ${equals(literal)}) AS at_lower,
              count(*) FILTER (WHERE ${equals(upperLiteral)}) AS at_upper
         FROM read_parquet(${quote(file.path)})`)).getRowObjectsJson()[0];
    check(Number(row.outside) === 0,
          `${file.path}: ${row.outside} values of ${field.name} lie outside its bounds ` +
          `[${literal}, ${upperLiteral}]`);
    if (!['string', 'binary'].includes(field.type) && !field.type.startsWith('fixed')) {
      check(Number(row.at_lower) > 0 && Number(row.at_upper) > 0,
            `${file.path}: the bounds [${literal}, ${upperLiteral}] of ${field.name} are not its ` +
            'minimum and maximum');
    }
    boundsChecked++;
  }
  if (file.equalityIds) {
    const keyField = schema.fields.find((f) => f.name === keyColumn);
    check(JSON.stringify(file.equalityIds) === JSON.stringify(schema['identifier-field-ids']) &&
          file.equalityIds.includes(keyField.id),
          `${file.path}: equality_ids ${JSON.stringify(file.equalityIds)}`);
  }
}
const values = (files) => files.map((f) => `(${quote(f.path)}, ${f.sequence})`).join(', ');
const columns = schema.fields.map((f) => `d."${f.name}"`).join(', ');
let sql = `WITH seqs(path, seq) AS (VALUES ${values(dataFiles)}),
  data AS (SELECT r.*, s.seq AS _seq FROM read_parquet([${dataFiles.map((f) => quote(f.path)).join(', ')}],
                                                      filename = true, union_by_name = true) r
           JOIN seqs s ON s.path = r.filename)`;
if (deleteFiles.length > 0) {
  sql += `, dseqs(path, seq) AS (VALUES ${values(deleteFiles)}),
  deletes AS (SELECT r."${keyColumn}" AS k, s.seq AS _seq
                FROM read_parquet([${deleteFiles.map((f) => quote(f.path)).join(', ')}], filename = true) r
                JOIN dseqs s ON s.path = r.filename)
  SELECT ${columns} FROM data d
   WHERE NOT EXISTS (SELECT 1 FROM deletes e WHERE e.k = d."${keyColumn}" AND e._seq > d._seq)`;
} else {
  sql += ` SELECT ${columns} FROM data d`;
}
const duckdbRows = (await connection.runAndReadAll(sql)).getRowObjectsJson();
connection.closeSync();
instance.closeSync();

process.stdout.write(JSON.stringify({
  versions, duckdb: canonical(duckdbRows), problems,
  files: { data: dataFiles.length, deletes: deleteFiles.length },  // the current snapshot's
  bounds: boundsChecked,  // column bounds checked against the rows
}));

// DuckDB's side of bench/parquet/objects_parquet_bench.py: loads the retail_trans rows from a
// CSV (untimed), writes them with `COPY retail_trans TO 'x.parquet'` (timed, --repeat times),
// and checks that the Parquet files eddy's objects sink wrote hold exactly the same rows
// (their table columns, EXCEPT ALL both ways). Prints one JSON line:
//   {"rows", "threads", "seconds": [...], "bytes", "eddy_rows", "eddy_bytes", "differences"}
//
//   node bench/parquet/duckdb_copy.mjs CSV WORK_DIR EDDY_DIR [--repeat=3] [--compression=snappy]
import { createRequire } from 'node:module';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tests', 'e2e', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const [csv, work, eddyDir] = process.argv.slice(2, 5);
const flag = (name, fallback) => {
  const hit = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
if (!eddyDir) {
  console.error('usage: node duckdb_copy.mjs CSV WORK_DIR EDDY_DIR [--repeat=3] [--compression=snappy]');
  process.exit(2);
}
const repeat = Number(flag('repeat', '3'));
const compression = flag('compression', 'snappy');

function parquetFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...parquetFiles(full));
    else if (entry.name.endsWith('.parquet')) found.push(full);
  }
  return found;
}

const instance = await DuckDBInstance.create(':memory:');
const duck = await instance.connect();
const one = async (sql) => (await duck.runAndReadAll(sql)).getRowObjects()[0];
await duck.run(`CREATE TABLE retail_trans (trans_id BIGINT NOT NULL, customer_id VARCHAR,
                event VARCHAR, sku VARCHAR, device VARCHAR, quantity INTEGER,
                trans_datetime TIMESTAMP)`);
await duck.run(`COPY retail_trans FROM '${csv}' (FORMAT csv, HEADER false)`);
const rows = Number((await one('SELECT count(*) AS n FROM retail_trans')).n);
const threads = (await one("SELECT current_setting('threads') AS t")).t;
const out = path.join(work, 'duckdb.parquet');
const seconds = [];
for (let run = 0; run < repeat; run++) {
  const begin = process.hrtime.bigint();
  await duck.run(`COPY retail_trans TO '${out}' (FORMAT parquet, COMPRESSION ${compression})`);
  seconds.push(Number(process.hrtime.bigint() - begin) / 1e9);
}

const files = parquetFiles(eddyDir);
const list = `[${files.map((file) => `'${file}'`).join(', ')}]`;
const columns = 'trans_id, customer_id, event, sku, device, quantity, trans_datetime';
await duck.run(`CREATE TABLE eddy AS SELECT ${columns} FROM read_parquet(${list}, hive_partitioning = false)`);
const eddyRows = Number((await one('SELECT count(*) AS n FROM eddy')).n);
const differences =
    Number((await one(`SELECT count(*) AS n FROM (SELECT * FROM eddy EXCEPT ALL SELECT * FROM retail_trans)`)).n) +
    Number((await one(`SELECT count(*) AS n FROM (SELECT * FROM retail_trans EXCEPT ALL SELECT * FROM eddy)`)).n);
console.log(JSON.stringify({
  rows, threads: String(threads), seconds, bytes: statSync(out).size, eddy_rows: eddyRows,
  eddy_bytes: files.reduce((sum, file) => sum + statSync(file).size, 0), eddy_files: files.length,
  differences,
}));
duck.closeSync();
instance.closeSync();

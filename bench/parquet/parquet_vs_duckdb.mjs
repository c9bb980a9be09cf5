// Parquet writing benchmark (issue 14): eddy's ParquetWriter (through bench/parquet's driver,
// parquet_bench) against DuckDB's `COPY t TO 'x.parquet'` on the same rows, in the same run.
// Prints rows/s and MB/s of each and the ratio eddy / DuckDB (target >= 1.0).
//
//   node bench/parquet/parquet_vs_duckdb.mjs build/dev/bench/parquet/parquet_bench \
//        [--rows=1000000] [--compression=snappy|zstd] [--repeat=3] [--threads=0]
//
// DuckDB loads the driver's CSV of the rows into a table first (not timed), then writes the
// table with COPY (timed), `--repeat` times; eddy writes from rows in memory, `--repeat`
// times; the best run of each is compared (and the median printed). --threads sets DuckDB's
// threads (0: its default, all cores; eddy's writer uses one).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tests', 'e2e', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const driver = process.argv[2];
const flag = (name, fallback) => {
  const hit = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
if (!driver) {
  console.error('usage: node parquet_vs_duckdb.mjs PATH_TO_parquet_bench [--rows=N] [--compression=C] [--repeat=N] [--threads=N]');
  process.exit(2);
}
const rows = Number(flag('rows', '1000000'));
const compression = flag('compression', 'snappy');
const repeat = Number(flag('repeat', '3'));
const threads = Number(flag('threads', '0'));
const dir = mkdtempSync(path.join(tmpdir(), 'eddy-parquet-bench-'));
const csv = path.join(dir, 'retail_trans.csv');

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mb = (bytes) => bytes / 1e6;

// eddy (the CSV is written first, outside the timed part).
const output = execFileSync(driver, [`--rows=${rows}`, `--dir=${dir}`, `--compression=${compression}`,
                                     `--repeat=${repeat}`, `--csv=${csv}`], { encoding: 'utf8' });
const eddyRuns = output.trim().split('\n').map((line) => JSON.parse(line));
const csvBytes = statSync(csv).size;
const eddyBytes = eddyRuns[0].file_bytes;

// DuckDB: the same rows in a table, then COPY ... TO parquet.
const instance = await DuckDBInstance.create(':memory:', threads > 0 ? { threads: String(threads) } : {});
const duck = await instance.connect();
await duck.run(`CREATE TABLE retail_trans (trans_id BIGINT NOT NULL, customer_id VARCHAR, event VARCHAR,
                sku VARCHAR, device VARCHAR, quantity INTEGER, trans_datetime TIMESTAMP)`);
await duck.run(`COPY retail_trans FROM '${csv}' (FORMAT csv, HEADER false)`);
const [count] = (await duck.runAndReadAll('SELECT count(*) AS n FROM retail_trans')).getRowObjects();
if (Number(count.n) !== rows) throw new Error(`DuckDB loaded ${count.n} rows, expected ${rows}`);
const duckdbThreads = (await duck.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjects()[0].t;
const duckPath = path.join(dir, 'duckdb.parquet');
const duckSeconds = [];
for (let run = 0; run < repeat; run++) {
  const begin = process.hrtime.bigint();
  await duck.run(`COPY retail_trans TO '${duckPath}' (FORMAT parquet, COMPRESSION ${compression})`);
  duckSeconds.push(Number(process.hrtime.bigint() - begin) / 1e9);
}
const duckBytes = statSync(duckPath).size;

// The two files hold the same rows (checked by DuckDB reading eddy's file).
const [same] = (await duck.runAndReadAll(
  `SELECT count(*) AS n FROM (SELECT * FROM read_parquet('${eddyRuns[0].path}') EXCEPT ALL SELECT * FROM retail_trans)`)).getRowObjects();
if (Number(same.n) !== 0) throw new Error(`eddy's file differs from the table in ${same.n} rows`);

const eddyBest = Math.min(...eddyRuns.map((run) => run.seconds));
const duckBest = Math.min(...duckSeconds);
const line = (name, seconds, bytes) =>
  `${name.padEnd(28)} ${seconds.toFixed(3).padStart(7)} s  ${Math.round(rows / seconds).toLocaleString('en-US').padStart(11)} rows/s  ` +
  `${mb(csvBytes / seconds).toFixed(1).padStart(7)} MB/s of CSV  ${mb(bytes / seconds).toFixed(1).padStart(6)} MB/s written  (${mb(bytes).toFixed(1)} MB file)`;
console.log(`${rows.toLocaleString('en-US')} retail_trans rows, ${compression}, ${mb(csvBytes).toFixed(1)} MB as CSV; best of ${repeat}`);
console.log(line('eddy ParquetWriter (1 thr)', eddyBest, eddyBytes));
console.log(line(`DuckDB COPY (${duckdbThreads} threads)`, duckBest, duckBytes));
console.log(`median: eddy ${median(eddyRuns.map((run) => run.seconds)).toFixed(3)} s, DuckDB ${median(duckSeconds).toFixed(3)} s`);
console.log(`ratio eddy / DuckDB (rows/s): ${(duckBest / eddyBest).toFixed(2)}`);
rmSync(dir, { recursive: true, force: true });

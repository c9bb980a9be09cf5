#!/usr/bin/env python3
"""The retail_trans workload applied into an Iceberg table by the Iceberg sink, against DuckDB
writing the final table to Parquet, in the same run; prints the ratio.

    python3 bench/sink/iceberg_bench.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE
        [--inserts=1000000] [--updates=500000] [--deletes=200000] [--commit-rows=100000]

1. A throwaway PostgreSQL gets --inserts rows of retail_trans (captured as the snapshot), then
   --updates updates and --deletes deletes (streamed); `eddy run` captures everything into a
   4-shard stream with transaction metadata (END records: the sink publishes a transaction once
   it has read it whole) (a file:// check sink counts it), then stops.
2. eddy: `eddy serve` on that data directory with
   `--sink iceberg+file://WAREHOUSE?commit_rows=N&commit_interval=1` reads the whole stream,
   collapses it per key and commits snapshots (equality deletes + data files). Timed from the
   start of `eddy serve` until its saved state counts every record as acknowledged.
3. Reference: the final table exported from PostgreSQL as CSV (untimed), then DuckDB
   (@duckdb/node-api) `COPY (SELECT * FROM read_csv(...)) TO 'final.parquet'` (timed): writing
   the same final state as one Parquet file.
4. Check and read cost: icebird is not run on the big table (it reads every version); DuckDB
   re-derives the current state from the data and delete files with the sequence-number rules
   (tests/e2e/iceberg_read.mjs logic, current version only) and its row count must equal the
   source's. Printed: the number of data and delete files, and the read's seconds.
5. Compaction: `eddy lake compact --warehouse iceberg+file://WAREHOUSE` (timed) rewrites the
   table into data files with zero delete files; the same DuckDB read then counts the
   source's rows with no delete file left (the read cost after compaction). Reference in the
   same run: DuckDB merging the same data and delete files (the sequence-number derivation of
   step 4, every column) into one Parquet file with COPY (timed), the same work as compaction.
Ratio = DuckDB seconds / eddy seconds (apply, and compaction).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(HERE, "..", "..", "tests", "e2e")
sys.path.insert(0, E2E)
from objects_support import Postgres, wait_for  # noqa: E402

DUCKDB_COPY = """
import { DuckDBInstance } from '@duckdb/node-api';
const [csv, parquet] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const started = performance.now();
await connection.run(`COPY (SELECT * FROM read_csv('${csv}', header = true)) TO '${parquet}' (FORMAT parquet, COMPRESSION snappy)`);
process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000 }));
"""

DUCKDB_COUNT = """
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergManifests, icebergMetadata } from 'icebird';
import { readFile } from 'node:fs/promises';
const [table] = process.argv.slice(2);
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => String(url).startsWith('file://')
  ? new Response(await readFile(String(url).slice(7))) : realFetch(url, init);
const hint = (await readFile(`${table}/metadata/version-hint.text`, 'utf8')).trim();
const metadata = await icebergMetadata({ tableUrl: `file://${table}`, metadataFileName: `v${hint}.metadata.json` });
const data = [], deletes = [];
for (const { entries } of await icebergManifests(metadata)) {
  for (const e of entries) (e.data_file.content === 2 ? deletes : data).push([e.data_file.file_path.slice(7), Number(e.sequence_number)]);
}
const instance = await DuckDBInstance.create(':memory:');
const c = await instance.connect();
const v = (files) => files.map(([p, s]) => `('${p}', ${s})`).join(', ');
const list = (files) => files.map(([p]) => `'${p}'`).join(', ');
const sql = `WITH ds(path, seq) AS (VALUES ${v(data)}), es(path, seq) AS (VALUES ${v(deletes)}),
  d AS (SELECT r.id, s.seq FROM read_parquet([${list(data)}], filename = true) r JOIN ds s ON s.path = r.filename),
  e AS (SELECT r.id, s.seq FROM read_parquet([${list(deletes)}], filename = true) r JOIN es s ON s.path = r.filename)
  SELECT count(*) AS n, count(DISTINCT id) AS keys FROM d WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.id = d.id AND e.seq > d.seq)`;
const started = performance.now();
const [row] = (await c.runAndReadAll(deletes.length > 0 ? sql
  : `SELECT count(*) AS n, count(DISTINCT id) AS keys FROM read_parquet([${list(data)}])`)).getRowObjectsJson();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ rows: Number(row.n), keys: Number(row.keys), data_files: data.length, delete_files: deletes.length, snapshots: metadata.snapshots.length, seconds }));
"""

# DuckDB doing compaction's work on the same files: the current state derived from the data
# and delete files with the sequence-number rules, every column, written as one Parquet file.
DUCKDB_MERGE = """
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergManifests, icebergMetadata } from 'icebird';
import { readFile } from 'node:fs/promises';
const [table, out] = process.argv.slice(2);
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => String(url).startsWith('file://')
  ? new Response(await readFile(String(url).slice(7))) : realFetch(url, init);
const hint = (await readFile(`${table}/metadata/version-hint.text`, 'utf8')).trim();
const metadata = await icebergMetadata({ tableUrl: `file://${table}`, metadataFileName: `v${hint}.metadata.json` });
const data = [], deletes = [];
for (const { entries } of await icebergManifests(metadata)) {
  for (const e of entries) (e.data_file.content === 2 ? deletes : data).push([e.data_file.file_path.slice(7), Number(e.sequence_number)]);
}
const instance = await DuckDBInstance.create(':memory:');
const c = await instance.connect();
const v = (files) => files.map(([p, s]) => `('${p}', ${s})`).join(', ');
const list = (files) => files.map(([p]) => `'${p}'`).join(', ');
const started = performance.now();
await c.run(`COPY (WITH ds(path, seq) AS (VALUES ${v(data)}), es(path, seq) AS (VALUES ${v(deletes)}),
  d AS (SELECT r.*, s.seq AS _seq FROM read_parquet([${list(data)}], filename = true) r JOIN ds s ON s.path = r.filename),
  e AS (SELECT r.id, s.seq FROM read_parquet([${list(deletes)}], filename = true) r JOIN es s ON s.path = r.filename)
  SELECT * EXCLUDE (filename, _seq) FROM d WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.id = d.id AND e.seq > d._seq))
  TO '${out}' (FORMAT parquet, COMPRESSION snappy)`);
process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000 }));
"""


def status(eddy, data_dir):
    return subprocess.run([eddy, "status", "--data-dir", data_dir], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True).stdout


def delivered_all(eddy, data_dir, name, records):
    for line in status(eddy, data_dir).splitlines():
        if line.startswith(f"sink {name}:"):
            delivered = re.search(r"delivered_records=(\d+)", line)
            return delivered is not None and int(delivered.group(1)) >= records
    return False


def node_script(node, source, *args):
    reply = subprocess.run([node, "--input-type=module", "-", *args], input=source,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=E2E)
    if reply.returncode != 0:
        raise AssertionError(reply.stderr[-2000:])
    return json.loads(reply.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("node")
    parser.add_argument("--inserts", type=int, default=1_000_000)
    parser.add_argument("--updates", type=int, default=500_000)
    parser.add_argument("--deletes", type=int, default=200_000)
    parser.add_argument("--commit-rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (the captured data directory) for profiling")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-iceberg-bench-")
    db = run = None
    try:
        db = Postgres(args.localdb, work)
        db.sql("CREATE TABLE retail_trans (id bigint PRIMARY KEY, store_id int NOT NULL,"
               " sku text NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL,"
               " customer text, sold_at timestamptz NOT NULL)")
        db.sql(f"INSERT INTO retail_trans SELECT g, g % 97, 'SKU-' || (g % 5003), 1 + g % 7,"
               f" (g % 10000) / 100.0, CASE WHEN g % 5 = 0 THEN NULL ELSE 'customer-' || g END,"
               f" now() - (g || ' seconds')::interval FROM generate_series(1, {args.inserts}) g")
        data_dir = work + "/data"
        # END records let the sink publish each transaction as soon as it has read it whole
        # (docs/sinks/iceberg.md, "Transactions"); without them the last one stays staged.
        config = work + "/capture.toml"
        with open(config, "w") as out:
            out.write('[[stream]]\nname = "retail"\ntransaction_metadata = true\n')
        capture = subprocess.Popen(
            [args.eddy, "run", "--config", config, "--source", db.url, "--data-dir", data_dir,
             "--stream", "retail",
             "--tables", "public.retail_trans", "--shards", "4", "--api-listen", "127.0.0.1:0",
             "--sink", f"file://{work}/capture-check?name=check&buffer_interval=1&buffer_size_mb=64"],
            stdout=open(work + "/capture.log", "w"), stderr=subprocess.STDOUT)
        wait_for(lambda: capture.poll() is None and
                 delivered_all(args.eddy, data_dir, "check", args.inserts),
                 900, "the snapshot to be captured")
        db.sql(f"UPDATE retail_trans SET qty = qty + 1 WHERE id <= {args.updates}")
        db.sql(f"DELETE FROM retail_trans WHERE id > {args.inserts - args.deletes}")
        total = args.inserts + args.updates + args.deletes
        records = total + 4  # the UPDATE's and the DELETE's BEGIN and END records
        wait_for(lambda: capture.poll() is None and delivered_all(args.eddy, data_dir, "check", records),
                 900, "the updates and deletes to be captured")
        capture.send_signal(signal.SIGTERM)
        capture.wait(timeout=60)

        warehouse = work + "/warehouse"
        sink = (f"iceberg+file://{warehouse}?name=bench&stream=retail"
                f"&commit_rows={args.commit_rows}&commit_interval=1")
        started = time.monotonic()
        run = subprocess.Popen([args.eddy, "serve", "--data-dir", data_dir, "--api-listen",
                                "127.0.0.1:0", "--sink", sink],
                               stdout=open(work + "/serve.log", "w"), stderr=subprocess.STDOUT)
        wait_for(lambda: run.poll() is None and delivered_all(args.eddy, data_dir, "bench", records),
                 900, "eddy to apply every record")
        eddy_seconds = time.monotonic() - started
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
        run = None

        csv = work + "/final.csv"
        with open(csv, "w") as out:
            subprocess.run(["psql", db.url, "-v", "ON_ERROR_STOP=1", "-q", "-c",
                            "COPY retail_trans TO STDOUT WITH (FORMAT csv, HEADER)"],
                           check=True, stdout=out)
        duck = node_script(args.node, DUCKDB_COPY, csv, work + "/final.parquet")
        source_rows = int(db.query("SELECT count(*) FROM retail_trans").strip())
        table = f"{warehouse}/{db.url.rsplit('/', 1)[1].split('?')[0]}/public/retail_trans"
        derived = node_script(args.node, DUCKDB_COUNT, table)
        assert derived["rows"] == source_rows == derived["keys"], (derived, source_rows)

        # Compaction: DuckDB merging the same files first (it only reads them), then eddy.
        merge = node_script(args.node, DUCKDB_MERGE, table, work + "/merged.parquet")
        started = time.monotonic()
        compact = subprocess.run([args.eddy, "lake", "compact", "--warehouse",
                                  f"iceberg+file://{warehouse}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        compact_seconds = time.monotonic() - started
        assert compact.returncode == 0, compact.stdout
        compacted = node_script(args.node, DUCKDB_COUNT, table)
        assert compacted["delete_files"] == 0, compacted
        assert compacted["rows"] == source_rows == compacted["keys"], (compacted, source_rows)

        load = os.getloadavg()[0]
        print(f"iceberg_bench: {args.inserts} inserts, {args.updates} updates, {args.deletes} "
              f"deletes ({total} changes), commit_rows {args.commit_rows}, load {load:.1f}")
        print(f"  eddy serve --sink iceberg+file://  {eddy_seconds:7.2f} s  "
              f"{total / eddy_seconds:10.0f} changes/s  ({derived['snapshots']} snapshots, "
              f"{derived['data_files']} data files, {derived['delete_files']} delete files)")
        print(f"  DuckDB COPY final table to Parquet  {duck['seconds']:7.2f} s  "
              f"({source_rows} rows)")
        print(f"  ratio (DuckDB seconds / eddy seconds): {duck['seconds'] / eddy_seconds:.2f}")
        print(f"  read check: DuckDB's sequence-number derivation gives {derived['rows']} rows = "
              f"the source's {source_rows}, no duplicate keys ({derived['seconds']:.2f} s)")
        print(f"  eddy lake compact                   {compact_seconds:7.2f} s  "
              f"({derived['data_files']} data + {derived['delete_files']} delete files -> "
              f"{compacted['data_files']} data files, {compacted['delete_files']} delete files)")
        print(f"  DuckDB merge of the same files to Parquet {merge['seconds']:7.2f} s")
        print(f"  compaction ratio (DuckDB seconds / eddy seconds): "
              f"{merge['seconds'] / compact_seconds:.2f}")
        print(f"  read cost after compaction: DuckDB counts {compacted['rows']} rows = the source's "
              f"in {compacted['seconds']:.2f} s (before: {derived['seconds']:.2f} s with "
              f"{derived['delete_files']} delete files)")
        return 0
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        if db is not None:
            db.stop()
        if args.keep:
            print(f"iceberg_bench: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

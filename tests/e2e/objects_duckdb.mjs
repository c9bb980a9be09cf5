// Reads the objects sink's JSON lines with DuckDB (@duckdb/node-api): read_ndjson over a glob,
// gzip detected from the .gz extension, Hive partitions as columns. Prints JSON:
//   {"rows": [...every record's op, table partition, after and before as JSON text...]}
//
//   node objects_duckdb.mjs GLOB [hive]
// With `hive`, the table= and dt= path segments are columns (table_partition, dt).
import { DuckDBInstance } from '@duckdb/node-api';

const glob = process.argv[2];
const hive = process.argv[3] === 'hive';
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
// The images as JSON text, so values are compared exactly as eddy wrote them (no inference).
const reader = await connection.runAndReadAll(
  `SELECT op, ${hive ? '"table" AS table_partition, dt' : 'NULL AS table_partition, NULL AS dt'},
          CAST(after AS VARCHAR) AS after,
          CAST(before AS VARCHAR) AS before, filename
     FROM read_ndjson('${glob.replaceAll("'", "''")}', hive_partitioning = ${hive},
                      filename = true,
                      columns = {op: 'VARCHAR', after: 'JSON', before: 'JSON'})`);
const rows = reader.getRowObjectsJson();
process.stdout.write(JSON.stringify({ rows }));
connection.closeSync();
instance.closeSync();

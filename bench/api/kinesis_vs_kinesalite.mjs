// Kinesis API load: eddy (`eddy serve`, durable, fsync per batch) against kinesalite (npm,
// in-memory) on the same machine in one run, same client, same records. Prints records/s of
// PutRecords and of GetRecords for each, and eddy's ratio to kinesalite (issue 5's target: 20x).
//
//   node bench/api/kinesis_vs_kinesalite.mjs EDDY_BINARY [--records=N] [--size=B] [--concurrency=C]
//
// The client (AWS SDK for JavaScript v3 over HTTP/1.1 keep-alive, since kinesalite speaks no
// HTTP/2) runs in this process; each server runs in its own process. Modules come from
// tests/e2e/node_modules (installed by scripts/install-deps.sh from the lock file).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const e2e = path.join(here, "..", "..", "tests", "e2e");
const require = createRequire(path.join(e2e, "package.json"));
const kinesisSdk = require("@aws-sdk/client-kinesis");
const { NodeHttpHandler } = require("@smithy/node-http-handler");

const args = Object.fromEntries(process.argv.slice(3).map((a) => a.replace(/^--/, "").split("=")));
const eddyBinary = process.argv[2];
const records = Number(args.records ?? 20000);
const size = Number(args.size ?? 200);
const concurrency = Number(args.concurrency ?? 8);
const batch = 500;
const shards = 4;

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(condition, seconds, what) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 20)); // polling a condition with a deadline
  }
  throw new Error(`timed out waiting for ${what}`);
}

function client(port) {
  return new kinesisSdk.KinesisClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }) }),
    maxAttempts: 1,
  });
}

async function startEddy(work) {
  const portFile = path.join(work, "port");
  const child = spawn(eddyBinary, ["serve", "--data-dir", path.join(work, "data"), "--listen",
                                   "127.0.0.1:0", "--port-file", portFile, "--log-level", "warn"],
                      { stdio: ["ignore", "ignore", "inherit"] });
  await waitFor(() => existsSync(portFile) && readFileSync(portFile, "utf8").trim() !== "", 30, "eddy");
  return { child, port: Number(readFileSync(portFile, "utf8").trim()) };
}

async function startKinesalite() {
  const port = await freePort();
  const bin = path.join(e2e, "node_modules", "kinesalite", "cli.js");
  const child = spawn(process.execPath, [bin, "--port", String(port), "--createStreamMs", "0",
                                         "--deleteStreamMs", "0", "--updateStreamMs", "0",
                                         "--shardLimit", "100"], { stdio: "ignore" });
  await waitFor(() => new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => { socket.end(); resolve(true); });
    socket.on("error", () => resolve(false));
  }), 30, "kinesalite");
  return { child, port };
}

async function run(name, server) {
  const kinesis = client(server.port);
  const stream = "bench";
  await kinesis.send(new kinesisSdk.CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  await waitFor(async () => (await kinesis.send(new kinesisSdk.DescribeStreamSummaryCommand({ StreamName: stream })))
    .StreamDescriptionSummary.StreamStatus === "ACTIVE", 30, "stream ACTIVE");
  const payload = Buffer.alloc(size, 120);
  const batches = Math.ceil(records / batch);
  let next = 0;
  const putStart = process.hrtime.bigint();
  async function worker() {
    while (next < batches) {
      const index = next++;
      const entries = [];
      for (let i = 0; i < batch && index * batch + i < records; i++) {
        entries.push({ Data: payload, PartitionKey: `key-${index * batch + i}` });
      }
      const reply = await kinesis.send(new kinesisSdk.PutRecordsCommand({ StreamName: stream, Records: entries }));
      if (reply.FailedRecordCount) throw new Error(`${name}: ${reply.FailedRecordCount} records failed`);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const putSeconds = Number(process.hrtime.bigint() - putStart) / 1e9;

  const listed = await kinesis.send(new kinesisSdk.ListShardsCommand({ StreamName: stream }));
  const getStart = process.hrtime.bigint();
  let read = 0;
  await Promise.all(listed.Shards.map(async (shard) => {
    let iterator = (await kinesis.send(new kinesisSdk.GetShardIteratorCommand({
      StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
    for (;;) {
      const reply = await kinesis.send(new kinesisSdk.GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }));
      read += reply.Records.length;
      iterator = reply.NextShardIterator;
      if (reply.Records.length === 0 || !iterator) break;
    }
  }));
  const getSeconds = Number(process.hrtime.bigint() - getStart) / 1e9;
  if (read !== records) throw new Error(`${name}: read ${read} of ${records} records`);
  kinesis.destroy();
  return { put: records / putSeconds, get: records / getSeconds };
}

const work = mkdtempSync(path.join(os.tmpdir(), "eddy-api-bench-"));
const results = {};
try {
  for (const [name, start] of [["eddy", () => startEddy(work)], ["kinesalite", startKinesalite]]) {
    const server = await start();
    try {
      results[name] = await run(name, server);
    } finally {
      server.child.kill("SIGTERM");
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const fmt = (n) => Math.round(n).toLocaleString("en-US");
console.log(`records=${records} size=${size}B batch=${batch} concurrency=${concurrency} shards=${shards}`);
console.log(`PutRecords  eddy ${fmt(results.eddy.put)} rec/s   kinesalite ${fmt(results.kinesalite.put)} rec/s   ratio ${(results.eddy.put / results.kinesalite.put).toFixed(1)}x`);
console.log(`GetRecords  eddy ${fmt(results.eddy.get)} rec/s   kinesalite ${fmt(results.kinesalite.get)} rec/s   ratio ${(results.eddy.get / results.kinesalite.get).toFixed(1)}x`);

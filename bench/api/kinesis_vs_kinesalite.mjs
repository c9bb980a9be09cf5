// Kinesis API load: eddy (`eddy serve`, durable, fsync per batch) against kinesalite (npm,
// in-memory) on the same machine in one run, with the same client work against both. Prints
// records/s of PutRecords and of GetRecords for each, and eddy's ratio to kinesalite (issue 5's
// target: 20x).
//
//   node bench/api/kinesis_vs_kinesalite.mjs EDDY_BINARY [--records=200000] [--size=200]
//        [--workers=4] [--concurrency=4] [--shards=8] [--client=raw|sdk|native]
//        [--native=build/.../bench/kinesis_load] [--only=eddy|kinesalite]
//
// The load generator is --workers worker threads (each its own event loop and V8 heap, so
// several cores), each with --concurrency requests in flight on keep-alive HTTP/1.1
// connections (kinesalite speaks no HTTP/2). PutRecords: the batches (500 records of --size
// bytes, partition keys key-0..key-N spread over every shard) are divided among the workers.
// GetRecords: the shards are divided among the workers; each reads its shards from
// TRIM_HORIZON with Limit 10000 until an empty reply.
//
// --client=raw (default) sends pre-built JSON 1.1 requests with a well-formed (unverified)
// SigV4 Authorization header and parses each reply with JSON.parse (records are counted, Data
// is not base64-decoded): the client costs little, so the servers are what is measured.
// --client=sdk uses the AWS SDK for JavaScript v3 in every worker (the SDK builds, signs and
// decodes everything: about 100k records/s per core, which then bounds eddy's figures).
// --client=native runs each phase in bench/api/kinesis_load.cc (built as `kinesis_load` next to
// eddy): workers x concurrency keep-alive connections, one thread each, the same requests, and
// every reply parsed in full by simdjson and checked (FailedRecordCount 0, result counts, each
// record's Data and SequenceNumber); a fraction of JSON.parse's CPU per record.
// Modules come from tests/e2e/node_modules (installed from its lock file).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const here = path.dirname(fileURLToPath(import.meta.url));
const e2e = path.join(here, "..", "..", "tests", "e2e");
const require = createRequire(path.join(e2e, "package.json"));
const STREAM = "bench";
const BATCH = 500;

// ---- client work (runs in worker threads) ---------------------------------------------------

function sdkClient(port, concurrency) {
  const kinesisSdk = require("@aws-sdk/client-kinesis");
  const { NodeHttpHandler } = require("@smithy/node-http-handler");
  const client = new kinesisSdk.KinesisClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: concurrency }) }),
    maxAttempts: 1,
  });
  const commands = {
    PutRecords: kinesisSdk.PutRecordsCommand,
    GetShardIterator: kinesisSdk.GetShardIteratorCommand,
    GetRecords: kinesisSdk.GetRecordsCommand,
  };
  return {
    async call(operation, input) {
      const copy = { ...input };
      if (operation === "PutRecords") {
        copy.Records = input.Records.map((r) => ({ Data: Buffer.from(r.Data, "base64"), PartitionKey: r.PartitionKey }));
      }
      const reply = await client.send(new commands[operation](copy));
      if (operation === "GetRecords") return { Records: { length: reply.Records.length }, NextShardIterator: reply.NextShardIterator };
      return reply;
    },
    destroy() { client.destroy(); },
  };
}

function rawClient(port, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const date = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const authorization = `AWS4-HMAC-SHA256 Credential=bench/${date.slice(0, 8)}/us-east-1/kinesis/aws4_request, ` +
                        `SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${"0".repeat(64)}`;
  return {
    call(operation, input, prebuilt) {
      const body = prebuilt ?? JSON.stringify(input);
      return new Promise((resolve, reject) => {
        const request = http.request({
          host: "127.0.0.1", port, method: "POST", path: "/", agent,
          headers: {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": `Kinesis_20131202.${operation}`,
            "X-Amz-Date": date,
            Authorization: authorization,
            "Content-Length": Buffer.byteLength(body),
          },
        }, (response) => {
          const chunks = [];
          response.on("data", (c) => chunks.push(c));
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (response.statusCode !== 200) {
              reject(new Error(`${operation}: HTTP ${response.statusCode} ${text.slice(0, 300)}`));
              return;
            }
            resolve(JSON.parse(text));
          });
          response.on("error", reject);
        });
        request.on("error", reject);
        request.end(body);
      });
    },
    destroy() { agent.destroy(); },
  };
}

async function workerMain() {
  const { port, phase, client: kind, concurrency, size, records, firstBatch, batchStep, shardIds } = workerData;
  const client = kind === "sdk" ? sdkClient(port, concurrency) : rawClient(port, concurrency);
  let count = 0;
  if (phase === "put") {
    const data = Buffer.alloc(size, 120).toString("base64");
    const batches = [];
    for (let index = firstBatch; index * BATCH < records; index += batchStep) batches.push(index);
    // Build every request body before the clock starts (the same for both servers).
    const bodies = batches.map((index) => {
      const entries = [];
      for (let i = index * BATCH; i < Math.min(records, (index + 1) * BATCH); i++) {
        entries.push({ Data: data, PartitionKey: `key-${i}` });
      }
      return { input: { StreamName: STREAM, Records: entries }, json: JSON.stringify({ StreamName: STREAM, Records: entries }) };
    });
    parentPort.postMessage({ ready: true });
    await new Promise((resolve) => parentPort.once("message", resolve));
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const reply = await client.call("PutRecords", body.input, kind === "raw" ? body.json : undefined);
        if (reply.FailedRecordCount) throw new Error(`${reply.FailedRecordCount} records failed`);
        count += body.input.Records.length;
      }
    }));
  } else {
    parentPort.postMessage({ ready: true });
    await new Promise((resolve) => parentPort.once("message", resolve));
    await Promise.all(shardIds.map(async (shardId) => {
      let iterator = (await client.call("GetShardIterator", {
        StreamName: STREAM, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" })).ShardIterator;
      for (;;) {
        const reply = await client.call("GetRecords", { ShardIterator: iterator, Limit: 10000 });
        count += reply.Records.length;
        iterator = reply.NextShardIterator;
        if (reply.Records.length === 0 || !iterator) break;
      }
    }));
  }
  client.destroy();
  parentPort.postMessage({ done: true, count });
}

// ---- driver (main thread) -------------------------------------------------------------------

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

async function startEddy(eddyBinary, work) {
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

// CPU seconds (user + system) a process has used so far, from /proc (10 ms resolution).
function processCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime (clock ticks)
}

// Runs one phase on every worker: waits until all are ready (bodies built), then times from
// the start signal to the last worker's end, with the CPU the server and this load generator
// (all its threads) used meanwhile.
async function runPhase(options, phase, perWorker, serverPid) {
  const workers = perWorker.map((extra) => new Worker(fileURLToPath(import.meta.url), {
    workerData: { ...options, phase, ...extra } }));
  const ready = workers.map((worker) => new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  }));
  await Promise.all(ready);
  const done = workers.map((worker) => new Promise((resolve, reject) => {
    worker.on("message", (m) => m.done && resolve(m.count));
    worker.on("error", reject);
  }));
  const serverCpu = processCpuSeconds(serverPid);
  const clientCpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const worker of workers) worker.postMessage("go");
  const counts = await Promise.all(done);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const client = process.cpuUsage(clientCpu);
  const server = processCpuSeconds(serverPid) - serverCpu;
  await Promise.all(workers.map((worker) => worker.terminate()));
  return { count: counts.reduce((a, b) => a + b, 0), seconds, serverCpu: server,
           clientCpu: (client.user + client.system) / 1e6 };
}

// --client=native: the same phase run by bench/api/kinesis_load.cc (one process, a thread
// per connection, replies parsed in full by simdjson), which needs far less CPU per record than
// a JavaScript client and so leaves the 2 cores to the server under test.
async function runNativePhase(settings, port, phase, extra, serverPid) {
  const args = [phase, `--port=${port}`, `--stream=${STREAM}`,
                `--connections=${settings.workers * settings.concurrency}`];
  if (phase === "put") args.push(`--records=${settings.records}`, `--size=${settings.size}`);
  else args.push(`--shards=${extra.shardIds.join(",")}`);
  const child = spawn(settings.native, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = [];
  let waiting = null;
  let buffered = "";
  child.stdout.on("data", (chunk) => {
    buffered += chunk.toString();
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      lines.push(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      if (waiting) waiting();
    }
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const nextLine = async () => {
    while (lines.length === 0) {
      await Promise.race([new Promise((resolve) => { waiting = resolve; }), exited]);
      if (lines.length === 0 && child.exitCode !== null) throw new Error(`kinesis_load ${phase} exited ${child.exitCode}`);
    }
    return lines.shift();
  };
  if ((await nextLine()) !== "ready") throw new Error("kinesis_load did not get ready");
  const serverCpu = processCpuSeconds(serverPid);
  child.stdin.write("go\n");
  const result = JSON.parse(await nextLine());
  const server = processCpuSeconds(serverPid) - serverCpu;
  await exited;
  if (child.exitCode !== 0) throw new Error(`kinesis_load ${phase} exited ${child.exitCode}`);
  return { count: result.count, seconds: result.seconds, serverCpu: server, clientCpu: result.cpu };
}

async function run(name, server, settings) {
  const kinesisSdk = require("@aws-sdk/client-kinesis");
  const { NodeHttpHandler } = require("@smithy/node-http-handler");
  const admin = new kinesisSdk.KinesisClient({
    endpoint: `http://127.0.0.1:${server.port}`, region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" }, maxAttempts: 1,
    requestHandler: new NodeHttpHandler() });  // HTTP/1.1: kinesalite has no HTTP/2
  await admin.send(new kinesisSdk.CreateStreamCommand({ StreamName: STREAM, ShardCount: settings.shards }));
  await waitFor(async () => (await admin.send(new kinesisSdk.DescribeStreamSummaryCommand({ StreamName: STREAM })))
    .StreamDescriptionSummary.StreamStatus === "ACTIVE", 30, "stream ACTIVE");
  const options = { port: server.port, client: settings.client, concurrency: settings.concurrency,
                    size: settings.size, records: settings.records };
  const workers = Array.from({ length: settings.workers }, (_, w) => w);
  const pid = server.child.pid;
  const native = settings.client === "native";
  const put = native ? await runNativePhase(settings, server.port, "put", {}, pid)
                     : await runPhase(options, "put", workers.map((w) => ({ firstBatch: w, batchStep: settings.workers })), pid);
  if (put.count !== settings.records) throw new Error(`${name}: wrote ${put.count} of ${settings.records}`);
  const shardIds = (await admin.send(new kinesisSdk.ListShardsCommand({ StreamName: STREAM }))).Shards.map((s) => s.ShardId);
  const get = native ? await runNativePhase(settings, server.port, "get", { shardIds }, pid)
                     : await runPhase(options, "get", workers.map((w) => ({ shardIds: shardIds.filter((_, i) => i % settings.workers === w) })), pid);
  if (get.count !== settings.records) throw new Error(`${name}: read ${get.count} of ${settings.records}`);
  admin.destroy();
  return { put: put.count / put.seconds, get: get.count / get.seconds, phases: { put, get } };
}

async function main() {
  const eddyBinary = process.argv[2];
  const args = Object.fromEntries(process.argv.slice(3).map((a) => a.replace(/^--/, "").split("=")));
  const settings = {
    records: Number(args.records ?? 200000),
    size: Number(args.size ?? 200),
    workers: Number(args.workers ?? 4),
    concurrency: Number(args.concurrency ?? 4),
    shards: Number(args.shards ?? 8),
    client: args.client ?? "raw",
    // --client=native: the load generator binary, next to eddy's build by default.
    native: args.native ?? path.join(path.dirname(eddyBinary), "../../bench/kinesis_load"),
  };
  const work = mkdtempSync(path.join(os.tmpdir(), "eddy-api-bench-"));
  const results = {};
  const servers = [["eddy", () => startEddy(eddyBinary, work)], ["kinesalite", startKinesalite]]
    .filter(([name]) => !args.only || args.only === name);
  try {
    for (const [name, start] of servers) {
      const server = await start();
      try {
        results[name] = await run(name, server, settings);
      } finally {
        server.child.kill("SIGTERM");
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const fmt = (n) => (n === undefined ? "-" : Math.round(n).toLocaleString("en-US"));
  const ratio = (op) => (results.eddy && results.kinesalite ? `${(results.eddy[op] / results.kinesalite[op]).toFixed(1)}x` : "-");
  console.log(`records=${settings.records} size=${settings.size}B batch=${BATCH} workers=${settings.workers} ` +
              `concurrency=${settings.concurrency}/worker shards=${settings.shards} client=${settings.client}`);
  for (const [label, op] of [["PutRecords", "put"], ["GetRecords", "get"]]) {
    console.log(`${label}  eddy ${fmt(results.eddy?.[op])} rec/s   kinesalite ${fmt(results.kinesalite?.[op])} rec/s   ratio ${ratio(op)}`);
  }
  // Where the CPU went: the servers and the load generator share the machine's cores.
  for (const [name, result] of Object.entries(results)) {
    for (const [op, phase] of Object.entries(result.phases)) {
      console.log(`  ${name} ${op}: ${phase.seconds.toFixed(3)} s wall, server ${phase.serverCpu.toFixed(2)} s CPU ` +
                  `(${(phase.serverCpu / phase.count * 1e6).toFixed(2)} us/record), load generator ${phase.clientCpu.toFixed(2)} s CPU`);
    }
  }
}

if (isMainThread) {
  await main();
} else {
  await workerMain();
}

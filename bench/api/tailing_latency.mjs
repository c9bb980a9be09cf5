// Tailing latency: from a commit in a real PostgreSQL to the record returned to a waiting
// GetRecords consumer (issue 5: p50 and p99 at a steady 5,000 changes/s, target p99 < 20 ms).
//
//   node bench/api/tailing_latency.mjs EDDY_BINARY EDDY_LOCALDB_BINARY
//        [--rate=5000] [--seconds=20] [--warmup=3] [--rows-per-txn=10] [--shards=4]
//        [--idle-ms=10] [--wait-ms=0] [--consumer-threads]
//
// Starts a throwaway PostgreSQL (`eddy-localdb start postgres`), runs `eddy run` capturing one
// table into a stream served by the Kinesis API, and then, at the same time:
//  - a paced writer: `psql` fed one small autocommit transaction (INSERT of --rows-per-txn
//    rows) at a time so that --rate rows/s are written steadily; every row carries its insert
//    wall-clock time (column default `clock_timestamp()` in microseconds, taken when the row
//    is inserted, i.e. just before its commit: the measure includes the commit itself);
//  - a consumer per shard (AWS SDK for JavaScript v3, KinesisClient, one keep-alive
//    connection): GetShardIterator LATEST, then GetRecords in a loop that re-polls at once
//    when it got records and waits --idle-ms otherwise (KCL's idleTimeBetweenReadsInMillis,
//    made small).
//    --wait-ms=N sends eddy's opt-in `x-eddy-get-records-wait-ms: N` header: GetRecords on an
//    empty open shard then waits up to N ms for a commit instead of answering at once, and the
//    consumer re-polls at once after an empty reply (the server did the waiting).
//    --consumer-threads runs each shard's consumer on its own worker thread (own event loop,
//    like the KCL's thread per shard) instead of all of them on the writer's event loop, so a
//    reply is not stamped late because another shard's reply or the writer held the loop.
// Latency of a row = the consumer's wall-clock time when the GetRecords reply is decoded -
// the row's written time. Rows written during the warm-up are read but not counted. Prints
// the count and p50/p95/p99/max. Both clocks are the same machine's CLOCK_REALTIME.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const here = path.dirname(fileURLToPath(import.meta.url));
const e2e = path.join(here, "..", "..", "tests", "e2e");
const require = createRequire(path.join(e2e, "package.json"));
const kinesisSdk = require("@aws-sdk/client-kinesis");

const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const progress = (what) => process.stderr.write(`[${new Date().toISOString()}] ${what}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One shard's consumer: GetShardIterator LATEST, then GetRecords in a loop. Returns the loop
// (to start once the iterator exists); onReply(at, rows, empty) gets each reply's decode time
// and its rows as [written_us, arrival_us].
async function shardConsumer({ port, shardId, stream, waitMs, idleMs }, onReply, stopped) {
  const client = new kinesisSdk.KinesisClient({
    endpoint: `http://127.0.0.1:${port}`, region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" }, maxAttempts: 1,
  });
  if (waitMs > 0) {
    client.middlewareStack.add((next) => async (call) => {
      call.request.headers["x-eddy-get-records-wait-ms"] = String(waitMs);
      return next(call);
    }, { step: "build", name: "eddyGetRecordsWait" });
  }
  let iterator = (await client.send(new kinesisSdk.GetShardIteratorCommand({
    StreamName: stream, ShardId: shardId, ShardIteratorType: "LATEST" }))).ShardIterator;
  return async () => {
    while (!stopped() && iterator) {
      const reply = await client.send(new kinesisSdk.GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }));
      const at = nowMicros();
      const rows = [];
      for (const record of reply.Records) {
        const event = JSON.parse(Buffer.from(record.Data).toString("utf8"));
        if (!event.after) continue;
        rows.push([Number(event.after.written_us), record.ApproximateArrivalTimestamp.getTime() * 1000]);  // ms precision
      }
      onReply(at, rows, reply.Records.length === 0);
      iterator = reply.NextShardIterator;
      if (reply.Records.length === 0 && waitMs === 0) await sleep(idleMs);
    }
    client.destroy();
  };
}

if (!isMainThread) {
  // --consumer-threads: this worker is one shard's consumer; replies go to the main thread.
  let stopped = false;
  parentPort.on("message", (message) => { if (message === "stop") stopped = true; });
  const loop = await shardConsumer(workerData, (at, rows, empty) => parentPort.postMessage({ at, rows, empty }),
                                   () => stopped);
  parentPort.postMessage({ ready: true });
  await loop();
  parentPort.postMessage({ done: true });
  parentPort.close();
} else {
const [eddyBinary, localdbBinary] = process.argv.slice(2, 4);
if (!eddyBinary || !localdbBinary) {
  console.error("usage: tailing_latency.mjs EDDY_BINARY EDDY_LOCALDB_BINARY [--rate=N ...]");
  process.exit(2);
}
const args = Object.fromEntries(process.argv.slice(4).map((a) => a.replace(/^--/, "").split("=")));
const rate = Number(args.rate ?? 5000);
const seconds = Number(args.seconds ?? 20);
const warmup = Number(args.warmup ?? 3);
const rowsPerTxn = Number(args["rows-per-txn"] ?? 10);
const shards = Number(args.shards ?? 4);
const idleMs = Number(args["idle-ms"] ?? 10);
const waitMs = Number(args["wait-ms"] ?? 0);
const consumerThreads = "consumer-threads" in args;
const stream = "ticks";


function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(condition, secondsLimit, what) {
  const deadline = Date.now() + secondsLimit * 1000;
  while (Date.now() < deadline) {
    try {
      const value = await condition();
      if (value) return value;
    } catch {
      // not ready yet
    }
    await sleep(50); // polling a condition with a deadline
  }
  throw new Error(`timed out waiting for ${what}`);
}

function runPsql(url, sql) {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], { stdio: ["ignore", "ignore", "inherit"] });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${code}`))));
  });
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const work = mkdtempSync(path.join(os.tmpdir(), "eddy-tail-bench-"));
const children = [];
const running = (child) => child.exitCode === null && child.signalCode === null;
async function stopAll() {
  for (const child of [...children].reverse()) {
    if (!running(child)) continue;
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, sleep(30000)]);
  }
}
process.on("exit", () => children.forEach((child) => running(child) && child.kill("SIGKILL")));

try {
  const urlFile = path.join(work, "url");
  children.push(spawn(localdbBinary, ["start", "postgres", "--url-file", urlFile, "--log-level", "warn"],
                      { stdio: ["ignore", "ignore", "inherit"] }));
  const url = await waitFor(() => existsSync(urlFile) && readFileSync(urlFile, "utf8").trim(), 60, "PostgreSQL");
  progress(`PostgreSQL at ${url}`);
  await runPsql(url, "CREATE TABLE ticks (id bigserial PRIMARY KEY, " +
                     "written_us bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000000)::bigint, " +
                     "pad text)");

  const port = await freePort();
  children.push(spawn(eddyBinary, ["run", "--source", url, "--data-dir", path.join(work, "data"),
                                   "--stream", stream, "--tables", "public.ticks", "--shards", String(shards),
                                   "--api-listen", `127.0.0.1:${port}`, "--log-level", "warn"],
                      { stdio: ["ignore", "ignore", "inherit"] }));
  const kinesis = (id) => new kinesisSdk.KinesisClient({
    endpoint: `http://127.0.0.1:${port}`, region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" }, maxAttempts: 1,
  });
  const admin = kinesis("admin");
  const listed = await waitFor(async () => {
    const reply = await admin.send(new kinesisSdk.ListShardsCommand({ StreamName: stream }));
    return reply.Shards.length > 0 && reply;
  }, 60, "the stream to be served");

  progress(`eddy run serving ${listed.Shards.length} shards on port ${port}`);
  // Consumers: one client (connection) per shard, iterators at LATEST before writing starts.
  let measureFromMicros = Infinity;
  let stopConsumers = false;
  let received = 0;
  const latencies = [];
  const captureLatencies = [];  // row written -> record appended (ApproximateArrivalTimestamp)
  const apiLatencies = [];      // log arrival (batch start, before its fsyncs) -> reply decoded
  let polls = 0;
  let emptyPolls = 0;
  const onReply = (at, rows, empty) => {
    polls++;
    if (empty) emptyPolls++;
    for (const [written, arrived] of rows) {
      received++;
      if (written >= measureFromMicros) {
        latencies.push((at - written) / 1000);
        captureLatencies.push((arrived - written) / 1000);
        apiLatencies.push((at - arrived) / 1000);
      }
    }
  };
  const consumers = await Promise.all(listed.Shards.map(async (shard) => {
    const settings = { port, shardId: shard.ShardId, stream, waitMs, idleMs };
    if (!consumerThreads) {
      const loop = await shardConsumer(settings, onReply, () => stopConsumers);
      return { loop: loop(), stop() {} };
    }
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: settings });
    let ready;
    const readyPromise = new Promise((resolve, reject) => { ready = resolve; worker.once("error", reject); });
    const finished = new Promise((resolve, reject) => {
      worker.on("message", (message) => {
        if (message.ready) ready();
        else if (message.done) resolve();
        else onReply(message.at, message.rows, message.empty);
      });
      worker.on("error", reject);
    });
    await readyPromise;
    return { loop: finished, stop() { worker.postMessage("stop"); } };
  }));

  progress("consumers waiting at LATEST; writing");
  // How late this process's own event loop runs (writer pacing, SDK decoding, GC): a reply
  // that arrives while the loop is busy is stamped that much later.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  // Paced writer: psql reading statements from a pipe, one autocommit INSERT per transaction.
  const psql = spawn("psql", [url, "-v", "ON_ERROR_STOP=1", "-q"], { stdio: ["pipe", "ignore", "inherit"] });
  children.push(psql);
  // PostgreSQL's default. The throwaway server runs with synchronous_commit=off (test speed);
  // then a commit's WAL reaches the walsender only when the WAL writer flushes it (every
  // wal_writer_delay, 200 ms), which would measure the server's flush delay, not eddy.
  psql.stdin.write("SET synchronous_commit = on;\n");
  const statement = `INSERT INTO ticks (pad) SELECT 'x' FROM generate_series(1, ${rowsPerTxn});\n`;
  const start = performance.now();
  measureFromMicros = nowMicros() + warmup * 1e6;
  let written = 0;
  const total = Math.floor(rate * (warmup + seconds) / rowsPerTxn) * rowsPerTxn;
  while (written < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    let chunk = "";
    while (written + rowsPerTxn <= due) {
      chunk += statement;
      written += rowsPerTxn;
    }
    if (chunk) psql.stdin.write(chunk);
    await sleep(1);
  }
  const writeSeconds = (performance.now() - start) / 1000;
  loopDelay.disable();
  progress(`wrote ${written} rows in ${writeSeconds.toFixed(1)} s; ${received} read so far`);
  psql.stdin.end();
  await new Promise((resolve) => psql.on("exit", resolve));

  await waitFor(() => received >= total, 60, `all ${total} rows through GetRecords (have ${received})`);
  stopConsumers = true;
  consumers.forEach((consumer) => consumer.stop());
  await Promise.all(consumers.map((consumer) => consumer.loop));
  admin.destroy();

  const f = (v) => v.toFixed(1);
  const summary = (values) => {
    values.sort((a, b) => a - b);
    return `p50 ${f(quantile(values, 0.5))} p95 ${f(quantile(values, 0.95))} p99 ${f(quantile(values, 0.99))} ` +
           `max ${f(values[values.length - 1])}`;
  };
  console.log(`rate=${rate}/s (achieved ${Math.round(written / writeSeconds)}/s) rows-per-txn=${rowsPerTxn} ` +
              `shards=${shards} idle-ms=${idleMs} wait-ms=${waitMs} seconds=${seconds} warmup=${warmup}` +
              (consumerThreads ? " consumer-threads" : ""));
  console.log(`rows read ${received} of ${total}; GetRecords calls ${polls} (${emptyPolls} empty)`);
  console.log(`latency ms, ${latencies.length} rows:`);
  console.log(`  commit -> GetRecords reply     ${summary(latencies)}`);
  console.log(`  commit -> log arrival          ${summary(captureLatencies)}   (ApproximateArrivalTimestamp: batch start, before its fsyncs; 1 ms resolution)`);
  console.log(`  log arrival -> GetRecords reply ${summary(apiLatencies)}   (the log's fsyncs, wake-up, rendering, the client round trip)`);
  const ms = (ns) => (ns / 1e6).toFixed(1);
  console.log(`  load generator event loop delay p50 ${ms(loopDelay.percentile(50))} p99 ${ms(loopDelay.percentile(99))} ` +
              `max ${ms(loopDelay.max)}   (while writing; 1 ms sampling)`);
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}
}

// @aws-sdk/client-kinesis with its default request handler, which speaks HTTP/2 (h2c with
// prior knowledge against http://) — the case an HTTP/1.1-only server fails with
// "Protocol error" (kinesalite #118). Creates a stream, writes, lists shards, reads every
// shard from TRIM_HORIZON until caught up, checks per-key order, then checks errors.
import assert from "node:assert/strict";
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, ListShardsCommand,
  PutRecordCommand, PutRecordsCommand, GetShardIteratorCommand, GetRecordsCommand,
  DeleteStreamCommand, DescribeStreamCommand,
} from "@aws-sdk/client-kinesis";

const endpoint = process.env.EDDY_ENDPOINT;
const client = new KinesisClient({
  endpoint, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: "AKIDEDDYTEST", secretAccessKey: "eddy-test-secret" },
});
const handlerName = client.config.requestHandler?.constructor?.name ?? "";
assert.match(handlerName, /Http2/, `expected the default HTTP/2 handler, got ${handlerName}`);

const StreamName = "node-stream";
await client.send(new CreateStreamCommand({ StreamName, ShardCount: 2 }));
const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName }));
assert.equal(summary.StreamDescriptionSummary.OpenShardCount, 2);
assert.equal(summary.StreamDescriptionSummary.StreamId, undefined);

const encoder = new TextEncoder();
const counters = new Map();
let written = 0;
const next = (key) => {
  const n = counters.get(key) ?? 0;
  counters.set(key, n + 1);
  written++;
  return encoder.encode(JSON.stringify({ key, n }));
};
for (let i = 0; i < 20; i++) {
  const key = `k${i % 6}`;
  const put = await client.send(new PutRecordCommand({ StreamName, PartitionKey: key, Data: next(key) }));
  assert.match(put.SequenceNumber, /^\d{56}$/);
}
const entries = [];
for (let i = 0; i < 300; i++) {
  const key = `k${i % 6}`;
  entries.push({ PartitionKey: key, Data: next(key) });
}
const batch = await client.send(new PutRecordsCommand({ StreamName, Records: entries }));
assert.equal(batch.FailedRecordCount, 0);

const shards = [];
let NextToken;
do {
  const page = await client.send(new ListShardsCommand(NextToken ? { NextToken, MaxResults: 1 } : { StreamName, MaxResults: 1 }));
  shards.push(...page.Shards);
  NextToken = page.NextToken;
} while (NextToken);
assert.equal(shards.length, 2);

const decoder = new TextDecoder();
const seen = new Map();
let read = 0;
for (const shard of shards) {
  let { ShardIterator } = await client.send(new GetShardIteratorCommand({
    StreamName, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
  for (;;) {
    const reply = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 25 }));
    for (const record of reply.Records) {
      const body = JSON.parse(decoder.decode(record.Data));
      assert.equal(record.PartitionKey, body.key);
      assert.ok(record.ApproximateArrivalTimestamp instanceof Date);
      const expected = seen.get(body.key) ?? 0;
      assert.equal(body.n, expected, `key ${body.key} out of order`);
      seen.set(body.key, expected + 1);
      read++;
    }
    ShardIterator = reply.NextShardIterator;
    if (reply.Records.length === 0 && reply.MillisBehindLatest === 0) break;
  }
}
assert.equal(read, written);

// One large response over HTTP/2 (beyond the 64 KiB initial flow-control window).
const big = "b".repeat(8192);
const bigEntries = [];
for (let i = 0; i < 200; i++) bigEntries.push({ PartitionKey: "big", Data: encoder.encode(big) });
assert.equal((await client.send(new PutRecordsCommand({ StreamName, Records: bigEntries }))).FailedRecordCount, 0);
let bigRead = 0;
for (const shard of shards) {
  const { ShardIterator } = await client.send(new GetShardIteratorCommand({
    StreamName, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
  const reply = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 10000 }));
  for (const record of reply.Records) {
    if (record.PartitionKey === "big") {
      assert.equal(record.Data.length, 8192);
      bigRead++;
    }
  }
}
assert.equal(bigRead, 200);

await assert.rejects(client.send(new DescribeStreamCommand({ StreamName: "missing" })),
  (error) => error.name === "ResourceNotFoundException" && error.$metadata.httpStatusCode === 400 &&
             typeof error.$metadata.requestId === "string");
await assert.rejects(client.send(new GetRecordsCommand({ ShardIterator: "forged" })),
  (error) => error.name === "InvalidArgumentException");
await client.send(new DeleteStreamCommand({ StreamName }));
client.destroy();
console.log(`kinesis_node (${handlerName}): read ${read} records, per-key order ok; ${bigRead} x 8 KiB in one HTTP/2 response`);

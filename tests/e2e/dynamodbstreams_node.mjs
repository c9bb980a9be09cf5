// @aws-sdk/client-dynamodb-streams against eddy's DynamoDB Streams API (server started with a
// CDC stream of 60 sample events): ListStreams, DescribeStream including ShardFilter
// CHILD_SHARDS, GetShardIterator, GetRecords until caught up, record shape.
import assert from "node:assert/strict";
import {
  DynamoDBStreamsClient, ListStreamsCommand, DescribeStreamCommand, GetShardIteratorCommand,
  GetRecordsCommand,
} from "@aws-sdk/client-dynamodb-streams";

const client = new DynamoDBStreamsClient({
  endpoint: process.env.EDDY_ENDPOINT, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: "AKIDEDDYTEST", secretAccessKey: "eddy-test-secret" },
});
const { Streams } = await client.send(new ListStreamsCommand({}));
assert.equal(Streams.length, 1);
const StreamArn = Streams[0].StreamArn;
const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn }));
assert.equal(StreamDescription.StreamStatus, "ENABLED");
assert.ok(StreamDescription.CreationRequestDateTime instanceof Date);
const children = await client.send(new DescribeStreamCommand({
  StreamArn, ShardFilter: { Type: "CHILD_SHARDS", ShardId: StreamDescription.Shards[0].ShardId } }));
assert.deepEqual(children.StreamDescription.Shards, []);

let count = 0;
const names = new Set();
for (const shard of StreamDescription.Shards) {
  let { ShardIterator } = await client.send(new GetShardIteratorCommand({
    StreamArn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
  while (ShardIterator) {
    const reply = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 10 }));
    for (const record of reply.Records) {
      names.add(record.eventName);
      assert.ok(record.dynamodb.Keys.id.N !== undefined);
      assert.ok(record.dynamodb.ApproximateCreationDateTime instanceof Date);
      count++;
    }
    if (reply.Records.length === 0) break;
    ShardIterator = reply.NextShardIterator;
  }
}
assert.equal(count, 60);
assert.deepEqual([...names].sort(), ["INSERT", "MODIFY", "REMOVE"]);
client.destroy();
console.log(`dynamodbstreams_node: ${count} records ok`);

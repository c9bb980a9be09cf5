// Shared pieces of the DSQL stream API clients (dsql_client.mjs, dsql_kinesis_target.mjs): the
// check that ends the run on the first failure, a bounded wait, a Kinesis target definition and
// the row keys a change stream holds, read through @aws-sdk/client-kinesis.
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";

// Prints "FAILED: what: detail" and exits 1 unless `condition` holds.
export function check(condition, what, detail) {
  if (!condition) {
    console.error(`FAILED: ${what}: ${JSON.stringify(detail)}`);
    process.exit(1);
  }
}

// The first truthy value of `condition()`, polled every 200 ms for up to `seconds`.
export async function waitFor(condition, seconds, what) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await condition();
    if (value) return value;
    check(Date.now() < deadline, `timed out waiting for ${what}`, {});
    await new Promise((resolve) => setTimeout(resolve, 200)); // polling with a deadline
  }
}

// A CreateStream targetDefinition naming Kinesis stream `name` of `account` in `region`.
export function kinesisTarget(region, account, name) {
  return {
    kinesis: {
      streamArn: `arn:aws:kinesis:${region}:${account}:stream/${name}`,
      roleArn: `arn:aws:iam::${account}:role/dsql-cdc`,
    },
  };
}

// Column k of the inserted and snapshot rows (op c or r) in Kinesis stream `name`, every shard
// read from TRIM_HORIZON until a read returns no records (and, with `untilCaughtUp`, reports
// MillisBehindLatest 0), sorted.
export async function changeKeys(kinesis, name, untilCaughtUp) {
  const keys = [];
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: name }))).Shards;
  for (const shard of shards) {
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: name,
          ShardId: shard.ShardId,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const reply = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      for (const record of reply.Records) {
        const change = JSON.parse(Buffer.from(record.Data).toString());
        if (change.op === "c" || change.op === "r") keys.push(Number(change.after.k));
      }
      iterator = reply.NextShardIterator;
      if (reply.Records.length === 0 && (!untilCaughtUp || reply.MillisBehindLatest === 0)) break;
    }
  }
  return keys.sort((a, b) => a - b);
}

// The AWS SDK's DSQL client (@aws-sdk/client-dsql) driving eddy's DSQL stream API, step for
// step as a DSQL CDC user sets up a stream: CreateStream (idempotent by clientToken), the
// StreamActive waiter, GetStream, ListStreams page by page, records read through the Kinesis
// API (@aws-sdk/client-kinesis), DeleteStream and the StreamNotExists waiter; then the
// documented errors. Run by dsql_streams.py, which starts PostgreSQL and eddy.
//
//   node dsql_client.mjs ENDPOINT CLUSTER TOKEN lifecycle EXPECTED_KEYS
//   node dsql_client.mjs ENDPOINT CLUSTER TOKEN after-restart STREAM_ID
//
// Prints one JSON line with what it saw; exits non-zero on the first failed check.
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DSQLClient,
  GetStreamCommand,
  ListStreamsCommand,
  waitUntilStreamActive,
  waitUntilStreamNotExists,
} from "@aws-sdk/client-dsql";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { changeKeys, check, kinesisTarget, waitFor } from "./dsql_common.mjs";

const [endpoint, cluster, token, mode, argument] = process.argv.slice(2);
const region = "us-east-1";
const dsql = new DSQLClient({
  endpoint,
  region,
  credentials: { accessKeyId: "eddy-admin", secretAccessKey: token },
  maxAttempts: 1,
});
const kinesis = new KinesisClient({
  endpoint,
  region,
  credentials: { accessKeyId: "any", secretAccessKey: "any" },
});

function target(name) {
  return kinesisTarget(region, "000000000000", name);
}

async function expectError(promise, name, what, inspect = () => true) {
  try {
    await promise;
  } catch (error) {
    check(error.name === name, `${what}: error name`, { name: error.name, message: error.message });
    check(inspect(error), `${what}: error members`, error);
    return error;
  }
  check(false, `${what}: expected ${name}`, {});
}

// Keys of the inserted and snapshot rows in the Kinesis stream `name`, every shard read.
function readKeys(name) {
  return changeKeys(kinesis, name, /*untilCaughtUp=*/ true);
}

async function lifecycle(expectedKeys) {
  const seen = {};
  // CreateStream, and the same request again (an SDK retry): one stream.
  const request = {
    clusterIdentifier: cluster,
    targetDefinition: target("orders-cdc"),
    ordering: "UNORDERED",
    format: "JSON",
    clientToken: "create-orders-cdc-1",
    tags: { team: "shop" },
  };
  const created = await dsql.send(new CreateStreamCommand(request));
  check(/^[a-z0-9]{26}$/.test(created.streamIdentifier), "streamIdentifier", created);
  check(["CREATING", "ACTIVE"].includes(created.status), "status after create", created);
  check(created.arn === `arn:aws:dsql:${region}:000000000000:cluster/${cluster}/stream/${created.streamIdentifier}`,
    "arn", created);
  check(created.creationTime instanceof Date && created.ordering === "UNORDERED" && created.format === "JSON",
    "create output members", created);
  const again = await dsql.send(new CreateStreamCommand(request));
  check(again.streamIdentifier === created.streamIdentifier, "clientToken makes CreateStream idempotent",
    { created, again });
  const id = created.streamIdentifier;

  const waited = await waitUntilStreamActive(
    { client: dsql, maxWaitTime: 90, minDelay: 1, maxDelay: 2 },
    { clusterIdentifier: cluster, streamIdentifier: id },
  );
  check(waited.state === "SUCCESS", "StreamActive waiter", waited);
  const got = await dsql.send(new GetStreamCommand({ clusterIdentifier: cluster, streamIdentifier: id }));
  check(got.status === "ACTIVE", "GetStream status", got);
  check(got.targetDefinition.kinesis.streamArn === request.targetDefinition.kinesis.streamArn &&
    got.targetDefinition.kinesis.roleArn === request.targetDefinition.kinesis.roleArn,
    "GetStream targetDefinition", got);
  check(got.tags.team === "shop", "GetStream tags", got);
  seen.status = got.status;

  // The changes, read through the Kinesis API from the stream the ARN names.
  const keys = await waitFor(async () => {
    const keys = await readKeys("orders-cdc");
    return keys.length >= expectedKeys ? keys : null;
  }, 60, `${expectedKeys} rows in orders-cdc`);
  check(JSON.stringify(keys) === JSON.stringify([...Array(expectedKeys).keys()].map((k) => k + 1)),
    "each row once", keys);
  seen.keys = keys.length;

  // A second and third stream; ListStreams one per page.
  const second = await dsql.send(new CreateStreamCommand({ ...request, targetDefinition: target("audit-cdc"),
    clientToken: "create-audit-cdc-1", ordering: "ORDERED" }));
  const third = await dsql.send(new CreateStreamCommand({ ...request, targetDefinition: target("spare-cdc"),
    clientToken: undefined }));
  const listed = [];
  let nextToken;
  let pages = 0;
  do {
    const page = await dsql.send(new ListStreamsCommand({ clusterIdentifier: cluster, maxResults: 1, nextToken }));
    pages += 1;
    check(page.streams.length <= 1, "maxResults", page);
    for (const summary of page.streams) {
      check(summary.clusterIdentifier === cluster && summary.arn && summary.creationTime instanceof Date,
        "StreamSummary members", summary);
      listed.push(summary.streamIdentifier);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  check(JSON.stringify([...listed].sort()) === JSON.stringify([id, second.streamIdentifier, third.streamIdentifier].sort()),
    "ListStreams pages list every stream once", { listed });
  seen.pages = pages;

  // The documented errors.
  await expectError(dsql.send(new CreateStreamCommand({ ...request, clientToken: undefined, ordering: "SORTED" })),
    "ValidationException", "bad ordering",
    (e) => e.fieldList?.[0]?.name === "ordering" && /UNORDERED/.test(e.message));
  await expectError(dsql.send(new CreateStreamCommand({ ...request, clientToken: undefined,
    targetDefinition: { kinesis: { streamArn: "not-an-arn", roleArn: request.targetDefinition.kinesis.roleArn } } })),
    "ValidationException", "bad stream ARN",
    (e) => e.fieldList?.[0]?.name === "targetDefinition.kinesis.streamArn");
  await expectError(dsql.send(new CreateStreamCommand({ ...request, clientToken: undefined })),
    "ConflictException", "a stream of that name exists", (e) => e.resourceId === "orders-cdc");
  await expectError(dsql.send(new CreateStreamCommand({ ...request, targetDefinition: target("other") })),
    "ConflictException", "a client token reused for another stream");
  await expectError(dsql.send(new CreateStreamCommand({ ...request, clusterIdentifier: "nosuchcluster" })),
    "ResourceNotFoundException", "unknown cluster", (e) => e.resourceId === "nosuchcluster");
  await expectError(dsql.send(new GetStreamCommand({ clusterIdentifier: cluster, streamIdentifier: "a".repeat(26) })),
    "ResourceNotFoundException", "unknown stream");
  const stranger = new DSQLClient({ endpoint, region, maxAttempts: 1,
    credentials: { accessKeyId: "eddy-admin", secretAccessKey: "wrong" } });
  await expectError(stranger.send(new ListStreamsCommand({ clusterIdentifier: cluster })),
    "AccessDeniedException", "a wrong secret");

  // DeleteStream, then the StreamNotExists waiter; the other two stay for the restart.
  const deleted = await dsql.send(new DeleteStreamCommand({ clusterIdentifier: cluster,
    streamIdentifier: third.streamIdentifier }));
  check(deleted.status === "DELETING", "DeleteStream status", deleted);
  const gone = await waitUntilStreamNotExists({ client: dsql, maxWaitTime: 30, minDelay: 1, maxDelay: 2 },
    { clusterIdentifier: cluster, streamIdentifier: third.streamIdentifier });
  check(gone.state === "SUCCESS", "StreamNotExists waiter", gone);
  seen.stream = id;
  seen.ordered = second.streamIdentifier;
  console.log(JSON.stringify(seen));
}

async function afterRestart(id) {
  const got = await dsql.send(new GetStreamCommand({ clusterIdentifier: cluster, streamIdentifier: id }));
  check(got.targetDefinition.kinesis.streamArn.endsWith("stream/orders-cdc"), "the stream after a restart", got);
  const waited = await waitUntilStreamActive({ client: dsql, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
    { clusterIdentifier: cluster, streamIdentifier: id });
  check(waited.state === "SUCCESS", "ACTIVE again after a restart", waited);
  const list = await dsql.send(new ListStreamsCommand({ clusterIdentifier: cluster }));
  check(list.streams.length === 2 && !list.nextToken, "two streams listed after the restart", list);
  await dsql.send(new DeleteStreamCommand({ clusterIdentifier: cluster, streamIdentifier: id }));
  await waitUntilStreamNotExists({ client: dsql, maxWaitTime: 30, minDelay: 1, maxDelay: 2 },
    { clusterIdentifier: cluster, streamIdentifier: id });
  console.log(JSON.stringify({ restarted: got.status }));
}

if (mode === "lifecycle") {
  await lifecycle(Number(argument));
} else {
  await afterRestart(argument);
}

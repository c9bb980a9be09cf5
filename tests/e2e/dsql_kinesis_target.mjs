// DSQL CreateStream whose targetDefinition names a real (external) Kinesis stream: eddy has
// [dsql] kinesis_endpoint, so the changes reach that stream through the Kinesis sink. The DSQL
// client (@aws-sdk/client-dsql) talks to eddy; the Kinesis client (@aws-sdk/client-kinesis)
// reads the external endpoint (a second `eddy serve`).
//
//   node dsql_kinesis_target.mjs EDDY CLUSTER TOKEN TARGET STREAM create EXPECTED_KEYS
//   node dsql_kinesis_target.mjs EDDY CLUSTER TOKEN TARGET STREAM finish EXPECTED_KEYS STREAM_ID
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DSQLClient,
  GetStreamCommand,
  waitUntilStreamActive,
  waitUntilStreamNotExists,
} from "@aws-sdk/client-dsql";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { changeKeys, check, kinesisTarget, waitFor } from "./dsql_common.mjs";

const [endpoint, cluster, token, target, streamName, mode, expected, streamId] =
  process.argv.slice(2);
const region = "us-east-1";
const dsql = new DSQLClient({
  endpoint, region, maxAttempts: 1,
  credentials: { accessKeyId: "eddy-admin", secretAccessKey: token },
});
const external = new KinesisClient({
  endpoint: target, region,
  credentials: { accessKeyId: "AKIDEDDYTEST", secretAccessKey: "eddy-test-secret" },
});

function arn(name) {
  return kinesisTarget(region, "123456789012", name);
}

// Distinct keys of the rows (op c or r) in the external stream, every shard read.
async function externalKeys() {
  return new Set(await changeKeys(external, streamName, /*untilCaughtUp=*/ false)).size;
}

if (mode === "create") {
  const created = await dsql.send(new CreateStreamCommand({
    clusterIdentifier: cluster, targetDefinition: arn(streamName), ordering: "UNORDERED",
    format: "JSON", clientToken: "external-1",
  }));
  check(["CREATING", "ACTIVE"].includes(created.status), "status after create", created);
  const waited = await waitUntilStreamActive({ client: dsql, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
    { clusterIdentifier: cluster, streamIdentifier: created.streamIdentifier });
  check(waited.state === "SUCCESS", "StreamActive waiter", waited);
  const got = await dsql.send(new GetStreamCommand({ clusterIdentifier: cluster,
    streamIdentifier: created.streamIdentifier }));
  check(got.targetDefinition.kinesis.streamArn === arn(streamName).kinesis.streamArn, "the ARN", got);
  await waitFor(async () => (await externalKeys()) >= Number(expected), 60,
    `${expected} rows in the external Kinesis stream`);
  // A target stream that does not exist at the endpoint: ValidationException naming the ARN.
  try {
    await dsql.send(new CreateStreamCommand({ clusterIdentifier: cluster,
      targetDefinition: arn("no-such-stream"), ordering: "UNORDERED", format: "JSON" }));
    check(false, "a missing external stream was accepted", {});
  } catch (error) {
    check(error.name === "ValidationException" &&
          error.fieldList?.[0]?.name === "targetDefinition.kinesis.streamArn" &&
          /no-such-stream/.test(error.message),
          "the error for a missing external stream", { name: error.name, message: error.message });
  }
  console.log(JSON.stringify({ stream: created.streamIdentifier, keys: await externalKeys() }));
} else {
  await waitFor(async () => (await externalKeys()) >= Number(expected), 60,
    `${expected} rows in the external Kinesis stream`);
  const deleted = await dsql.send(new DeleteStreamCommand({ clusterIdentifier: cluster,
    streamIdentifier: streamId }));
  check(deleted.status === "DELETING", "DeleteStream status", deleted);
  const gone = await waitUntilStreamNotExists({ client: dsql, maxWaitTime: 30, minDelay: 1, maxDelay: 2 },
    { clusterIdentifier: cluster, streamIdentifier: streamId });
  check(gone.state === "SUCCESS", "StreamNotExists waiter", gone);
  console.log(JSON.stringify({ deleted: streamId, keys: await externalKeys() }));
}

// The AWS JS SDK against eddy's control plane and stream API when eddy has SigV4 credentials
// ([api] access_key_id / secret_access_key): the DSQL client (ListStreams) and the Kinesis
// client (ListStreams) signed with them pass; signed with a wrong secret they are refused
// (AccessDeniedException for DSQL, the stream API's own signature error for Kinesis).
//
//   node control_auth_client.mjs ENDPOINT CLUSTER ACCESS_KEY_ID SECRET
import { DSQLClient, ListStreamsCommand as ListDsqlStreams } from "@aws-sdk/client-dsql";
import { KinesisClient, ListStreamsCommand } from "@aws-sdk/client-kinesis";

const [endpoint, cluster, accessKeyId, secretAccessKey] = process.argv.slice(2);
const region = "us-east-1";

function check(condition, what, detail) {
  if (!condition) {
    console.error(`FAILED: ${what}: ${JSON.stringify(detail)}`);
    process.exit(1);
  }
}

async function refused(promise, what) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  check(false, what, "was accepted");
}

const good = { accessKeyId, secretAccessKey };
const bad = { accessKeyId, secretAccessKey: secretAccessKey + "-wrong" };
const dsql = (credentials) => new DSQLClient({ endpoint, region, credentials, maxAttempts: 1 });
const kinesis = (credentials) => new KinesisClient({ endpoint, region, credentials, maxAttempts: 1 });

const list = await dsql(good).send(new ListDsqlStreams({ clusterIdentifier: cluster }));
check(Array.isArray(list.streams), "DSQL ListStreams with the configured credentials", list);
const dsqlError = await refused(dsql(bad).send(new ListDsqlStreams({ clusterIdentifier: cluster })),
  "DSQL ListStreams with a wrong secret");
check(dsqlError.name === "AccessDeniedException" && /refused/.test(dsqlError.message),
  "DSQL's error for a wrong secret", { name: dsqlError.name, message: dsqlError.message });

const streams = await kinesis(good).send(new ListStreamsCommand({}));
check(Array.isArray(streams.StreamNames), "Kinesis ListStreams with the configured credentials", streams);
const kinesisError = await refused(kinesis(bad).send(new ListStreamsCommand({})),
  "Kinesis ListStreams with a wrong secret");
check(/Signature/.test(kinesisError.name), "Kinesis's error for a wrong secret",
  { name: kinesisError.name, message: kinesisError.message });
console.log(JSON.stringify({ dsql: "ok", kinesis: "ok" }));

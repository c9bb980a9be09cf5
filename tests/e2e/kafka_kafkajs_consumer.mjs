// Reads Kafka topics with kafkajs (a consumer group, fromBeginning, read_committed: kafkajs's
// default isolation) and prints one JSON line per record: topic, partition, key and value as
// base64 (null for null), headers as base64. Stops once COUNT records arrived (exit 0) or
// after a deadline (exit 1).
//
//   node kafka_kafkajs_consumer.mjs BOOTSTRAP COUNT TOPIC [TOPIC...]
import { Kafka, logLevel } from "kafkajs";

const [bootstrap, countText, ...topics] = process.argv.slice(2);
const want = Number(countText);
const kafka = new Kafka({ clientId: "eddy-e2e", brokers: bootstrap.split(","), logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: "eddy-e2e-kafkajs-" + process.pid, readUncommitted: false });
const b64 = (buffer) => (buffer === null || buffer === undefined ? null : Buffer.from(buffer).toString("base64"));
let seen = 0;
const deadline = setTimeout(async () => {
  console.error(`kafkajs: ${seen} of ${want} records within 60 s`);
  process.exit(1);
}, 60_000);
await consumer.connect();
for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ topic, partition, message }) => {
    const headers = {};
    for (const [name, value] of Object.entries(message.headers || {})) headers[name] = b64(value);
    console.log(JSON.stringify({ topic, partition, key: b64(message.key), value: b64(message.value), headers }));
    seen += 1;
    if (seen >= want) {
      clearTimeout(deadline);
      setImmediate(async () => {
        await consumer.disconnect();
        process.exit(0);
      });
    }
  },
});

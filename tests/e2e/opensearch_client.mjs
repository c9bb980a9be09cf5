// The OpenSearch stand-in (tests/support/opensearch_standin.py) driven by the official
// client, @opensearch-project/opensearch (npm): it must answer as that client expects, so
// the sink's tests against it mean something. No OpenSearch or Elasticsearch server can be
// installed here (Debian has none; the npm launchers download the server at run time).
//
//   node opensearch_client.mjs PYTHON STANDIN_SCRIPT
//
// Checks: info, index creation with mappings (and the already-exists error), single index /
// get / delete with external versions (409 on a stale one, the delete's version kept within
// gc_deletes and forgotten after it), _bulk with per-item statuses (201, 200, 404 on a
// missing delete, 409 on a stale version, 400 on a value the mapping refuses), filter_path,
// search match_all and count, injected 429s (whole request and per item), basic auth, and a
// restart that keeps the documents.
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Client } from '@opensearch-project/opensearch';

const [python, standin] = process.argv.slice(2);
if (!python || !standin) throw new Error('usage: node opensearch_client.mjs PYTHON STANDIN');
const work = mkdtempSync(join(tmpdir(), 'eddy-os-client-'));
const children = [];

async function waitFor(condition, seconds, what) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await condition();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));  // polling with a deadline
  }
  throw new Error(`timed out after ${seconds}s waiting for ${what}`);
}

async function start(name, extra = []) {
  const portFile = join(work, `${name}.port`);
  rmSync(portFile, { force: true });
  const child = spawn(python, [standin, '--port-file', portFile, '--data', join(work, `${name}.json`),
    ...extra], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  let exited = false;
  child.on('exit', () => { exited = true; });
  const port = await waitFor(() => {
    if (exited) throw new Error('the stand-in exited at start');
    return existsSync(portFile) && readFileSync(portFile, 'utf8').trim();
  }, 30, 'the stand-in to listen');
  return { child, port: Number(port) };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const done = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await done;
}

async function status(promise) {
  try {
    const response = await promise;
    return { statusCode: response.statusCode, body: response.body };
  } catch (error) {
    if (error.meta) return { statusCode: error.meta.statusCode, body: error.meta.body };
    throw error;
  }
}

let passed = 0;
async function check(name, body) {
  await body();
  passed += 1;
  console.log(`ok ${name}`);
}

try {
  const { child, port } = await start('main', ['--gc-deletes', '1']);
  let client = new Client({ node: `http://127.0.0.1:${port}` });

  await check('info', async () => {
    const info = await client.info();
    assert.equal(info.statusCode, 200);
    assert.equal(info.body.version.distribution, 'opensearch');
  });

  await check('index creation with mappings', async () => {
    const created = await client.indices.create({
      index: 'orders',
      body: { mappings: { properties: { id: { type: 'long' }, price: { type: 'keyword' },
        at: { type: 'date' } } } },
    });
    assert.equal(created.body.acknowledged, true);
    const again = await status(client.indices.create({ index: 'orders', body: {} }));
    assert.equal(again.statusCode, 400);
    assert.equal(again.body.error.type, 'resource_already_exists_exception');
    const got = await client.indices.get({ index: 'orders' });
    assert.equal(got.body.orders.mappings.properties.id.type, 'long');
    assert.equal((await client.indices.exists({ index: 'orders' })).statusCode, 200);
    assert.equal((await status(client.indices.exists({ index: 'nope' }))).statusCode, 404);
  });

  await check('index, get, delete with external versions', async () => {
    const first = await client.index({ index: 'orders', id: '1', version: 10,
      version_type: 'external', body: { id: 1, price: '9.50' } });
    assert.equal(first.statusCode, 201);
    assert.equal(first.body.result, 'created');
    assert.equal(first.body._version, 10);
    const stale = await status(client.index({ index: 'orders', id: '1', version: 5,
      version_type: 'external', body: { id: 1, price: '1.00' } }));
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.body.error.type, 'version_conflict_engine_exception');
    const equal = await status(client.index({ index: 'orders', id: '1', version: 10,
      version_type: 'external', body: { id: 1, price: '1.00' } }));
    assert.equal(equal.statusCode, 409, 'external needs a greater version');
    const gte = await client.index({ index: 'orders', id: '1', version: 10,
      version_type: 'external_gte', body: { id: 1, price: '9.75' } });
    assert.equal(gte.statusCode, 200);
    const doc = await client.get({ index: 'orders', id: '1' });
    assert.equal(doc.body.found, true);
    assert.deepEqual(doc.body._source, { id: 1, price: '9.75' });
    assert.equal(doc.body._version, 10);
    const deleted = await client.delete({ index: 'orders', id: '1', version: 20,
      version_type: 'external' });
    assert.equal(deleted.body.result, 'deleted');
    const missing = await status(client.get({ index: 'orders', id: '1' }));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.body.found, false);
    // Within gc_deletes the delete's version holds off an older write ...
    const resurrect = await status(client.index({ index: 'orders', id: '1', version: 15,
      version_type: 'external', body: { id: 1 } }));
    assert.equal(resurrect.statusCode, 409);
    // ... after it (1 s here, index.gc_deletes) the older write brings the document back.
    await new Promise((resolve) => setTimeout(resolve, 1100));  // the gc_deletes window passing
    const late = await client.index({ index: 'orders', id: '1', version: 15,
      version_type: 'external', body: { id: 1, price: 'late' } });
    assert.equal(late.statusCode, 201);
  });

  await check('bulk with per-item statuses and filter_path', async () => {
    const response = await client.bulk({ body: [
      { index: { _index: 'orders', _id: '2', version: 5, version_type: 'external_gte' } },
      { id: 2, price: '2.00', at: '2024-01-15T10:15:30.123456Z' },
      { index: { _index: 'orders', _id: '2', version: 6, version_type: 'external_gte' } },
      { id: 2, price: '2.50' },
      { delete: { _index: 'orders', _id: 'missing', version: 7, version_type: 'external' } },
      { index: { _index: 'orders', _id: '2', version: 4, version_type: 'external' } },
      { id: 2, price: 'stale' },
      { index: { _index: 'orders', _id: '3' } },
      { id: 'not a number' },
      { create: { _index: 'other', _id: 'a' } },
      { n: 1 },
    ] });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body.errors, true);
    const statuses = response.body.items.map((item) => Object.values(item)[0].status);
    assert.deepEqual(statuses, [201, 200, 404, 409, 400, 201]);
    assert.equal(response.body.items[2].delete.result, 'not_found');
    assert.equal(response.body.items[4].index.error.type, 'mapper_parsing_exception');
    const filtered = await client.bulk({ filter_path: 'items.*.error', body: [
      { index: { _index: 'orders', _id: '2', version: 1, version_type: 'external' } }, { id: 2 },
      { index: { _index: 'orders', _id: '4', version: 1, version_type: 'external' } }, { id: 4 },
    ] });
    assert.deepEqual(Object.keys(filtered.body), ['items']);
    assert.equal(filtered.body.items.length, 1);
    assert.equal(filtered.body.items[0].index.error.type, 'version_conflict_engine_exception');
    const bad = await status(client.transport.request({ method: 'POST', path: '/_bulk',
      body: '{"index":{"_index":"x"}}\n{"a":1}', headers: { 'content-type': 'application/x-ndjson' } }));
    assert.equal(bad.statusCode, 400, 'a body without the final newline is refused');
  });

  await check('search and count', async () => {
    await client.indices.refresh({ index: 'orders' });
    const count = await client.count({ index: 'orders' });
    assert.equal(count.body.count, 3);
    const search = await client.search({ index: 'orders', body: { query: { match_all: {} }, size: 100 } });
    assert.equal(search.body.hits.total.value, 3);
    assert.deepEqual(search.body.hits.hits.map((hit) => hit._id).sort(), ['1', '2', '4']);
    assert.equal(search.body.hits.hits.find((hit) => hit._id === '2')._source.price, '2.50');
  });

  await check('injected 429s: whole request and per item', async () => {
    const faults = await client.transport.request({ method: 'POST', path: '/_standin/faults',
      body: { reject_requests: 1, reject_items: 1 } });
    assert.equal(faults.statusCode, 200);
    const rejected = await status(client.bulk({ body: [{ index: { _index: 'orders', _id: '5' } }, { id: 5 }] },
      { maxRetries: 0 }));
    assert.equal(rejected.statusCode, 429);
    assert.equal(rejected.body.error.type, 'es_rejected_execution_exception');
    const partial = await client.bulk({ body: [
      { index: { _index: 'orders', _id: '5' } }, { id: 5 },
      { index: { _index: 'orders', _id: '6' } }, { id: 6 },
    ] });
    assert.deepEqual(partial.body.items.map((item) => item.index.status), [429, 201]);
  });

  await check('restart keeps the documents', async () => {
    await client.close();
    await stop(child);
    const again = await start('main', ['--gc-deletes', '1']);
    client = new Client({ node: `http://127.0.0.1:${again.port}` });
    const doc = await client.get({ index: 'orders', id: '2' });
    assert.equal(doc.body._source.price, '2.50');
    assert.equal(doc.body._version, 6);
    await client.close();
  });

  await check('basic auth', async () => {
    const secured = await start('secured', ['--user', 'admin', '--password', 's3cret']);
    const anonymous = new Client({ node: `http://127.0.0.1:${secured.port}` });
    const refused = await status(anonymous.info());
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.body.error.type, 'security_exception');
    const wrong = new Client({ node: `http://admin:nope@127.0.0.1:${secured.port}` });
    assert.equal((await status(wrong.info())).statusCode, 401);
    const right = new Client({ node: `http://127.0.0.1:${secured.port}`,
      auth: { username: 'admin', password: 's3cret' } });
    assert.equal((await right.info()).statusCode, 200);
    for (const c of [anonymous, wrong, right]) await c.close();
  });

  console.log(`opensearch_client: ${passed} passed, 0 failed`);
} finally {
  for (const child of children) await stop(child);
  rmSync(work, { recursive: true, force: true });
}

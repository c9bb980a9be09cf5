#!/usr/bin/env python3
"""The OpenSearch sink end to end: a real PostgreSQL 15 (eddy-localdb), `eddy run --sink
opensearch+http://USER:PASSWORD@...` and the OpenSearch stand-in (tests/support/
opensearch_standin.py, written from the official _bulk spec and checked with the official
client: no real OpenSearch or Elasticsearch server can be installed here).

    opensearch_sink.py EDDY_BINARY EDDY_LOCALDB_BINARY

Checks, each time comparing every index with its source table document by document (`_id` =
the primary key, `_source` = the typed row):
- the snapshot, then a seeded random workload of inserts, updates (NULLs included), deletes,
  primary-key changes and several changes of one key in one transaction, on a one-column and
  a two-column key table; indexes created with mappings from the catalog (create_index);
- injected 429s (whole requests and items) and 503 items: retried, nothing lost or stale;
- a document the server refuses (400 mapper_parsing_exception): written to
  DATA/failures/<sink>.AmazonOpenSearchService-failed.jsonl in Firehose's failed-document shape
  and counted; the next change of the row goes through;
- the stand-in stopped under the workload: the sink turns IMPAIRED; restarted: ACTIVE, equal;
- bad input: a bad URL, an unreachable endpoint and a wrong password each stop `eddy run` at
  start with a message that says what to fix.
"""
import base64
import json
import os
import random
import subprocess
import sys

from e2e_common import work_directory
from opensearch_support import (Standin, free_port, metrics_text, psql, psql_json, sink_state,
                                start_postgres, stop_all, wait_for)

ITEMS_SQL = """SELECT coalesce(json_object_agg(id::text, json_build_object(
  'id', id, 'name', name, 'price', price::text, 'qty', qty,
  'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'flag', flag)), '{}')
  FROM items"""
PAIRS_SQL = """SELECT coalesce(json_object_agg(
  a::text || '|' || replace(replace(b, '\\', '\\\\'), '|', '\\|'),
  json_build_object('a', a, 'b', b, 'v', v)), '{}') FROM pairs"""


def equal(standin, url):
    """None when both indexes equal their tables, else what differs (for the timeout message)."""
    for index, sql in (("cdc-items", ITEMS_SQL), ("cdc-pairs", PAIRS_SQL)):
        expected = psql_json(url, sql)
        got = standin.documents(index)
        if got != expected:
            missing = sorted(set(expected) - set(got))[:5]
            extra = sorted(set(got) - set(expected))[:5]
            stale = [k for k in expected if k in got and got[k] != expected[k]][:3]
            return (f"{index}: {len(got)} documents for {len(expected)} rows; missing {missing}, "
                    f"extra {extra}, stale {[(k, got[k], expected[k]) for k in stale]}")
    return None


def wait_equal(standin, url, run, what, seconds=120):
    last = [None]

    def done():
        if run.poll() is not None:
            raise AssertionError(f"eddy run exited with {run.returncode} ({what})")
        last[0] = equal(standin, url)
        return last[0] is None

    try:
        wait_for(done, seconds, what, interval=0.2)
    except AssertionError as error:
        raise AssertionError(f"{error}: {last[0]}") from None


class Workload:
    def __init__(self, url, rng):
        self.url, self.rng = url, rng
        self.next_id = 1000

    def ids(self):
        return psql_json(self.url, "SELECT coalesce(json_agg(id), '[]') FROM items")

    def statement(self, ids):
        rng = self.rng
        roll = rng.random()
        if roll < 0.25 or not ids:
            self.next_id += 1
            ids.append(self.next_id)
            return (f"INSERT INTO items VALUES ({self.next_id}, 'n{self.next_id}', "
                    f"{rng.randrange(100000) / 100}, {rng.randrange(1 << 40)}, "
                    f"now() - interval '{rng.randrange(10000)} seconds', {rng.random() < 0.5});")
        k = rng.choice(ids)
        if roll < 0.55:
            name = "NULL" if rng.random() < 0.2 else f"'u{rng.randrange(1000)}'"
            price = "NULL" if rng.random() < 0.2 else str(rng.randrange(100000) / 100)
            flag = rng.choice(["true", "false", "NULL"])
            return (f"UPDATE items SET name = {name}, price = {price}, qty = qty + 1, "
                    f"flag = {flag}, at = CASE WHEN at IS NULL THEN now() ELSE NULL END "
                    f"WHERE id = {k};")
        if roll < 0.7:
            ids.remove(k)
            return f"DELETE FROM items WHERE id = {k};"
        if roll < 0.8:
            ids.remove(k)
            self.next_id += 1
            ids.append(self.next_id)
            return f"UPDATE items SET id = {self.next_id} WHERE id = {k};"  # a key change
        a = rng.randrange(1, 6)
        b = rng.choice(["x", "y|z", "w\\\\v"])
        choice = rng.random()
        if choice < 0.5:
            return (f"INSERT INTO pairs VALUES ({a}, E'{b}', {rng.randrange(100)}) "
                    f"ON CONFLICT (a, b) DO UPDATE SET v = excluded.v;")
        if choice < 0.75:
            return f"DELETE FROM pairs WHERE a = {a} AND b = E'{b}';"
        return (f"UPDATE pairs SET a = {rng.randrange(6, 9)} WHERE a = {a} AND b = E'{b}' AND "
                f"NOT EXISTS (SELECT 1 FROM pairs p WHERE p.a >= 6 AND p.b = E'{b}');")

    def run(self, count):
        ids = self.ids()
        done = 0
        while done < count:
            size = min(count - done, self.rng.randrange(1, 8))
            statements = [self.statement(ids) for _ in range(size)]
            if ids and self.rng.random() < 0.3:  # several changes of one key in one transaction
                k = self.rng.choice(ids)
                statements += [f"UPDATE items SET qty = qty + 1 WHERE id = {k};"] * 3
            psql(self.url, "BEGIN;" + "".join(statements) + "COMMIT;")
            done += size


def expect_refused(eddy, url, work, sink, expected, name):
    data = os.path.join(work, "bad-" + name)
    result = subprocess.run([eddy, "run", "--source", url, "--data-dir", data, "--stream",
                             "bad" + name.replace("-", ""), "--tables", "public.items",
                             "--api-listen", "127.0.0.1:0", "--sink", sink],
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"{name}: eddy run started with {sink}: {output[-2000:]}"
    assert expected in output, f"{name}: expected {expected!r} in: {output[-2000:]}"
    line = next(line for line in output.splitlines() if expected in line)
    print(f"opensearch_sink: bad input {name}: refused: {line.strip()[:240]}", flush=True)


def main():
    eddy, localdb = sys.argv[1], sys.argv[2]
    seed = int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print(f"opensearch_sink: seed {seed} (EDDY_TEST_SEED replays)", flush=True)
    with work_directory("e2e-opensearch") as work:
        processes = []
        try:
            db, url = start_postgres(localdb, work)
            processes.append(db)
            psql(url, "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), "
                      "qty bigint NOT NULL, at timestamptz, flag boolean)")
            psql(url, "CREATE TABLE pairs (a int, b text, v int, PRIMARY KEY (a, b))")
            psql(url, "INSERT INTO items SELECT k, 'n' || k, k * 1.25, k, "
                      "timestamptz '2024-01-15 10:15:30.123456+00' + k * interval '1 hour', "
                      "CASE WHEN k % 3 = 0 THEN NULL ELSE k % 2 = 0 END FROM generate_series(1, 30) k")
            psql(url, "INSERT INTO pairs VALUES (1, 'x', 1), (1, 'y|z', 2), (2, 'x', 3)")

            standin = Standin(work, user="admin", password="p@ss:word")
            processes.append(standin)
            metrics_port = free_port()
            sink = (f"opensearch+http://admin:p%40ss%3Aword@127.0.0.1:{standin.port}?name=search"
                    "&index=cdc-${table}&create_index=true&bulk_window=20ms&bulk_max_documents=50"
                    "&parallelization_factor=2&item_retries=3")
            command = [eddy, "run", "--source", url, "--data-dir", work + "/data", "--stream", "s",
                       "--tables", "public.items,public.pairs", "--shards", "2",
                       "--api-listen", "127.0.0.1:0", "--metrics-listen",
                       f"127.0.0.1:{metrics_port}", "--sink", sink]
            run = subprocess.Popen(command, stdout=open(work + "/eddy.log", "a"),
                                   stderr=subprocess.STDOUT)
            processes.append(run)
            workload = Workload(url, rng)

            wait_equal(standin, url, run, "the snapshot in the indexes")
            mappings = standin.mappings("cdc-items")["properties"]
            assert mappings["id"]["type"] == "integer" or mappings["id"]["type"] == "long", mappings
            assert mappings["price"]["type"] == "keyword", mappings
            assert mappings["at"]["type"] == "date", mappings
            assert mappings["flag"]["type"] == "boolean", mappings
            print("opensearch_sink: snapshot: indexes equal the tables; mappings from the catalog",
                  flush=True)

            workload.run(200)
            wait_equal(standin, url, run, "the workload in the indexes")
            print("opensearch_sink: inserts, updates, deletes, key changes, NULLs: equal", flush=True)

            standin.faults(reject_requests=2, reject_items=7, fail_items=4)
            workload.run(150)
            wait_equal(standin, url, run, "the workload under injected 429s and 503s")
            stats = standin.stats()
            assert stats["rejected_requests"] >= 2 and stats["rejected_items"] >= 7 and \
                stats["failed_items"] >= 4, stats
            assert not any(stats["faults"].values()), stats
            print(f"opensearch_sink: {stats['rejected_requests']} requests and "
                  f"{stats['rejected_items'] + stats['failed_items']} items failed retriably: "
                  f"retried, equal ({stats['conflicts']} version conflicts counted as applied)",
                  flush=True)

            # One document refused for good: the error location, then the row's next change.
            target = workload.ids()[0]
            standin.faults(refuse_mapping=1)
            psql(url, f"UPDATE items SET name = 'refused' WHERE id = {target}")
            error_file = os.path.join(work, "data", "failures",
                                      "search.AmazonOpenSearchService-failed.jsonl")
            wait_for(lambda: os.path.exists(error_file) and os.path.getsize(error_file) > 0, 60,
                     "the refused document in the error location")
            with open(error_file) as f:
                failed = [json.loads(line) for line in f]
            assert len(failed) == 1, failed
            entry = failed[0]
            assert set(entry) == {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
                                  "attemptEndingTimestamp", "esDocumentId", "esIndexName",
                                  "esTypeName", "rawData"}, entry
            assert entry["esDocumentId"] == str(target) and entry["esIndexName"] == "cdc-items", entry
            assert entry["errorCode"] == "400" and "mapper_parsing_exception" in entry["errorMessage"]
            raw = base64.b64decode(entry["rawData"]).decode().splitlines()
            assert json.loads(raw[1])["name"] == "refused", raw
            psql(url, f"UPDATE items SET name = 'accepted' WHERE id = {target}")
            wait_equal(standin, url, run, "the row after the refused document")
            print("opensearch_sink: a refused document went to the error location in Firehose's "
                  "shape; the next change went through", flush=True)

            # The stand-in stops under the workload, then comes back with its documents.
            standin.stop()
            workload.run(60)
            wait_for(lambda: sink_state(metrics_port, "search") == "IMPAIRED", 60,
                     "the sink to turn IMPAIRED")
            standin.start()
            wait_for(lambda: sink_state(metrics_port, "search") == "ACTIVE", 120,
                     "the sink to turn ACTIVE again")
            wait_equal(standin, url, run, "the indexes after the stand-in's restart")
            print("opensearch_sink: stand-in down: IMPAIRED; back: ACTIVE, nothing lost or stale",
                  flush=True)

            text = metrics_text(metrics_port)
            assert 'eddy_opensearch_documents_total{result="failed",sink="search",stream="s"} 1' \
                in text, [line for line in text.splitlines() if "opensearch" in line]
            run.terminate()
            assert run.wait(timeout=60) == 0, f"eddy run did not stop cleanly: {run.returncode}"

            expect_refused(eddy, url, work, "opensearch+ftp://127.0.0.1:9200",
                           "is not one this build delivers to", "scheme")
            expect_refused(eddy, url, work, "opensearch+http://127.0.0.1:99999",
                           "the port is not a number from 1 to 65535", "port")
            expect_refused(eddy, url, work, f"opensearch+http://127.0.0.1:{free_port()}",
                           "start OpenSearch", "unreachable")
            expect_refused(eddy, url, work,
                           f"opensearch+http://admin:wrong@127.0.0.1:{standin.port}",
                           "check the user and password", "password")
            expect_refused(eddy, url, work, f"opensearch+http://127.0.0.1:{standin.port}?index=A",
                           "index names are lower case", "index")
            print("opensearch_sink: 1 passed, 0 failed")
            return 0
        finally:
            stop_all(processes)


if __name__ == "__main__":
    sys.exit(main())

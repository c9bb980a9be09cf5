#!/usr/bin/env python3
"""Iceberg maintenance end to end: `eddy lake compact`, the sink's own compaction threshold and
`eddy lake remove-orphans`, on tables a real PostgreSQL 15 mirrors through `eddy run`.

    iceberg_compact.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE [--rounds N] [--seed S]

1. Compact a quiet table: after inserts, updates, deletes, re-inserts, NULLs and an ADD COLUMN
   the table has many data and delete files; icebird (npm) and DuckDB (re-deriving the rows
   from the files with the sequence-number rules; tests/e2e/iceberg_read.mjs) read the same
   rows before and after `eddy lake compact`, equal to the source; afterwards the current
   snapshot has one data file and zero delete files, the structural checks pass (required
   metadata fields, sequence numbers, manifest counts, file sizes, field ids), every older
   version still reads as before (time travel), and a second compact has nothing to do.
2. Compaction while `eddy run` writes: a writer keeps changing rows; the sink, restarted with
   compact_delete_files=4, compacts on its own, and `eddy lake compact` runs several times
   meanwhile. Afterwards the table equals the source, no version holds a duplicate key.
3. kill -9 during compaction: `eddy lake compact` killed with SIGKILL at random moments of its
   run (N rounds, default 3); after each the table reads completely and equals the source;
   `eddy lake remove-orphans --older-than 0s` then deletes what the killed runs left behind
   (and nothing the table references: it still reads the same, with no structural problem).
   The sink is stopped first: with a safety age of zero, the files of a commit the sink has in
   flight are unreferenced and as old as the cutoff, so they would rightly go (the default age
   is 3 days; docs/sinks/iceberg.md).
4. Bad input: a wrong warehouse URL, an unknown table, a bad size or duration exit 2 with a
   message naming the fix.
Waits are bounded polls on conditions, never fixed sleeps (kill moments are random by design).
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from crash_loop import PsqlWriter, parse_args
from e2e_common import Postgres, wait_for
from iceberg_sink import read_table, rows_of, source_rows, stream_config

KEYS = 400
COLUMNS = ["id", "name", "qty", "price", "flag", "note"]


class ItemsWriter(PsqlWriter):
    """Random upserts, updates and deletes of table items."""

    def transaction(self, rng):
        k = rng.randrange(1, KEYS + 1)
        choice = rng.random()
        if choice < 0.5:
            return (f"INSERT INTO items VALUES ({k}, 'w', 1, 1.00, true, NULL, 0) "
                    f"ON CONFLICT (id) DO UPDATE SET qty = items.qty + 1;")
        if choice < 0.7:
            return f"DELETE FROM items WHERE id = {k};"
        return f"UPDATE items SET name = 'n' || qty, extra = extra + 1 WHERE id BETWEEN {k} AND {k + 5};"


def lake(eddy, *args, timeout=300):
    return subprocess.run([eddy, "lake", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)


def main():
    args = parse_args("iceberg_compact", lambda parser: parser.add_argument("node"), rounds=3)
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="eddy-iceberg-compact-")
    warehouse = work + "/lake"
    data_dir = work + "/data"
    db = run = writer = None
    log = open(work + "/eddy.log", "a")
    columns = list(COLUMNS)
    try:
        db = Postgres(args.localdb, work)
        database = db.url.rsplit("/", 1)[1].split("?")[0]
        table_dir = f"{warehouse}/{database}/public/items"
        url = f"iceberg+file://{warehouse}"
        db.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int NOT NULL, "
               "price numeric(10,2), flag boolean, note text)")
        db.sql(f"INSERT INTO items SELECT k, 'item' || k, k, k + 0.25, k % 2 = 0, NULL "
               f"FROM generate_series(1, {KEYS}) k")
        config = stream_config(work + "/lake.toml", "lake", "transaction_metadata = true")

        def command(sink_url):
            return [args.eddy, "run", "--config", config, "--source", db.url, "--data-dir",
                    data_dir, "--stream", "lake", "--tables", "public.items", "--shards", "1",
                    "--api-listen", "127.0.0.1:0", "--sink", sink_url]

        def read(current_only=False):
            result, error = read_table(args.node, table_dir, "id", current_only=current_only)
            assert result is not None, error
            return result

        def mirrored():
            if run is not None and run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            if not os.path.exists(table_dir + "/metadata/version-hint.text"):
                return None
            result, _ = read_table(args.node, table_dir, "id", current_only=True)
            if result is None:
                return None
            current = rows_of(result["versions"][-1]["rows"], columns)
            return result if current == source_rows(db, "items", columns) else None

        # ---- 4. bad input ----
        for flags, says in [(["compact", "--warehouse", "iceberg+file://relative"], "absolute"),
                            (["compact", "--warehouse", url, "--target-file-size", "12XB"],
                             "512MB"),
                            (["remove-orphans", "--warehouse", url, "--older-than", "soon"],
                             "duration")]:
            reply = lake(args.eddy, *flags)
            assert reply.returncode == 2 and says in reply.stdout, (flags, reply.stdout)

        # ---- 1. compact a quiet table ----
        run = subprocess.Popen(command(url + "?commit_interval=1&commit_rows=200"), stdout=log,
                               stderr=subprocess.STDOUT)
        wait_for(mirrored, 180, "the snapshot rows in the table")
        for statement in [
            "UPDATE items SET qty = qty + 1 WHERE id <= 50",
            "DELETE FROM items WHERE id BETWEEN 60 AND 80",
            "INSERT INTO items VALUES (70, 'again', 1, 1.50, true, 'back')",
            "BEGIN; " + " ".join(f"UPDATE items SET qty = {n} WHERE id = 1;" for n in range(30))
            + " UPDATE items SET name = NULL, price = NULL WHERE id = 1; COMMIT",
            "ALTER TABLE items ADD COLUMN extra int",
            "UPDATE items SET extra = id WHERE id % 3 = 0",
            "DELETE FROM items WHERE id % 17 = 0",
            "UPDATE items SET note = 'n' WHERE id % 5 = 0",
        ]:
            db.sql(statement)
            columns = COLUMNS + (["extra"] if "extra" in statement or "extra" in columns else [])
            wait_for(mirrored, 120, f"the table to follow: {statement[:60]}")
        before = read()
        assert not before["problems"], before["problems"]
        assert before["files"]["deletes"] > 0, before["files"]
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0
        run = None

        reply = lake(args.eddy, "compact", "--warehouse", url, "--table",
                     f"{database}.public.items")
        assert reply.returncode == 0, reply.stdout
        assert "0 delete files" in reply.stdout, reply.stdout
        after = read()
        assert not after["problems"], after["problems"]
        assert after["files"] == {"data": 1, "deletes": 0}, after["files"]
        source = source_rows(db, "items", columns)
        assert rows_of(after["versions"][-1]["rows"], columns) == source, "icebird after compact"
        assert rows_of(after["duckdb"], columns) == source, "DuckDB after compact"
        assert rows_of(before["versions"][-1]["rows"], columns) == source
        assert rows_of(before["duckdb"], columns) == source
        for old, again in zip(before["versions"], after["versions"]):
            assert old["rows"] == again["rows"], f"v{old['version']} reads differently after compact"
        reply = lake(args.eddy, "compact", "--warehouse", url)
        assert reply.returncode == 0 and "nothing to compact" in reply.stdout, reply.stdout
        print(f"iceberg_compact: {before['files']['data']} data and {before['files']['deletes']} "
              f"delete files compacted into 1 data file, 0 delete files; icebird and DuckDB read "
              f"the source's {len(source)} rows before and after, {len(after['versions'])} "
              f"versions read the same", flush=True)

        # ---- 2. compaction while the sink writes (and compacts on its own) ----
        run = subprocess.Popen(command(url + "?commit_interval=1&commit_rows=200"
                                       "&compact_delete_files=4"), stdout=log,
                               stderr=subprocess.STDOUT)
        writer = ItemsWriter(db, args.seed)
        writer.start()
        compactions = 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            reply = lake(args.eddy, "compact", "--warehouse", url)
            assert reply.returncode == 0, reply.stdout
            compactions += "rewritten" in reply.stdout
            assert run.poll() is None, f"eddy exited; see {work}/eddy.log"
        writer.stop()
        writer = None
        result = wait_for(mirrored, 180, "the table to equal the source after compacting under load")
        result = read()
        assert not result["problems"], result["problems"]
        assert rows_of(result["duckdb"], columns) == source_rows(db, "items", columns)
        for version in result["versions"]:
            ids = [row["id"] for row in version["rows"]]
            assert len(ids) == len(set(ids)), f"v{version['version']}: duplicate keys"
        log.flush()
        sink_compactions = len(re.findall(r"compacted \d+ data and \d+ delete files",
                                          open(work + "/eddy.log").read()))
        assert compactions > 0 and sink_compactions > 0, (compactions, sink_compactions)
        print(f"iceberg_compact: {compactions} eddy lake compact runs and {sink_compactions} of the "
              f"sink's own (compact_delete_files=4) while it wrote: the table equals the source, "
              f"no duplicates in {len(result['versions'])} versions", flush=True)

        # ---- 3. kill -9 during compaction (the sink keeps running) ----
        db.sql("UPDATE items SET qty = qty + 1")
        wait_for(mirrored, 120, "the table before the kill rounds")
        started = time.monotonic()
        reply = lake(args.eddy, "compact", "--warehouse", url)
        assert reply.returncode == 0, reply.stdout
        duration = time.monotonic() - started
        for round_index in range(args.rounds):
            db.sql(f"UPDATE items SET qty = qty + 1 WHERE id % {round_index + 2} = 0")
            db.sql(f"DELETE FROM items WHERE id % {31 + round_index} = 0")
            wait_for(mirrored, 120, f"round {round_index}: the table to follow")
            compact = subprocess.Popen([args.eddy, "lake", "compact", "--warehouse", url],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(rng.uniform(0.0, max(duration, 0.2)))  # the random crash moment
            compact.send_signal(signal.SIGKILL)
            compact.wait()
            result = wait_for(mirrored, 120, f"round {round_index}: the table complete after kill -9")
            assert not result["problems"], result["problems"]
        reply = lake(args.eddy, "compact", "--warehouse", url)
        assert reply.returncode == 0, reply.stdout
        result = wait_for(mirrored, 120, "the table after the last compaction")
        # The sink stops before a zero-age orphan removal (see the module's docstring): a
        # commit of its own in flight at that moment would lose its files to it.
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0
        run = None
        before_orphans = read()
        reply = lake(args.eddy, "remove-orphans", "--warehouse", url, "--older-than", "0s")
        assert reply.returncode == 0, reply.stdout
        removed = sum(int(m) for m in re.findall(r": (\d+) orphan files removed", reply.stdout))
        after_orphans = read()
        assert not after_orphans["problems"], after_orphans["problems"]
        assert [v["rows"] for v in after_orphans["versions"]] == \
            [v["rows"] for v in before_orphans["versions"]], "remove-orphans changed what a version reads"
        assert rows_of(after_orphans["duckdb"], columns) == source_rows(db, "items", columns)
        print(f"iceberg_compact: {args.rounds} kill -9 rounds of eddy lake compact: the table read "
              f"complete after each; remove-orphans deleted {removed} leftover files, every "
              f"version reads the same", flush=True)
        reply = lake(args.eddy, "compact", "--warehouse", url, "--table", "nope.items")
        assert reply.returncode == 2 and "no table nope.items" in reply.stdout, reply.stdout
        print("iceberg_compact: OK", flush=True)
    except BaseException:
        print(f"iceberg_compact: FAILED (seed {args.seed}); work directory kept: {work}", flush=True)
        raise
    finally:
        if writer is not None:
            writer.stopping.set()
        if run is not None and run.poll() is None:
            run.kill()
        if db is not None:
            db.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

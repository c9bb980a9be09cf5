"""Shared pieces of the replica sink's benchmarks (replica_pg.py, replica_mariadb.py): the
retail_trans workload captured from a throwaway PostgreSQL into a 4-shard stream, and the
count of changes a sink has acknowledged.

serve_until_applied times `eddy serve --sink URL` until the sink has applied every change.

The workload: inserts of 1,000 rows per transaction, then updates of every other row of the
first 2*updates ids and deletes of the last ids, 1,000 rows per transaction. The issue's size
is 1,000,000 inserts, 500,000 updates and 200,000 deletes; --scale shrinks it.
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
from replica_support import ENV, stop_process, wait_for  # noqa: E402

# The source table's columns (also the PostgreSQL reference table's definition).
RETAIL_TRANS_COLUMNS = ("(id bigint PRIMARY KEY, store_id int NOT NULL, sku text NOT NULL,"
                        " qty int NOT NULL, price numeric(10,2) NOT NULL, customer text,"
                        " sold_at timestamptz NOT NULL)")


class Workload:
    """How many changes of each kind a run applies: the issue's sizes times `scale`."""

    def __init__(self, scale):
        self.scale = scale
        self.inserts = int(1_000_000 * scale)
        self.updates = int(500_000 * scale)
        self.deletes = int(200_000 * scale)
        self.total = self.inserts + self.updates + self.deletes

    def describe(self):
        return (f"retail_trans x{self.scale}: {self.inserts} inserts, {self.updates} updates, "
                f"{self.deletes} deletes ({self.total} changes")


def parse_args():
    """EDDY_BINARY EDDY_LOCALDB_BINARY [--scale=0.1]."""
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("--scale", type=float, default=0.1)
    return parser.parse_args()


def delivered(eddy, data_dir, name):
    """How many records sink `name` has acknowledged, from `eddy status` (0 when unknown)."""
    text = subprocess.run([eddy, "status", "--data-dir", data_dir], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True).stdout
    for line in text.splitlines():
        if line.startswith(f"sink {name}:"):
            match = re.search(r"delivered_records=(\d+)", line)
            return int(match.group(1)) if match else 0
    return 0


def serve_until_applied(eddy, data_dir, sink, name, total, log_path):
    """Runs `eddy serve --sink sink` on `data_dir` until sink `name` has acknowledged `total`
    records, then stops it; returns the seconds from start to the first poll that sees them.
    Polled every 0.25 s (each poll is an `eddy status` process, which would compete with the
    measured one at wait_for's 0.05 s)."""
    started = time.monotonic()
    run = subprocess.Popen([eddy, "serve", "--data-dir", data_dir, "--api-listen",
                            "127.0.0.1:0", "--sink", sink],
                           stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    def applied():
        if run.poll() is not None:
            raise AssertionError(f"eddy serve exited ({run.returncode}); see {log_path}")
        return delivered(eddy, data_dir, name) >= total

    try:
        wait_for(applied, 1800, f"eddy serve to apply every change; see {log_path}",
                 interval=0.25)
        return time.monotonic() - started
    finally:
        stop_process(run)


def capture_workload(eddy, source, work, workload):
    """Creates retail_trans in `source` (a replica_support.LocalServer, PostgreSQL), runs the
    workload while `eddy run` captures it into stream `retail` (4 shards) and stops the capture
    once a file:// sink counts every change. Untimed. Returns the data directory."""
    source.sql("CREATE TABLE retail_trans " + RETAIL_TRANS_COLUMNS)
    data_dir = work + "/data"
    capture = subprocess.Popen(
        [eddy, "run", "--source", source.url, "--data-dir", data_dir, "--stream",
         "retail", "--tables", "public.retail_trans", "--shards", "4", "--api-listen",
         "127.0.0.1:0", "--sink", f"file://{work}/check?name=check&buffer_interval=1"],
        stdout=open(work + "/capture.log", "w"), stderr=subprocess.STDOUT)
    try:
        step = 1000
        script = []
        for start in range(1, workload.inserts + 1, step):
            end = min(start + step - 1, workload.inserts)
            script.append(f"INSERT INTO retail_trans SELECT g, g % 97, 'SKU-' || (g % 5003), "
                          f"1 + g % 7, (g % 10000) / 100.0, CASE WHEN g % 5 = 0 THEN NULL ELSE "
                          f"'customer-' || g END, now() - (g || ' seconds')::interval "
                          f"FROM generate_series({start}, {end}) g;")
        # Updates hit every other row of the first 2*updates ids; deletes the last ids.
        for start in range(1, 2 * workload.updates + 1, 2 * step):
            end = min(start + 2 * step - 1, 2 * workload.updates)
            script.append(f"UPDATE retail_trans SET qty = qty + 1, price = price + 0.01 "
                          f"WHERE id BETWEEN {start} AND {end} AND id % 2 = 1;")
        for start in range(workload.inserts - workload.deletes + 1, workload.inserts + 1, step):
            end = min(start + step - 1, workload.inserts)
            script.append(f"DELETE FROM retail_trans WHERE id BETWEEN {start} AND {end};")
        subprocess.run(["psql", source.url, "-v", "ON_ERROR_STOP=1", "-q"],
                       input="\n".join(script), text=True, check=True, env=ENV,
                       stdout=subprocess.DEVNULL)
        wait_for(lambda: capture.poll() is None and
                 delivered(eddy, data_dir, "check") >= workload.total,
                 900, "the workload to be captured")
    finally:
        stop_process(capture)
    return data_dir

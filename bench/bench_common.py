"""Shared pieces of the benchmark scripts: free_port, port_open and wait_for (the end-to-end
tests' own, tests/e2e/e2e_common.py: one implementation for tests and benchmarks), and
run_kinesis_load, which drives kinesis_load (bench/api/kinesis_load.cc) through its ready/go
protocol so that only the measured work is timed, create_retail_trans, the seeds'
retail_trans table in PostgreSQL, and librdkafka_cpu_seconds, the CPU of a process's
librdkafka threads.

A script in a folder of bench/ imports it after putting bench/ on its path:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from e2e_common import free_port, port_open, wait_for  # noqa: E402,F401

__all__ = ["free_port", "port_open", "wait_for", "run_kinesis_load", "create_retail_trans",
           "librdkafka_cpu_seconds"]


def run_kinesis_load(binary, args):
    """Runs `binary args...`, waits for its "ready" line, says "go" and returns the JSON
    figures it prints when done; SystemExit when it does not get ready or fails."""
    proc = subprocess.Popen([binary] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline().strip()
    if line != "ready":
        raise SystemExit(f"kinesis_load did not get ready: {line!r}")
    proc.stdin.write("go\n")
    proc.stdin.flush()
    out = proc.stdout.readline()
    if proc.wait() != 0:
        raise SystemExit("kinesis_load failed")
    return json.loads(out)


def create_retail_trans(db, rows):
    """Creates retail_trans (the seeds' table) in PostgreSQL `db` (e2e_common.Postgres) with
    `rows` generated rows: keys 1..rows, 50,000 customers, four events, 5,003 SKUs."""
    db.sql("CREATE TABLE retail_trans (trans_id bigint PRIMARY KEY, customer_id text,"
           " event text, sku text, device text, quantity int, trans_datetime timestamp)")
    db.sql("INSERT INTO retail_trans SELECT g, 'C' || lpad((g % 50000)::text, 6, '0'),"
           " (ARRAY['purchase','return','view','add_to_cart'])[1 + g % 4],"
           " 'SKU-' || (g % 5003), (ARRAY['web','ios','android'])[1 + g % 3], 1 + g % 7,"
           " TIMESTAMP '2026-01-01' + (g || ' seconds')::interval"
           f" FROM generate_series(1, {rows}) g")


def librdkafka_cpu_seconds(pid):
    """(main thread, all librdkafka threads) CPU seconds of a running process: librdkafka names
    its threads rdk:main, rdk:broker<N>, ... (/proc/PID/task/*/stat)."""
    main = total = 0.0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return float("nan"), float("nan")
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if name.startswith("rdk:"):
            total += seconds
            if name == "rdk:main":
                main += seconds
    return main, total

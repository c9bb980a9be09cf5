"""Shared pieces of the benchmark scripts: free_port, port_open and wait_for (the end-to-end
tests' own, tests/e2e/e2e_common.py: one implementation for tests and benchmarks), and
run_kinesis_load, which drives kinesis_load (bench/api/kinesis_load.cc) through its ready/go
protocol so that only the measured work is timed, create_retail_trans, the seeds'
retail_trans table in PostgreSQL, thread_cpu_seconds and librdkafka_cpu_seconds, the CPU of a
process's threads by name (eddy's threads carry their role's name: docs/operations/metrics.md),
and SystemIdle, the share of the machine's CPU time left idle over a measured stretch.

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
           "librdkafka_cpu_seconds", "thread_cpu_seconds", "format_thread_cpu", "SystemIdle"]


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


def thread_cpu_seconds(pid):
    """{thread name: CPU seconds (user + system)} of a running process's live threads, threads
    of one name summed (/proc/PID/task/*/stat); {} when the process is gone."""
    by_name = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return by_name
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as stat:
                text = stat.read()
        except OSError:
            continue  # the thread ended meanwhile
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        by_name[name] = by_name.get(name, 0.0) + seconds
    return by_name


def format_thread_cpu(by_name, least=0.01):
    """"sink-lane-0 1.10, rdk:broker1 0.98, ..." for thread_cpu_seconds' result, busiest first."""
    rows = sorted(by_name.items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {seconds:.2f}" for name, seconds in rows if seconds >= least)


def librdkafka_cpu_seconds(pid):
    """(main thread, all librdkafka threads) CPU seconds of a running process: librdkafka names
    its threads rdk:main, rdk:broker<N>, ... (/proc/PID/task/*/stat)."""
    by_name = thread_cpu_seconds(pid)
    if not by_name:
        return float("nan"), float("nan")
    total = sum(seconds for name, seconds in by_name.items() if name.startswith("rdk:"))
    return by_name.get("rdk:main", 0.0), total


class SystemIdle:
    """The share of the machine's CPU time (all cores) that was idle between the object's
    creation and stop() (/proc/stat): what a run left unused, for a run that should be bound
    by CPU."""

    def __init__(self):
        self._start = self._read()

    @staticmethod
    def _read():
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait, all

    def stop(self):
        idle, total = self._read()
        return (idle - self._start[0]) / max(total - self._start[1], 1)

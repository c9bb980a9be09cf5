#!/usr/bin/env python3
"""`eddy tail` throughput against GetRecords on the same change log, in the same run; prints
records/s of each and the ratio (issue 20 target: `eddy tail` >= 1,000,000 native records/s).

    python3 bench/tail/tail_throughput.py EDDY TAIL_BENCH_MAKE_LOG KINESIS_LOAD
        [--inserts=1000000 --updates=500000 --deletes=200000] [--repeat=3] [--keep]

1. `tail_bench_make_log` writes the seeds' workload (retail_trans: BIGINT key, INT, four
   VARCHARs, DATETIME(6); inserts, then updates with before and after images, then deletes, in
   5,000-row source transactions) as the change events a MariaDB capture stores, into a CDC
   stream `cdc` (native format, NEW_AND_OLD_IMAGES, 4 shards).
2. eddy tail: `eddy tail --data-dir D --stream cdc` with stdout a pipe this script drains in
   1 MiB reads, counting lines (as a consumer like jq or a file would take them). Timed from
   start to end of output; its CPU time from wait4.
3. Reference: `eddy serve` on the same directory; `kinesis_load get` (native client, keep-alive
   HTTP/1.1, every reply parsed by simdjson) drains the four shards through GetRecords, which
   renders the same records in the same format. Rate = records / its own timed seconds.
--repeat alternates 2 and 3 that many times and prints the median ratio. --baseline=EDDY2 also
runs `eddy tail` of another build (an older commit) in each round, on the same log, and prints
the speed-up of the first over it. Every run prints its CPU time per record, the figure the
machine's load disturbs least.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_common import free_port, run_kinesis_load, wait_for  # noqa: E402


STREAM = "cdc"


def run_tail(eddy, data):
    """Returns (lines, seconds, cpu seconds of eddy tail)."""
    began = time.monotonic()
    proc = subprocess.Popen([eddy, "tail", "--data-dir", data, "--stream", STREAM],
                            stdout=subprocess.PIPE, bufsize=0)
    lines = 0
    while True:
        chunk = proc.stdout.read(1 << 20)
        if not chunk:
            break
        lines += chunk.count(b"\n")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - began
    if status != 0:
        raise SystemExit(f"eddy tail failed (wait status {status})")
    return lines, seconds, usage.ru_utime + usage.ru_stime


def run_get(kinesis_load, port, shards):
    return run_kinesis_load(kinesis_load, ["get", f"--port={port}", f"--stream={STREAM}",
                                           "--shards=" + ",".join(shards)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("make_log")
    parser.add_argument("kinesis_load")
    parser.add_argument("--inserts", type=int, default=1000000)
    parser.add_argument("--updates", type=int, default=500000)
    parser.add_argument("--deletes", type=int, default=200000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--baseline", help="another eddy binary whose tail runs in each round")
    parser.add_argument("--log", help="an existing data directory (from --keep) instead of a new log")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="eddy-tail-bench-")
    data = os.path.join(work, "data")
    server = None
    try:
        began = time.monotonic()
        if args.log:
            data = args.log
            written = args.inserts + args.updates + args.deletes  # one record per change
        else:
            written = int(subprocess.check_output(
                [args.make_log, f"--data-dir={data}", f"--stream={STREAM}",
                 f"--inserts={args.inserts}", f"--updates={args.updates}",
                 f"--deletes={args.deletes}"], stderr=subprocess.DEVNULL).decode().strip())
        size = sum(os.path.getsize(os.path.join(root, name))
                   for root, _, names in os.walk(data) for name in names)
        print(f"log: {written:,} records, {size / 1e6:.0f} MB, written in "
              f"{time.monotonic() - began:.1f} s", flush=True)
        shards = [f"shardId-{i:012d}" for i in range(4)]
        ratios = []
        for run in range(args.repeat):
            load = os.getloadavg()[0]
            lines, seconds, cpu = run_tail(args.eddy, data)
            if lines != written:
                raise SystemExit(f"eddy tail printed {lines} lines, expected {written}")
            tail_rate = lines / seconds
            if args.baseline:
                base_lines, base_seconds, base_cpu = run_tail(args.baseline, data)
                if base_lines != written:
                    raise SystemExit(f"baseline printed {base_lines} lines, expected {written}")
                print(f"run {run + 1}: baseline eddy tail {base_lines / base_seconds:,.0f} "
                      f"records/s ({base_cpu:.2f} CPU s, {base_cpu / written * 1e6:.2f} us/record); "
                      f"this build {tail_rate:,.0f} records/s ({cpu:.2f} CPU s, "
                      f"{cpu / written * 1e6:.2f} us/record): {base_seconds / seconds:.2f}x "
                      f"faster, {base_cpu / cpu:.2f}x less CPU", flush=True)
            port = free_port()
            server = subprocess.Popen([args.eddy, "serve", "--data-dir", data, "--api-listen",
                                       f"127.0.0.1:{port}", "--log-level", "warn"],
                                      stdout=open(os.path.join(work, "eddy.log"), "a"),
                                      stderr=subprocess.STDOUT)

            def up():
                if server.poll() is not None:
                    raise SystemExit(f"eddy serve exited; see {work}/eddy.log")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    return True
                except OSError:
                    return False

            wait_for(up, 30, "eddy serve to listen", interval=0.01)
            get = run_get(args.kinesis_load, port, shards)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            server = None
            if get["count"] != written:
                raise SystemExit(f"GetRecords read {get['count']} records, expected {written}")
            get_rate = get["count"] / get["seconds"]
            ratio = tail_rate / get_rate
            ratios.append(ratio)
            print(f"run {run + 1} (load average {load:.1f}): eddy tail {lines:,} records in "
                  f"{seconds:.2f} s = {tail_rate:,.0f} records/s ({cpu:.2f} CPU s, "
                  f"{cpu / written * 1e6:.2f} us/record); "
                  f"GetRecords {get['count']:,} in {get['seconds']:.2f} s = {get_rate:,.0f} "
                  f"records/s; ratio tail / GetRecords {ratio:.2f}", flush=True)
        print(f"median ratio tail / GetRecords: {statistics.median(ratios):.2f} "
              f"(target: eddy tail >= 1,000,000 records/s)")
    finally:
        if server is not None and server.poll() is None:
            server.kill()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

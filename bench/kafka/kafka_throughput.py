#!/usr/bin/env python3
"""Kafka publishing throughput: eddy's Kafka sink (the `eddy` binary) against `kcat -P` pushing
the same rendered records from a file, into the same librdkafka mock cluster, in one run.

    python3 bench/kafka/kafka_throughput.py EDDY LOCALDB KAFKA_MOCK_CLUSTER
        [--rows=200000] [--pad=100] [--batch-size=2000 (0: not set)] [--shards=4]
        [--format=debezium|debezium-schema] [--exactly-once=both|true|false]
        [--repeat=1] [--baseline=OTHER_EDDY] [--command=run|serve]

1. A throwaway PostgreSQL (eddy-localdb) gets --rows rows; `eddy run` (no sink) captures them
   (the snapshot) into a change log, and stops. --format is the sink's (default debezium, payload
   only; debezium-schema adds JsonConverter's schema part to keys and values).
2. `eddy run --sink kafka://...` on that log, exactly_once=true (a transaction per batch) and
   then exactly_once=false (idempotent producer) into fresh topics: seconds from the process's
   start until eddy_sink_delivered_records_total (its /metrics) reaches --rows.
3. `eddy tail --format debezium` writes the same rendered records; each becomes a line
   `KEY<TAB>VALUE` (KEY the Debezium key, as the sink writes it); `kcat -P -K'\t' -l` sends
   the file with the same partitioner (murmur2_random) and idempotence; seconds of the kcat run.
Prints records/s of each and the ratio kcat seconds / eddy seconds (> 1: eddy faster), and the
CPU seconds (user + system) each used: eddy's process until its last record was acknowledged
(/proc/PID/stat, with its page faults, and apart the part of librdkafka's threads and of its
main thread, which in librdkafka 2.0.2 polls through each transaction's 1 ms timer), kcat's
(its rusage), and the mock cluster's in each phase; eddy's CPU by thread (its threads carry
their role's name: sink-lane-0, kafka-render, sink-control, rdk:broker1, ...), and the share of
the machine's CPU time left idle during each run (a run bound by CPU leaves little). On a machine shared with other work the wall-clock ratio moves with the load; the CPU
figures move much less.

Start-up, apart: eddy's is the time from its process start to its first acknowledged batch less
that batch's share at the steady rate (loading the binary, opening the log, connecting to
PostgreSQL and Kafka, the first read); kcat's is the seconds of `kcat -P` sending one record
(process start, connecting, the producer id). At 100,000 records kcat needs about 0.1-0.2 s and
eddy's start-up decides the ratio; --rows=1000000 shows the throughput at the seeds' scale.

--command=serve runs the sink with `eddy serve` on the captured log instead of `eddy run` (which
also connects to PostgreSQL and captures on while it delivers).

--repeat=N runs the eddy phases and kcat N times on the same log (one PostgreSQL, one capture);
--baseline=OTHER_EDDY runs that binary's phases too, alternating with EDDY in each round (a
before/after comparison in the same minutes). With N > 1 the medians are printed at the end.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "support"))
from kafka_cluster import KafkaMockCluster  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_common import SystemIdle, format_thread_cpu, librdkafka_cpu_seconds, thread_cpu_seconds  # noqa: E402


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)  # polling a condition with a deadline
    raise SystemExit(f"timed out after {seconds}s waiting for {what}")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(port, name, sink=None):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (sink is None or f'sink="{sink}"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


def cpu_seconds(pid):
    """User + system CPU seconds of a running process (/proc/PID/stat utime and stime)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def minor_faults(pid):
    """Page faults served without I/O so far (/proc/PID/stat minflt): mostly memory the kernel
    zeroed for the process, which a process that reuses its buffers keeps low."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[7])
    except OSError:
        return -1


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    parser.add_argument("mock")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pad", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=2000,
                        help="the sink's batch_size; 0: not set (the sink's own default)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--format", default="debezium", choices=["debezium", "debezium-schema"])
    parser.add_argument("--exactly-once", default="both", choices=["both", "true", "false"],
                        help="which of the sink's modes to run")
    parser.add_argument("--repeat", type=int, default=1, help="rounds on the same log")
    parser.add_argument("--baseline", help="another eddy binary, run alternately in each round")
    parser.add_argument("--command", default="run", choices=["run", "serve"],
                        help="the eddy command that runs the sink: `eddy run` (capture and sink "
                             "in one process) or `eddy serve` on the captured log")
    args = parser.parse_args()
    modes = ("true", "false") if args.exactly_once == "both" else (args.exactly_once,)
    binaries = [("eddy", args.eddy)] + ([("baseline", args.baseline)] if args.baseline else [])
    work = tempfile.mkdtemp(prefix="eddy-kafka-bench-")
    db = None
    try:
        with KafkaMockCluster(args.mock, brokers=1) as cluster:
            db = subprocess.Popen([args.localdb, "start", "postgres", "--url-file", work + "/url"],
                                  stdout=subprocess.DEVNULL, stderr=open(work + "/localdb.log", "w"))
            url = wait_for(lambda: os.path.exists(work + "/url") and open(work + "/url").read().strip(),
                           120, "PostgreSQL to start")
            subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c",
                            f"CREATE TABLE t (id bigint PRIMARY KEY, pad text NOT NULL); "
                            f"INSERT INTO t SELECT i, repeat('x', {args.pad}) FROM generate_series(1, {args.rows}) i"],
                           check=True, stdout=subprocess.DEVNULL)
            base = [args.eddy, "run", "--source", url, "--data-dir", work + "/data", "--stream", "t",
                    "--tables", "public.t", "--shards", str(args.shards)]
            port = free_port()
            capture = subprocess.Popen(base + ["--api-listen", f"127.0.0.1:{port}"],
                                       stdout=open(work + "/capture.log", "w"), stderr=subprocess.STDOUT)
            wait_for(lambda: metric(port, "eddy_log_appended_records_total") >= args.rows, 600,
                     "the snapshot to be captured")
            capture.send_signal(signal.SIGTERM)
            capture.wait(timeout=60)

            # The reference's input: the same rendered records, written once from the log.
            tail = subprocess.run([args.eddy, "tail", "--data-dir", work + "/data", "--stream", "t",
                                   "--format", args.format], capture_output=True, check=True)
            lines = []
            for line in tail.stdout.decode().splitlines():
                if not line.startswith("{"):
                    continue
                record = json.loads(line)
                after = record.get("payload", record).get("after")
                if after is None:
                    continue
                key = json.dumps({"id": after["id"]}, separators=(",", ":"))
                if args.format == "debezium-schema":  # the key with its schema, as the sink writes it
                    key = ('{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,'
                           '"field":"id"}],"optional":false,"name":"bench-kcat.public.t.Key"},'
                           '"payload":' + key + '}')
                lines.append(key + "\t" + line)
            assert len(lines) == args.rows, f"eddy tail printed {len(lines)} rows"
            with open(work + "/records.txt", "w") as out:
                out.write("\n".join(lines) + "\n")
            with open(work + "/one.txt", "w") as out:
                out.write(lines[0] + "\n")
            size = os.path.getsize(work + "/records.txt")
            del lines, tail

            def run_kcat(topic, path):
                cluster.create(topic, 4)
                started = time.monotonic()
                cpu = children_cpu_seconds()
                mock_cpu = cpu_seconds(cluster.process.pid)
                idle = SystemIdle()
                subprocess.run(["kcat", "-P", "-b", cluster.bootstrap, "-t", topic, "-K", "\t",
                                "-X", "partitioner=murmur2_random", "-X", "enable.idempotence=true",
                                "-l", path], check=True)
                return (time.monotonic() - started, children_cpu_seconds() - cpu,
                        cpu_seconds(cluster.process.pid) - mock_cpu, idle.stop())

            def run_eddy(binary, name, exactly_once):
                port = free_port()
                cluster.create(f"{name}.public.t", 4)
                sink = (f"kafka://{cluster.bootstrap}?topic_prefix={name}&name={name}&format={args.format}"
                        f"&exactly_once={exactly_once}")
                if args.batch_size > 0:
                    sink += f"&batch_size={args.batch_size}"
                if args.command == "serve":
                    command = [binary, "serve", "--data-dir", work + "/data", "--api-listen",
                               f"127.0.0.1:{port}", "--sink", sink + "&stream=t"]
                else:
                    command = [binary] + base[1:] + ["--api-listen", f"127.0.0.1:{port}", "--sink", sink]
                started = time.monotonic()
                mock_cpu = cpu_seconds(cluster.process.pid)
                idle = SystemIdle()
                run = subprocess.Popen(command, stdout=open(work + f"/{name}.log", "w"),
                                       stderr=subprocess.STDOUT)
                # From the process's start, and from its first delivered batch (without the
                # start: connecting to PostgreSQL and Kafka, the CreateTopics probe).
                wait_for(lambda: run.poll() is not None or
                         metric(port, "eddy_sink_delivered_records_total", name) > 0, 600,
                         f"{name}: the first batch")
                first = time.monotonic()
                first_count = metric(port, "eddy_sink_delivered_records_total", name)
                wait_for(lambda: run.poll() is not None or
                         metric(port, "eddy_sink_delivered_records_total", name) >= args.rows, 600,
                         f"{name}: every record delivered")
                done = time.monotonic()
                idle_share = idle.stop()
                eddy_cpu = cpu_seconds(run.pid)
                threads = thread_cpu_seconds(run.pid)
                rdk_main_cpu, rdk_cpu = librdkafka_cpu_seconds(run.pid)
                eddy_faults = minor_faults(run.pid)
                mock_cpu = cpu_seconds(cluster.process.pid) - mock_cpu
                steady = (args.rows - first_count) / max(done - first, 1e-6)
                # The start-up: to the first acknowledged batch, less that batch at the steady rate.
                startup = max(first - started - first_count / steady, 0.0)
                batches = metric(port, "eddy_sink_batch_duration_seconds_count", name)
                in_deliver = metric(port, "eddy_sink_batch_duration_seconds_sum", name)
                if run.poll() is not None:
                    raise SystemExit(f"eddy exited; see {work}/{name}.log")
                run.send_signal(signal.SIGTERM)
                run.wait(timeout=60)
                return {"seconds": done - started, "steady": steady, "startup": startup,
                        "first": first - started, "first_count": first_count, "cpu": eddy_cpu,
                        "rdk_cpu": rdk_cpu, "rdk_main_cpu": rdk_main_cpu,
                        "faults": eddy_faults, "mock_cpu": mock_cpu, "batches": batches, "in_deliver": in_deliver,
                        "idle": idle_share, "threads": format_thread_cpu(threads)}

            print(f"{args.rows} records ({size / args.rows:.0f} B each as key+value), batch_size "
                  f"{args.batch_size}, format {args.format}", flush=True)
            summary = {}
            for round_number in range(1, args.repeat + 1):
                load = open("/proc/loadavg").read().split()[0]
                print(f"-- round {round_number} of {args.repeat}, load {load}", flush=True)
                results = []
                for label, binary in binaries:
                    for exactly_once in modes:
                        name = f"bench-r{round_number}-{label}-eo-{exactly_once}"
                        results.append((label, exactly_once, run_eddy(binary, name, exactly_once)))
                kcat_seconds, kcat_cpu, kcat_mock_cpu, kcat_idle = run_kcat(
                    f"bench-kcat-r{round_number}", work + "/records.txt")
                kcat_start, _, _, _ = run_kcat(f"bench-kcat-one-r{round_number}", work + "/one.txt")
                print(f"kcat -P from a file:          {kcat_seconds:7.2f} s  {args.rows / kcat_seconds:10,.0f} "
                      f"records/s; CPU {kcat_cpu:.2f} s (mock cluster {kcat_mock_cpu:.2f} s); the machine "
                      f"{kcat_idle:.0%} idle; its start-up (one record) {kcat_start:.3f} s")
                for label, exactly_once, r in results:
                    ratio = kcat_seconds / r["seconds"]
                    steady_ratio = r["steady"] / (args.rows / kcat_seconds)
                    cpu_ratio = kcat_cpu / r["cpu"]
                    who = "eddy" if label == "eddy" else "baseline"
                    print(f"{who} exactly_once={exactly_once:<5}: {r['seconds']:7.2f} s  "
                          f"{args.rows / r['seconds']:10,.0f} records/s  ratio kcat/eddy {ratio:.2f} "
                          f"(target >= 1.0); after the first batch {r['steady']:,.0f} records/s, "
                          f"ratio {steady_ratio:.2f}; start-up {r['startup']:.3f} s (first batch of "
                          f"{r['first_count']:.0f} acknowledged at {r['first']:.3f} s); CPU {r['cpu']:.2f} s "
                          f"(librdkafka's threads {r['rdk_cpu']:.2f} s, its main thread {r['rdk_main_cpu']:.2f} s), "
                          f"{r['faults']:,} page faults "
                          f"(mock cluster {r['mock_cpu']:.2f} s), CPU ratio kcat/eddy {cpu_ratio:.2f}; "
                          f"{r['batches']:.0f} batches, {r['in_deliver']:.2f} s in Deliver; the machine "
                          f"{r['idle']:.0%} idle; CPU by thread: {r['threads']}", flush=True)
                    summary.setdefault((who, exactly_once), []).append(
                        (ratio, steady_ratio, r["startup"], cpu_ratio))
            if args.repeat > 1:
                print("-- medians over the rounds")
                for (who, exactly_once), rows in summary.items():
                    columns = list(zip(*rows))
                    print(f"{who} exactly_once={exactly_once:<5}: ratio kcat/eddy "
                          f"{statistics.median(columns[0]):.2f}, after the first batch "
                          f"{statistics.median(columns[1]):.2f}, start-up {statistics.median(columns[2]):.3f} s, "
                          f"CPU ratio {statistics.median(columns[3]):.2f} "
                          f"(ratios {' / '.join(f'{v:.2f}' for v in columns[0])})")
        return 0
    finally:
        if db is not None:
            db.send_signal(signal.SIGTERM)
            try:
                db.wait(timeout=60)
            except subprocess.TimeoutExpired:
                db.kill()
        if not os.environ.get("EDDY_KEEP_WORK"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

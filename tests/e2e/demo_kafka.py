#!/usr/bin/env python3
"""`eddy demo`'s Kafka block: the demo starts librdkafka's mock cluster in its own process (Debian
has no Kafka broker) and prints kcat commands that read its topics while it runs. This test runs
the demo, takes the broker address and topic names from those printed commands, and reads the
topics with kcat (a real client) while the demo runs: every change the demo printed for
PostgreSQL and MariaDB (op and trans_id) must reach its topic, as Debezium's envelope keyed by
the primary key. Then Ctrl-C (SIGINT) stops the demo cleanly.

    demo_kafka.py EDDY
"""
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import stop_process, wait_for  # noqa: E402

COMMAND = re.compile(r"^\s*kcat -C -b (\S+) -t (\S+) ")


def changes_printed(lines, prefix):
    """{(op, trans_id)} of the demo's printed change lines of one database."""
    out = set()
    for line in lines:
        if not line.startswith(prefix):
            continue
        change = json.loads(line[len(prefix):])
        row = change.get("after") or change.get("before")
        if row is not None and change.get("op") in ("c", "u", "d", "r"):
            out.add((change["op"], int(row["trans_id"])))
    return out


def changes_in_topic(brokers, topic):
    """{(op, trans_id)} of the topic's change records, read by kcat (-J: key, payload)."""
    result = subprocess.run(["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e",
                             "-q", "-J", "-X", "isolation.level=read_committed"],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"kcat -C -t {topic} exited {result.returncode}: {result.stderr}")
    out = set()
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message.get("payload") is None:
            continue  # a tombstone
        value = json.loads(message["payload"])
        key = json.loads(message["key"])
        row = value.get("after") or value.get("before")
        assert value["source"]["table"] == "retail_trans", value
        assert key == {"trans_id": row["trans_id"]}, (key, row)
        out.add((value["op"], int(row["trans_id"])))
    return out


def main():
    eddy = sys.argv[1]
    if shutil.which("kcat") is None:
        raise AssertionError("kcat is not installed (scripts/install-deps.sh installs it)")
    demo = subprocess.Popen([eddy, "demo", "--api-listen", "127.0.0.1:0", "--rate", "20",
                             "--duration", "600"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    lock = threading.Lock()
    errors = queue.Queue()

    def read():
        for line in demo.stdout:
            with lock:
                lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    stderr_reader = threading.Thread(target=lambda: [errors.put(line) for line in demo.stderr],
                                     daemon=True)
    stderr_reader.start()
    try:
        def commands():
            with lock:
                found = [COMMAND.match(line) for line in lines]
            found = [match.groups() for match in found if match]
            return found if len(found) == 2 else None

        (brokers, postgres_topic), (_, mariadb_topic) = wait_for(
            lambda: demo.poll() is None and commands(), 180, "the demo to print its kcat commands")
        assert postgres_topic == "retail-postgres.public.retail_trans", postgres_topic
        assert re.fullmatch(r"retail-mariadb\.\w+\.retail_trans", mariadb_topic), mariadb_topic
        print(f"demo's Kafka: {brokers}, topics {postgres_topic} and {mariadb_topic}", flush=True)

        def printed():
            with lock:
                snapshot = list(lines)
            return changes_printed(snapshot, "[postgres] "), changes_printed(snapshot, "[mariadb]  ")

        # Some changes beyond the snapshot on each database (creates, updates or deletes).
        wait_for(lambda: demo.poll() is None and all(
            sum(1 for op, _ in changes if op != "r") >= 20 for changes in printed()), 180,
            "the demo's workload to print 20 changes per database")
        want_postgres, want_mariadb = printed()
        for topic, want in ((postgres_topic, want_postgres), (mariadb_topic, want_mariadb)):
            missing = []

            def arrived():
                missing[:] = sorted(want - changes_in_topic(brokers, topic))
                return not missing

            try:
                wait_for(arrived, 120, f"the demo's changes in topic {topic}", interval=0.5)
            except AssertionError:
                raise AssertionError(f"{len(missing)} of {len(want)} printed changes are not in "
                                     f"{topic}, e.g. {missing[:5]}")
            print(f"{topic}: all {len(want)} changes the demo printed are there", flush=True)

        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=120)
        stderr_reader.join(timeout=30)  # the demo closed stderr when it exited
        stderr = []
        while not errors.empty():
            stderr.append(errors.get())
        text = "".join(stderr)
        assert code == 0, f"eddy demo exited {code}: {text}"
        assert "nothing left running" in text, text
        print("1 passed, 0 failed")
        return 0
    finally:
        stop_process(demo)


if __name__ == "__main__":
    sys.exit(main())

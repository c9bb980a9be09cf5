#!/usr/bin/env python3
"""The console's server-side history, alerts and client commands, in Debian's Chromium.

    console_alerts.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE AWS KAFKA_MOCK_CLUSTER ARTIFACT_DIR

Starts a throwaway PostgreSQL 15, a receiver in this process (the webhook sink's deliveries
at /deliver, the alert webhook's JSON bodies at /alerts), librdkafka's mock cluster (Debian has
no Kafka broker) and `eddy run --config` with `[alerts] sample_interval = "1s"` and
`webhook_url`, an admin token, a webhook sink and a Kafka sink. A workload keeps writing.
Then:

- history: once the server holds a few samples of the stream's write rate, the browser
  (console_alerts.mjs) opens the page and its chart shows points from before the page loaded;
- alert: the console's threshold form sets sink_lag_seconds to 1 and its Pause button pauses
  the sink; the alert appears in the console's banner, in /metrics as
  eddy_alert_active{alert="sink_lag_seconds",sink="hook"} 1 (promtool check metrics passes)
  and at the webhook; Resume clears it (banner, metric 0, webhook "cleared"); each raise and
  clear is logged once;
- client commands: the aws CLI, boto3 and kcat commands the console shows for the stream are
  run as shown (aws from AWS, python3 with boto3 from /usr/bin, dummy credentials) and read
  records the capture wrote. The stream has one shard: the aws CLI's loop then starts three aws
  processes, which keeps the test short on a loaded machine.

Screenshots and the /metrics texts are kept in ARTIFACT_DIR. Waits are bounded polls on
conditions; a browser, database or client that cannot start is a failure.
"""
import base64
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from admin_api import TOKEN, Admin
from e2e_common import EddyProcess, Postgres, free_port, stop_process, wait_for
from kafka_common import KafkaMockCluster

HERE = os.path.dirname(os.path.abspath(__file__))


class Receiver:
    """Deliveries of the webhook sink (rows by k) and alert webhook bodies."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []
        self.alerts = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    if self.path.startswith("/alerts"):
                        receiver.alerts.append(json.loads(body))
                    else:
                        for record in json.loads(body)["Records"]:
                            change = json.loads(base64.b64decode(record["kinesis"]["data"]))
                            if change.get("op") in ("c", "u", "r"):
                                receiver.rows.append(int(change["after"]["k"]))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def got_rows(self):
        with self.lock:
            return list(self.rows)

    def got_alerts(self):
        with self.lock:
            return list(self.alerts)


def concatenated_json(text):
    """The JSON documents of `text`, one after another (the aws CLI prints one per call)."""
    decoder = json.JSONDecoder()
    documents, at = [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return documents
        document, at = decoder.raw_decode(text, at)
        documents.append(document)


def run_shown(command, bin_dir, what):
    """Runs a command as the console shows it, in bash, with AWS's and boto3's programs."""
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
               AWS_ACCESS_KEY_ID="console-e2e", AWS_SECRET_ACCESS_KEY="console-e2e",
               AWS_PAGER="")
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120,
                            env=env)
    assert result.returncode == 0, f"{what} failed ({result.returncode}):\n{command}\n{result.stderr}"
    return result.stdout


def promtool_check(path):
    """promtool check metrics (Debian's prometheus package) accepts the text without a finding."""
    with open(path) as metrics:
        result = subprocess.run(["promtool", "check", "metrics"], stdin=metrics,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        f"promtool check metrics {path}: {result.returncode} {result.stdout}{result.stderr}")


def main():
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    binary, localdb, node, aws, mock_cluster, artifacts = sys.argv[1:]
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="eddy-console-alerts-")
    started = time.monotonic()

    def phase(what):
        print(f"console_alerts: {time.monotonic() - started:6.1f}s {what}", flush=True)
    db = eddy = kafka = None
    receiver = Receiver()
    stop_writing = threading.Event()
    writer = None
    try:
        kafka = KafkaMockCluster(mock_cluster).__enter__()
        db = Postgres(localdb, work)
        db.sql("CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)")
        db.sql("INSERT INTO kv SELECT g, 1 FROM generate_series(1, 20) g")
        port = free_port()
        config = os.path.join(work, "eddy.toml")
        with open(config, "w") as out:
            out.write(f"""data_dir = "{work}/data"
[source]
url = "{db.url}"
[[stream]]
name = "kv"
tables = ["public.kv"]
shards = 1
[api]
listen = "127.0.0.1:{port}"
[alerts]
sample_interval = "1s"
sink_lag_seconds = 600
webhook_url = "http://127.0.0.1:{receiver.port}/alerts"
[[sink]]
name = "hook"
url = "webhook+http://127.0.0.1:{receiver.port}/deliver"
max_batching_window = 0
[[sink]]
name = "to-kafka"
url = "kafka://{kafka.bootstrap}?topic_prefix=console"
""")
        eddy = EddyProcess(binary, ["run", "--config", config], work, port,
                           env={"EDDY_ADMIN_TOKEN": TOKEN})
        admin = Admin(port)
        wait_for(lambda: len(receiver.got_rows()) >= 20, 60, "the snapshot's rows")
        phase("snapshot delivered")

        def write():
            k = 100
            while not stop_writing.wait(0.2):  # the workload's pace, not a wait for a result
                k += 1
                db.sql(f"INSERT INTO kv VALUES ({k}, 1)")

        writer = threading.Thread(target=write, daemon=True)
        writer.start()

        # The server's history holds a few samples before any page exists.
        def rate_points():
            answer = admin.ok("GET", "history?kind=stream&name=kv")
            for series in answer["series"]:
                if series["measure"] == "records_per_second":
                    return len(series["points"]) >= 3 and series["points"]
            return False
        wait_for(rate_points, 60, "three samples of kv's write rate in /admin/v1/history")
        settings = admin.ok("GET", "alerts")["settings"]
        assert settings["sample_interval"] == "1s" and settings["sink_lag_seconds"] == 600, settings

        phase("history holds three samples")
        browser = subprocess.run(
            [node, os.path.join(HERE, "console_alerts.mjs"), f"http://127.0.0.1:{port}", TOKEN,
             artifacts],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=240)
        print(browser.stdout, end="")
        assert browser.returncode == 0, f"console_alerts.mjs failed:\n{browser.stderr}"

        phase("browser checks done")
        # Quiet the alert again so nothing flaps while the counts are compared.
        admin.ok("PATCH", "alerts", {"sink_lag_seconds": 600})

        # /metrics while the alert was active and after it cleared.
        active = os.path.join(artifacts, "metrics-alert-active.txt")
        cleared = os.path.join(artifacts, "metrics-alert-cleared.txt")
        series = 'eddy_alert_active{alert="sink_lag_seconds",sink="hook"}'
        assert f"{series} 1" in open(active).read(), f"{series} 1 missing from {active}"
        assert f"{series} 0" in open(cleared).read(), f"{series} 0 missing from {cleared}"
        promtool_check(active)
        promtool_check(cleared)

        # The webhook got the raise and the clear; each was logged once.
        def hook_alerts(state):
            return [a for a in receiver.got_alerts()
                    if a["alert"] == "sink_lag_seconds" and a.get("sink") == "hook"
                    and a["state"] == state]
        wait_for(lambda: hook_alerts("raised") and hook_alerts("cleared"), 30,
                 "the alert webhook's raised and cleared notifications")
        raised, cleared_alerts = hook_alerts("raised"), hook_alerts("cleared")
        assert "threshold" in raised[0] and raised[0]["value"] >= 1, raised[0]
        log = eddy.log()
        logged_raised = len(re.findall(r"alert raised: alert=sink_lag_seconds sink=hook", log))
        logged_cleared = len(re.findall(r"alert cleared: alert=sink_lag_seconds sink=hook", log))
        wait_for(lambda: len(hook_alerts("cleared")) == logged_cleared, 30, "every clear posted")
        assert logged_raised == len(hook_alerts("raised")) >= 1, (logged_raised, raised)
        assert logged_cleared == logged_raised, (logged_raised, logged_cleared)

        phase("metrics, webhook and log checked")
        # The commands shown for kv read it.
        commands = json.load(open(os.path.join(artifacts, "clients.json")))
        bin_dir = os.path.join(work, "bin")
        os.makedirs(bin_dir)
        os.symlink(aws, os.path.join(bin_dir, "aws"))
        os.symlink("/usr/bin/python3", os.path.join(bin_dir, "python3"))
        read_all = [c for c in commands if c["client"] == "aws" and "get-records" in c["command"]]
        assert len(read_all) == 1, commands
        documents = concatenated_json(run_shown(read_all[0]["command"], bin_dir, "the aws CLI command"))
        payloads = [base64.b64decode(r["Data"]).decode() for d in documents for r in d["Records"]]
        assert any('"k"' in p for p in payloads), f"the aws CLI command read no kv row: {payloads[:3]}"
        phase("aws CLI command read the stream")
        boto3 = [c for c in commands if c["client"] == "boto3"]
        assert len(boto3) == 1, commands
        lines = run_shown(boto3[0]["command"], bin_dir, "the boto3 command").splitlines()
        assert any(line.startswith("shardId-") and '"k"' in line for line in lines), lines[:3]
        phase("boto3 command read the stream")
        kcat = [c for c in commands if c["client"] == "kcat" and " -C " in c["command"]]
        assert len(kcat) == 1 and "'console.public.kv'" in kcat[0]["command"], commands
        messages = run_shown(kcat[0]["command"], bin_dir, "the kcat command").splitlines()
        assert any('"k"' in m for m in messages), f"the kcat command read no kv row: {messages[:3]}"
        print(f"console_alerts: {len(payloads)} records read with the aws CLI command, "
              f"{len(lines)} with boto3, {len(messages)} with kcat; alert raised "
              f"{logged_raised}x and cleared; "
              f"artifacts in {artifacts}")
        print("console_alerts: 1 passed, 0 failed")
        return 0
    finally:
        stop_writing.set()
        if writer is not None:
            writer.join()
        if eddy is not None:
            stop_process(eddy.process if eddy else None)
        if db is not None:
            db.stop()
        if kafka is not None:
            kafka.stop()
        receiver.server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

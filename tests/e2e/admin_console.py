#!/usr/bin/env python3
"""The web console (`GET /`) in Debian's Chromium through playwright-core.

    admin_console.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE ARTIFACT_DIR

Starts a throwaway PostgreSQL 15, a webhook receiver and `eddy run` with an admin token (as
admin_api.py does), keeps a workload writing, and runs admin_console.mjs against eddy's API
port: the page loads without console errors, its numbers change while the workload runs, and
its Pause button pauses the sink, which this script then checks through the admin API.
Screenshots are kept in ARTIFACT_DIR. A browser that cannot start is a failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from admin_api import TOKEN, Admin, Receiver, start_eddy, values
from e2e_common import Postgres, free_port, stop_process, wait_for


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    binary, localdb, node, artifacts = sys.argv[1:]
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="eddy-admin-console-")
    db = eddy = None
    receiver = Receiver()
    stop_writing = threading.Event()
    writer = None
    try:
        db = Postgres(localdb, work)
        db.sql("CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)")
        db.sql("INSERT INTO kv SELECT g, 1 FROM generate_series(1, 20) g")
        port = free_port()
        sink_url = (f"webhook+http://127.0.0.1:{receiver.port}/configured"
                    "?name=configured-hook&max_batching_window=0")
        eddy = start_eddy(binary, work, db, port, sink_url)
        admin = Admin(port)
        wait_for(lambda: len(values(receiver.got("/configured"))) == 20, 60, "the snapshot's rows")

        def write():
            k = 100
            while not stop_writing.wait(0.2):  # the workload's pace, not a wait for a result
                k += 1
                db.sql(f"INSERT INTO kv VALUES ({k}, 1)")

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        browser = subprocess.run(
            [node, os.path.join(os.path.dirname(os.path.abspath(__file__)), "admin_console.mjs"),
             f"http://127.0.0.1:{port}", TOKEN, artifacts],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)
        print(browser.stdout, end="")
        assert browser.returncode == 0, f"admin_console.mjs failed:\n{browser.stderr}"
        sink = admin.sink("configured-hook")
        assert sink["state"] == "PAUSED", f"the console's Pause did not pause the sink: {sink}"
        assert sink["checkpoint"]["generation"] >= 1, f"the console's Reset did not reset: {sink}"
        # The replication row the page showed is the server's slot (pg_replication_slots).
        shown = [json.loads(line)["replication"] for line in browser.stdout.splitlines()
                 if line.startswith('{"replication"')]
        assert shown, browser.stdout
        slot = db.query("SELECT slot_name || ' ' || wal_status FROM pg_replication_slots "
                        "WHERE slot_name = 'eddy'").strip()
        assert slot == "eddy " + shown[0]["wal-status"], (slot, shown)
        source = [s for s in admin.ok("GET", "sources")["sources"] if s["name"] == "default"]
        replication = source[0]["replication"]
        assert replication[0]["slot_name"] == "eddy" and replication[0]["kind"] == "postgresql", \
            replication
        assert isinstance(replication[0]["lag_bytes"], int), replication
        print(f"admin_console: screenshots in {artifacts}")
        print("admin_console: 1 passed, 0 failed")
        return 0
    finally:
        stop_writing.set()
        if writer is not None:
            writer.join()
        if eddy is not None:
            stop_process(eddy.process)
        if db is not None:
            db.stop()
        receiver.server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

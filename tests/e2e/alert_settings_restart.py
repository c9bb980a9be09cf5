#!/usr/bin/env python3
"""Alert thresholds changed through PATCH /admin/v1/alerts survive a restart.

    alert_settings_restart.py EDDY_BINARY

Starts `eddy run --config` with one placeholder `[[source]]` and no stream (no database is
needed to exercise the alerts API) and `[alerts] slot_lag_bytes` and `sink_lag_seconds` set.
Then, with curl as the client:

- PATCH /admin/v1/alerts {"sink_lag_seconds": 7, "wal_status": false} answers the new
  settings; DATA/alert-settings now exists and starts with its magic line;
- after a stop and a start (SIGTERM, then `eddy run` again on the same data directory) GET
  /admin/v1/alerts shows the patched values, and slot_lag_bytes, never patched, still follows
  the config file (changed in it between the runs);
- a bad PATCH (unknown key) changes nothing, in memory or on disk;
- a damaged DATA/alert-settings stops `eddy run` with an error naming the file.
"""
import json
import os
import subprocess
import sys

from e2e_common import free_port, port_open, stop_process, wait_for, work_directory

EDDY = sys.argv[1]


def curl(port, method, path, body=None):
    command = ["curl", "-sS", "-X", method, "-w", "\n%{http_code}",
               f"http://127.0.0.1:{port}/admin/v1/{path}"]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "--data", json.dumps(body)]
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    text, _, code = out.rpartition("\n")
    return int(code), json.loads(text)


def start(work, port, slot_lag_bytes):
    config = os.path.join(work, "eddy.toml")
    with open(config, "w") as f:
        f.write(f'data_dir = "{work}/data"\n[api]\nlisten = "127.0.0.1:{port}"\n'
                f'[alerts]\nslot_lag_bytes = {slot_lag_bytes}\nsink_lag_seconds = 300\n'
                '[[source]]\nname = "placeholder"\nurl = "postgresql://127.0.0.1:1/none"\n')
    log_path = os.path.join(work, f"eddy-{slot_lag_bytes}.log")
    env = dict(os.environ)
    env.pop("EDDY_ADMIN_TOKEN", None)
    process = subprocess.Popen([EDDY, "run", "--config", config], env=env,
                               stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    wait_for(lambda: port_open(port) or process.poll() is not None, 60, "eddy's API")
    return process, log_path


def main():
    with work_directory("alert-settings") as work:
        port = free_port()
        eddy, log_path = start(work, port, 1000)
        try:
            assert eddy.poll() is None, open(log_path).read()
            status, body = curl(port, "GET", "alerts")
            assert status == 200 and body["settings"]["sink_lag_seconds"] == 300, body
            status, body = curl(port, "PATCH", "alerts", {"sink_lag_seconds": 7,
                                                          "wal_status": False})
            assert status == 200, (status, body)
            assert body["settings"]["sink_lag_seconds"] == 7, body
            assert body["settings"]["wal_status"] is False, body
            saved_path = os.path.join(work, "data", "alert-settings")
            saved = open(saved_path).read()
            assert saved.startswith("eddy-alert-settings 1\n"), saved
            status, body = curl(port, "PATCH", "alerts", {"no_such_alert": 1})
            assert status == 400 and "no_such_alert" in body["error"]["message"], body
            assert open(saved_path).read() == saved, "a refused PATCH changed the file"
        finally:
            stop_process(eddy)
        assert eddy.returncode == 0, open(log_path).read()

        # The config file's slot_lag_bytes changes between the runs: never patched, it follows.
        eddy, log_path = start(work, port, 2000)
        try:
            assert eddy.poll() is None, open(log_path).read()
            status, body = curl(port, "GET", "alerts")
            assert status == 200, (status, body)
            assert body["settings"]["sink_lag_seconds"] == 7, body
            assert body["settings"]["wal_status"] is False, body
            assert body["settings"]["slot_lag_bytes"] == 2000, body
            assert "alert-settings" in open(log_path).read(), open(log_path).read()
        finally:
            stop_process(eddy)
        assert eddy.returncode == 0, open(log_path).read()

        # A damaged file: eddy does not start, and says which file and what to do.
        with open(saved_path, "r+") as f:
            text = f.read()
            f.seek(0)
            f.write(text.replace("7", "8", 1))
        eddy, log_path = start(work, port, 2000)
        try:
            wait_for(lambda: eddy.poll() is not None, 60, "eddy refusing a damaged file")
        finally:
            stop_process(eddy)
        log = open(log_path).read()
        assert eddy.returncode != 0 and "alert-settings" in log and "CRC" in log, log
    print("alert_settings_restart: OK")


if __name__ == "__main__":
    main()

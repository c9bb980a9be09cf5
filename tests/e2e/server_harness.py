#!/usr/bin/env python3
"""Runs one end-to-end client against a real eddy API server process.

    server_harness.py --server PATH [--server-arg ARG ...] -- CLIENT COMMAND...

Starts the server on 127.0.0.1 with a fresh data directory and port 0, waits (with a deadline,
no fixed sleeps) for it to write its port file, runs the client with EDDY_ENDPOINT,
EDDY_PORT and dummy AWS credentials in the environment, then always stops the server
(SIGTERM, then SIGKILL after a deadline) and removes the data directory. Exits with the
client's status; a server that cannot start is a failure, never a skip.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--server-arg", action="append", default=[])
    parser.add_argument("--startup-seconds", type=float, default=30.0)
    parser.add_argument("--client-seconds", type=float, default=240.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("server_harness: no client command given", file=sys.stderr)
        return 2

    work = tempfile.mkdtemp(prefix="eddy-e2e-")
    port_file = os.path.join(work, "port")
    data_dir = os.path.join(work, "data")
    server_log = open(os.path.join(work, "server.log"), "w+")
    server = subprocess.Popen(
        [args.server, "--data-dir", data_dir, "--listen", "127.0.0.1:0", "--port-file", port_file]
        + args.server_arg,
        stdout=server_log, stderr=subprocess.STDOUT)
    status = 1
    try:
        deadline = time.monotonic() + args.startup_seconds
        port = None
        while time.monotonic() < deadline:
            if server.poll() is not None:
                break
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    port = int(text)
                    break
            time.sleep(0.02)  # polling the port file with a deadline, not waiting a fixed time
        if port is None:
            server_log.seek(0)
            print("server_harness: the server did not start:\n" + server_log.read(), file=sys.stderr)
            return 1
        env = dict(os.environ)
        env.update({
            "EDDY_ENDPOINT": f"http://127.0.0.1:{port}",
            "EDDY_PORT": str(port),
            "AWS_ACCESS_KEY_ID": "AKIDEDDYTEST",
            "AWS_SECRET_ACCESS_KEY": "eddy-test-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(work, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "aws-credentials"),
        })
        try:
            client = subprocess.run(command, env=env, timeout=args.client_seconds)
            status = client.returncode
        except subprocess.TimeoutExpired:
            print(f"server_harness: client timed out after {args.client_seconds}s", file=sys.stderr)
            status = 1
        if server.poll() is not None:
            print(f"server_harness: the server exited during the test (status {server.returncode})",
                  file=sys.stderr)
            status = status or 1
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
                if server.returncode != 0:
                    # e.g. a sanitizer report at exit (leaks) or a failing shutdown
                    print(f"server_harness: the server exited with status {server.returncode} "
                          "on SIGTERM", file=sys.stderr)
                    status = status or 1
            except subprocess.TimeoutExpired:
                print("server_harness: the server did not stop within 20 s of SIGTERM",
                      file=sys.stderr)
                server.kill()
                server.wait()
                status = status or 1
        if status != 0:
            server_log.seek(0)
            tail = server_log.read()[-4000:]
            print("server_harness: server output (tail):\n" + tail, file=sys.stderr)
        server_log.close()
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())

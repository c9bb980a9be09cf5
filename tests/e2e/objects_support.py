"""Shared pieces of the objects sink's end-to-end tests (objects_s3.py, objects_crash_loop.py)
and its benchmark (bench/objects_s3_bench.py): a throwaway PostgreSQL, s3rver on loopback,
the aws CLI pointed at it, DuckDB (through objects_duckdb.mjs) reading the objects.

s3rver (npm) stands in for S3: no S3 server is packaged in Debian. It does not honour
conditional writes and refuses AbortMultipartUpload; nothing here relies on either.
Waits are bounded polls on conditions, never fixed sleeps.
"""
import gzip
import json
import os
import re
import signal
import subprocess
import urllib.request

from e2e_common import Postgres, free_port, port_open, wait_for  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
S3RVER = os.path.join(HERE, "node_modules", ".bin", "s3rver")
# s3rver's built-in account.
S3_ENV = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER",
          "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
          "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""}


class S3rver:
    """s3rver on 127.0.0.1:port with `bucket` created; stop() and start() keep its data."""

    def __init__(self, directory, bucket, port=None):
        if not os.path.exists(S3RVER):
            raise AssertionError(f"{S3RVER} is missing: link tests/e2e/node_modules "
                                 "(npm ci in tests/e2e) to run this test")
        self.directory, self.bucket = directory, bucket
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [S3RVER, "-d", self.directory, "-a", "127.0.0.1", "-p", str(self.port), "-s",
             "--configure-bucket", self.bucket],
            stdout=subprocess.DEVNULL, stderr=open(self.directory + ".log", "a"))
        wait_for(lambda: self.process.poll() is not None or port_open(self.port), 60,
                 "s3rver to listen")
        if self.process.poll() is not None:
            raise AssertionError(f"s3rver exited with {self.process.returncode}; "
                                 f"see {self.directory}.log")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def delivered_records(metrics_port, sink):
    """The sink's eddy_sink_delivered_records_total from eddy's /metrics (records its
    destination acknowledged: for the objects sink, in objects already durable); 0 while eddy
    does not answer. One HTTP request, so a benchmark can poll it often without starting a
    process (as `eddy status` would) that competes with the measured one for the cores."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("eddy_sink_delivered_records_total{") and f'sink="{sink}"' in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def aws(aws_cli, endpoint, *args, check=True):
    env = dict(os.environ, **S3_ENV)
    return subprocess.run([aws_cli, "--endpoint-url", endpoint, *args], env=env, check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def list_keys(aws_cli, endpoint, bucket, prefix=""):
    """Every key under s3://bucket/prefix, listed with the aws CLI (ListObjectsV2)."""
    reply = aws(aws_cli, endpoint, "s3api", "list-objects-v2", "--bucket", bucket,
                "--prefix", prefix, "--output", "json")
    if not reply.stdout.strip():
        return []
    return [item["Key"] for item in json.loads(reply.stdout).get("Contents", [])]


def local_objects(directory):
    """key -> path of every object the file:// sink wrote (dot-files are temp files)."""
    objects = {}
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            objects[os.path.relpath(path, directory)] = path
    return objects


def read_lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return [line for line in f.read().decode().split("\n") if line]


def duckdb(node, script_args):
    """Runs objects_duckdb.mjs and returns its JSON output."""
    reply = subprocess.run([node, os.path.join(HERE, "objects_duckdb.mjs"), *script_args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=HERE)
    if reply.returncode != 0:
        raise AssertionError("DuckDB failed: " + reply.stderr[-2000:])
    return json.loads(reply.stdout)

#!/usr/bin/env python3
"""The objects sink against an S3 server that fails parts of multipart uploads.

    objects_multipart_faults.py EDDY_BINARY EDDY_LOCALDB_BINARY AWS_CLI NODE

A fault-injecting proxy (this process, stdlib http.server) stands in front of s3rver and
answers 500 InternalError to the first FAILURES UploadPart requests for part 2; everything
else passes through. `eddy run` captures a PostgreSQL table large enough that each flush is an
object of several parts (multipart_threshold_mb=5, part_size_mb=5). Checks:
- the failed parts are retried: the S3 client's own attempts, then, once they are used up, the
  upload is aborted (s3rver refuses AbortMultipartUpload; eddy logs that the parts stay) and
  the sink runner retries the flush (IMPAIRED in between);
- in the end DuckDB reads every row once from the objects, and the rows equal PostgreSQL's;
- no object is a partial one: every object holds whole JSON lines.
Waits are bounded polls on conditions, never fixed sleeps.
"""
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

from e2e_common import work_directory
from objects_support import S3_ENV, Postgres, S3rver, aws, duckdb, wait_for

EDDY, LOCALDB, AWS, NODE = sys.argv[1:5]
ROWS = 24_000
FAILURES = 5  # more than the S3 client's 3 attempts: one abort and a runner retry


class FaultProxy:
    def __init__(self, upstream_port):
        self.lock = threading.Lock()
        self.failed = 0
        self.aborts = 0
        self.completed = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length) if length else b""
                if self.command == "PUT" and re.search(r"[?&]partNumber=2(&|$)", self.path):
                    with proxy.lock:
                        fail = proxy.failed < FAILURES
                        proxy.failed += 1 if fail else 0
                    if fail:
                        reply = (b"<?xml version=\"1.0\"?><Error><Code>InternalError</Code>"
                                 b"<Message>injected part failure</Message></Error>")
                        self.send_response(500)
                        self.send_header("Content-Type", "application/xml")
                        self.send_header("Content-Length", str(len(reply)))
                        self.end_headers()
                        self.wfile.write(reply)
                        return
                if self.command == "DELETE" and "uploadId=" in self.path:
                    with proxy.lock:
                        proxy.aborts += 1
                if self.command == "POST" and "uploadId=" in self.path:
                    with proxy.lock:
                        proxy.completed += 1
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("content-length", "connection")}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def main():
    with work_directory("objects-multipart") as work:
        db = s3 = proxy = run = None
        env = dict(os.environ, **S3_ENV)
        try:
            db = Postgres(LOCALDB, work)
            db.sql("CREATE TABLE wide (id int PRIMARY KEY, payload text NOT NULL)")
            db.sql(f"INSERT INTO wide SELECT g, repeat(md5(g::text), 12) FROM generate_series(1, {ROWS}) g")
            s3 = S3rver(work + "/s3", "lake")
            proxy = FaultProxy(s3.port)
            sink = (f"s3://lake/big?endpoint={proxy.endpoint}&multipart_threshold_mb=5&part_size_mb=5"
                    "&buffer_size_mb=32&buffer_interval=2")
            data_dir = work + "/data"
            run = subprocess.Popen(
                [EDDY, "run", "--source", db.url, "--data-dir", data_dir, "--stream", "wide",
                 "--tables", "public.wide", "--shards", "1", "--api-listen", "127.0.0.1:0",
                 "--sink", sink], env=env, stdout=open(work + "/eddy.log", "w"),
                stderr=subprocess.STDOUT)
            download = work + "/download"

            def rows_in_bucket():
                if run.poll() is not None:
                    raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
                shutil.rmtree(download, ignore_errors=True)
                aws(AWS, s3.endpoint, "s3", "cp", "s3://lake/big/", download, "--recursive",
                    "--quiet")
                count = 0
                for root, _, names in os.walk(download):
                    for name in names:
                        with open(os.path.join(root, name)) as f:
                            count += sum(1 for line in f if line.strip())
                return count >= ROWS

            wait_for(rows_in_bucket, 300, "every row in the bucket")
            with proxy.lock:
                failed, aborts, completed = proxy.failed, proxy.aborts, proxy.completed
            assert failed == FAILURES, f"{failed} injected part failures, expected {FAILURES}"
            assert aborts >= 1, "no multipart upload was aborted after its part kept failing"
            assert completed >= 1, "no multipart upload completed"
            log = open(work + "/eddy.log").read()
            assert "multipart upload not aborted" in log, "the refused abort was not reported"

            result = duckdb(NODE, [download + "/**/*.json"])
            ids = [json.loads(row["after"])["id"] for row in result["rows"] if row["op"] == "r"]
            assert len(ids) == ROWS and len(set(ids)) == ROWS, (
                f"{len(ids)} snapshot records, {len(set(ids))} distinct, expected {ROWS} each once")
            expected = {int(line.split("|")[0]): line.split("|")[1]
                        for line in db.query("SELECT id, payload FROM wide").split("\n") if line}
            got = {json.loads(row["after"])["id"]: json.loads(row["after"])["payload"]
                   for row in result["rows"]}
            assert got == expected, "DuckDB's rows differ from PostgreSQL's"
            print(f"objects_multipart_faults: {failed} part failures injected, {aborts} aborts "
                  f"attempted, {completed} uploads completed; {ROWS} rows once, equal to PostgreSQL's")
            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=60) == 0, f"eddy did not stop cleanly; see {work}/eddy.log"
            run = None
            print("objects_multipart_faults: 1 passed, 0 failed")
            return 0
        finally:
            if run is not None and run.poll() is None:
                run.kill()
                run.wait()
            if proxy is not None:
                proxy.stop()
            if s3 is not None:
                s3.stop()
            if db is not None:
                db.stop()


if __name__ == "__main__":
    sys.exit(main())

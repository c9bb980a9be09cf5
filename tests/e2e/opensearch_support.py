"""Shared pieces of the OpenSearch sink's end-to-end tests and benchmark: the stand-in server
(tests/support/opensearch_standin.py; no real OpenSearch or Elasticsearch can be installed
here), its fault control, reading an index back, and the source table as the index should
hold it. Generic helpers (wait_for, free_port, sink_state, the PostgreSQL) come from e2e_common.
"""
import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

from e2e_common import (Postgres, free_port, port_open, sink_state, stop_all,  # noqa: F401
                        stop_process, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "..", "support", "opensearch_standin.py")


class Standin:
    """The stand-in as a process: start, stop (SIGTERM), restart on the same port and data."""

    def __init__(self, work, name="standin", gc_deletes=60, user=None, password=None,
                 persist=True, record=None):
        """persist: keep the documents in WORK/NAME.json across restarts (off: in memory, for
        benchmarks); record: a directory that receives every _bulk body."""
        self.work, self.name = work, name
        self.extra = ["--gc-deletes", str(gc_deletes)]
        if persist:
            self.extra += ["--data", os.path.join(work, name + ".json")]
        if record:
            self.extra += ["--record", record]
        if user:
            self.extra += ["--user", user, "--password", password or ""]
        self.auth = (user, password or "") if user else None
        self.port = free_port()
        self.process = None
        self.start()

    def start(self):
        log = open(os.path.join(self.work, self.name + ".log"), "a")
        self.process = subprocess.Popen([sys.executable, STANDIN, "--port", str(self.port)] +
                                        self.extra,
                                        stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.process.poll() is not None or port_open(self.port), 30,
                 "the OpenSearch stand-in to listen")
        if self.process.poll() is not None:
            raise AssertionError(f"the OpenSearch stand-in exited with {self.process.returncode}")

    def stop(self):
        stop_process(self.process, 30)

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        if self.auth:
            token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            request.add_header("Authorization", "Basic " + token)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def faults(self, **faults):
        status, body = self.request("POST", "/_standin/faults", faults)
        assert status == 200, body
        return body

    def stats(self):
        return self.request("GET", "/_standin/stats")[1]

    def documents(self, index):
        """{_id: _source} of every document in `index` ({} when the index does not exist)."""
        status, body = self.request("POST", f"/{index}/_search?size=1000000",
                                    {"query": {"match_all": {}}})
        if status == 404:
            return {}
        assert status == 200, body
        return {hit["_id"]: hit["_source"] for hit in body["hits"]["hits"]}

    def mappings(self, index):
        status, body = self.request("GET", f"/{index}")
        assert status == 200, body
        return body[index]["mappings"]


def metrics_text(port):
    """The /metrics text of the eddy whose metrics listen on `port`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        return reply.read().decode()


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def psql_json(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def start_postgres(localdb, work):
    """(an e2e_common.Postgres, its URL)."""
    db = Postgres(localdb, work)
    return db, db.url

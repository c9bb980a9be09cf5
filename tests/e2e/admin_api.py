#!/usr/bin/env python3
"""The admin API (/admin/v1/) of a running `eddy run`, driven with curl and Python's urllib.

    admin_api.py EDDY_BINARY EDDY_LOCALDB_BINARY

Starts a throwaway PostgreSQL 15 (eddy-localdb), a webhook receiver in this process (stdlib
http.server; it records the rows of every Lambda-shaped Kinesis event, by request path) and
`eddy run` capturing public.kv with one configured webhook sink, with EDDY_ADMIN_TOKEN set.
Then, through the admin API:

- authentication: no token and a wrong token are 401 with the JSON error shape; the token
  passes;
- GET streams and sinks (state, lag, delivered, checkpoint);
- pause: the state says PAUSED and delivery stops (rows written meanwhile reach the stream and
  the sink's lag, not the receiver); resume: they arrive;
- reset to trim-horizon: every row is delivered again, the checkpoint generation grows;
- a webhook sink created at run time delivers; bad definitions are 400 naming the field or the
  setting, a taken name 409, unknown sinks 404, wrong methods 405 with Allow;
- restart: the created sink is listed again (origin runtime) and delivers;
- delete: it stops, its checkpoint file is gone, and it is not back after another restart,
  which binds 0.0.0.0 without a token and must log the warning.

Waits are bounded polls on conditions (e2e_common.wait_for), never fixed sleeps.
"""
import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request

from e2e_common import EddyProcess, Postgres, free_port, stop_process, wait_for, work_directory

TOKEN = "e2e-admin-token"


class Receiver:
    """Records (k, v) of every row change it is sent, per request path."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = {}  # path -> [(k, v)]
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                rows = []
                for record in json.loads(body)["Records"]:
                    change = json.loads(base64.b64decode(record["kinesis"]["data"]))
                    if change.get("op") in ("c", "u", "r"):
                        rows.append((int(change["after"]["k"]), int(change["after"]["v"])))
                with receiver.lock:
                    receiver.rows.setdefault(self.path, []).extend(rows)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def got(self, path):
        with self.lock:
            return list(self.rows.get(path, []))


class Admin:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/admin/v1/"

    def call(self, method, path, body=None, token=TOKEN):
        """(status, headers, parsed JSON body)."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if token is not None:
            request.add_header("Authorization", "Bearer " + token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.headers, json.loads(error.read())

    def ok(self, method, path, body=None, expect=200):
        status, _, answer = self.call(method, path, body)
        assert status == expect, f"{method} {path}: {status} {answer}"
        return answer

    def error(self, method, path, body, status, contains, token=TOKEN):
        got, headers, answer = self.call(method, path, body, token=token)
        assert got == status, f"{method} {path} {body}: expected {status}, got {got} {answer}"
        error = answer["error"]
        assert error["status"] == status and error["code"] and contains in error["message"], (
            f"{method} {path}: {answer} should say {contains!r}")
        return headers

    def sink(self, name):
        return self.ok("GET", "sinks/" + name)


def curl(port, path, token):
    """curl's view of a GET: (HTTP status, parsed body)."""
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "-H", f"Authorization: Bearer {token}",
                          f"http://127.0.0.1:{port}/admin/v1/{path}"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    body, _, code = out.rpartition("\n")
    return int(code), json.loads(body)


def start_eddy(binary, work, db, port, sink_url, token=TOKEN, listen_host="127.0.0.1"):
    """`eddy run` capturing public.kv into stream kv with `sink_url`; the admin token set (or
    none), serving on `listen_host`:`port`."""
    return EddyProcess(
        binary,
        ["run", "--source", db.url, "--data-dir", work + "/data", "--stream", "kv", "--tables",
         "public.kv", "--api-listen", f"{listen_host}:{port}", "--sink", sink_url],
        work, port, env={"EDDY_ADMIN_TOKEN": token or None})


def values(rows):
    return sorted(set(rows))


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, localdb = sys.argv[1], sys.argv[2]
    with work_directory("admin-api") as work:
        db = eddy = None
        receiver = Receiver()
        try:
            db = Postgres(localdb, work)
            db.sql("CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)")
            db.sql("INSERT INTO kv SELECT g, 1 FROM generate_series(1, 20) g")
            port = free_port()
            hook = f"http://127.0.0.1:{receiver.port}"
            configured_url = f"webhook+{hook}/configured?name=configured-hook&max_batching_window=0"
            eddy = start_eddy(binary, work, db, port, configured_url)
            admin = Admin(port)

            # Authentication.
            headers = admin.error("GET", "sinks", None, 401, "Authorization: Bearer", token=None)
            assert "Bearer" in headers.get("WWW-Authenticate", ""), headers
            admin.error("GET", "sinks", None, 401, "does not match", token="wrong")
            code, _ = curl(port, "streams", "wrong")
            assert code == 401, code

            # Streams and sinks, with curl and urllib.
            wait_for(lambda: len(values(receiver.got("/configured"))) == 20, 60, "the snapshot's 20 rows")
            code, streams = curl(port, "streams", TOKEN)
            assert code == 200, streams
            (kv,) = [s for s in streams["streams"] if s["name"] == "kv"]
            assert kv["open_shards"] >= 1 and kv["records"] >= 20 and kv["retention_hours"] > 0, kv
            sinks = admin.ok("GET", "sinks")["sinks"]
            assert [s["name"] for s in sinks] == ["configured-hook"], sinks
            sink = wait_for(lambda: (lambda s: s if s["delivered_records"] >= 20 else None)(
                admin.sink("configured-hook")), 30, "delivered_records to count the snapshot")
            assert sink["state"] == "ACTIVE" and sink["origin"] == "config", sink
            assert sink["url"].startswith("webhook+http://127.0.0.1:"), sink
            assert sink["checkpoint"]["shards"] and sink["checkpoint"]["generation"] == 0, sink

            # Pause: the state says PAUSED; changes reach the stream and the lag, not the receiver.
            paused = admin.ok("POST", "sinks/configured-hook/pause")
            assert paused["state"] == "PAUSED", paused
            delivered_before = len(receiver.got("/configured"))
            db.sql("UPDATE kv SET v = 2 WHERE k <= 5")
            wait_for(lambda: admin.sink("configured-hook")["lag_records"] >= 5, 30,
                     "the paused sink's lag to count the 5 updates")
            assert len(receiver.got("/configured")) == delivered_before, "a paused sink delivered"
            assert admin.sink("configured-hook")["state"] == "PAUSED"

            # Resume: the updates arrive.
            resumed = admin.ok("POST", "sinks/configured-hook/resume")
            assert resumed["state"] == "ACTIVE", resumed
            wait_for(lambda: all((k, 2) in receiver.got("/configured") for k in range(1, 6)), 30,
                     "the updates made while paused")

            # Reset to trim-horizon: everything again, in a new checkpoint generation.
            admin.error("POST", "sinks/configured-hook/reset", {"to": "yesterday"}, 400, "field 'to'")
            admin.error("POST", "sinks/configured-hook/reset", b"{oops", 400, "not valid JSON")
            before = len(receiver.got("/configured"))
            reset = admin.ok("POST", "sinks/configured-hook/reset", {"to": "trim-horizon"})
            assert reset["checkpoint"]["generation"] == 1, reset
            wait_for(lambda: len(receiver.got("/configured")) >= before + 25, 30,
                     "the reset sink to deliver the stream again")

            # Errors.
            admin.error("GET", "sinks/nope", None, 404, "no sink named 'nope'")
            admin.error("POST", "sinks/nope/pause", None, 404, "no sink named 'nope'")
            admin.error("GET", "nothing", None, 404, "/admin/v1/streams")
            headers = admin.error("PUT", "sinks", {}, 405, "allows GET, POST")
            assert headers.get("Allow") == "GET, POST", headers
            admin.error("DELETE", "sinks/configured-hook", None, 409, "config file")

            # Bad sink definitions: the checks a configured sink gets.
            admin.error("POST", "sinks", {"url": hook + "/x"}, 400, "field 'name' is required")
            admin.error("POST", "sinks", {"name": "x", "url": "nope://h/x"}, 400, "nope")
            admin.error("POST", "sinks", {"name": "x", "url": f"webhook+{hook}/x",
                                          "settings": {"batch_size": "many"}}, 400, "batch_size")
            admin.error("POST", "sinks", {"name": "x", "url": f"webhook+{hook}/x",
                                          "settings": {"no_such_setting": 1}}, 400, "no_such_setting")
            admin.error("POST", "sinks", {"name": "x", "url": f"webhook+{hook}/x", "stream": "ghost"},
                        400, "ghost")
            admin.error("POST", "sinks", {"name": "bad name", "url": f"webhook+{hook}/x"}, 400, "name")
            admin.error("POST", "sinks", {"name": "configured-hook", "url": f"webhook+{hook}/x"},
                        409, "config file")
            assert [s["name"] for s in admin.ok("GET", "sinks")["sinks"]] == ["configured-hook"]

            # A sink created at run time delivers.
            created = admin.ok("POST", "sinks", {"name": "runtime-hook", "url": f"webhook+{hook}/runtime",
                                                 "settings": {"max_batching_window": 0, "batch_size": 10}},
                               expect=201)
            assert created["origin"] == "runtime" and created["stream"] == "kv", created
            admin.error("POST", "sinks", {"name": "runtime-hook", "url": f"webhook+{hook}/x"}, 409,
                        "DELETE it first")
            wait_for(lambda: len(values(receiver.got("/runtime"))) >= 25, 30,
                     "the created sink to deliver the stream")
            assert os.path.exists(work + "/data/runtime-sinks")

            # Restart: it is back, and delivers new changes.
            eddy.stop()
            eddy = start_eddy(binary, work, db, port, configured_url)
            # The API answers before the sinks have started: wait for it to list the sink.
            again = wait_for(lambda: (lambda r: r[2] if r[0] == 200 else None)(
                admin.call("GET", "sinks/runtime-hook")), 30, "the created sink after the restart")
            assert again["origin"] == "runtime" and again["delivered_records"] >= 25, again
            db.sql("UPDATE kv SET v = 3 WHERE k = 7")
            wait_for(lambda: (7, 3) in receiver.got("/runtime"), 30, "the recreated sink's delivery")

            # Delete: stopped, its checkpoint gone.
            assert admin.ok("DELETE", "sinks/runtime-hook") == {"deleted": "runtime-hook"}
            admin.error("GET", "sinks/runtime-hook", None, 404, "no sink named")
            admin.error("DELETE", "sinks/runtime-hook", None, 404, "no sink named")
            assert not os.path.exists(work + "/data/consumers/runtime-hook.checkpoint")
            runtime_rows = len(receiver.got("/runtime"))
            db.sql("UPDATE kv SET v = 4 WHERE k = 8")
            wait_for(lambda: (8, 4) in receiver.got("/configured"), 30, "the configured sink's delivery")
            assert len(receiver.got("/runtime")) == runtime_rows, "a deleted sink delivered"

            # Restart beyond loopback without a token: the warning, an open admin API, no runtime sink.
            eddy.stop()
            eddy = start_eddy(binary, work, db, port, configured_url, token=None, listen_host="0.0.0.0")
            assert "has no authentication" in eddy.log(), eddy.log()
            names = wait_for(lambda: [s["name"] for s in admin.call("GET", "sinks", token=None)[2]["sinks"]],
                             30, "the sinks after the restart")
            assert names == ["configured-hook"], names
            eddy.stop()
            eddy = None
            print("admin_api: 1 passed, 0 failed")
            return 0
        finally:
            if eddy is not None:
                stop_process(eddy.process)
            if db is not None:
                db.stop()
            receiver.server.shutdown()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A webhook receiver for push-delivery tests: it plays a Lambda-style function endpoint and
can misbehave on request.

Every POST to any path but /_control is appended to a JSON-lines log (one line per request:
{"n", "path", "mode", "status", "body"}; `status` is what was answered, null when nothing was,
`body` the parsed JSON body or {"raw": text}). The answer depends on the mode:

  ok         200 with the configured reply body (default empty)
  status     answer `status` (default 500) with a short text body
  hang       read the request, answer nothing until the mode changes or `hang_seconds` pass,
             then close the connection
  reset      read the request, then reset the connection (TCP RST)
  slow       wait `delay` seconds, then answer as `ok`
  malformed  200 with a body that is not JSON (a broken batchItemFailures reply)
  partial    200 with {"batchItemFailures":[{"itemIdentifier": <the sequence number of record
             `fail_index` of the batch>}]} (Kinesis or DynamoDB Streams event shape)

`times` limits a mode to the next N webhook requests (then `ok` again); -1 keeps it.

Control: POST /_control with a JSON object of any of mode, status, delay, reply, fail_index,
times, hang_seconds; GET /_control answers {"requests": n, "mode": ...}.
Command line: the same settings as flags; --port 0 picks a free port, written (when ready) to
--port-file and printed as "PORT <n>" on stdout.

Standard library only (http.server, threaded).
"""

import argparse
import json
import os
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.config = {
            "mode": args.mode,
            "status": args.status,
            "delay": args.delay,
            "reply": args.reply,
            "fail_index": args.fail_index,
            "times": args.times,
            "hang_seconds": args.hang_seconds,
        }
        self.generation = 0  # bumped on every control change; hangs end on a change
        self.requests = 0
        self.log_path = args.log

    def take(self):
        """The settings for the next webhook request (and consumes one of `times`)."""
        with self.lock:
            self.requests += 1
            config = dict(self.config)
            config["n"] = self.requests
            config["generation"] = self.generation
            if self.config["times"] > 0:
                self.config["times"] -= 1
                if self.config["times"] == 0:
                    self.config["mode"] = "ok"
                    self.config["times"] = -1
            return config

    def update(self, changes):
        with self.lock:
            for key, value in changes.items():
                if key not in self.config:
                    raise KeyError(key)
                self.config[key] = value
            self.generation += 1
            self.changed.notify_all()

    def wait_for_change(self, generation, seconds):
        with self.lock:
            self.changed.wait_for(lambda: self.generation != generation, timeout=seconds)

    def log(self, entry):
        if not self.log_path:
            return
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as out:
                out.write(line)
                out.flush()


def failed_identifier(body, index):
    records = body.get("Records", []) if isinstance(body, dict) else []
    if not records:
        return ""
    record = records[min(index, len(records) - 1)]
    if "kinesis" in record:
        return record["kinesis"].get("sequenceNumber", "")
    return record.get("dynamodb", {}).get("SequenceNumber", "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webhook-receiver"

    def log_message(self, format, *args):  # quiet: the JSON-lines log is the record
        pass

    def _read_body(self):
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length else b""

    def _answer(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/_control"):
            state = self.server.state
            with state.lock:
                reply = {"requests": state.requests, **state.config}
            self._answer(200, json.dumps(reply).encode())
        else:
            self._answer(404, b"")

    def do_POST(self):
        raw = self._read_body()
        state = self.server.state
        if self.path.startswith("/_control"):
            try:
                state.update(json.loads(raw or b"{}"))
            except (ValueError, KeyError, AttributeError) as error:
                self._answer(400, json.dumps({"error": str(error)}).encode())
                return
            self._answer(200, b"{}")
            return
        config = state.take()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"raw": raw.decode("utf-8", "replace")}
        entry = {"n": config["n"], "path": self.path, "mode": config["mode"], "status": None,
                 "body": body,
                 "authorization": self.headers.get("Authorization")}
        mode = config["mode"]
        if mode == "hang":
            state.log(entry)
            state.wait_for_change(config["generation"], config["hang_seconds"])
            self.close_connection = True
            return
        if mode == "reset":
            state.log(entry)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if mode == "slow":
            threading.Event().wait(config["delay"])  # answering slowly is the point
            mode = "ok"
        if mode == "status":
            entry["status"] = config["status"]
            state.log(entry)
            self._answer(config["status"], b"receiver error", "text/plain")
        elif mode == "malformed":
            entry["status"] = 200
            state.log(entry)
            self._answer(200, b'{"batchItemFailures":[')
        elif mode == "partial":
            identifier = failed_identifier(body, config["fail_index"])
            entry["status"] = 200
            entry["failed"] = identifier
            state.log(entry)
            reply = {"batchItemFailures": [{"itemIdentifier": identifier}]}
            self._answer(200, json.dumps(reply).encode())
        else:
            entry["status"] = 200
            state.log(entry)
            self._answer(200, config["reply"].encode())

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass  # the connection was reset on purpose


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # resets and hangs end connections abruptly by design


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", default="")
    parser.add_argument("--log", default="", help="JSON-lines file of received requests")
    parser.add_argument("--mode", default="ok",
                        choices=["ok", "status", "hang", "reset", "slow", "malformed", "partial"])
    parser.add_argument("--status", type=int, default=500)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--reply", default="")
    parser.add_argument("--fail-index", type=int, default=0)
    parser.add_argument("--times", type=int, default=-1)
    parser.add_argument("--hang-seconds", type=float, default=600.0)
    args = parser.parse_args()

    server = Server((args.host, args.port), Handler)
    server.state = State(args)
    port = server.server_address[1]
    if args.port_file:
        temporary = args.port_file + ".tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(str(port))
        os.replace(temporary, args.port_file)
    print(f"PORT {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

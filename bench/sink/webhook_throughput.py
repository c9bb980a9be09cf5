#!/usr/bin/env python3
"""Push throughput of the webhook sink against draining the same stream with the native
Kinesis load client, in the same run; prints the ratio (issue 12 target: >= 0.8).

    python3 bench/sink/webhook_throughput.py EDDY_BINARY KINESIS_LOAD_BINARY
        [--records=400000] [--size=200] [--shards=4] [--batch-size=10000] [--repeat=3]

1. `eddy serve` on a fresh data directory; CreateStream (boto3) with --shards shards;
   `kinesis_load put` writes --records records of --size bytes (PutRecords, fsync'd batches).
2. Reference: `kinesis_load get` drains every shard through GetRecords (16 keep-alive
   connections, every reply parsed by simdjson). Rate = records / its own timed seconds.
3. eddy: `eddy serve` restarted on the same data directory with
   `--sink webhook+http://127.0.0.1:R/?stream=S&batch_size=B&starting_position=TRIM_HORIZON
   &parallelization_factor=P` (P = 1 by default; --parallelization-factor=0 gives one lane per
   shard, Lambda's concurrency on that stream).
   The receiver (this process, a raw-socket HTTP/1.1 server on its own thread) acknowledges
   every POST at once with 200 {} and counts the Lambda records in each body (occurrences of
   `"eventID"`), receiving each body into one reused buffer and counting it in place.
   Timed from the first request's arrival to the moment the receiver has every
   record; rate = records / that time.
Both phases read the same durable stream from its beginning; eddy's data directory keeps the
records, so the second phase reads exactly what the first drained. --repeat alternates the
two phases that many times (fresh sink name each time) and prints the median ratio.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import botocore.config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_common import free_port, run_kinesis_load, wait_for  # noqa: E402


STREAM = "push-bench"


class Receiver:
    """An HTTP/1.1 function that acknowledges at once and counts records."""

    MARKER = b'"eventID"'

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.count = 0
        self.requests = 0
        self.first = None
        self.last = None
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def reset(self):
        with self.lock:
            self.count, self.requests, self.first, self.last = 0, 0, None, None

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        # The body is received straight into one buffer per connection, reused across
        # requests, and counted in place: no per-request joins or slices of megabytes (those
        # copies took the receiver longer than eddy took to build the body).
        buffer = b""
        body = bytearray(0)
        reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(1 << 16)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                arrived = time.monotonic()
                if len(body) < length:
                    body = bytearray(length)
                view = memoryview(body)
                have = min(len(buffer), length)
                view[:have] = buffer[:have]
                buffer = buffer[have:]
                while have < length:
                    received = conn.recv_into(view[have:length], length - have)
                    if not received:
                        return
                    have += received
                view.release()
                records = body.count(self.MARKER, 0, length)
                conn.sendall(reply)
                with self.lock:
                    if self.first is None:
                        self.first = arrived
                    self.count += records
                    self.requests += 1
                    self.last = time.monotonic()
        finally:
            conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("kinesis_load")
    parser.add_argument("--records", type=int, default=400000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    # eddy's lanes are per stream (Lambda runs one batch per shard at a time, so N lanes on an
    # N-shard stream is Lambda's default concurrency). 0 means --shards. One lane is faster on
    # two cores: it sends full batches.
    parser.add_argument("--parallelization-factor", type=int, default=1)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="eddy-push-bench-")
    data = os.path.join(work, "data")
    receiver = Receiver()
    server = None

    def start_server(extra):
        port = free_port()
        proc = subprocess.Popen([args.eddy, "serve", "--data-dir", data,
                                 "--api-listen", f"127.0.0.1:{port}"] + extra,
                                stdout=open(os.path.join(work, "eddy.log"), "a"),
                                stderr=subprocess.STDOUT)

        def up():
            if proc.poll() is not None:
                raise SystemExit(f"eddy serve exited {proc.returncode}; see {work}/eddy.log")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_for(up, 30, "eddy serve to listen", interval=0.01)
        return proc, port

    def stop_server(proc):
        proc.send_signal(signal.SIGTERM)
        if proc.wait(timeout=60) != 0:
            raise SystemExit(f"eddy serve did not stop cleanly; see {work}/eddy.log")

    try:
        server, port = start_server([])
        kinesis = boto3.client("kinesis", endpoint_url=f"http://127.0.0.1:{port}",
                               region_name="us-east-1", aws_access_key_id="bench",
                               aws_secret_access_key="bench",
                               config=botocore.config.Config(retries={"max_attempts": 2}))
        kinesis.create_stream(StreamName=STREAM, ShardCount=args.shards)
        shard_ids = [s["ShardId"] for s in kinesis.list_shards(StreamName=STREAM)["Shards"]]
        put = run_kinesis_load(args.kinesis_load, ["put", f"--port={port}", f"--stream={STREAM}",
                                           f"--records={args.records}", f"--size={args.size}"])
        print(f"loaded {put['count']} records of {args.size} bytes into {args.shards} shards "
              f"({put['count'] / put['seconds']:,.0f} records/s)", flush=True)
        ratios = []
        for run in range(args.repeat):
            get = run_kinesis_load(args.kinesis_load, ["get", f"--port={port}", f"--stream={STREAM}",
                                               "--shards=" + ",".join(shard_ids)])
            get_rate = get["count"] / get["seconds"]
            stop_server(server)
            receiver.reset()
            sink = (f"webhook+http://127.0.0.1:{receiver.port}/?name=bench{run}&stream={STREAM}"
                    f"&batch_size={args.batch_size}&starting_position=TRIM_HORIZON"
                    f"&parallelization_factor={args.parallelization_factor or args.shards}")
            started = time.monotonic()
            server, port = start_server(["--sink", sink])
            wait_for(lambda: receiver.count >= args.records, 600, "every record to be pushed",
                     interval=0.01)
            with receiver.lock:
                seconds = receiver.last - receiver.first
                requests = receiver.requests
            push_rate = args.records / seconds
            ratio = push_rate / get_rate
            ratios.append(ratio)
            print(f"run {run + 1}: GetRecords drain {get['count']:,} records in {get['seconds']:.2f} s "
                  f"= {get_rate:,.0f} records/s; webhook push {args.records:,} records in "
                  f"{seconds:.2f} s ({requests} POSTs, {time.monotonic() - started:.2f} s with "
                  f"start-up) = {push_rate:,.0f} records/s; ratio {ratio:.2f}", flush=True)
            stop_server(server)
            server, port = start_server([])
        print(f"median ratio push / GetRecords drain: {statistics.median(ratios):.2f} "
              f"(target >= 0.8)")
        return 0
    finally:
        if server is not None and server.poll() is None:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

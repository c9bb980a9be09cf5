#!/usr/bin/env python3
"""The Kinesis sink end to end: `eddy run` capturing a real PostgreSQL 15 into two Kinesis
targets at once, kinesalite (npm) and `eddy serve` (eddy's own Kinesis API), both read back
with boto3,
and a third over HTTPS that verifies every request's SigV4 signature (eddy-api-testserver
--credentials --tls-cert, certificate made by the openssl CLI, trusted through ca_file).

    kinesis_sink.py EDDY_BINARY EDDY_LOCALDB_BINARY EDDY_API_TESTSERVER_BINARY

Checks, for each target: every committed change arrives (none lost) exactly once (no
failures happen in this phase, so duplicates are counted and must be 0), each key's changes
in commit order, and a 1.5 MB row change (larger than kinesalite's 1 MiB record limit)
arrives chunked and reassembles (kinesis_sink_support.read_all). Then the `eddy serve` target
is stopped: its sink turns IMPAIRED (eddy_sink_state on /metrics) while the kinesalite sink
keeps delivering; it is started again on the same port and data: the sink turns ACTIVE and
every change written meanwhile arrives, in order. Last, bad input: a missing target stream,
no credentials, a malformed URL and an unreachable endpoint each stop `eddy run` with a
message that says what to fix.

kinesalite keeps everything in memory and does not throttle; the throttling and partial
failure paths are sink_kinesis_test's (a scripted endpoint).
"""
import os
import random
import signal
import subprocess
import sys

from e2e_common import Postgres, stop_all, work_directory
from kinesis_sink_support import (changes, client, create_stream, free_port, make_certificate,
                                  read_all, sink_state, start_eddy_serve, start_kinesalite,
                                  start_verifying_server, wait_for)

KEYS = 40
BIG = 1_500_000


def check(target, records, final, expect_no_duplicates):
    """No loss, per-key order, duplicates counted; returns the duplicate count."""
    seen = {}
    duplicates = 0
    for k, v, _ in changes(records):
        history = seen.setdefault(k, [])
        if v in history:
            duplicates += 1
            continue
        assert not history or v > history[-1], (
            f"{target}: key {k}: value {v} after {history[-1]} (per-key order broken)")
        history.append(v)
    for k, last in final.items():
        missing = set(range(1, last + 1)) - set(seen.get(k, []))
        assert not missing, f"{target}: key {k}: lost values {sorted(missing)[:10]}"
    if expect_no_duplicates:
        assert duplicates == 0, f"{target}: {duplicates} duplicates without any failure"
    return duplicates


def complete(kinesis, final):
    records, _ = read_all(kinesis, "out")
    seen = {}
    for k, v, _ in changes(records):
        seen.setdefault(k, set()).add(v)
    return all(len(seen.get(k, ())) >= last for k, last in final.items())


def main():
    eddy, localdb, testserver = sys.argv[1], sys.argv[2], sys.argv[3]
    seed = int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print(f"kinesis_sink: seed {seed}", flush=True)
    with work_directory("e2e-kinesis") as work:
        processes = []
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEDDYTEST",
                   AWS_SECRET_ACCESS_KEY="eddy-test-secret", HOME=work)
        env.pop("AWS_PROFILE", None)
        try:
            db = Postgres(localdb, work)
            processes.append(db)
            url = db.url
            db.sql("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, pad text NOT NULL)")
            db.sql(f"INSERT INTO kv SELECT k, 1, '' FROM generate_series(1, {KEYS}) k")
            final = {k: 1 for k in range(1, KEYS + 1)}

            kinesalite, kl_port = start_kinesalite()
            processes.append(kinesalite)
            serve_log = open(work + "/serve.log", "a")
            serve, es_port = start_eddy_serve(eddy, work + "/target", log=serve_log)
            processes.append(serve)
            to_kinesalite, to_eddy = client(kl_port), client(es_port)
            create_stream(to_kinesalite, "out", 2)
            create_stream(to_eddy, "out", 2)
            cert, key = make_certificate(work)
            verifying, tls_port = start_verifying_server(testserver, work + "/verifying", cert, key,
                                                         "AKIDEDDYTEST:eddy-test-secret")
            processes.append(verifying)
            to_tls = client(tls_port, tls_ca=cert, region="eu-west-1")
            create_stream(to_tls, "out", 1)

            metrics_port = free_port()
            common = "batch_size=100&max_batching_window=0&parallelization_factor=2"
            command = [eddy, "run", "--source", url, "--data-dir", work + "/data", "--stream", "kv",
                       "--tables", "public.kv", "--shards", "4", "--api-listen", "127.0.0.1:0",
                       "--metrics-listen", f"127.0.0.1:{metrics_port}",
                       "--sink", f"kinesis+http://127.0.0.1:{kl_port}?stream=out&name=to-kinesalite&{common}",
                       "--sink", f"kinesis+http://127.0.0.1:{es_port}?stream=out&name=to-eddy&{common}",
                       "--sink", f"kinesis+https://127.0.0.1:{tls_port}?stream=out&name=to-tls"
                                 f"&ca_file={cert}&region=eu-west-1&{common}"]
            run_log = open(work + "/eddy.log", "a")
            run = subprocess.Popen(command, stdout=run_log, stderr=subprocess.STDOUT, env=env)
            processes.append(run)

            def write(count):
                statements = []
                for _ in range(count):
                    k = rng.randrange(1, KEYS + 1)
                    final[k] += 1
                    statements.append(f"UPDATE kv SET v = v + 1 WHERE k = {k};")
                for start in range(0, len(statements), 10):
                    db.sql("BEGIN;" + "".join(statements[start:start + 10]) + "COMMIT;")

            # The snapshot (v = 1 for every key) first, so each later value is one change.
            targets = (("kinesalite", to_kinesalite), ("eddy serve", to_eddy),
                       ("HTTPS + SigV4 verification", to_tls))
            for name, kinesis in targets:
                wait_for(lambda: run.poll() is not None or complete(kinesis, final), 120,
                         f"the snapshot rows in {name}", interval=0.2)
            write(600)
            # One change larger than a Kinesis record (chunked), then the row back to small.
            final[7] += 2
            db.sql(f"BEGIN; UPDATE kv SET v = v + 1, pad = repeat('x', {BIG}) WHERE k = 7; "
                      "UPDATE kv SET v = v + 1, pad = '' WHERE k = 7; COMMIT;")
            write(300)

            for name, kinesis in targets:
                wait_for(lambda: run.poll() is not None or complete(kinesis, final), 180,
                         f"every change in {name}", interval=0.5)
                assert run.poll() is None, f"eddy run exited with {run.returncode}; see {work}/eddy.log"
                records, entries = read_all(kinesis, "out")
                check(name, records, final, expect_no_duplicates=True)
                big = [c for k, _, c in changes(records) if k == 7 and len(c["after"]["pad"]) == BIG]
                assert len(big) == 1, f"{name}: the {BIG}-byte change arrived {len(big)} times"
                print(f"kinesis_sink: {name}: {len(records)} records in {entries} Kinesis entries, "
                      f"every change once, per-key order kept", flush=True)
                if name == "kinesalite":
                    assert entries > len(records), "kinesalite: the large change was not chunked"

            # The eddy serve target goes down: its sink turns IMPAIRED, the other keeps going.
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
            write(200)
            wait_for(lambda: sink_state(metrics_port, "to-eddy") == "IMPAIRED", 60,
                     "the to-eddy sink to turn IMPAIRED")
            assert sink_state(metrics_port, "to-kinesalite") == "ACTIVE"
            wait_for(lambda: complete(to_kinesalite, final), 120, "kinesalite to get the new changes",
                     interval=0.5)
            print("kinesis_sink: target down: to-eddy IMPAIRED, to-kinesalite ACTIVE", flush=True)
            serve, _ = start_eddy_serve(eddy, work + "/target", port=es_port, log=serve_log)
            processes.append(serve)
            wait_for(lambda: sink_state(metrics_port, "to-eddy") == "ACTIVE", 120,
                     "the to-eddy sink to turn ACTIVE again")
            wait_for(lambda: complete(to_eddy, final), 120, "eddy serve to get every change",
                     interval=0.5)
            records, _ = read_all(to_eddy, "out")
            duplicates = check("eddy serve after restart", records, final, expect_no_duplicates=False)
            print(f"kinesis_sink: target back: ACTIVE, nothing lost, {duplicates} duplicates "
                  f"(calls cut by the shutdown)", flush=True)
            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=60) == 0, f"eddy run did not stop cleanly; see {work}/eddy.log"

            # Bad input: each stops `eddy run` with the fix in the message.
            no_credentials = {k: v for k, v in env.items() if not k.startswith("AWS_")}
            closed = free_port()
            cases = [
                (f"kinesis+http://127.0.0.1:{kl_port}?stream=missing", env, "create the stream"),
                (f"kinesis+http://127.0.0.1:{kl_port}?stream=out", no_credentials,
                 "no AWS credentials: set AWS_ACCESS_KEY_ID"),
                ("kinesis+ftp://127.0.0.1:1?stream=out", env,
                 "url scheme 'kinesis+ftp' is not one this build delivers to"),
                (f"kinesis+http://127.0.0.1:{kl_port}/streams?stream=out", env,
                 "Kinesis takes no path after the host; write kinesis+https://"),
                (f"kinesis+http://127.0.0.1:{kl_port}", env, "add ?stream=NAME"),
                (f"kinesis+http://127.0.0.1:{closed}?stream=out", env,
                 "start the Kinesis endpoint or correct the sink URL"),
                (f"kinesis+https://127.0.0.1:{tls_port}?stream=out&ca_file={cert}", env,
                 "no AWS region: give it in the URL, or set AWS_REGION"),
                (f"kinesis+https://127.0.0.1:{tls_port}?stream=out&ca_file={cert}&region=eu-west-1",
                 dict(env, AWS_SECRET_ACCESS_KEY="wrong"), "InvalidSignatureException"),
                (f"kinesis+https://127.0.0.1:{tls_port}?stream=out&region=eu-west-1", env,
                 "certificate"),
            ]
            for index, (sink, case_env, needle) in enumerate(cases):
                bad = subprocess.run([eddy, "run", "--source", url, "--data-dir", f"{work}/bad{index}",
                                      "--stream", "kv", "--tables", "public.kv",
                                      "--api-listen", "127.0.0.1:0", "--sink", sink],
                                     env=case_env, capture_output=True, text=True, timeout=120)
                output = bad.stdout + bad.stderr
                assert bad.returncode != 0, f"{sink}: eddy run started: {output[-500:]}"
                assert needle in output, f"{sink}: expected '{needle}' in: {output[-1000:]}"
                print(f"kinesis_sink: bad input {sink.split('?')[0]}: refused ({needle})", flush=True)
            print("kinesis_sink: 1 passed, 0 failed")
            return 0
        finally:
            stop_all(processes)


if __name__ == "__main__":
    sys.exit(main())

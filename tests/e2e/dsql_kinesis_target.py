#!/usr/bin/env python3
"""DSQL CreateStream with a targetDefinition naming a real (external) Kinesis stream.

    dsql_kinesis_target.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE

The external Kinesis endpoint is a second eddy, `eddy serve` (a real Kinesis API; no AWS in
tests), with the stream `orders-ext` created by boto3. `eddy run --config` has one
`[[source]]` (PostgreSQL 15 with 12 rows in public.orders, the DSQL "cluster") and `[dsql]
kinesis_endpoint` pointing at the external eddy. Then dsql_kinesis_target.mjs
(@aws-sdk/client-dsql against eddy, @aws-sdk/client-kinesis against the external endpoint):
CreateStream, the StreamActive waiter, the 12 snapshot rows read from the external stream, a
missing external stream refused with ValidationException; 3 rows inserted reach it too;
DeleteStream removes the eddy stream and its Kinesis sink (the StreamNotExists waiter).

Waits are bounded polls on conditions (e2e_common.wait_for), never fixed sleeps.
"""
import json
import os
import subprocess
import sys

from e2e_common import Postgres, free_port, port_open, stop_all, stop_process, wait_for, \
    work_directory
from kinesis_sink_support import client, create_stream, start_eddy_serve

EDDY, LOCALDB, NODE = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = "dsql-external-token"
CLUSTER = "shopcluster"
STREAM = "orders-ext"
HERE = os.path.dirname(os.path.abspath(__file__))


def node(port, target_port, *args):
    result = subprocess.run([NODE, os.path.join(HERE, "dsql_kinesis_target.mjs"),
                             f"http://127.0.0.1:{port}", CLUSTER, TOKEN,
                             f"http://127.0.0.1:{target_port}", STREAM, *args],
                            cwd=HERE, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"dsql_kinesis_target.mjs {args}: {result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    with work_directory("dsql-kinesis-target") as work:
        running = []
        try:
            postgres = Postgres(LOCALDB, work)
            running.append(postgres)
            postgres.sql("CREATE TABLE orders (k int PRIMARY KEY, v int)")
            postgres.sql("INSERT INTO orders SELECT g, g FROM generate_series(1, 12) g")
            target, target_port = start_eddy_serve(EDDY, os.path.join(work, "target"),
                                                   log=open(os.path.join(work, "target.log"), "w"))
            running.append(target)
            create_stream(client(target_port), STREAM, 2)

            port = free_port()
            config = os.path.join(work, "eddy.toml")
            with open(config, "w") as f:
                f.write(f'data_dir = "{work}/data"\n[api]\nlisten = "127.0.0.1:{port}"\n'
                        f'[[source]]\nname = "{CLUSTER}"\nurl = "{postgres.url}"\n'
                        f'[dsql]\nkinesis_endpoint = "http://127.0.0.1:{target_port}"\n')
            env = dict(os.environ, EDDY_ADMIN_TOKEN=TOKEN, AWS_ACCESS_KEY_ID="AKIDEDDYTEST",
                       AWS_SECRET_ACCESS_KEY="eddy-test-secret", AWS_REGION="us-east-1")
            log_path = os.path.join(work, "eddy.log")
            eddy = subprocess.Popen([EDDY, "run", "--config", config], env=env,
                                    stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
            running.append(eddy)
            wait_for(lambda: port_open(port) or eddy.poll() is not None, 60, "eddy's API")
            assert eddy.poll() is None, open(log_path).read()

            created = node(port, target_port, "create", "12")
            assert created["keys"] == 12, created
            postgres.sql("INSERT INTO orders SELECT g, g FROM generate_series(13, 15) g")
            finished = node(port, target_port, "finish", "15", created["stream"])
            assert finished["keys"] == 15, finished
            # The stream and its Kinesis sink are gone from eddy.
            out = subprocess.run(["curl", "-sS", "-H", f"Authorization: Bearer {TOKEN}",
                                  f"http://127.0.0.1:{port}/admin/v1/sinks"],
                                 check=True, capture_output=True, text=True).stdout
            assert json.loads(out)["sinks"] == [], out
            stop_process(eddy)
            running.remove(eddy)
            assert eddy.returncode == 0, open(log_path).read()
            print("dsql_kinesis_target: OK")
        finally:
            stop_all(running)


if __name__ == "__main__":
    main()

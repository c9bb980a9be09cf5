#!/usr/bin/env python3
"""eddy's DSQL stream API driven by the AWS SDK's DSQL client, across a restart.

    dsql_streams.py EDDY_BINARY EDDY_LOCALDB_BINARY NODE

Starts a throwaway PostgreSQL 15 (eddy-localdb) with public.orders (12 rows) and `eddy run
--config` with one `[[source]]` (the DSQL "cluster") and no stream, with an admin token. Then
dsql_client.mjs (@aws-sdk/client-dsql, signing with SigV4 as the admin access key) creates a
stream, waits with the StreamActive waiter, reads the rows through the Kinesis API, lists
streams page by page, checks the documented errors and deletes one stream. eddy restarts:
the DSQL streams created before are there (GetStream, ListStreams), ACTIVE again, and are
deleted. curl without the token gets AccessDeniedException.

Waits are bounded polls on conditions (e2e_common.wait_for), never fixed sleeps.
"""
import json
import os
import subprocess
import sys

from e2e_common import EddyProcess, Postgres, free_port, stop_all, work_directory

EDDY, LOCALDB, NODE = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = "dsql-e2e-token"
CLUSTER = "shopcluster"
HERE = os.path.dirname(os.path.abspath(__file__))


def client(port, *args):
    """Runs dsql_client.mjs; returns its JSON line."""
    result = subprocess.run([NODE, os.path.join(HERE, "dsql_client.mjs"),
                             f"http://127.0.0.1:{port}", CLUSTER, TOKEN, *args],
                            cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=240)
    assert result.returncode == 0, f"dsql_client.mjs {args}: {result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    with work_directory("dsql-streams") as work:
        running = []
        try:
            postgres = Postgres(LOCALDB, work)
            running.append(postgres)
            postgres.sql("CREATE TABLE orders (k int PRIMARY KEY, v int)")
            postgres.sql("INSERT INTO orders SELECT g, g FROM generate_series(1, 12) g")
            port = free_port()
            config = os.path.join(work, "eddy.toml")
            with open(config, "w") as f:
                f.write(f'data_dir = "{work}/data"\n[api]\nlisten = "127.0.0.1:{port}"\n'
                        f'[[source]]\nname = "{CLUSTER}"\nurl = "{postgres.url}"\n'
                        f'snapshot_mode = "initial"\n')
            eddy = EddyProcess(EDDY, ["run", "--config", config], work, port,
                               env={"EDDY_ADMIN_TOKEN": TOKEN})
            running.append(eddy)

            # Without the token: refused, with the DSQL error shape.
            out = subprocess.run(["curl", "-sS", "-i", f"http://127.0.0.1:{port}/stream/{CLUSTER}"],
                                 check=True, stdout=subprocess.PIPE, text=True).stdout
            assert out.startswith("HTTP/1.1 403") and "AccessDeniedException" in out, out

            seen = client(port, "lifecycle", "12")
            assert seen["status"] == "ACTIVE" and seen["keys"] == 12 and seen["pages"] >= 2, seen

            eddy.stop()
            running.remove(eddy)
            eddy = EddyProcess(EDDY, ["run", "--config", config], work, port,
                               env={"EDDY_ADMIN_TOKEN": TOKEN})
            running.append(eddy)
            restarted = client(port, "after-restart", seen["stream"])
            assert restarted["restarted"] in ("CREATING", "ACTIVE"), restarted
            # The ORDERED stream is the only one left, with one shard.
            out = subprocess.run(["curl", "-sS", "-H", f"Authorization: Bearer {TOKEN}",
                                  f"http://127.0.0.1:{port}/admin/v1/streams/audit-cdc"],
                                 check=True, stdout=subprocess.PIPE, text=True).stdout
            stream = json.loads(out)
            assert stream["ordering"] == "ORDERED" and stream["shards"] == 1, stream
            assert stream["source"] == CLUSTER and stream["origin"] == "runtime", stream
            print("dsql_streams: OK")
        finally:
            stop_all(running)


if __name__ == "__main__":
    main()

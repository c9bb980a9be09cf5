#!/usr/bin/env python3
"""Authentication of eddy's control plane by SigV4 as well as by bearer token.

    admin_sigv4.py EDDY_BINARY NODE

Starts `eddy run --config` with one placeholder `[[source]]` (no stream: no database is
needed to exercise the control plane), an admin token and SigV4 credentials (`[api]
access_key_id`, the secret from EDDY_API_SECRET_ACCESS_KEY). Then:

- /admin/v1/ and /connectors refuse a request without credentials (401, each API's error
  shape), accept the bearer token, a request signed by botocore's SigV4Auth (boto3's signer,
  /usr/bin/python3) with the configured credentials, and one signed as `eddy-admin` with the
  token as the secret; a wrong secret is refused and the error says the signature was refused;
  a POST signed over `UNSIGNED-PAYLOAD` is refused, saying the payload must be signed;
- the AWS JS SDK (@aws-sdk/client-dsql, @aws-sdk/client-kinesis) signed with the configured
  credentials passes, with a wrong secret is refused (control_auth_client.mjs);
- an eddy listening on 0.0.0.0 without authentication logs the warning at start.
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

from e2e_common import free_port, port_open, stop_process, wait_for, work_directory

import botocore.auth  # noqa: E402  (python3-botocore, Debian's boto3)
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402

EDDY, NODE = sys.argv[1], sys.argv[2]
TOKEN = "sigv4-e2e-token"
ACCESS_KEY = "AKIDEDDYE2E"
SECRET = "sigv4-e2e-secret"
CLUSTER = "placeholder"
HERE = os.path.dirname(os.path.abspath(__file__))


def request(port, method, path, body=None, headers=None, sign=None, unsigned_payload=False):
    """(status, parsed body) of a request; `sign` = (access key, secret) signs it with SigV4."""
    url = f"http://127.0.0.1:{port}{path}"
    data = None if body is None else json.dumps(body).encode()
    headers = dict(headers or {})
    if data is not None:
        headers["Content-Type"] = "application/json"
    if sign is not None:
        aws = botocore.awsrequest.AWSRequest(method=method, url=url, data=data, headers=headers)
        if unsigned_payload:  # X-Amz-Content-SHA256: UNSIGNED-PAYLOAD, as for S3
            aws.context["payload_signing_enabled"] = False
        credentials = botocore.credentials.Credentials(sign[0], sign[1])
        botocore.auth.SigV4Auth(credentials, "eddy", "us-east-1").add_auth(aws)
        headers = dict(aws.headers.items())
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text.strip() else None


def start(work, port, listen_host="127.0.0.1", auth=True):
    config = os.path.join(work, f"eddy-{port}.toml")
    with open(config, "w") as f:
        f.write(f'data_dir = "{work}/data-{port}"\n[api]\nlisten = "{listen_host}:{port}"\n')
        if auth:
            f.write(f'admin_token = "{TOKEN}"\naccess_key_id = "{ACCESS_KEY}"\n')
        f.write(f'[[source]]\nname = "{CLUSTER}"\nurl = "postgresql://127.0.0.1:1/none"\n')
    env = dict(os.environ)
    env.pop("EDDY_ADMIN_TOKEN", None)
    if auth:
        env["EDDY_API_SECRET_ACCESS_KEY"] = SECRET
    log_path = os.path.join(work, f"eddy-{port}.log")
    process = subprocess.Popen([EDDY, "run", "--config", config], env=env,
                               stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    wait_for(lambda: port_open(port) or process.poll() is not None, 60, "eddy's API")
    assert process.poll() is None, open(log_path).read()
    return process, log_path


def main():
    with work_directory("admin-sigv4") as work:
        port = free_port()
        eddy, log_path = start(work, port)
        try:
            for path in ("/admin/v1/sources", "/connectors"):
                status, body = request(port, "GET", path)
                assert status == 401, (path, status, body)
                message = body["error"]["message"] if "error" in body else body["message"]
                assert "SigV4" in message and ACCESS_KEY in message, (path, body)
                status, body = request(port, "GET", path,
                                       headers={"Authorization": f"Bearer {TOKEN}"})
                assert status == 200, (path, status, body)
                status, body = request(port, "GET", path, sign=(ACCESS_KEY, SECRET))
                assert status == 200, (path, status, body)
                status, body = request(port, "GET", path, sign=("eddy-admin", TOKEN))
                assert status == 200, (path, status, body)
                status, body = request(port, "GET", path, sign=(ACCESS_KEY, "wrong"))
                assert status == 401, (path, status, body)
                message = body["error"]["message"] if "error" in body else body["message"]
                assert "refused" in message, (path, body)
                status, body = request(port, "GET", path, sign=("AKIDUNKNOWN", SECRET))
                assert status == 401, (path, status, body)
            sources = request(port, "GET", "/admin/v1/sources", sign=(ACCESS_KEY, SECRET))[1]
            assert [s["name"] for s in sources["sources"]] == [CLUSTER], sources
            # A signed POST (the body is in the signature).
            status, body = request(port, "POST", "/admin/v1/sources",
                                   {"name": "second", "url": "postgresql://127.0.0.1:1/other"},
                                   sign=(ACCESS_KEY, SECRET))
            assert status in (200, 201), (status, body)
            # The same with an unsigned payload: refused, the body could have been changed.
            status, body = request(port, "POST", "/admin/v1/sources",
                                   {"name": "third", "url": "postgresql://127.0.0.1:1/other"},
                                   sign=(ACCESS_KEY, SECRET), unsigned_payload=True)
            assert status == 401 and "signed payload" in body["error"]["message"], (status, body)

            # The AWS JS SDK with the configured credentials.
            out = subprocess.run([NODE, os.path.join(HERE, "control_auth_client.mjs"),
                                  f"http://127.0.0.1:{port}", CLUSTER, ACCESS_KEY, SECRET],
                                 cwd=HERE, capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stdout + out.stderr
        finally:
            stop_process(eddy)
        assert eddy.returncode == 0, open(log_path).read()

        # Beyond loopback without authentication: the warning at start.
        open_port = free_port()
        open_eddy, open_log = start(work, open_port, listen_host="0.0.0.0", auth=False)
        try:
            wait_for(lambda: "has no authentication" in open(open_log).read(), 30,
                     "the warning about an open control plane")
            assert request(open_port, "GET", "/admin/v1/sources")[0] == 200
        finally:
            stop_process(open_eddy)
        print("admin_sigv4: OK")


if __name__ == "__main__":
    main()

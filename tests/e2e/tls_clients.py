#!/usr/bin/env python3
"""HTTPS on the API port: real clients against a server with a self-signed certificate.

    tls_clients.py EDDY_API_TESTSERVER NODE

Generates a self-signed certificate for 127.0.0.1 with the openssl CLI, starts
eddy-api-testserver with --tls-cert/--tls-key, then checks: ALPN picks h2 when offered and
http/1.1 otherwise; boto3 (HTTP/1.1, verify=the certificate) creates a stream, writes and reads
it back; boto3 with a different CA fails verification; plain HTTP to the TLS port gets no
answer; the JavaScript SDK v3 with its default HTTP/2 handler (h2 over TLS via ALPN, CA from
NODE_EXTRA_CA_CERTS) runs kinesis_node.mjs. Always stops the server. Waits are bounded polls.
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

import boto3
import botocore.config
import botocore.exceptions

from e2e_common import stop_process, wait_for

SERVER, NODE = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))


def make_certificate(directory, name):
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def negotiated(port, cert, protocols):
    context = ssl.create_default_context(cafile=cert)
    context.set_alpn_protocols(protocols)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.selected_alpn_protocol()


def kinesis(endpoint, verify):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDEDDYTEST", aws_secret_access_key="eddy-test-secret",
                        verify=verify, config=botocore.config.Config(retries={"max_attempts": 1}))


def main():
    work = tempfile.mkdtemp(prefix="eddy-e2e-tls-")
    server = None
    try:
        cert, key = make_certificate(work, "server")
        other_cert, _ = make_certificate(work, "other")
        port_file = os.path.join(work, "port")
        server = subprocess.Popen([SERVER, "--data-dir", os.path.join(work, "data"), "--listen",
                                   "127.0.0.1:0", "--port-file", port_file, "--tls-cert", cert,
                                   "--tls-key", key],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "server.log"), "w"))
        port = int(wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(), 30,
                            "the server's port file"))
        endpoint = f"https://127.0.0.1:{port}"

        assert negotiated(port, cert, ["h2", "http/1.1"]) == "h2"
        assert negotiated(port, cert, ["http/1.1"]) == "http/1.1"

        client = kinesis(endpoint, cert)
        client.create_stream(StreamName="tls-stream", ShardCount=1)
        sequence = client.put_record(StreamName="tls-stream", PartitionKey="k", Data=b"over tls")["SequenceNumber"]
        shard = client.list_shards(StreamName="tls-stream")["Shards"][0]["ShardId"]
        iterator = client.get_shard_iterator(StreamName="tls-stream", ShardId=shard,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = client.get_records(ShardIterator=iterator)["Records"]
        assert [(r["Data"], r["SequenceNumber"]) for r in records] == [(b"over tls", sequence)], records

        try:
            kinesis(endpoint, other_cert).list_streams()
            raise AssertionError("a certificate from another CA was accepted")
        except botocore.exceptions.SSLError:
            pass

        with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
            plain.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            try:
                reply = plain.recv(100)  # a TLS alert or nothing, never an HTTP answer
            except ConnectionResetError:
                reply = b""
            assert not reply.startswith(b"HTTP/"), reply

        env = dict(os.environ, EDDY_ENDPOINT=endpoint, NODE_EXTRA_CA_CERTS=cert)
        subprocess.run([NODE, os.path.join(HERE, "kinesis_node.mjs")], env=env, check=True, cwd=HERE)
        print("tls_clients: ALPN h2/http1.1, boto3 over HTTPS with verification, the JavaScript SDK over h2+TLS")
        return 0
    finally:
        stop_process(server, 30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

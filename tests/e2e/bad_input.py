#!/usr/bin/env python3
"""Bad input against a real server: each gets the AWS error a real endpoint returns, and the
server keeps serving. Raw HTTP (http.client and sockets), no SDK in the way.

Malformed JSON, wrong member types, missing members, oversized bodies, unknown targets, missing
and malformed SigV4, forged iterators, iterators of deleted streams, huge Limit values, garbage
bytes and a broken HTTP/2 preface; then 32 concurrent clients on keep-alive connections.
"""
import base64
import http.client
import json
import os
import socket
import sys
import threading

PORT = int(os.environ["EDDY_PORT"])
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEDDYTEST/20261121/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "ab" * 32)


def call(target, body, auth=AUTH, connection=None, extra_headers=None):
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Date": "20261121T111701Z", **(extra_headers or {})}
    if auth is not None:
        headers["Authorization"] = auth
    data = body if isinstance(body, bytes) else body.encode()
    connection.request("POST", "/", body=data, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    if own:
        connection.close()
    parsed = json.loads(payload) if payload else {}
    return response.status, parsed, response.getheader("x-amzn-RequestId")


def expect(target, body, status, error_type, **kwargs):
    got_status, parsed, request_id = call(target, body, **kwargs)
    assert got_status == status, (target, body[:80], got_status, parsed)
    assert parsed.get("__type") == error_type, (target, body[:80], parsed)
    assert isinstance(parsed.get("message"), str), parsed
    assert request_id, "missing x-amzn-RequestId"


def kinesis(op):
    return "Kinesis_20131202." + op


def main():
    expect(kinesis("ListStreams"), "{not json", 400, "SerializationException")
    expect(kinesis("ListStreams"), "[]", 400, "SerializationException")
    expect(kinesis("DescribeStream"), '{"StreamName": 17}', 400, "SerializationException")
    expect(kinesis("PutRecord"), '{"StreamName":"s","PartitionKey":"k","Data":"not base64!"}', 400,
           "SerializationException")
    expect(kinesis("CreateStream"), "{}", 400, "ValidationException")
    expect(kinesis("PutRecord"), '{"StreamName":"s"}', 400, "ValidationException")
    expect(kinesis("Frobnicate"), "{}", 400, "UnknownOperationException")
    expect("NotAService.ListStreams", "{}", 400, "UnknownOperationException")
    # An unsigned payload is refused even where signatures are not verified (this server).
    for value in ("UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"):
        expect(kinesis("ListStreams"), "{}", 400, "InvalidSignatureException",
               extra_headers={"X-Amz-Content-SHA256": value})
        expect("DynamoDBStreams_20120810.ListStreams", "{}", 400, "InvalidSignatureException",
               extra_headers={"X-Amz-Content-SHA256": value})
    expect(kinesis("ListStreams"), "{}", 403, "MissingAuthenticationTokenException", auth=None)
    expect(kinesis("ListStreams"), "{}", 400, "IncompleteSignatureException", auth="AWS4-HMAC-SHA256 nonsense")
    expect(kinesis("DescribeStream"), '{"StreamName":"missing"}', 400, "ResourceNotFoundException")

    assert call(kinesis("CreateStream"), '{"StreamName":"bad-input","ShardCount":1}')[0] == 200
    status, reply, _ = call(kinesis("GetShardIterator"),
                            '{"StreamName":"bad-input","ShardId":"shardId-000000000000",'
                            '"ShardIteratorType":"TRIM_HORIZON"}')
    assert status == 200, reply
    iterator = reply["ShardIterator"]
    expect(kinesis("GetRecords"), json.dumps({"ShardIterator": iterator, "Limit": 10**12}), 400,
           "ValidationException")
    raw = bytearray(base64.b64decode(iterator))
    raw[12] ^= 1
    expect(kinesis("GetRecords"), json.dumps({"ShardIterator": base64.b64encode(raw).decode()}), 400,
           "InvalidArgumentException")
    expect(kinesis("GetRecords"), json.dumps({"ShardIterator": "x" * 600}), 400, "ValidationException")
    assert call(kinesis("DeleteStream"), '{"StreamName":"bad-input"}')[0] == 200
    expect(kinesis("GetRecords"), json.dumps({"ShardIterator": iterator}), 400,
           "ResourceNotFoundException")

    # Oversized body: 413 before the body is read, then the connection closes.
    sock = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
    reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply
    sock.close()

    # Garbage, a truncated HTTP/2 connection, an unsupported HTTP version.
    for garbage in [b"\x16\x03\x01\x00\xa5\x01\x00\x00", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04",
                    b"GET / HTTP/7.0\r\n\r\n", b"\r\n" * 10 + b"POST"]:
        sock = socket.create_connection(("127.0.0.1", PORT), timeout=30)
        sock.sendall(garbage)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass
        sock.close()

    # Still serving: 32 concurrent clients, 20 keep-alive requests each.
    errors = []

    def worker():
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            for _ in range(20):
                status, body, _ = call(kinesis("ListStreams"), "{}", connection=connection)
                assert status == 200 and "StreamNames" in body, body
            connection.close()
        except Exception as error:  # noqa: BLE001 - collected and reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    print("bad_input: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

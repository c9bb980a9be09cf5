#!/usr/bin/env python3
"""SigV4 verification (server started with --credentials AKIDEDDYTEST:eddy-test-secret):
boto3 requests signed with the right secret succeed; a wrong secret is rejected with
InvalidSignatureException and an unknown access key with UnrecognizedClientException.
A request signed by botocore with `X-Amz-Content-SHA256: UNSIGNED-PAYLOAD` (its
payload_signing_enabled=False, as for S3) is refused with InvalidSignatureException saying the
payload must be signed, and so is a signed request whose body was changed afterwards."""
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions

ENDPOINT = os.environ["EDDY_ENDPOINT"]


def client(key, secret):
    return boto3.client("kinesis", endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def expect_error(code, call):
    try:
        call()
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == code, error
        return
    raise AssertionError(f"expected {code}")


def raw_list_streams(sign_payload=True, content_sha256=None, send_body=None):
    """(status, parsed body) of a ListStreams signed by botocore's SigV4Auth as AKIDEDDYTEST."""
    body = b"{}"
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "Kinesis_20131202.ListStreams"}
    if content_sha256 is not None:
        headers["X-Amz-Content-SHA256"] = content_sha256
    request = botocore.awsrequest.AWSRequest(method="POST", url=ENDPOINT + "/", data=body,
                                             headers=headers)
    if not sign_payload:
        request.context["payload_signing_enabled"] = False
    credentials = botocore.credentials.Credentials("AKIDEDDYTEST", "eddy-test-secret")
    botocore.auth.SigV4Auth(credentials, "kinesis", "us-east-1").add_auth(request)
    sent = urllib.request.Request(ENDPOINT + "/", data=send_body or body, method="POST",
                                  headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def main():
    good = client("AKIDEDDYTEST", "eddy-test-secret")
    good.create_stream(StreamName="signed", ShardCount=1)
    good.put_record(StreamName="signed", PartitionKey="k", Data=b"payload with spaces  and = signs")
    assert "signed" in good.list_streams()["StreamNames"]
    expect_error("InvalidSignatureException", lambda: client("AKIDEDDYTEST", "wrong").list_streams())
    expect_error("UnrecognizedClientException", lambda: client("AKIDOTHER", "x").list_streams())

    # The payload is part of the signature on these APIs.
    status, answer = raw_list_streams()
    assert status == 200 and "signed" in answer["StreamNames"], (status, answer)
    status, answer = raw_list_streams(content_sha256=hashlib.sha256(b"{}").hexdigest())
    assert status == 200, (status, answer)
    status, answer = raw_list_streams(sign_payload=False)
    assert status == 400 and answer["__type"] == "InvalidSignatureException", (status, answer)
    assert "UNSIGNED-PAYLOAD" in answer["message"] and "signed payload" in answer["message"], answer
    status, answer = raw_list_streams(content_sha256=hashlib.sha256(b"{}").hexdigest(),
                                      send_body=b'{"Limit":1}')
    assert status == 400 and answer["__type"] == "InvalidSignatureException", (status, answer)
    assert "x-amz-content-sha256" in answer["message"], answer
    print("sigv4_boto3: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

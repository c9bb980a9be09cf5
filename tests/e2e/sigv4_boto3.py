#!/usr/bin/env python3
"""SigV4 verification (server started with --credentials AKIDEDDYTEST:eddy-test-secret):
boto3 requests signed with the right secret succeed; a wrong secret is rejected with
InvalidSignatureException and an unknown access key with UnrecognizedClientException."""
import os
import sys

import boto3
import botocore.config
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


def main():
    good = client("AKIDEDDYTEST", "eddy-test-secret")
    good.create_stream(StreamName="signed", ShardCount=1)
    good.put_record(StreamName="signed", PartitionKey="k", Data=b"payload with spaces  and = signs")
    assert "signed" in good.list_streams()["StreamNames"]
    expect_error("InvalidSignatureException", lambda: client("AKIDEDDYTEST", "wrong").list_streams())
    expect_error("UnrecognizedClientException", lambda: client("AKIDOTHER", "x").list_streams())
    print("sigv4_boto3: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared set-up of the Kafka Connect REST API tests (kafka_connect_api.py,
kafka_connect_rest.py): eddy's configuration with no stream (run by e2e_common.EddyProcess), a
Debezium PostgreSQL connector's properties for a throwaway PostgreSQL, and curl as the REST
client.

Neither Debian nor npm has a Kafka Connect REST client library (npm's
@aws-sdk/client-kafkaconnect is MSK Connect's own API, not this one), so the tests use curl,
urllib and python3-requests.
"""
import json
import subprocess
import urllib.parse


POSTGRES_CLASS = "io.debezium.connector.postgresql.PostgresConnector"


def postgres_connector_config(postgres, prefix, slot, **extra):
    """A Debezium PostgreSQL connector's properties for `postgres` (e2e_common.Postgres),
    capturing public.orders under topic prefix `prefix` through replication slot `slot`;
    `extra` properties are added (dots in their names written as `__`)."""
    url = urllib.parse.urlparse(postgres.url)
    config = {
        "connector.class": POSTGRES_CLASS,
        "database.hostname": url.hostname,
        "database.port": str(url.port),
        "database.user": urllib.parse.unquote(url.username or "postgres"),
        "database.password": urllib.parse.unquote(url.password or ""),
        "database.dbname": url.path.lstrip("/"),
        "topic.prefix": prefix,
        "table.include.list": "public.orders",
        "slot.name": slot,
        "publication.name": slot + "_pub",
    }
    config.update({key.replace("__", "."): value for key, value in extra.items()})
    return config


def curl(port, method, path, body=None):
    """(status, parsed JSON body or None) of a request through the curl CLI."""
    command = ["curl", "-sS", "-X", method, "-w", "\n%{http_code}", f"http://127.0.0.1:{port}{path}"]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    text, _, code = out.rpartition("\n")
    return int(code), json.loads(text) if text.strip() else None


def write_eddy_config(path, work, port, bootstrap=None):
    """eddy's TOML configuration: data in WORK/data, the API on `port`, a placeholder
    [[source]] no stream captures (each connector brings its own source), and [kafka] when
    `bootstrap` is given."""
    with open(path, "w") as f:
        f.write(f'data_dir = "{work}/data"\n[api]\nlisten = "127.0.0.1:{port}"\n')
        f.write('[[source]]\nname = "unused"\nurl = "postgresql://127.0.0.1:1/none"\n')
        if bootstrap:
            f.write(f'[kafka]\nbootstrap_servers = "{bootstrap}"\n')

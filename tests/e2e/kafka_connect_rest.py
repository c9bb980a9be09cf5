#!/usr/bin/env python3
"""The rest of Kafka Connect's REST API on eddy: PATCH of a connector's configuration,
`GET /connectors?expand=...`, and the connector-plugin resources, with Connect's shapes.

    kafka_connect_rest.py EDDY_BINARY EDDY_LOCALDB_BINARY

Clients: curl and python3-requests (Debian's; kafka_connect_common.py says why). Starts a
throwaway PostgreSQL 15 and `eddy run --config` with no stream and no Kafka cluster (the
connector's changes stay in the eddy stream). Then:

- PUT /connector-plugins/{Postgres,PostgresConnector,class}/config/validate: a good
  configuration has error_count 0; a bad one names each bad property with the message POST
  /connectors gives for it (the same POST answers 400 with that message); another class in
  the body and an unknown plugin get Connect's 400 and 404;
- GET /connector-plugins/PostgresConnector/config lists ConfigKeyInfo definitions;
- GET /connectors?expand=status, ?expand=info, both, and an unknown expansion: Connect's map of
  name -> {status, info};
- PATCH /connectors/{name}/config merges (a new property added, a null value removes one, the
  others kept), the capture follows the new configuration (a column excluded from then on),
  a bad PATCH is a 400 that changes nothing, an unknown connector a 404.
"""
import os
import subprocess
import sys

import requests

from e2e_common import EddyProcess, Postgres, free_port, stop_process, wait_for, work_directory
from kafka_connect_common import POSTGRES_CLASS, curl, postgres_connector_config, \
    write_eddy_config

EDDY, LOCALDB = sys.argv[1], sys.argv[2]


def connector_config(postgres, prefix, slot):
    return postgres_connector_config(postgres, prefix, slot, heartbeat__interval__ms="60000")


def errors_by_property(infos):
    found = {}
    for config in infos["configs"]:
        assert set(config) == {"definition", "value"}, config
        assert set(config["value"]) == {"name", "value", "recommended_values", "errors",
                                        "visible"}, config
        assert config["definition"]["name"] == config["value"]["name"], config
        if config["value"]["errors"]:
            found[config["value"]["name"]] = config["value"]["errors"]
    assert infos["error_count"] == sum(len(e) for e in found.values()), infos
    return found


def main():
    with work_directory("kafka-connect-rest") as work:
        postgres = Postgres(LOCALDB, work)
        eddy = None
        try:
            postgres.sql("CREATE TABLE orders (id int PRIMARY KEY, note text, secret text)")
            postgres.sql("INSERT INTO orders VALUES (1, 'one', 's1')")
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            config_path = os.path.join(work, "eddy.toml")
            write_eddy_config(config_path, work, port)
            eddy = EddyProcess(EDDY, ["run", "--config", config_path], work, port)

            # Validation, as Connect UIs call it before creating a connector.
            good = dict(connector_config(postgres, "shop", "dbz_rest"), name="inventory")
            for plugin in ("Postgres", "PostgresConnector", POSTGRES_CLASS):
                status, infos = curl(port, "PUT", f"/connector-plugins/{plugin}/config/validate",
                                     good)
                assert status == 200 and infos["name"] == POSTGRES_CLASS, (status, infos)
                assert infos["error_count"] == 0 and errors_by_property(infos) == {}, infos
                assert "Common" in infos["groups"], infos
            bad = dict(good, **{"snapshot.mode": "sometimes", "transforms": "unwrap",
                                "heartbeat.interval.ms": "5"})
            answer = requests.put(f"{base}/connector-plugins/PostgresConnector/config/validate",
                                  json=bad, timeout=30)
            assert answer.status_code == 200, answer.text
            infos = answer.json()
            errors = errors_by_property(infos)
            assert set(errors) == {"snapshot.mode", "transforms", "heartbeat.interval.ms"}, errors
            assert infos["error_count"] == 3, infos
            password = [c for c in infos["configs"] if c["value"]["name"] == "database.password"]
            assert password and password[0]["value"]["value"] == "[hidden]", password
            # POST /connectors gives the first of them, word for word.
            status, posted = curl(port, "POST", "/connectors", {"name": "inventory", "config": bad})
            assert status == 400, (status, posted)
            assert any(posted["message"] in e for e in errors.values()), (posted, errors)
            status, answer = curl(port, "PUT", "/connector-plugins/Postgres/config/validate",
                                  dict(good, **{"connector.class":
                                                "io.debezium.connector.mysql.MySqlConnector"}))
            assert status == 400 and answer["error_code"] == 400, answer
            assert "does not match request type Postgres" in answer["message"], answer
            status, answer = curl(port, "PUT", "/connector-plugins/FileStreamSource/config/validate",
                                  good)
            assert status == 404 and "Unknown plugin FileStreamSource" in answer["message"], answer
            status, answer = curl(port, "PUT", "/connector-plugins/Postgres/config/validate", [1])
            assert status == 400 and answer["error_code"] == 400, answer

            status, definitions = curl(port, "GET", "/connector-plugins/PostgresConnector/config")
            assert status == 200 and isinstance(definitions, list), definitions
            by_name = {d["name"]: d for d in definitions}
            assert by_name["slot.name"]["default_value"] == "debezium", by_name["slot.name"]
            assert by_name["topic.prefix"]["required"] is True, by_name["topic.prefix"]
            assert set(by_name["database.password"]) == {
                "name", "type", "required", "default_value", "importance", "documentation",
                "group", "width", "display_name", "dependents", "order"}, by_name
            assert by_name["database.password"]["type"] == "PASSWORD"

            # A connector, then the expansions of the list.
            status, created = curl(port, "POST", "/connectors",
                                   {"name": "inventory", "config": connector_config(
                                       postgres, "shop", "dbz_rest")})
            assert status == 201, (status, created)
            wait_for(lambda: requests.get(f"{base}/connectors/inventory/status", timeout=30)
                     .json()["connector"]["state"] == "RUNNING", 60, "the connector running")
            status, expanded = curl(port, "GET", "/connectors?expand=status")
            assert status == 200 and set(expanded) == {"inventory"}, expanded
            assert set(expanded["inventory"]) == {"status"}, expanded
            assert expanded["inventory"]["status"]["connector"]["state"] == "RUNNING", expanded
            assert expanded["inventory"]["status"]["name"] == "inventory", expanded
            status, expanded = curl(port, "GET", "/connectors?expand=info")
            assert set(expanded["inventory"]) == {"info"}, expanded
            assert expanded["inventory"]["info"]["config"]["slot.name"] == "dbz_rest", expanded
            assert expanded["inventory"]["info"]["tasks"] == [
                {"connector": "inventory", "task": 0}], expanded
            answer = requests.get(f"{base}/connectors", params=[("expand", "status"),
                                                                ("expand", "info")], timeout=30)
            assert answer.status_code == 200, answer.text
            assert set(answer.json()["inventory"]) == {"status", "info"}, answer.text
            status, expanded = curl(port, "GET", "/connectors?expand=nothing")
            assert status == 200 and expanded == {"inventory": {}}, expanded
            assert curl(port, "GET", "/connectors")[1] == ["inventory"]

            # PATCH: merge, null removes, the capture follows the new configuration.
            wait_for(lambda: requests.get(f"{base}/admin/v1/streams/shop", timeout=30)
                     .json().get("records", 0) >= 1, 60, "the snapshot row")
            status, patched = curl(port, "PATCH", "/connectors/inventory/config",
                                   {"column.exclude.list": "public.orders.secret",
                                    "heartbeat.interval.ms": None})
            assert status == 200, (status, patched)
            config = patched["config"]
            assert config["column.exclude.list"] == "public.orders.secret", config
            assert "heartbeat.interval.ms" not in config, config
            assert config["slot.name"] == "dbz_rest" and config["name"] == "inventory", config
            assert curl(port, "GET", "/connectors/inventory/config")[1] == config
            postgres.sql("INSERT INTO orders VALUES (2, 'two', 's2')")

            def row_two():
                out = subprocess.run([EDDY, "tail", "--data-dir", f"{work}/data", "--stream",
                                      "shop"], capture_output=True, text=True)
                for line in out.stdout.splitlines():
                    if '"id":2' in line.replace(" ", ""):
                        return line
                return None
            line = wait_for(row_two, 60, "row 2 in the stream")
            assert "s2" not in line and "secret" not in line, line
            status, answer = curl(port, "PATCH", "/connectors/inventory/config",
                                  {"snapshot.mode": "sometimes"})
            assert status == 400 and "snapshot.mode" in answer["message"], answer
            assert curl(port, "GET", "/connectors/inventory/config")[1] == config
            status, answer = curl(port, "PATCH", "/connectors/inventory/config", "not an object")
            assert status == 400 and answer["error_code"] == 400, answer
            status, answer = curl(port, "PATCH", "/connectors/nobody/config", {"a": "b"})
            assert status == 404 and answer["message"] == "Connector nobody not found", answer
            assert curl(port, "DELETE", "/connectors/inventory")[0] == 204
        finally:
            if eddy is not None:
                stop_process(eddy.process)
            postgres.stop()
        print("kafka_connect_rest: OK")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A stand-in OpenSearch server for eddy's tests (python3 stdlib only, threaded).

No OpenSearch or Elasticsearch server can be installed here: Debian packages none, and the npm
launchers download the server at run time. This stand-in answers the part of the REST API the
OpenSearch sink and its tests use, written from the official opensearch-api-specification
(`/_bulk`, `/{index}/_bulk`, index create/get/delete, `_doc`, `_search`, `_count`) and checked
against the official `@opensearch-project/opensearch` client (tests/e2e/opensearch_client.mjs).
It is not OpenSearch: one shard, no replicas, no analysis or scoring, searches are match_all
(and `ids`/`term` on `_id`), a refresh is a no-op (writes are visible at once).

    opensearch_standin.py [--port N] [--port-file F] [--data FILE] [--gc-deletes SECONDS]
                          [--user U --password P] [--record DIR]

What it implements, as the spec describes it:
- `_bulk`: NDJSON (the body must end in '\\n'; chunked bodies are accepted), actions index,
  create, delete and update (doc, doc_as_upsert, upsert); metadata _index, _id, version,
  version_type (internal, external, external_gte), if_seq_no/if_primary_term; one item per
  action in request order, HTTP 200 even when items fail: 201 created, 200 updated/deleted,
  404 not_found for a delete of a missing document, 409 version_conflict_engine_exception for a
  stale external version or a create over an existing document, 400 mapper_parsing_exception
  for a value its index's mapping cannot take (long, integer, double, float, scaled_float,
  boolean, date, keyword, binary).
- External versions of deleted documents are kept for `--gc-deletes` seconds (index.gc_deletes,
  default 60): within the window a stale write gets 409, after it the document can come back,
  as on a real cluster. A delete of a missing document with an external version also leaves
  such a tombstone.
- Indexes are created on first write (dynamic mapping) or by PUT /{index} with mappings;
  `filter_path` (comma-separated paths, `*` for one level, arrays transparent) on every reply.
- Basic auth when --user is given (401 security_exception otherwise).
- Faults through a control endpoint: POST /_standin/faults {"reject_requests": N (the next N
  _bulk requests answer 429 es_rejected_execution_exception), "reject_items": N (the next N bulk
  items answer 429), "fail_items": N (the next N items answer 503), "refuse_mapping": N (the next
  N index items answer 400 mapper_parsing_exception)}; GET /_standin/stats; POST /_standin/reset.
- Restart: with --data the indexes are written to FILE (atomically) after every change and
  loaded at start, so a stopped and restarted stand-in keeps its documents.
"""
import argparse
import base64
import http.server
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid

PRIMARY_TERM = 1
INDEX_NAME = re.compile(r'^[^A-Z\\/*?"<>| ,#:_\-+][^A-Z\\/*?"<>| ,#:]*$')
DATE = re.compile(r"^[+-]?\d{4,}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$")


class Error(Exception):
    """A whole-request error: status and the {"error":{type,reason},"status"} body."""

    def __init__(self, status, kind, reason):
        super().__init__(reason)
        self.status, self.kind, self.reason = status, kind, reason

    def body(self):
        return {"error": {"root_cause": [{"type": self.kind, "reason": self.reason}],
                          "type": self.kind, "reason": self.reason}, "status": self.status}


class Index:
    def __init__(self, name, mappings=None, settings=None):
        self.name = name
        self.uuid = uuid.uuid4().hex[:22]
        self.mappings = mappings or {"properties": {}}
        self.settings = settings or {}
        self.docs = {}        # id -> {"source", "version", "seq_no"}
        self.tombstones = {}  # id -> (version, seq_no, deleted at: time.monotonic())
        self.seq_no = 0

    def to_json(self):
        return {"mappings": self.mappings, "settings": self.settings, "docs": self.docs,
                "seq_no": self.seq_no,
                "tombstones": {k: [v[0], v[1]] for k, v in self.tombstones.items()}}

    @staticmethod
    def from_json(name, data):
        index = Index(name, data["mappings"], data["settings"])
        index.docs = data["docs"]
        index.seq_no = data["seq_no"]
        now = time.monotonic()
        index.tombstones = {k: (v[0], v[1], now) for k, v in data["tombstones"].items()}
        return index


def check_value(field_type, value):
    """True when a mapping of `field_type` takes `value` (None and arrays of takers pass)."""
    if value is None:
        return True
    if isinstance(value, list):
        return all(check_value(field_type, v) for v in value)
    if field_type in ("long", "integer", "short", "byte", "unsigned_long"):
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return True  # coerced, as the default `coerce: true` does
        return isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d*)?", value) is not None
    if field_type in ("double", "float", "scaled_float", "half_float"):
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return True
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return False
            return number == number and abs(number) != float("inf")
        return False
    if field_type == "boolean":
        return isinstance(value, bool) or value in ("true", "false", "")
    if field_type in ("date", "date_nanos"):
        return (isinstance(value, int) and not isinstance(value, bool)) or \
            (isinstance(value, str) and DATE.match(value) is not None)
    if field_type in ("keyword", "text", "binary"):
        return not isinstance(value, dict)
    return True


def dynamic_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "date" if DATE.match(value) and "-" in value[1:] else "text"
    if isinstance(value, dict):
        return "object"
    return None


def apply_filter(value, paths):
    """filter_path: keep the members on one of `paths` (lists of segments, '*' = any)."""
    if not paths:
        return value

    def walk(node, remaining):
        if isinstance(node, list):
            kept = [walk(item, remaining) for item in node]
            kept = [item for item in kept if item is not None]
            return kept if kept else None
        if any(len(path) == 0 for path in remaining):
            return node
        if not isinstance(node, dict):
            return None
        out = {}
        for key, child in node.items():
            below = [path[1:] for path in remaining if path[0] in ("*", key) or path[0] == "**"]
            below += [path for path in remaining if path[0] == "**"]
            if not below:
                continue
            kept = walk(child, below)
            if kept is not None:
                out[key] = kept
        return out if out else None

    result = walk(value, [path.split(".") for path in paths])
    return result if result is not None else {}


class Store:
    def __init__(self, data_file, gc_deletes, record_dir=None):
        self.lock = threading.Lock()
        self.record_dir = record_dir
        self.recorded = 0
        self.indexes = {}
        self.data_file = data_file
        self.gc_deletes = gc_deletes
        self.faults = {"reject_requests": 0, "reject_items": 0, "fail_items": 0,
                       "refuse_mapping": 0}
        self.stats = {"bulk_requests": 0, "bulk_items": 0, "rejected_requests": 0,
                      "rejected_items": 0, "failed_items": 0, "refused_items": 0,
                      "conflicts": 0}
        if data_file and os.path.exists(data_file):
            with open(data_file) as f:
                saved = json.load(f)
            self.indexes = {name: Index.from_json(name, data) for name, data in saved.items()}

    def save(self):
        if not self.data_file:
            return
        temp = self.data_file + ".tmp"
        with open(temp, "w") as f:
            json.dump({name: index.to_json() for name, index in self.indexes.items()}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, self.data_file)

    def index(self, name, create=True):
        index = self.indexes.get(name)
        if index is None and create:
            if not INDEX_NAME.match(name) or name in (".", ".."):
                raise Error(400, "invalid_index_name_exception",
                            f"Invalid index name [{name}], must be lowercase and must not "
                            "contain \\, /, *, ?, \", <, >, |, space, ',', #, :")
            index = self.indexes[name] = Index(name)
        return index

    def live_tombstone(self, index, doc_id):
        stone = index.tombstones.get(doc_id)
        if stone is None:
            return None
        if time.monotonic() - stone[2] > self.gc_deletes:
            del index.tombstones[doc_id]
            return None
        return stone

    # One write; returns the item body (with "status").
    def write(self, action, meta, source):
        name = meta.get("_index")
        doc_id = meta.get("_id")
        if name is None:
            raise Error(400, "action_request_validation_exception",
                        "Validation Failed: 1: index is missing;")
        index = self.index(name)
        version = meta.get("version", meta.get("_version"))
        version_type = meta.get("version_type", "internal")
        if version_type not in ("internal", "external", "external_gte", "force"):
            raise Error(400, "illegal_argument_exception",
                        f"No version type match [{version_type}]")
        if version_type in ("external", "external_gte"):
            if not isinstance(version, int) or isinstance(version, bool) or version < 0 or \
                    version > (1 << 63) - 1:
                raise Error(400, "action_request_validation_exception",
                            "Validation Failed: 1: illegal version value [%s] for version type [%s];"
                            % (version, version_type.upper()))
        elif version is not None and action != "delete" and action != "index":
            pass
        if doc_id is None:
            if action in ("delete", "update"):
                raise Error(400, "action_request_validation_exception",
                            "Validation Failed: 1: id is missing;")
            doc_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        doc_id = str(doc_id)
        if len(doc_id.encode()) > 512:
            return self.item(index, doc_id, 400, error=(
                "illegal_argument_exception",
                f"id [{doc_id[:30]}...] is too long, must be no longer than 512 bytes"))

        with_faults = self.fault_item(index, doc_id, action)
        if with_faults is not None:
            return with_faults

        current = index.docs.get(doc_id)
        stone = None if current is not None else self.live_tombstone(index, doc_id)
        stored_version = current["version"] if current else (stone[0] if stone else None)

        if "if_seq_no" in meta:
            if current is None or current["seq_no"] != meta["if_seq_no"] or \
                    meta.get("if_primary_term", PRIMARY_TERM) != PRIMARY_TERM:
                return self.conflict(index, doc_id, "required seqNo [%s], primary term [%s]. "
                                     "current document has seqNo [%s] and primary term [%s]" % (
                                         meta["if_seq_no"], meta.get("if_primary_term"),
                                         current["seq_no"] if current else -2, PRIMARY_TERM))
        if version_type == "external" and stored_version is not None and version <= stored_version:
            return self.conflict(index, doc_id, "current version [%d] is higher or equal to the "
                                 "one provided [%d]" % (stored_version, version))
        if version_type == "external_gte" and stored_version is not None and version < stored_version:
            return self.conflict(index, doc_id, "current version [%d] is higher than the one "
                                 "provided [%d]" % (stored_version, version))

        if action == "create" and current is not None:
            return self.conflict(index, doc_id, "document already exists")
        if action == "delete":
            index.seq_no += 1
            new_version = version if version_type in ("external", "external_gte") else \
                (stored_version or 0) + 1
            index.tombstones[doc_id] = (new_version, index.seq_no, time.monotonic())
            if current is None:
                return self.item(index, doc_id, 404, result="not_found", version=new_version)
            del index.docs[doc_id]
            return self.item(index, doc_id, 200, result="deleted", version=new_version)
        if action == "update":
            if not isinstance(source, dict):
                raise Error(400, "x_content_parse_exception", "update needs a body")
            if current is None:
                if source.get("doc_as_upsert") and "doc" in source:
                    body = source["doc"]
                elif "upsert" in source:
                    body = source["upsert"]
                else:
                    return self.item(index, doc_id, 404, error=(
                        "document_missing_exception", f"[{doc_id}]: document missing"))
            else:
                body = dict(current["source"])
                body.update(source.get("doc", {}))
            source = body
        if not isinstance(source, dict):
            raise Error(400, "mapper_parsing_exception", "failed to parse: not an object")
        problem = self.map_fields(index, source, action)
        if problem:
            return self.item(index, doc_id, 400, error=("mapper_parsing_exception", problem))
        index.seq_no += 1
        new_version = version if version_type in ("external", "external_gte") else \
            (stored_version or 0) + 1 if current is not None else 1
        index.docs[doc_id] = {"source": source, "version": new_version, "seq_no": index.seq_no}
        index.tombstones.pop(doc_id, None)
        if current is None:
            return self.item(index, doc_id, 201, result="created", version=new_version)
        return self.item(index, doc_id, 200, result="updated", version=new_version)

    def fault_item(self, index, doc_id, action):
        if self.faults["reject_items"] > 0:
            self.faults["reject_items"] -= 1
            self.stats["rejected_items"] += 1
            return self.item(index, doc_id, 429, error=(
                "es_rejected_execution_exception",
                "rejected execution of coordinating operation [standin write queue full]"))
        if self.faults["fail_items"] > 0:
            self.faults["fail_items"] -= 1
            self.stats["failed_items"] += 1
            return self.item(index, doc_id, 503, error=(
                "unavailable_shards_exception", "[%s][0] primary shard is not active" % index.name))
        if action != "delete" and self.faults["refuse_mapping"] > 0:
            self.faults["refuse_mapping"] -= 1
            self.stats["refused_items"] += 1
            return self.item(index, doc_id, 400, error=(
                "mapper_parsing_exception", "failed to parse (refused by the stand-in's fault)"))
        return None

    def map_fields(self, index, source, action):
        properties = index.mappings.setdefault("properties", {})
        for field, value in source.items():
            mapping = properties.get(field)
            if mapping is None:
                kind = dynamic_type(value if not isinstance(value, list) or not value else value[0])
                if kind is not None:
                    properties[field] = {"type": kind}
                continue
            kind = mapping.get("type", "object")
            if kind == "object" and mapping.get("enabled") is False:
                continue
            if kind == "object":
                if value is not None and not isinstance(value, dict):
                    return "object mapping for [%s] tried to parse field [%s] as object, but " \
                           "found a concrete value" % (field, field)
                continue
            if not check_value(kind, value):
                return "failed to parse field [%s] of type [%s] in document. Preview of " \
                       "field's value: '%s'" % (field, kind, str(value)[:100])
        return None

    def conflict(self, index, doc_id, detail):
        self.stats["conflicts"] += 1
        return self.item(index, doc_id, 409, error=(
            "version_conflict_engine_exception", f"[{doc_id}]: version conflict, {detail}"))

    @staticmethod
    def item(index, doc_id, status, result=None, version=None, error=None):
        body = {"_index": index.name, "_id": doc_id}
        if error:
            body["status"] = status
            body["error"] = {"type": error[0], "reason": error[1], "index": index.name,
                             "shard": "0", "index_uuid": index.uuid}
            return body
        body.update({"_version": version, "result": result,
                     "_shards": {"total": 2, "successful": 1, "failed": 0},
                     "_seq_no": index.seq_no, "_primary_term": PRIMARY_TERM, "status": status})
        return body

    def record(self, body):
        """--record: every _bulk body to DIR/NNNNNNNN.ndjson (the benchmark replays them)."""
        if not self.record_dir:
            return
        with self.lock:
            self.recorded += 1
            number = self.recorded
        with open(os.path.join(self.record_dir, "%08d.ndjson" % number), "wb") as f:
            f.write(body)

    def bulk(self, body, default_index):
        self.record(body)
        if not body.endswith(b"\n"):
            raise Error(400, "illegal_argument_exception",
                        "The bulk request must be terminated by a newline [\\n]")
        lines = body.split(b"\n")[:-1]
        operations = []
        i = 0
        while i < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            try:
                header = json.loads(lines[i])
            except ValueError as error:
                raise Error(400, "x_content_parse_exception",
                            f"[{i + 1}:1] Unexpected character: {error}")
            if not isinstance(header, dict) or len(header) != 1:
                raise Error(400, "illegal_argument_exception",
                            f"Malformed action/metadata line [{i + 1}], expected START_OBJECT or "
                            "END_OBJECT but found something else")
            action, meta = next(iter(header.items()))
            if action not in ("index", "create", "delete", "update"):
                raise Error(400, "illegal_argument_exception",
                            f"Malformed action/metadata line [{i + 1}], expected one of [create, "
                            f"delete, index, update] but found [{action}]")
            if not isinstance(meta, dict):
                raise Error(400, "illegal_argument_exception",
                            f"Malformed action/metadata line [{i + 1}], expected START_OBJECT")
            meta = dict(meta)
            if default_index and "_index" not in meta:
                meta["_index"] = default_index
            source = None
            if action != "delete":
                i += 1
                if i >= len(lines):
                    raise Error(400, "illegal_argument_exception",
                                "The bulk request must be terminated by a newline [\\n]")
                try:
                    source = json.loads(lines[i])
                except ValueError as error:
                    source = Error(400, "mapper_parsing_exception", f"failed to parse: {error}")
            operations.append((action, meta, source))
            i += 1
        if not operations:
            raise Error(400, "action_request_validation_exception",
                        "Validation Failed: 1: no requests added;")
        started = time.monotonic()
        with self.lock:
            self.stats["bulk_requests"] += 1
            self.stats["bulk_items"] += len(operations)
            if self.faults["reject_requests"] > 0:
                self.faults["reject_requests"] -= 1
                self.stats["rejected_requests"] += 1
                raise Error(429, "es_rejected_execution_exception",
                            "rejected execution of coordinating operation [standin: injected]")
            items = []
            for action, meta, source in operations:
                if isinstance(source, Error):
                    index = self.index(meta["_index"])
                    items.append({action: self.item(index, str(meta.get("_id")), 400,
                                                    error=(source.kind, source.reason))})
                    continue
                items.append({action: self.write(action, meta, source)})
            self.save()
        errors = any("error" in next(iter(item.values())) for item in items)
        return {"took": int((time.monotonic() - started) * 1000), "errors": errors,
                "items": items}


def make_handler(store, auth):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "opensearch-standin"

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            # As OpenSearch's HTTP layer (http.tcp.no_delay, on by default): a reply's header
            # and body writes are not held back waiting for the client's delayed ACK.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def reply(self, status, body, query=None):
            if query and "filter_path" in query and isinstance(body, dict):
                paths = [p for p in ",".join(query["filter_path"]).split(",") if p]
                body = apply_filter(body, paths)
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="security" charset="UTF-8"')
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def json_body(self, raw):
            if not raw.strip():
                return {}
            try:
                return json.loads(raw)
            except ValueError as error:
                raise Error(400, "parse_exception", f"request body is not JSON: {error}")

        def authorized(self):
            if auth is None:
                return True
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                try:
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                except ValueError:
                    return False
                return (user, password) == auth
            return False

        def handle_any(self):
            parsed = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
            parts = [urllib.parse.unquote(p) for p in parsed.path.split("/") if p]
            raw = self.read_body()
            try:
                if parts[:1] == ["_standin"]:
                    return self.control(parts[1:], raw)
                if not self.authorized():
                    raise Error(401, "security_exception",
                                "missing authentication credentials for REST request [%s]" %
                                parsed.path)
                status, body = self.route(parts, query, raw)
                self.reply(status, body, query)
            except Error as error:
                self.reply(error.status, error.body(), query)

        def control(self, parts, raw):
            with store.lock:
                if parts == ["faults"] and self.command == "POST":
                    for key, value in self.json_body(raw).items():
                        if key not in store.faults:
                            raise Error(400, "illegal_argument_exception", f"unknown fault {key}")
                        store.faults[key] = int(value)
                    return self.reply(200, dict(store.faults))
                if parts == ["stats"]:
                    return self.reply(200, dict(store.stats, faults=dict(store.faults)))
                if parts == ["reset"] and self.command == "POST":
                    store.indexes.clear()
                    for key in store.faults:
                        store.faults[key] = 0
                    store.save()
                    return self.reply(200, {"acknowledged": True})
            raise Error(404, "not_found", "unknown control request")

        def route(self, parts, query, raw):
            method = self.command
            if not parts:
                if method in ("GET", "HEAD"):
                    return 200, {"name": "standin", "cluster_name": "eddy-standin",
                                 "cluster_uuid": "standin",
                                 "version": {"distribution": "opensearch", "number": "2.11.0",
                                             "build_type": "standin",
                                             "minimum_wire_compatibility_version": "7.10.0",
                                             "minimum_index_compatibility_version": "7.0.0"},
                                 "tagline": "The OpenSearch Project: https://opensearch.org/"}
            if parts == ["_bulk"] and method in ("POST", "PUT"):
                return 200, store.bulk(raw, None)
            if len(parts) == 2 and parts[1] == "_bulk" and method in ("POST", "PUT"):
                return 200, store.bulk(raw, parts[0])
            if parts in (["_refresh"], ["_flush"]) or (len(parts) == 2 and parts[1] in ("_refresh", "_flush")):
                return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
            if len(parts) == 1 and not parts[0].startswith("_"):
                return self.index_request(parts[0], raw)
            if len(parts) >= 2 and parts[1] in ("_search", "_count"):
                return self.search(parts[0], parts[1], query, raw)
            if parts and parts[0] in ("_search", "_count"):
                return self.search("*", parts[0], query, raw)
            if len(parts) in (2, 3) and parts[1] in ("_doc", "_create", "_update"):
                return self.document(parts, query, raw)
            raise Error(400, "illegal_argument_exception",
                        f"no handler found for uri [{self.path}] and method [{method}]")

        def index_request(self, name, raw):
            method = self.command
            with store.lock:
                if method == "PUT":
                    if name in store.indexes:
                        raise Error(400, "resource_already_exists_exception",
                                    f"index [{name}/{store.indexes[name].uuid}] already exists")
                    body = self.json_body(raw)
                    index = store.index(name)
                    index.mappings = body.get("mappings") or {"properties": {}}
                    index.settings = body.get("settings") or {}
                    store.save()
                    return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
                index = store.indexes.get(name)
                if index is None:
                    raise Error(404, "index_not_found_exception", f"no such index [{name}]")
                if method == "DELETE":
                    del store.indexes[name]
                    store.save()
                    return 200, {"acknowledged": True}
                if method in ("GET", "HEAD"):
                    return 200, {name: {"aliases": {}, "mappings": index.mappings,
                                        "settings": {"index": dict(
                                            index.settings.get("index", index.settings),
                                            uuid=index.uuid, number_of_shards="1",
                                            number_of_replicas="1",
                                            provided_name=name)}}}
            raise Error(405, "method_not_allowed", f"method [{method}] not allowed")

        def document(self, parts, query, raw):
            method = self.command
            name, kind = parts[0], parts[1]
            doc_id = parts[2] if len(parts) == 3 else None
            meta = {"_index": name}
            if doc_id is not None:
                meta["_id"] = doc_id
            for key in ("version", "if_seq_no", "if_primary_term"):
                if key in query:
                    try:
                        meta[key] = int(query[key][0])
                    except ValueError:
                        raise Error(400, "illegal_argument_exception", f"bad {key}")
            if "version_type" in query:
                meta["version_type"] = query["version_type"][0]
            if kind == "_doc" and method in ("GET", "HEAD") and doc_id is not None:
                with store.lock:
                    index = store.indexes.get(name)
                    if index is None:
                        raise Error(404, "index_not_found_exception", f"no such index [{name}]")
                    doc = index.docs.get(doc_id)
                    if doc is None:
                        return 404, {"_index": name, "_id": doc_id, "found": False}
                    return 200, {"_index": name, "_id": doc_id, "_version": doc["version"],
                                 "_seq_no": doc["seq_no"], "_primary_term": PRIMARY_TERM,
                                 "found": True, "_source": doc["source"]}
            if kind == "_doc" and method == "DELETE" and doc_id is not None:
                action = "delete"
            elif kind == "_doc" and method in ("PUT", "POST"):
                action = "create" if query.get("op_type") == ["create"] else "index"
            elif kind == "_create" and method in ("PUT", "POST"):
                action = "create"
            elif kind == "_update" and method == "POST":
                action = "update"
            else:
                raise Error(405, "method_not_allowed", f"[{method}] not allowed on {kind}")
            source = None if action == "delete" else self.json_body(raw)
            with store.lock:
                item = store.write(action, meta, source)
                store.save()
            status = item.pop("status")
            if "error" in item:
                error = item["error"]
                raise Error(status, error["type"], error["reason"])
            return status, item

        def search(self, name, kind, query, raw):
            body = self.json_body(raw) if raw else {}
            with store.lock:
                if name in ("*", "_all"):
                    indexes = list(store.indexes.values())
                else:
                    indexes = []
                    for part in name.split(","):
                        index = store.indexes.get(part)
                        if index is None:
                            raise Error(404, "index_not_found_exception", f"no such index [{part}]")
                        indexes.append(index)
                hits = []
                for index in indexes:
                    for doc_id, doc in sorted(index.docs.items()):
                        hits.append((index.name, doc_id, doc))
            wanted = body.get("query", {"match_all": {}})
            if "ids" in wanted:
                values = set(str(v) for v in wanted["ids"].get("values", []))
                hits = [h for h in hits if h[1] in values]
            elif "term" in wanted:
                field, value = next(iter(wanted["term"].items()))
                if isinstance(value, dict):
                    value = value.get("value")
                hits = [h for h in hits if (h[1] if field == "_id" else h[2]["source"].get(field)) == value]
            elif "match_all" not in wanted:
                raise Error(400, "parsing_exception",
                            "the stand-in supports match_all, ids and term queries")
            shards = {"total": len(indexes), "successful": len(indexes), "skipped": 0, "failed": 0}
            if kind == "_count":
                return 200, {"count": len(hits), "_shards": shards}
            size = int(query.get("size", [body.get("size", 10)])[0])
            start = int(query.get("from", [body.get("from", 0)])[0])
            page = hits[start:start + size]
            return 200, {"took": 1, "timed_out": False, "_shards": shards,
                         "hits": {"total": {"value": len(hits), "relation": "eq"},
                                  "max_score": 1.0 if page else None,
                                  "hits": [{"_index": i, "_id": d, "_score": 1.0,
                                            "_version": doc["version"], "_source": doc["source"]}
                                           for i, d, doc in page]}}

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--data")
    parser.add_argument("--gc-deletes", type=float, default=60.0)
    parser.add_argument("--user")
    parser.add_argument("--password", default="")
    parser.add_argument("--record", help="write every _bulk body to this directory")
    args = parser.parse_args()
    store = Store(args.data, args.gc_deletes, args.record)
    auth = (args.user, args.password) if args.user else None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(store, auth))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"opensearch-standin listening on 127.0.0.1:{port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

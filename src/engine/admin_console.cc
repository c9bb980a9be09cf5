#include "engine/admin_console.h"

#include <string_view>

namespace eddy::engine {
namespace {

// The page: plain HTML, CSS and JavaScript, no framework; every value inserted with
// textContent (never innerHTML), so names, reasons and commands cannot inject markup. Charts
// are SVG polylines drawn from the server's history; alerts come evaluated from the server.
constexpr std::string_view kConsolePage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>eddy console</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; } h3 { font-size: 1em; }
table { border-collapse: collapse; min-width: 40em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; }
th { background: #f4f4f4; }
.state-ACTIVE { color: #176b17; } .state-PAUSED { color: #8a6d00; }
.state-IMPAIRED, .state-FAILED { color: #b00020; }
#error { color: #b00020; } #auth { display: none; margin: 1em 0; }
#alerts:empty { display: none; }
#alerts { background: #b00020; color: #fff; padding: 0.6em 1em; margin: 1em 0;
  font-weight: bold; border-radius: 4px; }
#alerts div { margin: 0.2em 0; }
svg.chart { width: 160px; height: 32px; background: #fafafa; border: 1px solid #eee; }
svg.chart polyline, svg.history-chart polyline { fill: none; stroke: #1f5fbf; stroke-width: 1.5; }
#history { display: flex; flex-wrap: wrap; gap: 1em; }
.history-card { border: 1px solid #ddd; padding: 0.4em 0.6em; }
.history-card .title { font-weight: bold; font-size: 0.9em; }
svg.history-chart { width: 320px; height: 90px; background: #fafafa; }
svg.history-chart text { font-size: 9px; fill: #666; }
#tail-lines { background: #f7f7f7; border: 1px solid #ddd; padding: 0.5em; max-height: 24em;
  overflow: auto; font: 12px ui-monospace, monospace; white-space: pre-wrap; }
.command pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.5em; margin: 0.2em 0 0.8em;
  font: 12px ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
.command p { margin: 0.3em 0 0; color: #555; }
#alert-settings input { width: 18em; }
</style>
</head>
<body>
<h1>eddy</h1>
<div id="auth">Admin token: <input id="token" type="password" size="30">
  <button id="save-token">Use token</button></div>
<div id="error"></div>
<div id="alerts" role="alert"></div>
<h2>Sources</h2>
<table id="sources"><thead><tr><th>Name</th><th>URL</th><th>Origin</th><th>Streams</th>
  </tr></thead><tbody></tbody></table>
<h3>Replication</h3>
<table id="replication"><thead><tr><th>Source</th><th>Stream</th><th>Slot / binlog</th>
  <th>wal_status</th><th>Active</th><th>restart_lsn / server position</th>
  <th>confirmed_flush_lsn / durable position</th><th>Lag (bytes)</th><th>safe_wal_size</th>
  <th>Error</th></tr></thead><tbody></tbody></table>
<h2>Streams</h2>
<table id="streams"><thead><tr><th>Name</th><th>Open shards</th><th>Records</th>
  <th>Retention (h)</th><th>Format</th><th>Source</th><th>Capture</th><th>Position</th>
  <th>Snapshot</th><th>Write rate (records/s, last hour)</th></tr></thead><tbody></tbody></table>
<h2>Sinks</h2>
<table id="sinks"><thead><tr><th>Name</th><th>Stream</th><th>State</th><th>Reason</th>
  <th>Lag (records)</th><th>Lag (s)</th><th>Delivered</th><th>Failed</th>
  <th>Lag (records, last hour)</th><th>Action</th><th>Checkpoint</th>
  </tr></thead><tbody></tbody></table>
<h2>Last hour</h2>
<p>Sampled in the server every <span id="history-interval">?</span> s (GET /admin/v1/history).</p>
<div id="history"></div>
<h2>Alert thresholds</h2>
<table id="alert-settings"><thead><tr><th>Setting</th><th>Value</th></tr></thead><tbody></tbody>
</table>
<p><button id="save-alerts">Save thresholds</button> <span id="alerts-saved"></span></p>
<h2>Read a stream</h2>
<div>Stream <select id="clients-stream"></select></div>
<div id="clients"></div>
<h2>Live tail</h2>
<div>Stream <select id="tail-stream"></select>
  Table <input id="tail-table" size="16" placeholder="public.orders">
  Key <input id="tail-key" size="10" placeholder="42">
  <button id="tail-toggle">Start</button></div>
<div id="tail-lines"></div>
<p id="updated"></p>
<script>
"use strict";
const api = "/admin/v1/";
function headers() {
  const token = sessionStorage.getItem("eddy-admin-token");
  return token ? { "Authorization": "Bearer " + token } : {};
}
async function call(method, path, body) {
  const init = { method, headers: headers() };
  if (body !== undefined) {
    init.body = body;
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(api + path, init);
  const answer = await response.json();
  if (response.status === 401) document.getElementById("auth").style.display = "block";
  if (!response.ok) throw new Error(answer.error ? answer.error.message : response.statusText);
  return answer;
}
function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}
function cell(row, text, className) {
  const td = element("td", text, className);
  row.appendChild(td);
  return td;
}
function fill(table, items, render) {
  const body = document.querySelector("#" + table + " tbody");
  body.replaceChildren(...items.map(item => {
    const row = document.createElement("tr");
    render(row, item);
    return row;
  }));
}
// The last hour of rates and lags, kept by the server (GET /admin/v1/history): the whole
// hour on load, then only the samples after the newest one seen.
const history = new Map();  // "kind:name:measure" -> [[time ms, value]]
let historyNewest = 0;
let historyWindowMillis = 3600 * 1000;
async function loadHistory() {
  const answer = await call("GET", "history" + (historyNewest ? "?since_ms=" + (historyNewest + 1) : ""));
  historyWindowMillis = answer.window_seconds * 1000;
  document.getElementById("history-interval").textContent = answer.interval_seconds;
  for (const s of answer.series) {
    const key = s.kind + ":" + s.name + ":" + s.measure;
    const points = history.get(key) || [];
    for (const p of s.points) {
      if (!points.length || p[0] > points[points.length - 1][0]) points.push(p);
      historyNewest = Math.max(historyNewest, p[0]);
    }
    history.set(key, points);
  }
  for (const points of history.values()) {
    while (points.length && points[0][0] < historyNewest - historyWindowMillis) points.shift();
  }
}
const ns = "http://www.w3.org/2000/svg";
function svgNode(tag, attributes, text) {
  const node = document.createElementNS(ns, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}
// A polyline of `points` scaled into width x height (time across, value up from 0).
function line(points, width, height) {
  const max = Math.max(1e-9, ...points.map(p => p[1]));
  const start = points.length ? points[0][0] : 0;
  const span = Math.max(1, (points.length ? points[points.length - 1][0] : 0) - start);
  return [max, svgNode("polyline", { points: points.map(p =>
      (width * (p[0] - start) / span).toFixed(1) + "," +
      (height - 1 - (height - 2) * p[1] / max).toFixed(1)).join(" ") })];
}
function describe(points, node) {
  node.dataset.points = points.length;
  node.dataset.firstMs = points.length ? points[0][0] : 0;
}
function chart(key) {
  const points = history.get(key) || [];
  const svg = svgNode("svg", { class: "chart", viewBox: "0 0 160 32" });
  svg.dataset.series = key;
  describe(points, svg);
  const [max, polyline] = line(points, 160, 32);
  svg.appendChild(polyline);
  svg.appendChild(svgNode("title", {}, "max " + format(max)));
  return svg;
}
function format(value) {
  if (value >= 100) return Math.round(value).toLocaleString();
  return Number(value.toPrecision(3)).toString();
}
const measureNames = {
  records_per_second: "records/s", bytes_per_second: "bytes/s",
  capture_lag_seconds: "capture lag (s)", source_lag_bytes: "source lag (bytes)",
  lag_records: "lag (records)", lag_seconds: "lag (s)", events_per_second: "events/s",
  lag_bytes: "lag (bytes)",
};
function renderHistory() {
  const cards = [...history.keys()].sort().map(key => {
    const [kind, ...rest] = key.split(":");
    const measure = rest.pop();
    const name = rest.join(":");
    const points = history.get(key);
    const card = element("div", undefined, "history-card");
    card.appendChild(element("div", kind + " " + name + ": " + (measureNames[measure] || measure),
                             "title"));
    const svg = svgNode("svg", { class: "history-chart", viewBox: "0 0 320 90" });
    svg.dataset.series = key;
    describe(points, svg);
    const [max, polyline] = line(points, 300, 76);
    polyline.setAttribute("transform", "translate(0,2)");
    svg.appendChild(polyline);
    svg.appendChild(svgNode("text", { x: 2, y: 10 }, "max " + format(max)));
    const seconds = points.length ? (points[points.length - 1][0] - points[0][0]) / 1000 : 0;
    svg.appendChild(svgNode("text", { x: 2, y: 88 }, seconds < 120 ? "-" + Math.round(seconds) + " s"
                                                                  : "-" + Math.round(seconds / 60) + " min"));
    svg.appendChild(svgNode("text", { x: 285, y: 88 }, "now"));
    const last = points.length ? points[points.length - 1][1] : 0;
    svg.appendChild(svgNode("text", { x: 240, y: 10 }, "now " + format(last)));
    card.appendChild(svg);
    return card;
  });
  document.getElementById("history").replaceChildren(...cards);
}
// Alerts are evaluated in the server (GET /admin/v1/alerts); the banner shows the active ones.
let alertSettingsShown = false;
function renderAlerts(answer) {
  const box = document.getElementById("alerts");
  box.replaceChildren(...answer.active.map(alert => {
    const div = element("div", alert.message);
    div.dataset.alert = alert.alert;
    div.dataset.subject = alert.sink || alert.stream || "";
    return div;
  }));
  if (alertSettingsShown) return;  // do not overwrite what the operator is typing
  alertSettingsShown = true;
  fill("alert-settings", Object.entries(answer.settings), (row, [key, value]) => {
    cell(row, key);
    const input = element("input");
    input.name = key;
    input.value = String(value);
    input.dataset.original = String(value);
    if (key === "sample_interval") input.disabled = true;  // set at start ([alerts])
    cell(row, "").appendChild(input);
  });
}
document.getElementById("save-alerts").onclick = async () => {
  const changed = {};
  for (const input of document.querySelectorAll("#alert-settings input")) {
    if (!input.disabled && input.value !== input.dataset.original) changed[input.name] = input.value;
  }
  const saved = document.getElementById("alerts-saved");
  try {
    const answer = await call("PATCH", "alerts", JSON.stringify(changed));
    alertSettingsShown = false;
    renderAlerts(answer);
    saved.textContent = "Saved";
    document.getElementById("error").textContent = "";
  } catch (error) {
    saved.textContent = "";
    document.getElementById("error").textContent = error.message;
  }
};
// For each stream, the commands that read it (GET /admin/v1/clients).
const clientsSelect = document.getElementById("clients-stream");
let clientsAnswer = { streams: [] };
function renderClients() {
  const chosen = clientsAnswer.streams.find(s => s.stream === clientsSelect.value) ||
                 clientsAnswer.streams[0];
  const box = document.getElementById("clients");
  if (!chosen) return box.replaceChildren();
  const nodes = chosen.commands.map(command => {
    const div = element("div", undefined, "command");
    div.dataset.client = command.client;
    div.dataset.stream = chosen.stream;
    div.appendChild(element("p", command.client + ": " + command.description));
    div.appendChild(element("pre", command.command));
    return div;
  });
  box.replaceChildren(...nodes);
}
clientsSelect.onchange = renderClients;
const tailSelect = document.getElementById("tail-stream");
const confirming = new Set();  // sinks whose Reset was clicked once (survives re-rendering)
function streamChoices(select, names) {
  const current = select.value;
  if ([...select.options].map(o => o.value).join() === names.join()) return false;
  select.replaceChildren(...names.map(name => {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    return option;
  }));
  if (names.includes(current)) select.value = current;
  return true;
}
async function refresh() {
  try {
    const [sources, streams, sinks, alerts] = await Promise.all(
        [call("GET", "sources"), call("GET", "streams"), call("GET", "sinks"),
         call("GET", "alerts"), loadHistory()]);
    fill("sources", sources.sources, (row, s) => {
      row.dataset.source = s.name;
      [s.name, s.url, s.origin, s.streams.join(", ")].forEach(v => cell(row, v));
    });
    // Each capture's place in its source's log: the PostgreSQL slot, the MySQL binlog.
    const replication = sources.sources.flatMap(s => (s.replication || []).map(r => ({...r, source: s.name})));
    const text = v => v === null || v === undefined ? "" : String(v);
    fill("replication", replication, (row, r) => {
      row.dataset.stream = r.stream;
      row.dataset.kind = r.kind;
      const postgres = r.kind === "postgresql";
      [[r.source, "source"], [r.stream, "stream"],
       [postgres ? r.slot_name : r.binlog_file, "slot"],
       [postgres ? r.wal_status : "", "wal-status"],
       [postgres ? text(r.active) : "", "active"],
       [postgres ? r.restart_lsn : r.server_binlog_file + ":" + text(r.server_binlog_position), "restart"],
       [postgres ? r.confirmed_flush_lsn : r.binlog_file + ":" + text(r.binlog_position) +
            (r.gtid ? " (" + r.gtid + ")" : ""), "confirmed"],
       [text(r.lag_bytes), "lag-bytes"],
       // null safe_wal_size on a usable slot: max_slot_wal_keep_size = -1 (no limit).
       [!postgres ? "" : r.safe_wal_size_bytes !== null ? text(r.safe_wal_size_bytes) :
            r.slot_exists && r.wal_status && r.wal_status !== "lost" ? "unlimited" : "", "safe-wal-size"],
       [r.error, "error"]].forEach(([v, c]) => cell(row, v, c));
    });
    fill("streams", streams.streams, (row, s) => {
      row.dataset.stream = s.name;
      [s.name, s.open_shards, s.records, s.retention_hours, s.format, s.source,
       s.capture_state, s.capture_position, s.snapshot_progress].forEach(v => cell(row, v));
      cell(row, "", "chart").appendChild(chart("stream:" + s.name + ":records_per_second"));
    });
    const names = streams.streams.map(s => s.name);
    streamChoices(tailSelect, names);
    if (streamChoices(clientsSelect, names) || !clientsAnswer.streams.length) {
      clientsAnswer = await call("GET", "clients");
      renderClients();
    }
    renderAlerts(alerts);
    renderHistory();
    fill("sinks", sinks.sinks, (row, s) => {
      row.dataset.sink = s.name;
      cell(row, s.name); cell(row, s.stream);
      cell(row, s.state, "state state-" + s.state);
      cell(row, s.reason); cell(row, s.lag_records); cell(row, s.lag_seconds);
      cell(row, s.delivered_records); cell(row, s.failed_records);
      cell(row, "", "chart").appendChild(chart("sink:" + s.name + ":lag_records"));
      const action = s.state === "PAUSED" || s.state === "FAILED" ? "resume" : "pause";
      const button = document.createElement("button");
      button.textContent = action === "pause" ? "Pause" : "Resume";
      button.className = action;
      button.onclick = async () => {
        button.disabled = true;
        try { await call("POST", "sinks/" + encodeURIComponent(s.name) + "/" + action); }
        catch (error) { document.getElementById("error").textContent = error.message; }
        refresh();
      };
      cell(row, "").appendChild(button);
      // Reset to the stream's start: a second click confirms.
      const reset = document.createElement("button");
      reset.textContent = confirming.has(s.name) ? "Confirm reset" : "Reset";
      reset.className = "reset";
      reset.onclick = async () => {
        if (!confirming.has(s.name)) {
          confirming.add(s.name);
          reset.textContent = "Confirm reset";
          return;
        }
        confirming.delete(s.name);
        reset.disabled = true;
        try {
          await call("POST", "sinks/" + encodeURIComponent(s.name) + "/reset",
                     JSON.stringify({ to: "trim-horizon" }));
        } catch (error) { document.getElementById("error").textContent = error.message; }
        refresh();
      };
      const checkpoint = cell(row, "generation " + s.checkpoint.generation + " ", "checkpoint");
      checkpoint.appendChild(reset);
    });
    document.getElementById("error").textContent = "";
    document.getElementById("updated").textContent = "Updated " + new Date().toLocaleTimeString();
  } catch (error) {
    document.getElementById("error").textContent = error.message;
  }
}
document.getElementById("save-token").onclick = () => {
  sessionStorage.setItem("eddy-admin-token", document.getElementById("token").value);
  document.getElementById("auth").style.display = "none";
  refresh();
};
// Live tail: the stream's newest records, filtered by table and key (text match on the
// rendered record), refreshed every second while on.
let tailTimer = null;
async function tail() {
  const stream = tailSelect.value;
  if (!stream) return;
  try {
    const answer = await call("GET", "streams/" + encodeURIComponent(stream) + "/tail?limit=100");
    const table = document.getElementById("tail-table").value.trim();
    const key = document.getElementById("tail-key").value.trim();
    const lines = answer.records.filter(r => {
      if (table && !r.data.includes(table.split(".").pop())) return false;
      if (key && !r.data.includes(key)) return false;
      return true;
    });
    const box = document.getElementById("tail-lines");
    box.replaceChildren(...lines.reverse().map(r => {
      const div = document.createElement("div");
      div.className = "tail-line";
      div.dataset.sequence = r.sequence;
      div.textContent = r.shard + " " + r.sequence + " " + r.data;
      return div;
    }));
  } catch (error) {
    document.getElementById("error").textContent = error.message;
  }
}
document.getElementById("tail-toggle").onclick = () => {
  const button = document.getElementById("tail-toggle");
  if (tailTimer) {
    clearInterval(tailTimer);
    tailTimer = null;
    button.textContent = "Start";
  } else {
    tail();
    tailTimer = setInterval(tail, 1000);
    button.textContent = "Stop";
  }
};
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)html";

}  // namespace

api::HttpRoute AdminConsoleRoute() {
  api::HttpRoute route;
  route.method = "GET";
  route.path = "/";
  route.other_methods_to_fallback = true;
  route.handler = [](const api::HttpRequest&, api::HttpResponse* response) {
    response->status = 200;
    response->headers.emplace_back("content-type", "text/html; charset=utf-8");
    response->headers.emplace_back("cache-control", "no-store");
    response->headers.emplace_back(
        "content-security-policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'");
    response->body = std::string(kConsolePage);
  };
  return route;
}

}  // namespace eddy::engine

#include "engine/admin_console.h"

#include <string_view>

namespace eddy::engine {
namespace {

// The page: plain HTML, CSS and JavaScript, no framework; every value inserted with
// textContent (never innerHTML), so names and reasons cannot inject markup.
constexpr std::string_view kConsolePage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>eddy console</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
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
svg.chart polyline { fill: none; stroke: #1f5fbf; stroke-width: 1.5; }
#tail-lines { background: #f7f7f7; border: 1px solid #ddd; padding: 0.5em; max-height: 24em;
  overflow: auto; font: 12px ui-monospace, monospace; white-space: pre-wrap; }
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
<h2>Streams</h2>
<table id="streams"><thead><tr><th>Name</th><th>Open shards</th><th>Records</th>
  <th>Retention (h)</th><th>Format</th><th>Source</th><th>Capture</th>
  <th>Write rate (records/s, last hour)</th></tr></thead><tbody></tbody></table>
<h2>Sinks</h2>
<table id="sinks"><thead><tr><th>Name</th><th>Stream</th><th>State</th><th>Reason</th>
  <th>Lag (records)</th><th>Lag (s)</th><th>Delivered</th><th>Failed</th>
  <th>Lag (records, last hour)</th><th>Action</th><th>Checkpoint</th>
  </tr></thead><tbody></tbody></table>
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
function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = String(text);
  if (className) td.className = className;
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
// Rates and lags of the last hour, sampled at each refresh (kept in this page's memory).
const history = new Map();  // key -> [[time ms, value]]
const kHistoryMillis = 3600 * 1000;
function remember(key, value) {
  const now = Date.now();
  const points = history.get(key) || [];
  points.push([now, Number(value)]);
  while (points.length && points[0][0] < now - kHistoryMillis) points.shift();
  history.set(key, points);
  return points;
}
function chart(points) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 160 32");
  const line = document.createElementNS(ns, "polyline");
  const max = Math.max(1, ...points.map(p => p[1]));
  const start = points.length ? points[0][0] : 0;
  const span = Math.max(1, (points.length ? points[points.length - 1][0] : 0) - start);
  line.setAttribute("points", points.map(p =>
      (160 * (p[0] - start) / span).toFixed(1) + "," + (31 - 30 * p[1] / max).toFixed(1)).join(" "));
  svg.appendChild(line);
  const title = document.createElementNS(ns, "title");
  title.textContent = "max " + max;
  svg.appendChild(title);
  return svg;
}
const lastRecords = new Map();  // stream -> [time ms, records]
function writeRate(stream, records) {
  const now = Date.now();
  const last = lastRecords.get(stream);
  lastRecords.set(stream, [now, records]);
  if (!last || now <= last[0]) return 0;
  return Math.max(0, (records - last[1]) * 1000 / (now - last[0]));
}
function alerts(streams, sinks) {
  const messages = [];
  for (const s of sinks) {
    if (s.state === "FAILED" || s.state === "IMPAIRED") {
      messages.push("Sink " + s.name + " is " + s.state + (s.reason ? ": " + s.reason : ""));
    }
  }
  for (const s of streams) {
    if (s.capture_state === "failed" || s.capture_state === "reconnecting") {
      messages.push("Capture of stream " + s.name + " is " + s.capture_state +
                    (s.capture_error ? ": " + s.capture_error : ""));
    }
  }
  const box = document.getElementById("alerts");
  box.replaceChildren(...messages.map(text => {
    const div = document.createElement("div");
    div.textContent = text;
    return div;
  }));
}
const tailSelect = document.getElementById("tail-stream");
const confirming = new Set();  // sinks whose Reset was clicked once (survives re-rendering)
function streamChoices(names) {
  const current = tailSelect.value;
  if ([...tailSelect.options].map(o => o.value).join() === names.join()) return;
  tailSelect.replaceChildren(...names.map(name => {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    return option;
  }));
  if (names.includes(current)) tailSelect.value = current;
}
async function refresh() {
  try {
    const [sources, streams, sinks] = await Promise.all(
        [call("GET", "sources"), call("GET", "streams"), call("GET", "sinks")]);
    fill("sources", sources.sources, (row, s) => {
      row.dataset.source = s.name;
      [s.name, s.url, s.origin, s.streams.join(", ")].forEach(v => cell(row, v));
    });
    fill("streams", streams.streams, (row, s) => {
      row.dataset.stream = s.name;
      [s.name, s.open_shards, s.records, s.retention_hours, s.format, s.source,
       s.capture_state].forEach(v => cell(row, v));
      cell(row, "", "chart").appendChild(chart(remember("stream:" + s.name,
                                                        writeRate(s.name, s.records))));
    });
    streamChoices(streams.streams.map(s => s.name));
    alerts(streams.streams, sinks.sinks);
    fill("sinks", sinks.sinks, (row, s) => {
      row.dataset.sink = s.name;
      cell(row, s.name); cell(row, s.stream);
      cell(row, s.state, "state state-" + s.state);
      cell(row, s.reason); cell(row, s.lag_records); cell(row, s.lag_seconds);
      cell(row, s.delivered_records); cell(row, s.failed_records);
      cell(row, "", "chart").appendChild(chart(remember("sink:" + s.name, s.lag_records)));
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

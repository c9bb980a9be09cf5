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
</style>
</head>
<body>
<h1>eddy</h1>
<div id="auth">Admin token: <input id="token" type="password" size="30">
  <button id="save-token">Use token</button></div>
<div id="error"></div>
<h2>Streams</h2>
<table id="streams"><thead><tr><th>Name</th><th>Open shards</th><th>Records</th>
  <th>Retention (h)</th><th>Format</th></tr></thead><tbody></tbody></table>
<h2>Sinks</h2>
<table id="sinks"><thead><tr><th>Name</th><th>Stream</th><th>State</th><th>Reason</th>
  <th>Lag (records)</th><th>Lag (s)</th><th>Delivered</th><th>Failed</th><th>Action</th>
  </tr></thead><tbody></tbody></table>
<p id="updated"></p>
<script>
"use strict";
const api = "/admin/v1/";
function headers() {
  const token = sessionStorage.getItem("eddy-admin-token");
  return token ? { "Authorization": "Bearer " + token } : {};
}
async function call(method, path) {
  const response = await fetch(api + path, { method, headers: headers() });
  const body = await response.json();
  if (response.status === 401) document.getElementById("auth").style.display = "block";
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
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
async function refresh() {
  try {
    const [streams, sinks] = await Promise.all([call("GET", "streams"), call("GET", "sinks")]);
    fill("streams", streams.streams, (row, s) => {
      row.dataset.stream = s.name;
      [s.name, s.open_shards, s.records, s.retention_hours, s.format].forEach(v => cell(row, v));
    });
    fill("sinks", sinks.sinks, (row, s) => {
      row.dataset.sink = s.name;
      cell(row, s.name); cell(row, s.stream);
      cell(row, s.state, "state state-" + s.state);
      cell(row, s.reason); cell(row, s.lag_records); cell(row, s.lag_seconds);
      cell(row, s.delivered_records); cell(row, s.failed_records);
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

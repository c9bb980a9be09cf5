// The console's server-side history, alerts and client commands in a real browser: Debian's
// Chromium, headless, driven by playwright-core (npm). Called by console_alerts.py, which runs
// eddy (sampling every second), a workload and the receivers:
//
//   node console_alerts.mjs BASE_URL TOKEN ARTIFACT_DIR
//
// Checks: no console errors or failed requests; the write-rate chart of stream kv starts
// before the page was loaded (the server kept the history); setting sink_lag_seconds to 1
// through the threshold form and pausing the sink raises the alert in the banner (the
// /metrics text then is saved for console_alerts.py); resuming clears it (/metrics saved
// again); the commands shown for kv are saved to clients.json for console_alerts.py to run.
// Screenshots go to ARTIFACT_DIR. Waits are Playwright's condition waits with timeouts.
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [base, token, artifacts] = process.argv.slice(2);
const problems = [];
let closing = false;
const browser = await chromium.launch({
  executablePath: process.env.EDDY_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
  headless: true,
});
async function saveMetrics(name) {
  const response = await fetch(base + "/metrics");
  if (!response.ok) throw new Error("GET /metrics answered " + response.status);
  writeFileSync(artifacts + "/" + name, await response.text());
}
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (message) => {
    if (message.type() === "error" && !closing) problems.push("console error: " + message.text());
  });
  page.on("pageerror", (error) => problems.push("page error: " + error.message));
  page.on("requestfailed", (request) => {
    if (!closing) problems.push("request failed: " + request.url() + " " + request.failure()?.errorText);
  });
  await page.addInitScript((value) => sessionStorage.setItem("eddy-admin-token", value), token);
  const loaded = Date.now();
  const response = await page.goto(base + "/");
  if (response.status() !== 200) throw new Error("GET / answered " + response.status());

  // History from before the page existed, in the big chart and in the table's sparkline.
  const rateChart = '#history svg[data-series="stream:kv:records_per_second"]';
  await page.waitForFunction(([selector, before]) => {
    const svg = document.querySelector(selector);
    return svg && Number(svg.dataset.points) >= 3 && Number(svg.dataset.firstMs) < before;
  }, [rateChart, loaded], { timeout: 30000 });
  await page.locator('#streams tr[data-stream="kv"] svg.chart polyline').waitFor({ timeout: 30000 });
  await page.locator('#history svg[data-series="sink:hook:lag_seconds"]').waitFor({ timeout: 30000 });
  const firstMs = Number(await page.locator(rateChart).getAttribute("data-first-ms"));
  await page.screenshot({ path: artifacts + "/console-history.png", fullPage: true });

  // An alert raised by a low threshold: set it through the form, pause the sink.
  const sinkRow = page.locator('#sinks tr[data-sink="hook"]');
  await sinkRow.locator("td.state", { hasText: "ACTIVE" }).waitFor({ timeout: 30000 });
  await page.fill('#alert-settings input[name="sink_lag_seconds"]', "1");
  await page.click("#save-alerts");
  await page.locator("#alerts-saved", { hasText: "Saved" }).waitFor({ timeout: 30000 });
  await sinkRow.locator("button.pause").click();
  const banner = page.locator('#alerts div[data-alert="sink_lag_seconds"][data-subject="hook"]');
  await banner.waitFor({ timeout: 60000 });
  const message = await banner.textContent();
  if (!message.includes("sink hook")) throw new Error("alert message: " + message);
  await saveMetrics("metrics-alert-active.txt");
  await page.screenshot({ path: artifacts + "/console-alert.png", fullPage: true });

  // Resumed, the sink catches up and the alert clears.
  await sinkRow.locator("button.resume").click();
  await banner.waitFor({ state: "detached", timeout: 60000 });
  await saveMetrics("metrics-alert-cleared.txt");

  // The commands that read kv.
  await page.selectOption("#clients-stream", "kv");
  await page.locator('#clients .command[data-client="aws"][data-stream="kv"]').first()
      .waitFor({ timeout: 30000 });
  const commands = await page.$$eval("#clients .command", (nodes) => nodes.map((node) => ({
    client: node.dataset.client,
    stream: node.dataset.stream,
    command: node.querySelector("pre").textContent,
  })));
  writeFileSync(artifacts + "/clients.json", JSON.stringify(commands, null, 2));
  await page.locator("#clients").scrollIntoViewIfNeeded();
  await page.screenshot({ path: artifacts + "/console-clients.png", fullPage: true });
  console.log(JSON.stringify({ loaded, first_history_point_ms: firstMs, alert: message,
                               commands: commands.length }));
} finally {
  closing = true;
  await browser.close();
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}

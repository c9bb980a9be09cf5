// The web console at `/` in a real browser: Debian's Chromium, headless, driven by
// playwright-core (npm). Called by admin_console.py, which runs eddy and a workload:
//
//   node admin_console.mjs BASE_URL TOKEN ARTIFACT_DIR
//
// Checks: the page loads without console errors or failed requests; the streams and sinks
// tables fill from the admin API; the stream's record count changes while the workload runs;
// the sink's Pause button pauses it (the page then shows PAUSED; admin_console.py checks the
// API); the sources table, the replication table (the slot's configured name, wal_status,
// active, LSNs, lag in bytes a number; admin_console.py checks them against pg_replication_slots), the lag and rate charts, no alert while healthy; Reset (with its
// confirming click) grows the checkpoint's generation; the live tail of kv shows rows the
// workload inserts during the test. Screenshots go to ARTIFACT_DIR. Waits are Playwright's condition waits with timeouts.
import { chromium } from "playwright-core";

const [base, token, artifacts] = process.argv.slice(2);
const problems = [];
let closing = false;  // requests cut off by closing the browser are not the page's problems
const browser = await chromium.launch({
  executablePath: process.env.EDDY_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
  headless: true,
});
try {
  const page = await browser.newPage();
  page.on("console", (message) => {
    if (message.type() === "error" && !closing) problems.push("console error: " + message.text());
  });
  page.on("pageerror", (error) => problems.push("page error: " + error.message));
  page.on("requestfailed", (request) => {
    if (!closing) problems.push("request failed: " + request.url() + " " + request.failure()?.errorText);
  });
  await page.addInitScript((value) => sessionStorage.setItem("eddy-admin-token", value), token);
  const response = await page.goto(base + "/");
  if (response.status() !== 200) throw new Error("GET / answered " + response.status());

  const sinkRow = page.locator('#sinks tr[data-sink="configured-hook"]');
  const streamRecords = page.locator('#streams tr[data-stream="kv"] td:nth-child(3)');
  await sinkRow.locator("td.state", { hasText: "ACTIVE" }).waitFor({ timeout: 30000 });
  const before = Number(await streamRecords.textContent());
  await page.screenshot({ path: artifacts + "/console-active.png", fullPage: true });

  // The workload keeps writing: the page's numbers move on its own refreshes.
  await page.waitForFunction(
      (previous) => Number(document.querySelector('#streams tr[data-stream="kv"] td:nth-child(3)')
                               .textContent) > previous,
      before, { timeout: 30000 });

  // Reset: a click, a confirming click, and the checkpoint's generation grows.
  await sinkRow.locator("button.reset").click();
  await sinkRow.locator("button.reset", { hasText: "Confirm reset" }).click();
  await sinkRow.locator("td.checkpoint", { hasText: "generation 1" }).waitFor({ timeout: 30000 });

  await sinkRow.locator("button.pause").click();
  await sinkRow.locator("td.state", { hasText: "PAUSED" }).waitFor({ timeout: 30000 });
  await sinkRow.locator("button.resume").waitFor({ timeout: 30000 });
  await page.screenshot({ path: artifacts + "/console-paused.png", fullPage: true });

  // Sources, charts, no alert for a healthy (paused) sink.
  await page.locator('#sources tr[data-source="default"]').waitFor({ timeout: 30000 });
  // The replication table: the capture's slot as PostgreSQL reports it (the configured name,
  // the default "eddy"), its wal_status, LSNs and lag in bytes as numbers.
  const replicationRow = page.locator('#replication tr[data-stream="kv"]');
  await replicationRow.waitFor({ timeout: 30000 });
  const slotName = (await replicationRow.locator("td.slot").textContent()).trim();
  if (slotName !== "eddy") throw new Error("replication table's slot is " + JSON.stringify(slotName));
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector(
      '#replication tr[data-stream="kv"] td.lag-bytes')?.textContent ?? ""), null, { timeout: 30000 });
  const replication = Object.fromEntries(await Promise.all(
      ["wal-status", "active", "restart", "confirmed", "lag-bytes", "safe-wal-size"].map(
          async (c) => [c, (await replicationRow.locator("td." + c).textContent()).trim()])));
  if (!["reserved", "extended"].includes(replication["wal-status"]) ||
      replication.active !== "true" || !/^[0-9A-F]+\/[0-9A-F]+$/.test(replication.restart) ||
      !/^[0-9A-F]+\/[0-9A-F]+$/.test(replication.confirmed) ||
      !Number.isInteger(Number(replication["lag-bytes"]))) {
    throw new Error("replication row: " + JSON.stringify(replication));
  }
  console.log(JSON.stringify({ replication }));
  await sinkRow.locator("svg.chart polyline").waitFor({ timeout: 30000 });
  await page.locator('#streams tr[data-stream="kv"] svg.chart polyline').waitFor({ timeout: 30000 });
  if (await page.locator("#alerts div").count() !== 0) {
    throw new Error("alerts shown for a healthy eddy: " + await page.locator("#alerts").textContent());
  }

  // Live tail of kv filtered by table: a row the workload inserts during the test (keys from
  // 101) shows up.
  await page.selectOption("#tail-stream", "kv");
  await page.fill("#tail-table", "public.kv");
  await page.click("#tail-toggle");
  await page.waitForFunction(() => [...document.querySelectorAll("#tail-lines .tail-line")]
      .some((line) => /"k":\s*1\d\d\b/.test(line.textContent)), null, { timeout: 30000 });
  const first = Number(await page.locator("#tail-lines .tail-line").first().getAttribute("data-sequence"));
  await page.waitForFunction((seen) => Number(document.querySelector("#tail-lines .tail-line")
      ?.dataset.sequence) > seen, first, { timeout: 30000 });
  await page.screenshot({ path: artifacts + "/console-tail.png", fullPage: true });
  console.log(JSON.stringify({ records_before: before, paused: true }));
} finally {
  closing = true;
  await browser.close();
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}

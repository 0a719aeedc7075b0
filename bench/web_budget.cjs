// The web app's budget on a running server: JavaScript shipped for the home page (gzip and
// brotli bytes as the server sends them) and largest contentful paint, in Debian's Chromium.
//   node bench/web_budget.cjs BASE_URL RUNS
const { createRequire } = require("node:module");
const http = require("node:http");
const path = require("node:path");

const e2e = createRequire(path.join(__dirname, "../e2e/package.json"));
const { chromium } = e2e("@playwright/test");

const base = process.argv[2];
const runs = Number(process.argv[3] ?? 5);
// The e2e suite's Chromium and flags.
const chromiumOptions = require("../e2e/chromium.json");

// Bytes on the wire of one GET with this Accept-Encoding (the body is not decoded).
function wireBytes(url, encoding) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { "Accept-Encoding": encoding } }, (response) => {
        let bytes = 0;
        response.on("data", (chunk) => (bytes += chunk.length));
        response.on("end", () =>
          resolve({
            bytes,
            encoding: response.headers["content-encoding"] ?? "identity",
          }),
        );
      })
      .on("error", reject);
  });
}

const lcpScript = () =>
  new Promise((resolve) => {
    new PerformanceObserver((list) => {
      const entries = list.getEntries();
      resolve(entries[entries.length - 1].startTime);
    }).observe({ type: "largest-contentful-paint", buffered: true });
  });

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? chromiumOptions.executablePath,
    args: chromiumOptions.args,
  });
  const cold = [];
  const warm = [];
  let scripts = [];
  for (let i = 0; i < runs; i++) {
    // A new context has an empty cache: a first visit.
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    const seen = new Set();
    page.on("response", (response) => {
      if (response.request().resourceType() === "script")
        seen.add(response.url());
    });
    await page.goto(base + "/", { waitUntil: "networkidle" });
    await page.getByRole("link", { name: /\$/ }).first().waitFor();
    cold.push(await page.evaluate(lcpScript));
    scripts = [...seen];
    await page.reload({ waitUntil: "networkidle" });
    warm.push(await page.evaluate(lcpScript));
    await context.close();
  }
  await browser.close();

  let gzip = 0;
  let brotli = 0;
  for (const url of scripts) {
    gzip += (await wireBytes(url, "gzip")).bytes;
    brotli += (await wireBytes(url, "br")).bytes;
  }
  const kb = (bytes) => (bytes / 1024).toFixed(1);
  const ms = (values) => values.map((v) => v.toFixed(0)).join(", ");
  console.log(
    `scripts on the home page: ${scripts.length} (${scripts.map((u) => path.basename(u)).join(", ")})`,
  );
  console.log(
    `JS shipped: ${kb(gzip)} KiB gzip, ${kb(brotli)} KiB brotli (budget: 150 KB gzip)`,
  );
  console.log(
    `LCP, first visit: median ${median(cold).toFixed(0)} ms (runs: ${ms(cold)}) (budget: 1000 ms)`,
  );
  console.log(
    `LCP, reload with cache: median ${median(warm).toFixed(0)} ms (runs: ${ms(warm)})`,
  );
})().catch((error) => {
  console.error(error);
  process.exit(1);
});

import { defineConfig } from "@playwright/test";
import { readFileSync } from "node:fs";

// Debian's Chromium, never a downloaded browser, with flags that work as root and keep it off the
// network (only loopback resolves): chromium.json, shared with bench/web.sh.
const chromium = JSON.parse(
  readFileSync(new URL("./chromium.json", import.meta.url), "utf8"),
) as {
  executablePath: string;
  args: string[];
};

export default defineConfig({
  testDir: "tests",
  outputDir: "artifacts/results",
  // The flows share one server and database; they run one at a time, each in fresh contexts.
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "artifacts/results.json" }]],
  globalSetup: "./lib/global-setup.ts",
  use: {
    baseURL: process.env.E2E_BASE_URL,
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? chromium.executablePath,
      args: chromium.args,
    },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    actionTimeout: 15_000,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Counts for scripts: the JSON report in .vitest/results.json (numPassedTests,
    // numFailedTests, …) and a closing "api: N passed, N failed, N skipped" line on stdout.
    // (--outputFile.json on the command line overrides the file.)
    reporters: ["default", "json", "./lib/summary-reporter.ts"],
    outputFile: { json: ".vitest/results.json" },
    projects: [
      {
        // The response checker itself, on made-up responses: needs no server.
        test: { name: "contract", include: ["test/contract/**/*.test.ts"] },
      },
      {
        test: {
          name: "api",
          include: ["test/api/**/*.test.ts"],
          globalSetup: ["./lib/global-setup.ts"],
          // Password hashing (Argon2id) makes register and login tens of milliseconds each.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

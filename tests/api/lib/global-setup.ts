// Migrates the test database and runs one `marketplace serve` for the whole suite.
import type { TestProject } from "vitest/node";
import { kCleanExit, migrate, randomSecret, startServer, type RunningServer } from "./server.js";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    jwtSecret: string;
  }
}

let server: RunningServer | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const jwtSecret = randomSecret();
  await migrate(jwtSecret);
  server = await startServer({ jwtSecret });
  project.provide("baseUrl", server.baseUrl);
  project.provide("jwtSecret", jwtSecret);

  return async () => {
    if (!server) return;
    const died = server.exited();
    const exit = await server.stop();
    // Its output is the only clue to why it died during the run or did not drain cleanly.
    // vitest reports an error thrown here but exits 0 for it: set the exit code too.
    if (died !== undefined || exit !== kCleanExit) process.exitCode = 1;
    if (died !== undefined) {
      throw new Error(`marketplace serve died during the run (${died}).\n--- its output ---\n${server.output()}`);
    }
    if (exit !== kCleanExit) {
      throw new Error(`marketplace serve did not stop cleanly on SIGTERM (${exit}).\n--- its output ---\n${server.output()}`);
    }
  };
}

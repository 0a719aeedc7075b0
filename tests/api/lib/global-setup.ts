// Migrates the test database and runs one `marketplace serve` for the whole suite.
import type { TestProject } from "vitest/node";
import { migrate, randomSecret, startServer, type RunningServer } from "./server.js";

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
    await server.stop();
    if (died !== undefined) {
      // The server died while tests ran: its output is the only clue to why.
      console.error(`\nmarketplace serve died during the run (${died}).\n--- its output ---\n${server.output()}`);
    }
  };
}

// Builds nothing: expects web/dist (npm run build in web/) and the marketplace binary. Migrates
// the database in DATABASE_URL, starts one `marketplace dev` (server, job worker and scheduler)
// on a free loopback port serving web/dist, and stops it after the run.
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForReady(url: string, died: () => string | undefined, deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const why = died();
    if (why) throw new Error(`marketplace dev exited during start-up (${why})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`marketplace dev not ready at ${url} within ${deadlineMs} ms`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const bin = process.env.MARKETPLACE_BIN ?? path.join(repoRoot, "build/release/marketplace");
  const webDir = process.env.WEB_DIR ?? path.join(repoRoot, "web/dist");
  if (!existsSync(path.join(webDir, "index.html"))) {
    throw new Error(`no web app in ${webDir}: run \`npm run build\` in web/ first`);
  }
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (!DATABASE_URL || !REDIS_URL) throw new Error("DATABASE_URL and REDIS_URL must be set for the e2e suite");

  const mediaDir = mkdtempSync(path.join(os.tmpdir(), "marketplace-e2e-media-"));
  const port = await freePort();
  const secret = randomBytes(36).toString("base64url");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    DATABASE_URL,
    REDIS_URL,
    MARKETPLACE_ENV: "test",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    JWT_SECRET: secret,
    LOCAL_PAYMENTS_WEBHOOK_SECRET: randomBytes(36).toString("base64url"),
    RATE_LIMIT_AUTH_IP: "100000/1m",
    ACCESS_LOG: "off",
    MEDIA_DIR: mediaDir,
    WEB_DIR: webDir,
    // Short enough for the flows to see expiry and refresh happen.
    ORDER_PAYMENT_TTL: process.env.E2E_ORDER_PAYMENT_TTL ?? "15m",
    JWT_ACCESS_TTL: process.env.E2E_ACCESS_TTL ?? "10m",
  };
  execFileSync(bin, ["migrate"], { env, stdio: ["ignore", "ignore", "inherit"] });

  const child = spawn(bin, ["dev"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let exited: string | undefined;
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-64 * 1024);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  child.on("exit", (code, signal) => (exited = signal ?? `exit code ${code}`));

  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForReady(`${baseUrl}/readyz`, () => exited, 30_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n--- its output ---\n${output}`);
  }
  process.env.E2E_BASE_URL = baseUrl;

  return async () => {
    if (exited === undefined) {
      const stopped = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (exited === undefined) child.kill("SIGKILL");
    }
    rmSync(mediaDir, { recursive: true, force: true });
    if (exited !== "exit code 0" && exited !== "SIGTERM") {
      process.exitCode = 1;
      throw new Error(`marketplace dev did not stop cleanly (${exited}).\n--- its output ---\n${output}`);
    }
  };
}

// One `marketplace dev` (server, job worker and scheduler in one process) on a free loopback
// port, serving web/dist, over the PostgreSQL and Redis in DATABASE_URL and REDIS_URL.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../..",
);

export interface RunningServer {
  baseUrl: string;
  // SIGTERM, then the exit status ("exit code 0" when it drained cleanly).
  stop(): Promise<string>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function secret(): string {
  return randomBytes(36).toString("base64url");
}

// Migrates, starts the server with `overrides` on top of the test settings, and resolves once
// /readyz answers 200.
export async function startServer(
  overrides: Record<string, string> = {},
): Promise<RunningServer> {
  const bin =
    process.env.MARKETPLACE_BIN ??
    path.join(repoRoot, "build/release/marketplace");
  const webDir = process.env.WEB_DIR ?? path.join(repoRoot, "web/dist");
  if (!existsSync(path.join(webDir, "index.html"))) {
    throw new Error(
      `no web app in ${webDir}: run \`npm run build\` in web/ first`,
    );
  }
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (!DATABASE_URL || !REDIS_URL)
    throw new Error("DATABASE_URL and REDIS_URL must be set for the e2e suite");

  const mediaDir = mkdtempSync(
    path.join(os.tmpdir(), "marketplace-e2e-media-"),
  );
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    DATABASE_URL,
    REDIS_URL,
    MARKETPLACE_ENV: "test",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    JWT_SECRET: secret(),
    LOCAL_PAYMENTS_WEBHOOK_SECRET: secret(),
    RATE_LIMIT_AUTH_IP: "100000/1m",
    ACCESS_LOG: "off",
    MEDIA_DIR: mediaDir,
    WEB_DIR: webDir,
    ...overrides,
  };
  execFileSync(bin, ["migrate"], {
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });

  const child = spawn(bin, ["dev"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let exited: string | undefined;
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-64 * 1024);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exit = new Promise<string>((resolve) =>
    child.on("exit", (code, signal) => {
      exited = signal ?? `exit code ${code}`;
      resolve(exited);
    }),
  );

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined) {
      rmSync(mediaDir, { recursive: true, force: true });
      throw new Error(
        `marketplace dev exited during start-up (${exited})\n--- its output ---\n${output}`,
      );
    }
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `marketplace dev not ready at ${baseUrl} within 30 s\n--- its output ---\n${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    baseUrl,
    async stop() {
      if (exited === undefined) child.kill("SIGTERM");
      const status = await Promise.race([
        exit,
        new Promise<string>((resolve) =>
          setTimeout(() => resolve("no exit within 15 s"), 15_000),
        ),
      ]);
      if (exited === undefined) child.kill("SIGKILL");
      rmSync(mediaDir, { recursive: true, force: true });
      if (status !== "exit code 0") {
        throw new Error(
          `marketplace dev did not stop cleanly (${status}).\n--- its output ---\n${output}`,
        );
      }
      return status;
    },
  };
}

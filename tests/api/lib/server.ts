// Starting and stopping the real `marketplace` binary for the tests.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export function binaryPath(): string {
  const bin = process.env.MARKETPLACE_BIN ?? path.join(repoRoot, "build/release/marketplace");
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      `marketplace binary not found or not executable: ${bin}\n` +
        "Build it (cmake --build build/release) or point MARKETPLACE_BIN at one.",
    );
  }
  return bin;
}

// DATABASE_URL and REDIS_URL come from the caller: the suite never guesses where the services are.
export function serviceEnv(): { DATABASE_URL: string; REDIS_URL: string } {
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (!DATABASE_URL || !REDIS_URL) {
    throw new Error(
      "DATABASE_URL and REDIS_URL must be set for the API tests.\n" +
        "`make test` sets them; by hand, from the repository root:\n" +
        "  scripts/services up && set -a && eval \"$(scripts/services env test)\" && set +a\n" +
        "  cd tests/api && npm test",
    );
  }
  return { DATABASE_URL, REDIS_URL };
}

export function randomSecret(length = 48): string {
  return randomBytes(length).toString("base64url").slice(0, length);
}

// Binds port 0 on loopback and releases it: the kernel hands out a port nobody holds.
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      if (address === null || typeof address === "string") {
        srv.close();
        reject(new Error("could not read the bound port"));
        return;
      }
      const { port } = address;
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerOptions {
  jwtSecret?: string;
  // Extra or overriding environment for this instance, e.g. a tighter rate limit.
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  // The /readyz status that means "started": 503 for an instance pointed at a dead dependency.
  readyStatus?: 200 | 503;
}

export interface RunningServer {
  baseUrl: string;
  port: number;
  pid: number;
  jwtSecret: string;
  env: Record<string, string>;
  // Everything the process wrote to stdout and stderr so far (the last 64 KiB).
  output(): string;
  // Set when the process has exited, with its code or signal.
  exited(): string | undefined;
  // SIGTERM, then SIGKILL after 5 s. Resolves to how it exited: "exit code 0" after a clean drain.
  stop(): Promise<string>;
}

export const kCleanExit = "exit code 0";

const kMediaDir = path.join(os.tmpdir(), "marketplace-api-test-media");

// The secret that signs the local payment gateway's webhooks. Derived from the instance's JWT
// secret (random per run), so that test files, which only know that one (inject("jwtSecret") or
// RunningServer.jwtSecret), can sign events of their own.
export function webhookSecretFor(jwtSecret: string): string {
  return createHmac("sha256", jwtSecret).update("local-payments-webhook").digest("hex");
}

export function baseEnv(jwtSecret: string): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"]) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return {
    ...inherited,
    ...serviceEnv(),
    MARKETPLACE_ENV: "test",
    HTTP_HOST: "127.0.0.1",
    JWT_SECRET: jwtSecret,
    LOCAL_PAYMENTS_WEBHOOK_SECRET: webhookSecretFor(jwtSecret),
    RATE_LIMIT_AUTH_IP: "100000/1m",
    RATE_LIMIT_AUTH_ACCOUNT: "5/1m",
    ACCESS_LOG: "off",
    // Uploaded images of test runs go to a scratch directory, never into the checkout.
    MEDIA_DIR: kMediaDir,
  };
}

const kOutputLimit = 64 * 1024;

function tail(text: string): string {
  return text.length > kOutputLimit ? text.slice(text.length - kOutputLimit) : text;
}

// Runs `marketplace <args>` to completion; rejects with its output when it fails.
export function runCommand(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ stdout: string; stderr: string }> {
  const bin = binaryPath();
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(
            `\`marketplace ${args.join(" ")}\` failed: ${error.message}\n--- stdout ---\n${tail(stdout)}\n--- stderr ---\n${tail(stderr)}`,
          ),
        );
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

export async function migrate(jwtSecret: string): Promise<void> {
  await runCommand(["migrate"], baseEnv(jwtSecret), 120_000);
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// Starts `marketplace serve` on a free loopback port and resolves once GET /readyz answers 200
// (or options.readyStatus).
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const bin = binaryPath();
  const jwtSecret = options.jwtSecret ?? randomSecret();
  const port = await freePort();
  const env = { ...baseEnv(jwtSecret), HTTP_PORT: String(port), ...options.env };
  const baseUrl = `http://127.0.0.1:${port}`;

  const child = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let exitStatus: string | undefined;
  const collect = (chunk: Buffer) => {
    output = tail(output + chunk.toString("utf8"));
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let stopping = false;
  child.on("exit", (code, signal) => {
    exitStatus = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  // Nobody asked it to stop: whatever test talks to it next only sees refused connections, so its
  // output (a sanitizer report, an uncaught exception) is printed right here, once all is read.
  child.on("close", () => {
    if (!stopping) {
      process.stderr.write(`marketplace serve on port ${port} died (${exitStatus}).\n--- its output ---\n${output}\n`);
    }
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });
  await spawned;

  const stop = async (): Promise<string> => {
    stopping = true;
    if (exitStatus === undefined) {
      child.kill("SIGTERM");
      if (!(await waitForExit(child, 5_000))) {
        child.kill("SIGKILL");
        await waitForExit(child, 5_000);
        return "killed: did not exit within 5 s of SIGTERM";
      }
    }
    return exitStatus ?? "unknown";
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  let lastProblem = "no answer yet";
  for (;;) {
    if (exitStatus !== undefined) {
      throw new Error(`marketplace serve exited before it was ready (${exitStatus}).\n--- its output ---\n${output}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      const text = await res.text();
      // The port was free a moment ago and our process is still alive: this answer is ours.
      if (res.status === (options.readyStatus ?? 200) && exitStatus === undefined) break;
      lastProblem = `GET /readyz answered ${res.status}: ${text.slice(0, 500)}`;
    } catch (error) {
      lastProblem = `GET /readyz failed: ${(error as Error).message}`;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`marketplace serve was not ready within the deadline (${lastProblem}).\n--- its output ---\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    baseUrl,
    port,
    pid: child.pid!,
    jwtSecret,
    env,
    output: () => output,
    exited: () => exitStatus,
    stop,
  };
}

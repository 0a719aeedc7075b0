// What the Stripe flow runs beside its own `marketplace dev`: the Stripe stand-in of
// ../shared/providers (Stripe's OpenAPI description served by Prism, which refuses any request
// that breaks Stripe's contract), a database and a Redis database of its own, and webhooks signed
// as Stripe signs them.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import Stripe from "stripe";
import { freePort, repoRoot } from "./server";

export const kStripeJsStub = path.join(repoRoot, "e2e/lib/stripe-js-stub.js");

export interface StripeSettings {
  secretKey: string;
  publishableKey: string;
  webhookSecret: string;
}

export function stripeSettings(): StripeSettings {
  const random = () => randomBytes(12).toString("hex");
  return {
    secretKey: `sk_test_${random()}`,
    publishableKey: `pk_test_${random()}`,
    webhookSecret: `whsec_${random()}`,
  };
}

// PROVIDERS_DIR, else ../shared/providers beside the checkout, else the machine's copy.
function providersDir(): string {
  if (process.env.PROVIDERS_DIR) return process.env.PROVIDERS_DIR;
  const beside = path.resolve(repoRoot, "../shared/providers");
  return existsSync(path.join(beside, "mock"))
    ? beside
    : "/work/shared/providers";
}

export interface StandIn {
  url: string;
  stop(): void;
}

// `mock stripe PORT`, run from tests/api where npm installed Prism; resolves once it answers.
export async function startStripeStandIn(): Promise<StandIn> {
  const mock = path.join(providersDir(), "mock");
  if (!existsSync(mock))
    throw new Error(`the Stripe stand-in is missing: ${mock}`);
  const port = await freePort();
  // Its own process group, so that bash and the node it runs stop together.
  const child: ChildProcess = spawn(mock, ["stripe", String(port)], {
    cwd: path.join(repoRoot, "tests/api"),
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const stop = () => {
    if (child.exitCode === null && child.pid)
      process.kill(-child.pid, "SIGTERM");
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(
        `the Stripe stand-in exited (run npm ci in tests/api?)\n${errors}`,
      );
    // Any answer will do: it is listening.
    const up = await fetch(`${url}/v1/payment_intents/pi_probe`).then(
      () => true,
      () => false,
    );
    if (up) return { url, stop };
    if (Date.now() > deadline) {
      stop();
      throw new Error(
        `the Stripe stand-in did not start within 60 s\n${errors}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface Stores {
  databaseUrl: string;
  redisUrl: string;
  drop(): void;
}

// The stand-in answers every PaymentIntent create with the same intent (Stripe's fixture), and an
// intent belongs to one order, so the flow gets a database made fresh for each run, named after
// DATABASE_URL's, and a Redis database of its own (listing ids start again at 1: the stock
// counters of the main database's listings must not be taken for these).
export function freshStores(name: string, redisDb: number): Stores {
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (!DATABASE_URL || !REDIS_URL)
    throw new Error("DATABASE_URL and REDIS_URL must be set for the e2e suite");
  const database = new URL(DATABASE_URL);
  const dbName = `${database.pathname.slice(1)}_${name}`;
  const psql = (sql: string) =>
    execFileSync(
      "psql",
      [DATABASE_URL, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
      {
        stdio: ["ignore", "ignore", "inherit"],
        // Without the notice that a database to drop does not exist.
        env: { ...process.env, PGOPTIONS: "-c client_min_messages=warning" },
      },
    );
  psql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  psql(`CREATE DATABASE ${dbName}`);
  database.pathname = `/${dbName}`;
  const redis = new URL(REDIS_URL);
  redis.pathname = `/${redisDb}`;
  execFileSync("redis-cli", ["-u", redis.toString(), "FLUSHDB"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return {
    databaseUrl: database.toString(),
    redisUrl: redis.toString(),
    drop() {
      psql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      execFileSync("redis-cli", ["-u", redis.toString(), "FLUSHDB"], {
        stdio: ["ignore", "ignore", "inherit"],
      });
    },
  };
}

// A `payment_intent.succeeded` event for the order's intent, with the Stripe-Signature header
// that Stripe's own npm package makes for it.
export function succeededWebhook(
  settings: StripeSettings,
  intent: {
    id: string;
    amountCents: number;
    currency: string;
    orderId: number;
  },
): { body: string; signature: string } {
  const body = JSON.stringify({
    id: `evt_${randomBytes(12).toString("hex")}`,
    object: "event",
    type: "payment_intent.succeeded",
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: intent.id,
        object: "payment_intent",
        amount: intent.amountCents,
        currency: intent.currency.toLowerCase(),
        status: "succeeded",
        metadata: { order_id: String(intent.orderId) },
      },
    },
  });
  const signature = new Stripe(
    settings.secretKey,
  ).webhooks.generateTestHeaderString({
    payload: body,
    secret: settings.webhookSecret,
  });
  return { body, signature };
}

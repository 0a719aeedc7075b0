// Integrity under load, through the real HTTP server: 200 buyers racing for 20 units (also with
// Redis killed in the middle of the race), then all winners paying; and multi-line carts that
// overlap in opposite orders.
import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { api, type ApiResponse } from "../../lib/client.js";
import { expectError, fieldMessage } from "../../lib/fixtures.js";
import {
  account,
  accounts,
  checkout,
  emptyCart,
  eventually,
  payWithCard,
  putInCart,
  readOrder,
  sell,
  sleep,
  stock,
  type Account,
  type FullOrder,
} from "../../lib/payments.js";
import { freePort, kCleanExit, type RunningServer, startServer } from "../../lib/server.js";

const kBuyers = 200;
const kStock = 20;

// Runs `fn` over `items`, `batch` at a time.
async function inBatches<T>(items: T[], batch: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += batch) {
    await Promise.all(items.slice(start, start + batch).map(fn));
  }
}

// Every answer is a 201 or a 409 naming the listing; exactly `expected` orders, all different.
function tally(answers: ApiResponse<FullOrder>[], listingIds: number[], expected: number): FullOrder[] {
  const texts = () =>
    answers
      .map((res) => `${res.status} ${res.text.slice(0, 200)}`)
      .filter((line) => !line.startsWith("201") && !line.startsWith("409"))
      .slice(0, 20)
      .join("\n");
  const statuses = answers.map((res) => res.status);
  expect(statuses.filter((s) => s !== 201 && s !== 409), `answers other than 201/409:\n${texts()}`).toEqual([]);
  expect(statuses.filter((s) => s === 201).length, "orders placed").toBe(expected);
  const orders = answers.filter((res) => res.status === 201).map((res) => res.body);
  expect(new Set(orders.map((o) => o.id)).size).toBe(expected);
  for (const order of orders) {
    expect(order.status).toBe("pending_payment");
    expect(order.items.map((i) => [i.listing_id, i.quantity])).toEqual(listingIds.map((id) => [id, 1]));
  }
  for (const res of answers.filter((r) => r.status === 409)) {
    const body = expectError(res, 409, "conflict");
    const named = (body.error.fields ?? []).map((f) => f.field);
    expect(named.length, res.text).toBeGreaterThan(0);
    for (const field of named) expect(listingIds.map((id) => `cart.${id}`), res.text).toContain(field);
    for (const field of named) expect(fieldMessage(body, field), res.text).toBe("only 0 available");
  }
  return orders;
}

// Each winner gets its intent and pays with the good card, all at once; then waits until every
// order is paid (the webhook) and returns them.
async function payAll(winners: { buyer: Account; order: FullOrder }[], baseUrl?: string): Promise<FullOrder[]> {
  await Promise.all(winners.map(({ buyer, order }) => payWithCard(buyer.token, order.id, baseUrl)));
  let last: FullOrder[] = [];
  return eventually(
    `all ${winners.length} orders paid`,
    async () => {
      last = await Promise.all(winners.map(({ buyer, order }) => readOrder(buyer.token, order.id, baseUrl)));
      return last.every((o) => o.status === "paid") ? last : undefined;
    },
    15_000,
    100,
    () => last.map((o) => `${o.id}:${o.status}`),
  );
}

function winnersOf(buyers: Account[], answers: ApiResponse<FullOrder>[]) {
  return answers.flatMap((res, i) => (res.status === 201 ? [{ buyer: buyers[i]!, order: res.body }] : []));
}

// ---- A Redis of our own, to kill ----

interface PrivateRedis {
  url: string;
  port: number;
  kill(): void;
  exited(): boolean;
}

async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.end("PING\r\n");
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (up) break;
    if (exited || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    kill: () => {
      if (!exited) child.kill("SIGKILL");
    },
    exited: () => exited,
  };
}

// Asks our Redis for DBSIZE over and over (on a connection of its own) and calls `reached` once
// it holds `threshold` keys. Returns a function that stops watching.
function whenKeys(port: number, threshold: number, reached: () => void): () => void {
  const socket = connect(port, "127.0.0.1");
  let buffer = "";
  let done = false;
  const stop = () => {
    done = true;
    socket.destroy();
  };
  socket.on("connect", () => socket.write("DBSIZE\r\n"));
  socket.on("data", (chunk) => {
    buffer += chunk.toString("latin1");
    const match = /^:(\d+)\r\n/.exec(buffer);
    if (!match || done) return;
    buffer = buffer.slice(match[0].length);
    if (Number(match[1]) >= threshold) {
      stop();
      reached();
    } else {
      socket.write("DBSIZE\r\n");
    }
  });
  socket.on("error", () => {});
  return stop;
}

// ---- Tests ----

describe("a flash sale over HTTP: one listing of 20, 200 buyers at once", () => {
  let seller: Account;
  let buyers: Account[] = [];

  beforeAll(async () => {
    seller = await account();
    buyers = await accounts(kBuyers, 25);
  }, 60_000);

  it("places exactly 20 orders; all 20 pay; quantity ends at 0", async () => {
    const item = await sell(seller.token, { quantity: kStock, price_cents: 999 });
    await inBatches(buyers, 50, (buyer) => putInCart(buyer.token, item.id, 1));

    const answers = await Promise.all(buyers.map((buyer) => checkout(buyer.token)));
    const orders = tally(answers, [item.id], kStock);
    for (const order of orders) expect(order.total_cents).toBe(999);
    expect(await stock(item.id)).toEqual([kStock, 0]);

    const paid = await payAll(winnersOf(buyers, answers));
    for (const order of paid) expect(order.items.map((i) => i.status)).toEqual(["awaiting_shipment"]);
    expect(await stock(item.id)).toEqual([0, 0]);

    // Sold out for good: a loser who tries again is refused.
    const losers = buyers.filter((_, i) => answers[i]!.status === 409);
    expectError(await checkout(losers[0]!.token), 409, "conflict", [`cart.${item.id}`]);
    expect(await stock(item.id)).toEqual([0, 0]);

    // The gate and PostgreSQL still agree: a unit given back by a cancelled (refunded) order is
    // for sale again, exactly once, to losers racing for it.
    const [winner] = winnersOf(buyers, answers);
    const cancelled = await api<FullOrder>("POST", `/api/v1/orders/${winner!.order.id}/cancel`, {
      token: winner!.buyer.token,
    });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    expect(await stock(item.id)).toEqual([1, 1]);
    const again = await Promise.all(losers.slice(1, 11).map((loser) => checkout(loser.token)));
    tally(again, [item.id], 1);
    expect(await stock(item.id)).toEqual([1, 0]);
  }, 60_000);

  describe("with Redis killed while the checkouts are in flight", () => {
    let redis: PrivateRedis | undefined;
    let server: RunningServer | undefined;

    beforeAll(async () => {
      redis = await startRedis();
      // The suite's JWT secret: the accounts above sign in to this instance too.
      server = await startServer({ jwtSecret: inject("jwtSecret"), env: { REDIS_URL: redis.url } });
    }, 60_000);

    afterAll(async () => {
      const exit = await server?.stop();
      expect(exit, server?.output()).toBe(kCleanExit);
      redis?.kill();
    });

    it("still places exactly 20 orders, never more, and they all pay", async () => {
      const url = server!.baseUrl;
      const item = await sell(seller.token, { quantity: kStock, price_cents: 1499 }, url);
      await inBatches(buyers, 50, async (buyer) => {
        await emptyCart(buyer.token, url);
        await putInCart(buyer.token, item.id, 1, url);
      });
      expect(await stock(item.id, url)).toEqual([kStock, kStock]);

      // Redis is killed as soon as the gate has admitted a few checkouts (its counter and a few
      // holds are keys), or once the first answers are back, or after 150 ms: some checkouts went
      // through the Redis gate, the rest find it gone and must fall back on PostgreSQL alone.

      let answered = 0;
      let answeredAtKill = -1;
      const kill = () => {
        if (answeredAtKill >= 0) return;
        answeredAtKill = answered;
        redis!.kill();
      };
      const timer = setTimeout(kill, 150);
      const stopWatching = whenKeys(redis!.port, 6, kill);
      // Sent 10 at a time, a millisecond apart, so that the watcher gets to see the gate fill up
      // while most checkouts are still to come (all 200 are out within a few tens of ms).
      const inFlight: Promise<ApiResponse<FullOrder>>[] = [];
      for (let start = 0; start < buyers.length; start += 10) {
        for (const buyer of buyers.slice(start, start + 10)) {
          inFlight.push(
            checkout(buyer.token, url).then((res) => {
              answered++;
              if (answered >= 10) kill();
              return res;
            }),
          );
        }
        await sleep(1);
      }
      const answers = await Promise.all(inFlight);
      clearTimeout(timer);
      stopWatching();
      expect(answeredAtKill, "Redis must die while checkouts are still in flight").toBeGreaterThanOrEqual(0);
      expect(answeredAtKill).toBeLessThan(kBuyers);
      await eventually("redis-server exited", async () => (redis!.exited() ? true : undefined), 5_000);

      tally(answers, [item.id], kStock);
      expect(await stock(item.id, url)).toEqual([kStock, 0]);
      // The suite's server, with its Redis alive, sees the same.
      expect(await stock(item.id)).toEqual([kStock, 0]);
      const ready = await api("GET", "/readyz", { baseUrl: url });
      expect(ready.status, ready.text).toBe(503);

      // Paying, with Redis still dead.
      await payAll(winnersOf(buyers, answers), url);
      expect(await stock(item.id, url)).toEqual([0, 0]);
      expect(await stock(item.id)).toEqual([0, 0]);
    }, 60_000);
  });

  describe("overlapping multi-line carts (A,B against B,A)", () => {
    it("never oversells either listing, answers no 5xx, and every winner pays", async () => {
      const other = await account();
      const [a, b] = await Promise.all([
        sell(seller.token, { quantity: 10, price_cents: 700 }),
        sell(other.token, { quantity: 10, price_cents: 1100 }),
      ]);
      const racers = buyers.slice(0, 40);
      await inBatches(racers, 20, async (buyer) => {
        await emptyCart(buyer.token);
        const [first, second] = racers.indexOf(buyer) % 2 === 0 ? [a, b] : [b, a];
        await putInCart(buyer.token, first.id, 1);
        await putInCart(buyer.token, second.id, 1);
      });

      const answers = await Promise.all(racers.map((buyer) => checkout(buyer.token)));
      // Each order takes one of each, all or nothing: 10 orders exhaust both.
      const orders = tally(answers, [a.id, b.id].sort((x, y) => x - y), 10);
      for (const order of orders) expect(order.total_cents).toBe(1800);
      expect(await stock(a.id)).toEqual([10, 0]);
      expect(await stock(b.id)).toEqual([10, 0]);

      await payAll(winnersOf(racers, answers));
      expect(await stock(a.id)).toEqual([0, 0]);
      expect(await stock(b.id)).toEqual([0, 0]);
    }, 60_000);

    it("with more stock than buyers, every crossed checkout succeeds", async () => {
      const other = await account();
      const [a, b] = await Promise.all([
        sell(seller.token, { quantity: 50, price_cents: 700 }),
        sell(other.token, { quantity: 50, price_cents: 1100 }),
      ]);
      const racers = buyers.slice(40, 80);
      await inBatches(racers, 20, async (buyer) => {
        await emptyCart(buyer.token);
        const [first, second] = racers.indexOf(buyer) % 2 === 0 ? [a, b] : [b, a];
        await putInCart(buyer.token, first.id, 1);
        await putInCart(buyer.token, second.id, 1);
      });
      const answers = await Promise.all(racers.map((buyer) => checkout(buyer.token)));
      tally(answers, [a.id, b.id].sort((x, y) => x - y), 40);
      expect(await stock(a.id)).toEqual([50, 10]);
      expect(await stock(b.id)).toEqual([50, 10]);
    }, 60_000);
  });
});

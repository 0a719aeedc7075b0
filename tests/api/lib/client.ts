// The HTTP client every test uses. Each response it returns has already been checked against
// api/openapi.yaml (see contract.ts), so a test that only looks at the status still pins the shape.
import http from "node:http";
import { inject } from "vitest";
import { checkResponse } from "./contract.js";

export interface ApiOptions {
  // Sent as JSON with Content-Type: application/json.
  json?: unknown;
  // Sent as is; set contentType yourself (default application/json).
  body?: string | Uint8Array;
  contentType?: string;
  // Bearer access token.
  token?: string;
  headers?: Record<string, string>;
  // Another server than the suite's (e.g. one started by a test file).
  baseUrl?: string;
  // Source address of the connection (any 127.x.y.z), so a test can be "another client IP".
  localAddress?: string;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
}

function encode(options: ApiOptions): { body?: string | Uint8Array; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  let body: string | Uint8Array | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] = "application/json";
  } else if (options.body !== undefined) {
    body = options.body;
    headers["content-type"] = "application/json";
  }
  if (options.contentType !== undefined) headers["content-type"] = options.contentType;
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  return { body, headers };
}

// fetch cannot choose the source address, so requests with localAddress go through node:http.
function requestFrom(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  localAddress: string,
): Promise<{ status: number; headers: Headers; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const item of Array.isArray(value) ? value : [value]) out.append(name, item);
        }
        resolve({ status: res.statusCode ?? 0, headers: out, text: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(body);
  });
}

export async function api<T = any>(method: string, path: string, options: ApiOptions = {}): Promise<ApiResponse<T>> {
  const url = (options.baseUrl ?? inject("baseUrl")) + path;
  const { body, headers } = encode(options);
  let raw: { status: number; headers: Headers; text: string };
  if (options.localAddress !== undefined) {
    raw = await requestFrom(url, method, headers, body, options.localAddress);
  } else {
    const res = await fetch(url, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(30_000) });
    raw = { status: res.status, headers: res.headers, text: await res.text() };
  }
  const parsed = checkResponse({ method, url, ...raw });
  return { ...raw, body: parsed as T };
}

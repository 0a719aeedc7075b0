// Test data and the few steps most tests share. The test database is shared by every file and
// every run, so each user gets random names.
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { api, type ApiOptions, type ApiResponse, type ErrorBody } from "./client.js";

export interface Me {
  id: number;
  username: string;
  email: string;
  display_name: string;
  created_at: string;
  updated_at: string;
}

export interface TokenPair {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  refresh_expires_at: string;
}

export interface AuthResponse {
  user: Me;
  tokens: TokenPair;
}

export interface Credentials {
  username: string;
  email: string;
  password: string;
}

export function suffix(bytes = 5): string {
  return randomBytes(bytes).toString("hex");
}

export function newCredentials(prefix = "u"): Credentials {
  const tag = suffix();
  return {
    username: `${prefix}_${tag}`,
    email: `${prefix}.${tag}@example.com`,
    password: `pw-${suffix(8)}`,
  };
}

export async function register(
  overrides: Partial<Credentials> & { display_name?: string } = {},
  options: ApiOptions = {},
): Promise<Credentials & { auth: AuthResponse }> {
  const credentials = { ...newCredentials(), ...overrides };
  const res = await api<AuthResponse>("POST", "/api/v1/auth/register", { ...options, json: credentials });
  expect(res.status, res.text).toBe(201);
  return { ...credentials, auth: res.body };
}

export async function login(login: string, password: string, options: ApiOptions = {}): Promise<AuthResponse> {
  const res = await api<AuthResponse>("POST", "/api/v1/auth/login", { ...options, json: { login, password } });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

export function refresh(refreshToken: string, options: ApiOptions = {}): Promise<ApiResponse<AuthResponse & ErrorBody>> {
  return api("POST", "/api/v1/auth/refresh", { ...options, json: { refresh_token: refreshToken } });
}

export function getMe(token: string, options: ApiOptions = {}): Promise<ApiResponse<Me & ErrorBody>> {
  return api("GET", "/api/v1/me", { ...options, token });
}

// Asserts the status, the error code and, when given, exactly which fields are named.
export function expectError(res: ApiResponse, status: number, code: string | string[], fields?: string[]): ErrorBody {
  expect(res.status, res.text).toBe(status);
  const body = res.body as ErrorBody;
  if (Array.isArray(code)) expect(code, res.text).toContain(body.error.code);
  else expect(body.error.code, res.text).toBe(code);
  if (fields !== undefined) {
    const named = [...new Set((body.error.fields ?? []).map((f) => f.field))].sort();
    expect(named, res.text).toEqual([...fields].sort());
  }
  return body;
}

export function fieldMessage(body: ErrorBody, field: string): string | undefined {
  return body.error.fields?.find((f) => f.field === field)?.message;
}

// A source address on loopback that no other test uses: its own rate-limit buckets.
export function randomLoopbackAddress(): string {
  const [a, b, c] = randomBytes(3);
  return `127.${a! % 250 + 2}.${b}.${(c! % 250) + 2}`;
}

// Checks HTTP responses against api/openapi.yaml: the operation must declare the status, the
// content type must be the declared one, the body must match its schema, declared required
// headers must be present, and every response must carry X-Request-Id.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";
import { repoRoot } from "./server.js";

// ajv-formats is CommonJS; under ESM interop its default export may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as typeof addFormatsModule;

export const specPath = path.join(repoRoot, "api/openapi.yaml");

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface HeaderObject {
  required?: boolean;
  schema?: JsonObject;
  $ref?: string;
}
interface ResponseObject {
  $ref?: string;
  description?: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema?: JsonObject }>;
}
interface OperationObject {
  operationId?: string;
  responses: Record<string, ResponseObject>;
  security?: Record<string, string[]>[];
}
interface OpenApi {
  paths: Record<string, Record<string, OperationObject>>;
  components: JsonObject & { responses?: Record<string, ResponseObject> };
}

export const kHttpMethods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

export const spec = parse(readFileSync(specPath, "utf8")) as OpenApi;

const kSpecId = "urn:marketplace:openapi";

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
ajv.addVocabulary(["components", "example", "discriminator", "xml", "externalDocs"]);
ajv.addSchema({ $id: kSpecId, components: spec.components as never });

const compiled = new Map<string, ValidateFunction>();

// Schemas inside paths are compiled on their own: point their local refs at the added spec.
function anchorRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(anchorRefs);
  if (value === null || typeof value !== "object") return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = key === "$ref" && typeof item === "string" && item.startsWith("#") ? kSpecId + item : anchorRefs(item);
  }
  return out;
}

function validatorFor(key: string, schema: JsonObject): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(anchorRefs(schema) as object);
    compiled.set(key, fn);
  }
  return fn;
}

export function schemaValidator(name: string): ValidateFunction {
  const fn = ajv.getSchema(`${kSpecId}#/components/schemas/${name}`);
  if (!fn) throw new Error(`no schema components/schemas/${name} in the spec`);
  return fn;
}

function resolve<T extends { $ref?: string }>(object: T): T {
  let current = object;
  for (let hops = 0; current.$ref !== undefined; hops++) {
    if (hops > 10 || !current.$ref.startsWith("#/")) throw new Error(`cannot resolve ${current.$ref}`);
    let target: unknown = spec;
    for (const part of current.$ref.slice(2).split("/")) {
      target = (target as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      if (target === undefined) throw new Error(`unresolved ${current.$ref}`);
    }
    current = target as T;
  }
  return current;
}

function templateRegExp(template: string): RegExp {
  const pattern = template
    .split("/")
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${pattern}$`);
}

const templates = Object.keys(spec.paths)
  .map((template) => ({ template, re: templateRegExp(template), params: (template.match(/\{/g) ?? []).length }))
  // A literal segment wins over a parameter: try templates with fewer parameters first.
  .sort((a, b) => a.params - b.params);

export function findPathTemplate(pathname: string): string | undefined {
  return templates.find(({ re }) => re.test(pathname))?.template;
}

export interface ObservedResponse {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

export class ContractViolation extends Error {
  override name = "ContractViolation";
}

function describe(res: ObservedResponse): string {
  const body = res.text.length > 2000 ? `${res.text.slice(0, 2000)}…` : res.text;
  return `${res.method.toUpperCase()} ${new URL(res.url).pathname} → ${res.status}\n  body: ${body}`;
}

function formatErrors(fn: ValidateFunction): string {
  return (fn.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? ""} ${JSON.stringify(e.params)}`).join("\n    ");
}

function checkHeaders(res: ObservedResponse, response: ResponseObject, where: string): void {
  for (const [name, declared] of Object.entries(response.headers ?? {})) {
    const header = resolve(declared);
    const value = res.headers.get(name);
    if (value === null) {
      if (header.required) throw new ContractViolation(`${where}: required header ${name} is missing\n${describe(res)}`);
      continue;
    }
    if (header.schema) {
      const type = header.schema.type;
      const coerced: Json = type === "integer" || type === "number" ? Number(value) : value;
      const fn = validatorFor(`header:${where}:${name}`, header.schema);
      if (!fn(coerced)) {
        throw new ContractViolation(`${where}: header ${name}: ${JSON.stringify(value)} ${formatErrors(fn)}\n${describe(res)}`);
      }
    }
  }
}

function mediaType(headers: Headers): string | undefined {
  const value = headers.get("content-type");
  return value === null ? undefined : value.split(";")[0]!.trim().toLowerCase();
}

function checkBody(res: ObservedResponse, response: ResponseObject, where: string): unknown {
  const declared = response.content ?? {};
  const types = Object.keys(declared);
  const actual = mediaType(res.headers);
  if (types.length === 0) {
    if (res.text !== "") throw new ContractViolation(`${where}: declares no body but got one\n${describe(res)}`);
    return undefined;
  }
  if (actual === undefined || !types.includes(actual)) {
    throw new ContractViolation(
      `${where}: content type ${actual ?? "(none)"} is not the declared ${types.join(", ")}\n${describe(res)}`,
    );
  }
  const schema = declared[actual]!.schema;
  let body: unknown = res.text;
  if (actual === "application/json" || actual.endsWith("+json")) {
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new ContractViolation(`${where}: body is not JSON\n${describe(res)}`);
    }
  }
  if (schema) {
    const fn = validatorFor(`body:${where}:${actual}`, schema);
    if (!fn(body)) throw new ContractViolation(`${where}: body does not match the schema:\n    ${formatErrors(fn)}\n${describe(res)}`);
  }
  return body;
}

const errorBody = (): ValidateFunction => schemaValidator("Error");

// Returns the parsed body. Throws ContractViolation when the response breaks the contract.
export function checkResponse(res: ObservedResponse): unknown {
  if (!res.headers.get("x-request-id")) throw new ContractViolation(`X-Request-Id is missing\n${describe(res)}`);

  // HEAD is answered like GET, without the body.
  const head = res.method.toLowerCase() === "head";
  const method = head ? "get" : res.method.toLowerCase();
  const pathname = new URL(res.url).pathname;
  const template = findPathTemplate(pathname);
  const components = spec.components.responses ?? {};

  let response: ResponseObject | undefined;
  let where: string;
  let operationId: string | undefined;
  if (template === undefined) {
    // No route has this path: the router's 404, whatever the method.
    where = `unrouted path ${pathname}`;
    if (res.status !== 404) throw new ContractViolation(`${where}: expected 404, got ${res.status}\n${describe(res)}`);
    response = components.NotFound;
  } else if (spec.paths[template]![method] === undefined) {
    where = `${method.toUpperCase()} ${template} (no such operation)`;
    if (res.status !== 405) throw new ContractViolation(`${where}: expected 405, got ${res.status}\n${describe(res)}`);
    response = components.MethodNotAllowed;
  } else {
    const operation = spec.paths[template]![method]!;
    operationId = operation.operationId;
    where = `${method.toUpperCase()} ${template}`;
    const responses = operation.responses;
    response = responses[String(res.status)] ?? responses[`${Math.floor(res.status / 100)}XX`] ?? responses.default;
    if (response === undefined) {
      throw new ContractViolation(
        `${where}: status ${res.status} is not declared (declared: ${Object.keys(responses).join(", ")})\n${describe(res)}`,
      );
    }
  }
  if (response === undefined) throw new Error(`${where}: the spec lacks the response component to check against`);
  response = resolve(response);
  where = `${where} ${res.status}`;

  checkHeaders(res, response, where);
  if (head) {
    if (res.text !== "") throw new ContractViolation(`${where}: a HEAD answer has a body\n${describe(res)}`);
    return undefined;
  }
  const body = checkBody(res, response, where);

  // Whatever a response declares, every error except readiness's own shape is the one error body.
  if (res.status >= 400 && operationId !== "getReadiness") {
    const fn = errorBody();
    if (!fn(body)) throw new ContractViolation(`${where}: not the standard error body:\n    ${formatErrors(fn)}\n${describe(res)}`);
  }
  return body;
}

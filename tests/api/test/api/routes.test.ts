import { describe, expect, it } from "vitest";
import { kHttpMethods, spec } from "../../lib/contract.js";
import { baseEnv, randomSecret, runCommand } from "../../lib/server.js";

const kIgnored = new Set(["HEAD", "OPTIONS"]);

function key(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

// Operations marked `x-provider: local|stripe` are served only with that PAYMENT_PROVIDER.
describe("spec and router agree", () => {
  it.each(["local", "stripe"])(
    "`marketplace routes --payment-provider %s` lists exactly the operations of api/openapi.yaml for it",
    async (provider) => {
      const { stdout } = await runCommand(["routes", "--payment-provider", provider], baseEnv(randomSecret()));
      let routes: unknown;
      try {
        routes = JSON.parse(stdout);
      } catch {
        throw new Error(`\`marketplace routes\` did not print JSON:\n${stdout.slice(0, 2000)}`);
      }
      expect(Array.isArray(routes), "routes must be a JSON array").toBe(true);

      const served = new Set<string>();
      for (const route of routes as { method?: unknown; path?: unknown }[]) {
        expect(typeof route.method === "string" && typeof route.path === "string", JSON.stringify(route)).toBe(true);
        const method = (route.method as string).toUpperCase();
        if (!kIgnored.has(method)) served.add(key(method, route.path as string));
      }

      const documented = new Set<string>();
      for (const [path, item] of Object.entries(spec.paths)) {
        for (const method of kHttpMethods) {
          const operation = item[method] as { "x-provider"?: string } | undefined;
          if (operation === undefined || kIgnored.has(method.toUpperCase())) continue;
          const only = operation["x-provider"];
          if (only === undefined || only === provider) documented.add(key(method, path));
        }
      }

      const undocumented = [...served].filter((r) => !documented.has(r)).sort();
      const unserved = [...documented].filter((r) => !served.has(r)).sort();
      expect(
        { servedButNotInSpec: undocumented, inSpecButNotServed: unserved },
        "the router and api/openapi.yaml disagree",
      ).toEqual({ servedButNotInSpec: [], inSpecButNotServed: [] });
    },
  );
});

import { vi } from "vitest";

type ApiModule = typeof import("../api/api");

// For vi.mock's factory: the api module with the named calls replaced by mocks, e.g.
//   vi.mock("../api/api", async (importOriginal) => {
//     const { withMockedCalls } = await import("../test/api-mock");
//     return withMockedCalls(await importOriginal(), ["cart", "me"]);
//   });
export function withMockedCalls(
  actual: ApiModule,
  names: (keyof ApiModule["api"])[],
): ApiModule {
  const api: Record<string, unknown> = { ...actual.api };
  for (const name of names) api[name] = vi.fn();
  return { ...actual, api: api as ApiModule["api"] };
}

// The drift check: src/api/schema.ts must be byte for byte what `npm run schema` makes of
// ../api/openapi.yaml now. Fails (exit 1) when it is not; `npm run schema` fixes it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const web = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "schema-"));
try {
  const fresh = join(dir, "schema.ts");
  execFileSync(
    join(web, "node_modules/.bin/openapi-typescript"),
    ["../api/openapi.yaml", "-o", fresh],
    {
      cwd: web,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  if (
    readFileSync(fresh, "utf8") !==
    readFileSync(join(web, "src/api/schema.ts"), "utf8")
  ) {
    console.error(
      "schema: web/src/api/schema.ts is out of date with api/openapi.yaml; run `npm run schema` in web/",
    );
    process.exit(1);
  }
  console.log("schema: web/src/api/schema.ts matches api/openapi.yaml");
} finally {
  rmSync(dir, { recursive: true, force: true });
}

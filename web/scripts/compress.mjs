// Writes NAME.br and NAME.gz next to every compressible file of the build (not source maps), so
// the server can send them as they are, chosen by Accept-Encoding.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const compressible = /\.(html|js|mjs|css|svg|json|txt|webmanifest|ico)$/;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

const root = process.argv[2] ?? "dist";
let count = 0;
for await (const path of files(root)) {
  if (!compressible.test(path)) continue;
  const bytes = await readFile(path);
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  const gz = gzipSync(bytes, { level: 9 });
  // A compressed copy that is not smaller is not worth a header.
  if (br.length < bytes.length) await writeFile(`${path}.br`, br);
  if (gz.length < bytes.length) await writeFile(`${path}.gz`, gz);
  count += 1;
}
console.log(`compress: ${count} files in ${root}`);

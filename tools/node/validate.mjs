// Validate one glTF/GLB file with the Khronos glTF validator and print the report as JSON on stdout.
// Usage: node validate.mjs FILE [--max-issues N]
// Exit status: 0 when the report has no errors, 1 when it has errors, 2 when the file could not be read or parsed.
import { readFile } from "node:fs/promises";
import path from "node:path";
import validator from "gltf-validator";

const args = process.argv.slice(2);
if (args.length < 1) {
  console.error("usage: node validate.mjs FILE [--max-issues N]");
  process.exit(2);
}
const file = args[0];
const maxAt = args.indexOf("--max-issues");
const maxIssues = maxAt >= 0 ? Number(args[maxAt + 1]) : 200;

try {
  const bytes = new Uint8Array(await readFile(file));
  const report = await validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues,
    externalResourceFunction: (uri) => readFile(path.resolve(path.dirname(file), decodeURIComponent(uri))),
  });
  console.log(JSON.stringify(report, null, 2));
  process.exit(report.issues.numErrors > 0 ? 1 : 0);
} catch (err) {
  console.error(`could not validate ${file}: ${err}`);
  process.exit(2);
}

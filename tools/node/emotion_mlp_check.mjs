// node emotion_mlp_check.mjs MODEL.json CASES.json: prints the JS outputs for {inputs: [[7 + k], ...]} as JSON.
import { readFileSync } from "node:fs";
import { emotionForward } from "./emotion_mlp.mjs";

const doc = JSON.parse(readFileSync(process.argv[2], "utf8"));
const cases = JSON.parse(readFileSync(process.argv[3], "utf8"));
const outputs = cases.inputs.map((row) => emotionForward(doc, row.slice(0, 7), row.slice(7)));
process.stdout.write(JSON.stringify(outputs));

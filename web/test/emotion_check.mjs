// node emotion_check.mjs CASES.json: evaluates web/src/emotion.js on the cases a Python test wrote and prints JSON.
// CASES = {model: PATH, targetNames: [...], targetSources?: {target: {shape: gain}}, rig: [{intensities, baseEmotion, baseWeights, resting?, detectedEmotion?, identity, pivot, mode}],
//          pivots: [{positions: [x, y, z, ...]}], parse: ["happiness=0.8", ...]}
import { readFileSync } from "node:fs";
import { EmotionRig, neckPivotFromPositions, parseEmotion } from "../src/emotion.js";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const doc = JSON.parse(readFileSync(cases.model, "utf8"));
const rig = (cases.rig ?? []).map((c) => {
  const r = new EmotionRig(doc, cases.targetNames, c.baseWeights, {
    identity: c.identity, baseEmotion: c.baseEmotion, resting: c.resting, detectedEmotion: c.detectedEmotion, pivot: c.pivot, mode: c.mode,
    targetSources: cases.targetSources,
  });
  const { weights, matrix } = r.update(c.intensities);
  return { weights: Array.from(weights), matrix: Array.from(matrix) };
});
const pivots = (cases.pivots ?? []).map((c) => neckPivotFromPositions(Float32Array.from(c.positions)));
const parse = (cases.parse ?? []).map(parseEmotion);
process.stdout.write(JSON.stringify({ rig, pivots, parse }));

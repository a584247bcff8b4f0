// Emotion sliders → morph-target weights and a head rotation, in the browser (no server round trip).
//
// The maths of headcast.emotion (model.mlp_forward, apply.emotion_expression, apply.apply_emotion), for a head
// shown in its own model frame (glTF: +x the head's left, +y up, +z forward, metres):
//
//   out      = squash(z(x) − z(x₀))                 the packaged MLP, zero-anchored (x₀: intensities = 0)
//   weights  = clip(resting·f + out.expression, 0, 1) "keep" (apply_emotion's default: the person's resting face,
//                                                    params.json emotion.resting_expression = fitted − net(detected);
//                                                    f = 1 − min(1, k·|a_r(s) − a_r(detected)|) per face region r,
//                                                    a_r = largest network weight in the region: apply.resting_fade)
//            = out.expression, by target name       "replace" (EmotionSettings(keep_resting=False): the model's
//                                                    mean face; targets the network does not output are 0)
//   T(s)     = exp(global(s)) · exp(neck(s))         pose tendency (axis-angle → Rodrigues)
//   R_d      = T(s) · T(b)ᵀ                         b: the emotion the loaded GLB already shows
//   X'       = R_d (X − p) + p                       p: the neck pivot (behind the chin)
//
// apply_emotion writes the same rotation into the camera pose (pose' = (R R_d, t + R(p − R_d p))); the viewer has
// no camera pose, so it rotates the head node instead: identical vertices in the model frame.
// Matrices here are row-major Float64Array(9) for 3×3; node matrices are column-major (three.js Matrix4 order).

export const EMOTIONS = ["happiness", "sadness", "anger", "fear", "surprise", "disgust", "contempt"];

/** k of the resting-face fade (headcast.emotion.apply.RESTING_FADE_GAIN). */
export const RESTING_FADE_GAIN = 2;

/** Parse a headcast-emotion-mlp/1 document into flat typed arrays (done once per page). */
export function prepareModel(doc) {
  if (doc.format !== "headcast-emotion-mlp/1") throw new Error(`not an emotion MLP document: ${doc.format}`);
  const layers = doc.layers.map((layer) => {
    const rows = layer.weight.length;
    const cols = layer.weight[0].length;
    const weight = new Float64Array(rows * cols);
    layer.weight.forEach((row, r) => weight.set(row, r * cols));
    return { rows, cols, weight, bias: Float64Array.from(layer.bias) };
  });
  const blocks = [];
  let start = 0;
  for (const b of doc.layout) {
    blocks.push({ name: b.name, kind: b.kind, bound: b.bound, start, size: b.size, labels: b.labels });
    start += b.size;
  }
  const numInputs = EMOTIONS.length + doc.num_identity;
  if (layers[0].cols !== numInputs) throw new Error(`first layer takes ${layers[0].cols} inputs, expected ${numInputs}`);
  const width = Math.max(...layers.map((l) => l.rows));
  return {
    layers, blocks, numIdentity: doc.num_identity, numInputs, size: start,
    block: Object.fromEntries(blocks.map((b) => [b.name, b])),
    // scratch buffers: no allocation per slider event
    scratch: [new Float64Array(Math.max(width, numInputs)), new Float64Array(Math.max(width, numInputs))],
    anchor: null, anchorKey: null,
  };
}

// Raw outputs z of the linear+ReLU MLP (no activation after the last layer), written into `out`.
function rawForward(model, x, out) {
  let h = x;
  const { layers, scratch } = model;
  for (let i = 0; i < layers.length; i++) {
    const { rows, cols, weight, bias } = layers[i];
    const last = i === layers.length - 1;
    const dst = last ? out : scratch[i % 2];
    for (let r = 0; r < rows; r++) {
      let acc = bias[r];
      const o = r * cols;
      for (let c = 0; c < cols; c++) acc += weight[o + c] * h[c];
      dst[r] = last || acc > 0 ? acc : 0;
    }
    h = dst;
  }
  return out;
}

function inputVector(model, intensities, identity) {
  const x = new Float64Array(model.numInputs);
  for (let i = 0; i < EMOTIONS.length; i++) x[i] = intensities[i];
  for (let i = 0; i < model.numIdentity; i++) x[EMOTIONS.length + i] = identity?.[i] ?? 0;
  return x;
}

/**
 * The network's squashed outputs (headcast.emotion.model.mlp_forward) for 7 intensities in EMOTIONS order.
 * `identity`: σ-unit identity coefficients (only the identity variant reads them; zeros when absent).
 * z(x₀) depends only on the identity, so it is computed once per identity and kept.
 */
export function mlpForward(model, intensities, identity = null, out = new Float64Array(model.size)) {
  const x = inputVector(model, intensities, identity);
  const key = model.numIdentity ? Array.from(x.subarray(EMOTIONS.length)).join(",") : "";
  if (model.anchorKey !== key) {
    const x0 = x.slice();
    x0.fill(0, 0, EMOTIONS.length);
    model.anchor = rawForward(model, x0, new Float64Array(model.size));
    model.anchorKey = key;
  }
  rawForward(model, x, out);
  for (const b of model.blocks) {
    for (let i = b.start; i < b.start + b.size; i++) {
      const d = out[i] - model.anchor[i];
      out[i] = b.kind === "weights" ? Math.min(1, Math.max(0, d)) : b.bound * Math.tanh(d / b.bound);
    }
  }
  return out;
}

/**
 * How network expression outputs set a mesh's targets: entries (source j → target t, gain), u_t = Σ gain · out_j.
 * `targetSources`: the GLB's mesh.extras.targetSources ({target: {model shape: gain}}, headcast.export.morphs);
 * without it (GLBs before ARKit naming) an output sets the target of the same name with gain 1.
 */
export function targetMap(model, targetNames, targetSources = null) {
  const labels = new Map(model.block.expression.labels.map((n, j) => [n, j]));
  const source = [], target = [], gain = [];
  targetNames.forEach((name, t) => {
    const from = targetSources ? targetSources[name] ?? {} : { [name]: 1 };
    for (const [shape, g] of Object.entries(from)) {
      const j = labels.get(shape);
      if (j === undefined) continue;
      source.push(j); target.push(t); gain.push(g);
    }
  });
  return { source: Int32Array.from(source), target: Int32Array.from(target), gain: Float64Array.from(gain) };
}

/** Face region of a model shape by its ARKit-style name (apply.face_region): 0 brows, 1 eyes, 2 lower face, -1 gaze. */
export function faceRegion(name) {
  if (name.startsWith("eyeLook") || /pupil/i.test(name)) return -1;
  if (name.startsWith("brow")) return 0;
  if (name.startsWith("eye")) return 1;
  return 2;
}

/** Largest network weight per face region (3 numbers, ≥ 0) of network outputs `out`; `regions`: per output shape. */
export function regionActivity(model, out, regions, act = new Float64Array(3)) {
  act.fill(0);
  const { start } = model.block.expression;
  for (let j = 0; j < regions.length; j++) if (regions[j] >= 0) act[regions[j]] = Math.max(act[regions[j]], out[start + j]);
  return act;
}

/**
 * Morph weights in `targetNames` order from network outputs `out`, worked out per model shape as apply_emotion does
 * and then set on the targets through `map` (see `targetMap`).
 * mode "keep": clip(resting·f + network, 0, 1) per shape; "replace": the network's weights alone.
 * `resting`: the resting face per model shape (unclipped); `regions`: faceRegion of each shape; `act`, `baseAct`:
 * regionActivity of the emotion shown and of the one the resting face is relative to. Targets no shape sets keep
 * `baseWeights` ("keep") or 0 ("replace").
 */
export function expressionWeights(model, out, map, resting, baseWeights, mode = "keep",
  weights = new Float64Array(baseWeights.length), regions = null, act = null, baseAct = null,
  shapes = new Float64Array(resting.length)) {
  const keep = mode !== "replace";
  const { start } = model.block.expression;
  for (let j = 0; j < shapes.length; j++) {
    let rest = resting[j];
    if (regions && regions[j] >= 0) {
      rest *= 1 - Math.min(1, RESTING_FADE_GAIN * Math.abs(act[regions[j]] - baseAct[regions[j]]));
    }
    shapes[j] = keep ? Math.min(1, Math.max(0, rest + out[start + j])) : out[start + j];
  }
  for (let t = 0; t < weights.length; t++) weights[t] = keep ? Math.min(1, Math.max(0, baseWeights[t])) : 0;
  for (let k = 0; k < map.target.length; k++) weights[map.target[k]] = 0;
  for (let k = 0; k < map.target.length; k++) weights[map.target[k]] += map.gain[k] * shapes[map.source[k]];
  return weights;
}

/**
 * The resting face per model shape: params.json's `emotion.resting_expression` ({model shape: weight}) when given;
 * else (older bundles) the GLB's weights, shared out over each target's shapes, minus the network's expression for
 * the emotion they show.
 */
export function restingWeights(model, map, baseWeights, baseOut, restingByName = null) {
  const { labels, start } = model.block.expression;
  const resting = new Float64Array(labels.length);
  if (restingByName) {
    labels.forEach((name, j) => { resting[j] = restingByName[name] ?? 0; });
    return resting;
  }
  const total = new Float64Array(baseWeights.length);
  for (let k = 0; k < map.target.length; k++) total[map.target[k]] += map.gain[k];
  const done = new Uint8Array(labels.length);
  for (let k = 0; k < map.target.length; k++) {
    const j = map.source[k], t = map.target[k];
    if (done[j] || total[t] <= 0) continue;
    resting[j] = baseWeights[t] / total[t] - baseOut[start + j];
    done[j] = 1;
  }
  return resting;
}

/** Rodrigues: rotation vector (radians) → row-major 3×3 (headcast.geometry.rotation.axis_angle_to_matrix). */
export function axisAngleToMatrix(rx, ry, rz) {
  const theta = Math.hypot(rx, ry, rz);
  const s = theta < 1e-12 ? 1 : theta;
  const kx = rx / s, ky = ry / s, kz = rz / s;
  const sin = Math.sin(theta), c1 = 1 - Math.cos(theta);
  // I + sin K + (1 − cos) K², K = [k]ₓ; K² = k kᵀ − I (for a unit k; zero rotation gives I either way)
  const k2 = theta < 1e-12 ? 0 : 1;
  return Float64Array.of(
    1 + c1 * (kx * kx - k2), c1 * kx * ky - sin * kz, c1 * kx * kz + sin * ky,
    c1 * ky * kx + sin * kz, 1 + c1 * (ky * ky - k2), c1 * ky * kz - sin * kx,
    c1 * kz * kx - sin * ky, c1 * kz * ky + sin * kx, 1 + c1 * (kz * kz - k2),
  );
}

/** Row-major 3×3 product a · b (or a · bᵀ with `transposeB`). */
export function matmul3(a, b, transposeB = false) {
  const m = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let acc = 0;
      for (let k = 0; k < 3; k++) acc += a[r * 3 + k] * (transposeB ? b[c * 3 + k] : b[k * 3 + c]);
      m[r * 3 + c] = acc;
    }
  }
  return m;
}

/** Pose tendency T = exp(global) · exp(neck) of network outputs `out` (apply._tendency). */
export function tendency(model, out) {
  const n = model.block.neck.start, g = model.block.global.start;
  return matmul3(axisAngleToMatrix(out[g], out[g + 1], out[g + 2]), axisAngleToMatrix(out[n], out[n + 1], out[n + 2]));
}

/** Column-major 4×4 of X ↦ R (X − p) + p for a row-major 3×3 `rot` and a pivot `p` (metres). */
export function pivotMatrix(rot, p) {
  const t = [0, 1, 2].map((r) => p[r] - (rot[r * 3] * p[0] + rot[r * 3 + 1] * p[1] + rot[r * 3 + 2] * p[2]));
  return Float64Array.of(
    rot[0], rot[3], rot[6], 0,
    rot[1], rot[4], rot[7], 0,
    rot[2], rot[5], rot[8], 0,
    t[0], t[1], t[2], 1,
  );
}

/**
 * Neck pivot estimated from the neutral head's vertex positions (a GLB's POSITION: identity, expression 0).
 *
 * headcast's neck_pivot uses the model's chin landmark (iBUG point 8): (0, chin_y, chin_z − behind). The GLB does
 * not say which vertex that is, so the chin is taken as the lowest vertex near the mid-plane (|x| < 4 mm) that lies
 * within 3 cm of the face's most forward point (the nose tip) in z; on the ICT model this is within ~1 cm of the
 * landmark (tests/service/test_browser_emotion.py measures it), which moves the head by < 2 mm at the largest
 * tendencies (~0.2 rad).
 */
export function neckPivotFromPositions(positions, behind = 0.07, midPlane = 0.004, depth = 0.03) {
  let zMax = -Infinity;
  for (let i = 0; i < positions.length; i += 3) {
    if (Math.abs(positions[i]) < midPlane && positions[i + 2] > zMax) zMax = positions[i + 2];
  }
  let best = -1;
  for (let i = 0; i < positions.length; i += 3) {
    if (Math.abs(positions[i]) < midPlane && positions[i + 2] >= zMax - depth) {
      if (best < 0 || positions[i + 1] < positions[best + 1]) best = i;
    }
  }
  if (best < 0) throw new Error("no vertex near the mid-plane: cannot place the neck pivot");
  return [0, positions[best + 1], positions[best + 2] - behind];
}

/** Parse the service's emotion option ("happiness=0.8,surprise=0.3", "neutral", null) into 7 intensities. */
export function parseEmotion(text) {
  const values = new Array(EMOTIONS.length).fill(0);
  for (const raw of (text ?? "").split(",")) {
    const item = raw.trim().toLowerCase();
    if (!item || item === "neutral") continue;
    const [name, number] = item.split("=").map((s) => s.trim());
    const i = EMOTIONS.indexOf(name);
    if (i < 0) throw new Error(`unknown emotion '${name}'`);
    values[i] = number === undefined ? 1 : Math.min(1, Math.max(0, Number(number)));
  }
  return values;
}

/**
 * Everything a slider event needs, precomputed: `update(intensities)` returns morph weights (targetNames order)
 * and the head node's column-major matrix. Buffers are reused; copy them if you keep them.
 *
 * @param doc            the emotion MLP JSON document
 * @param targetNames    the mesh's morph target names (GLB mesh.extras.targetNames)
 * @param baseWeights    the GLB's own weights (the expression it shows)
 * @param options.identity   σ-unit identity (params.json), for the identity-conditioned network
 * @param options.baseEmotion 7 intensities the GLB shows (params.json emotion.shown)
 * @param options.resting  {name: weight} resting face (params.json emotion.resting_expression); optional
 * @param options.detectedEmotion 7 intensities the resting face is relative to (params.json emotion.detected)
 * @param options.pivot  the neck pivot, metres (neckPivotFromPositions)
 * @param options.mode   "keep" (the person's resting face + emotion) | "replace" (the emotion alone)
 * @param options.pose   apply the pose tendency (EmotionSettings.apply_pose)
 * @param options.targetSources  {target: {model shape: gain}} (GLB mesh.extras.targetSources); optional
 */
export class EmotionRig {
  constructor(doc, targetNames, baseWeights, options = {}) {
    this.model = prepareModel(doc);
    this.targetNames = Array.from(targetNames);
    this.map = targetMap(this.model, targetNames, options.targetSources ?? null);
    this.base = Float64Array.from(baseWeights);
    this.restingByName = options.resting ?? null;
    this.detectedEmotion = options.detectedEmotion ?? null;
    this.regions = Int8Array.from(this.model.block.expression.labels, faceRegion);
    this.shapes = new Float64Array(this.regions.length);
    this.act = new Float64Array(3);
    this.identity = options.identity ?? null;
    this.pivot = options.pivot ?? [0, 0, 0];
    this.mode = options.mode ?? "keep";
    this.pose = options.pose ?? true;
    this.out = new Float64Array(this.model.size);
    this.weights = new Float64Array(this.base.length);
    this.setBaseEmotion(options.baseEmotion ?? new Array(EMOTIONS.length).fill(0));
  }

  setBaseEmotion(intensities) {
    this.baseEmotion = Array.from(intensities);
    const out = mlpForward(this.model, this.baseEmotion, this.identity);
    this.baseTendency = tendency(this.model, out);
    this.resting = restingWeights(this.model, this.map, this.base, out, this.restingByName);
    // the resting face is relative to the detected emotion (params.json), else to the one the GLB shows
    const detected = this.restingByName && this.detectedEmotion
      ? mlpForward(this.model, this.detectedEmotion, this.identity) : out;
    this.baseAct = regionActivity(this.model, detected, this.regions);
  }

  update(intensities) {
    const out = mlpForward(this.model, intensities, this.identity, this.out);
    regionActivity(this.model, out, this.regions, this.act);
    const weights = expressionWeights(this.model, out, this.map, this.resting, this.base, this.mode, this.weights,
      this.regions, this.act, this.baseAct, this.shapes);
    const rot = this.pose ? matmul3(tendency(this.model, out), this.baseTendency, true) : axisAngleToMatrix(0, 0, 0);
    return { weights, matrix: pivotMatrix(rot, this.pivot), rotation: rot };
  }
}

// The maths of live webcam puppeteering (web/src/puppet.js): MediaPipe Face Landmarker results → the avatar's
// morph weights, Head joint rotation and eye joint angles, and the One Euro smoothing of all of them. No browser or
// MediaPipe API here, so web/test/puppet_check.mjs runs it under node.
//
// Conventions. MediaPipe's blendshape names are ARKit's and, like the avatar's, "Left" is the subject's left
// (headcast/fitting/blendshapes.py checked it on photos), so a score drives the target of the same name. The
// transformation matrix maps MediaPipe's canonical face (+y up, +z out of the face) into the camera frame (+y up,
// +z towards the camera), column-major; the avatar's model frame has the same axes (+z out of the face), so its
// rotation turns the Head joint as is: the user turns to their left, the avatar to its own left (a puppet, not a
// mirror image — the same pairing as the blendshapes). Gaze: the eyeLook* scores move the eye joints (yaw
// GAZE_YAW_DEG × (out − in) towards the eye's own side, pitch GAZE_PITCH_DEG × (down − up)), and the eyeLook* morph
// targets are left to the sliders, so the eyes do not turn twice.

export const GAZE_YAW_DEG = 30; // ARKit's eyeLookOut = 1: about 30° (the eye's horizontal range is ±35–45°)
export const GAZE_PITCH_DEG = 25; // eyeLookUp/Down = 1: about 25°
const GAZE_NAMES = new Set([
  "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
  "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
]);

/**
 * One Euro filter (Casiez, Roussel & Vogel, CHI 2012): a low-pass filter whose cutoff rises with the signal's speed,
 * so a still face does not jitter and a fast one does not lag. `minCutoff` (Hz) sets the smoothing at rest, `beta`
 * how fast the cutoff follows the speed, `dCutoff` (Hz) the smoothing of the speed itself.
 */
export class OneEuro {
  constructor(minCutoff = 1.5, beta = 0.5, dCutoff = 1.0) {
    this.minCutoff = minCutoff;
    this.beta = beta;
    this.dCutoff = dCutoff;
    this.x = null;
    this.dx = 0;
    this.t = null;
  }

  static alpha(cutoff, dt) {
    const tau = 1 / (2 * Math.PI * cutoff);
    return 1 / (1 + tau / dt);
  }

  /** The filtered value of `x` observed at time `t` (seconds). */
  filter(x, t) {
    if (this.x === null || t <= this.t) {
      this.x = x;
      this.t = t;
      return x;
    }
    const dt = t - this.t;
    const dx = (x - this.x) / dt;
    this.dx += OneEuro.alpha(this.dCutoff, dt) * (dx - this.dx);
    const cutoff = this.minCutoff + this.beta * Math.abs(this.dx);
    this.x += OneEuro.alpha(cutoff, dt) * (x - this.x);
    this.t = t;
    return this.x;
  }
}

/** `{name: score}` of a Face Landmarker result's first face; null when no face was found. */
export function blendshapeScores(result) {
  const face = result?.faceBlendshapes?.[0];
  if (!face) return null;
  const out = {};
  for (const c of face.categories) if (c.categoryName !== "_neutral") out[c.categoryName] = c.score;
  return out;
}

/** Morph-target weights from scores: every ARKit name the avatar has, except the gaze ones (the eye joints'). */
export function morphWeights(scores, targetNames) {
  const out = {};
  for (const name of targetNames) {
    if (name in scores && !GAZE_NAMES.has(name)) out[name] = Math.min(1, Math.max(0, scores[name]));
  }
  return out;
}

/**
 * Eye joint rotations from the gaze scores: `{LeftEye: [pitch, yaw], RightEye: [pitch, yaw]}` in radians, about the
 * model's +x (pitch, positive = looking down) and +y (yaw, positive = towards the model's +x, the head's left).
 * "In" is towards the nose and "Out" away from it: for the left eye (+x side) out is +x, for the right eye −x.
 */
export function gazeAngles(scores) {
  const deg = Math.PI / 180;
  const eye = (side, outward) => {
    const yaw = ((scores[`eyeLookOut${side}`] ?? 0) - (scores[`eyeLookIn${side}`] ?? 0)) * outward * GAZE_YAW_DEG;
    const pitch = ((scores[`eyeLookDown${side}`] ?? 0) - (scores[`eyeLookUp${side}`] ?? 0)) * GAZE_PITCH_DEG;
    return [pitch * deg, yaw * deg];
  };
  return { LeftEye: eye("Left", 1), RightEye: eye("Right", -1) };
}

/**
 * The head's rotation as a unit quaternion [x, y, z, w] from a column-major 4×4 transformation matrix (its upper
 * 3×3, scale divided out); null without one.
 */
export function headQuaternion(matrix) {
  const m = matrix?.data;
  if (!m || m.length !== 16) return null;
  const col = (c) => {
    const v = [m[4 * c], m[4 * c + 1], m[4 * c + 2]];
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  };
  const [c0, c1, c2] = [col(0), col(1), col(2)];
  const r = (i, j) => [c0, c1, c2][j][i]; // r(row, column)
  const trace = r(0, 0) + r(1, 1) + r(2, 2);
  let q;
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    q = [(r(2, 1) - r(1, 2)) * s, (r(0, 2) - r(2, 0)) * s, (r(1, 0) - r(0, 1)) * s, 0.25 / s];
  } else if (r(0, 0) > r(1, 1) && r(0, 0) > r(2, 2)) {
    const s = 2 * Math.sqrt(1 + r(0, 0) - r(1, 1) - r(2, 2));
    q = [0.25 * s, (r(0, 1) + r(1, 0)) / s, (r(0, 2) + r(2, 0)) / s, (r(2, 1) - r(1, 2)) / s];
  } else if (r(1, 1) > r(2, 2)) {
    const s = 2 * Math.sqrt(1 + r(1, 1) - r(0, 0) - r(2, 2));
    q = [(r(0, 1) + r(1, 0)) / s, 0.25 * s, (r(1, 2) + r(2, 1)) / s, (r(0, 2) - r(2, 0)) / s];
  } else {
    const s = 2 * Math.sqrt(1 + r(2, 2) - r(0, 0) - r(1, 1));
    q = [(r(0, 2) + r(2, 0)) / s, (r(1, 2) + r(2, 1)) / s, 0.25 * s, (r(1, 0) - r(0, 1)) / s];
  }
  const n = Math.hypot(...q);
  return q.map((x) => x / n);
}

/** Filters every channel of a tracked pose by name (weights, the quaternion's components, the gaze angles). */
export class PoseSmoother {
  constructor(options = {}) {
    this.options = options;
    this.filters = new Map();
  }

  value(key, x, t) {
    let f = this.filters.get(key);
    if (!f) {
      f = new OneEuro(this.options.minCutoff, this.options.beta, this.options.dCutoff);
      this.filters.set(key, f);
    }
    return f.filter(x, t);
  }

  /** The smoothed copy of `pose` ({weights, head, eyes}) at time `t` seconds. */
  smooth(pose, t) {
    const weights = {};
    for (const [name, w] of Object.entries(pose.weights)) weights[name] = this.value(`w:${name}`, w, t);
    let head = null;
    if (pose.head) {
      const last = this.lastHead;
      // q and −q are the same turn: keep the sign continuous before filtering the components
      const q = last && last.reduce((s, x, i) => s + x * pose.head[i], 0) < 0 ? pose.head.map((x) => -x) : pose.head;
      const f = q.map((x, i) => this.value(`q:${i}`, x, t));
      const n = Math.hypot(...f) || 1;
      head = f.map((x) => x / n);
      this.lastHead = head;
    }
    const eyes = {};
    for (const [joint, [pitch, yaw]] of Object.entries(pose.eyes)) {
      eyes[joint] = [this.value(`${joint}:p`, pitch, t), this.value(`${joint}:y`, yaw, t)];
    }
    return { weights, head, eyes };
  }
}

/** The tracked pose of one Face Landmarker result: morph weights, head quaternion, eye angles; null without a face. */
export function trackedPose(result, targetNames) {
  const scores = blendshapeScores(result);
  if (!scores) return null;
  return {
    weights: morphWeights(scores, targetNames),
    head: headQuaternion(result.facialTransformationMatrixes?.[0]),
    eyes: gazeAngles(scores),
  };
}

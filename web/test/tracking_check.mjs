// node tracking_check.mjs: web/src/tracking.js (the webcam puppet's maths) on known inputs. Prints
// {"checks": N, "failures": [...]} as JSON (tests/service/test_tracking_maths.py runs it).
import { OneEuro, PoseSmoother, gazeAngles, headQuaternion, morphWeights, trackedPose } from "../src/tracking.js";

const failures = [];
let checks = 0;
function check(name, ok, detail = "") {
  checks += 1;
  if (!ok) failures.push(`${name} ${detail}`);
}
const close = (a, b, tol = 1e-9) => Math.abs(a - b) <= tol;

// One Euro: a constant passes unchanged; a noisy constant is smoothed; a step is followed within ~0.5 s.
{
  const f = new OneEuro();
  let y = 0;
  for (let i = 0; i < 30; i++) y = f.filter(0.7, i / 30);
  check("oneeuro-constant", close(y, 0.7, 1e-12), `${y}`);
  const g = new OneEuro();
  let seed = 7;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
  const outs = [];
  for (let i = 0; i < 300; i++) outs.push(g.filter(0.5 + noise(), i / 30));
  const tail = outs.slice(100);
  const sd = Math.sqrt(tail.reduce((s, x) => s + (x - 0.5) ** 2, 0) / tail.length);
  check("oneeuro-smooths", sd < 0.03, `sd ${sd}`);  // the raw noise's sd is ~0.058
  const h = new OneEuro();
  let z = 0;
  for (let i = 0; i < 30; i++) z = h.filter(0, i / 30);
  for (let i = 30; i < 45; i++) z = h.filter(1, i / 30);
  check("oneeuro-follows-a-step", z > 0.9, `${z}`);
}

// Head quaternion: a rotation of 30° about +y (the face turned to its left), column-major, with a scale of 3.
{
  const a = Math.PI / 6;
  const s = 3;
  const data = [Math.cos(a) * s, 0, -Math.sin(a) * s, 0, 0, s, 0, 0, Math.sin(a) * s, 0, Math.cos(a) * s, 0, 1, 2, 3, 1];
  const q = headQuaternion({ rows: 4, columns: 4, data });
  check("head-quaternion", close(q[0], 0, 1e-9) && close(q[1], Math.sin(a / 2), 1e-9) && close(q[2], 0, 1e-9)
    && close(q[3], Math.cos(a / 2), 1e-9), JSON.stringify(q));
  // 170° about +x: the trace is negative (another branch)
  const b = (170 * Math.PI) / 180;
  const m = [1, 0, 0, 0, 0, Math.cos(b), Math.sin(b), 0, 0, -Math.sin(b), Math.cos(b), 0, 0, 0, 0, 1];
  const r = headQuaternion({ rows: 4, columns: 4, data: m });
  check("head-quaternion-large", close(Math.abs(r[0]), Math.sin(b / 2), 1e-9) && close(Math.abs(r[3]), Math.cos(b / 2), 1e-9),
    JSON.stringify(r));
  check("head-quaternion-none", headQuaternion(undefined) === null);
}

// Gaze: looking to the subject's left = the left eye looks out (+x), the right eye in (+x too).
{
  const g = gazeAngles({ eyeLookOutLeft: 1, eyeLookInRight: 1 });
  check("gaze-left", g.LeftEye[1] > 0.5 && close(g.LeftEye[1], g.RightEye[1], 1e-12), JSON.stringify(g));
  const d = gazeAngles({ eyeLookDownLeft: 0.5, eyeLookDownRight: 0.5 });
  check("gaze-down", d.LeftEye[0] > 0.2 && d.RightEye[0] > 0.2 && d.LeftEye[1] === 0, JSON.stringify(d));
}

// Morph weights: same names, clamped, gaze and unknown names left out.
{
  const w = morphWeights({ jawOpen: 0.4, mouthSmileLeft: 1.2, eyeLookInLeft: 0.9, notATarget: 1 },
    ["jawOpen", "mouthSmileLeft", "eyeLookInLeft", "browInnerUp"]);
  check("morphs", JSON.stringify(w) === JSON.stringify({ jawOpen: 0.4, mouthSmileLeft: 1 }), JSON.stringify(w));
}

// A whole result, and smoothing keeps the quaternion's sign continuous.
{
  const result = {
    faceBlendshapes: [{ categories: [{ categoryName: "_neutral", score: 1 }, { categoryName: "jawOpen", score: 0.3 }] }],
    facialTransformationMatrixes: [{ rows: 4, columns: 4, data: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }],
  };
  const pose = trackedPose(result, ["jawOpen"]);
  check("tracked", pose.weights.jawOpen === 0.3 && close(pose.head[3], 1, 1e-12), JSON.stringify(pose));
  check("no-face", trackedPose({ faceBlendshapes: [] }, ["jawOpen"]) === null);
  const smoother = new PoseSmoother();
  const a = smoother.smooth({ weights: {}, head: [0, 0, 0, 1], eyes: {} }, 0);
  const b = smoother.smooth({ weights: {}, head: [0, 0, 0, -1], eyes: {} }, 1 / 30);
  check("sign-continuity", close(a.head[3], 1), JSON.stringify(a));
  check("sign-continuity-2", close(b.head[3], 1, 1e-9), JSON.stringify(b));
}

console.log(JSON.stringify({ checks, failures }));

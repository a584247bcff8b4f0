// node attributes_check.mjs SEED: web/src/attributes.js (the viewer's whole-array fast path) against three.js's own
// per-vertex path (BufferAttribute / InterleavedBufferAttribute getters, Vector3.applyMatrix4 / applyMatrix3 /
// applyQuaternion, setXYZ) on random data: every float32 result must be bit-identical. Prints
// {"checked": N, "mismatches": [...]} as JSON (tests/service/test_viewer_arrays.py runs it).
import * as THREE from "three";

import { applyMatrix3ToVectors, applyMatrix4ToPoints, applyQuaternionToVectors, floatComponents } from "../src/attributes.js";

let seed = Number(process.argv[2] ?? 1) >>> 0;
function random() { // mulberry32: reproducible without dependencies
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const RANGES = new Map([[Int8Array, [-128, 127]], [Uint8Array, [0, 255]], [Int16Array, [-32768, 32767]],
  [Uint16Array, [0, 65535]], [Float32Array, [-2, 2]]]);
function fill(Type, n) {
  const [lo, hi] = RANGES.get(Type);
  const a = new Type(n);
  for (let i = 0; i < n; i++) a[i] = Type === Float32Array ? lo + (hi - lo) * random() : Math.round(lo + (hi - lo) * random());
  if (Type !== Float32Array && n > 2) { a[0] = lo; a[1] = hi; a[2] = 0; } // the extremes, -1 clamping included
  return a;
}
let checked = 0;
const mismatches = [];
function same(name, a, b) {
  checked += 1;
  const x = new Uint32Array(Float32Array.from(a).buffer), y = new Uint32Array(Float32Array.from(b).buffer);
  if (x.length !== y.length) return mismatches.push(`${name}: length ${x.length} != ${y.length}`);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return mismatches.push(`${name}: element ${i}: ${a[i]} != ${b[i]}`);
}
function viaThree(attr) { // the viewer's generic path
  const get = [attr.getX, attr.getY, attr.getZ, attr.getW].slice(0, attr.itemSize);
  const out = new Float32Array(attr.count * attr.itemSize);
  for (let i = 0; i < attr.count; i++) for (let c = 0; c < attr.itemSize; c++) out[i * attr.itemSize + c] = get[c].call(attr, i);
  return out;
}

for (const Type of RANGES.keys()) {
  for (const normalized of Type === Float32Array ? [false] : [true, false]) {
    for (const itemSize of [2, 3, 4]) {
      const count = 500 + Math.floor(random() * 500);
      const plain = new THREE.BufferAttribute(fill(Type, count * itemSize), itemSize, normalized);
      same(`plain ${Type.name} ${itemSize} ${normalized}`, floatComponents(plain.array, itemSize, count, itemSize, 0, normalized), viaThree(plain));
      const stride = itemSize + 1 + Math.floor(random() * 4), offset = Math.floor(random() * (stride - itemSize + 1));
      const buffer = new THREE.InterleavedBuffer(fill(Type, count * stride), stride);
      const inter = new THREE.InterleavedBufferAttribute(buffer, itemSize, offset, normalized);
      same(`interleaved ${Type.name} ${itemSize} ${normalized} stride ${stride} offset ${offset}`,
        floatComponents(buffer.array, itemSize, count, stride, offset, normalized), viaThree(inter));
    }
  }
}
for (let k = 0; k < 20; k++) {
  const n = 3 * (100 + Math.floor(random() * 1000));
  const turn = new THREE.Quaternion(random() - 0.5, random() - 0.5, random() - 0.5, random() - 0.5).normalize();
  const matrix = new THREE.Matrix4().compose(new THREE.Vector3(random(), random() - 0.5, random() * 3), turn,
    new THREE.Vector3().setScalar(0.01 + random()));
  const data = fill(Float32Array, n);
  const points = new THREE.BufferAttribute(data.slice(), 3).applyMatrix4(matrix);
  same(`applyMatrix4 ${k}`, applyMatrix4ToPoints(data.slice(), matrix.elements), points.array);
  const linear = new THREE.Matrix3().setFromMatrix4(matrix);
  same(`applyMatrix3 ${k}`, applyMatrix3ToVectors(data.slice(), linear.elements),
    new THREE.BufferAttribute(data.slice(), 3).applyMatrix3(linear).array);
  const turned = new THREE.BufferAttribute(data.slice(), 3), v = new THREE.Vector3();
  for (let i = 0; i < turned.count; i++) turned.setXYZ(i, ...v.fromBufferAttribute(turned, i).applyQuaternion(turn));
  same(`applyQuaternion ${k}`, applyQuaternionToVectors(data.slice(), turn), turned.array);
}
same("unknown array type gives null", [floatComponents(new Float64Array(3), 3, 1, 3, 0, true) === null ? 1 : 0], [1]);
process.stdout.write(JSON.stringify({ checked, mismatches }));

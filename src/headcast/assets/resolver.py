"""Find a model file, verify its sha256, and fail with one clear message when it is missing or corrupt.

Which folders are searched:

1. ``AssetSettings.assets_dir`` when set (the CLI's ``--assets``): **only** that folder. A folder that does not
   exist, a file that is not in it, or a file with a wrong checksum is an ``AssetError`` — never a silent fall back
   to another folder, so ``--assets`` always means "exactly these files".
2. else the environment variable ``HEADCAST_ASSETS`` when set: **only** that folder, with the same rules (an
   environment variable is as explicit a choice as the option, and a typo in it must not go unnoticed).
3. else, first folder that holds the file wins:

   a. ``shared/assets`` in the current directory or any parent of it (finds ``../shared/assets`` when run inside a
      checkout);
   b. ``../shared/assets`` beside the checkout headcast was installed from (editable installs record their source
      folder in the package metadata, ``direct_url.json``), so it is found from any working directory;
   c. the user cache folder ``$XDG_CACHE_HOME/headcast/assets`` (default ``~/.cache/headcast/assets``), where
      ``headcast assets fetch`` puts the files by default.

In the searched case a file found with a wrong checksum is an error too (the search does not go on past it).
"""

import hashlib
import importlib.metadata
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from headcast.assets.registry import ASSETS, AssetSpec
from headcast.errors import AssetError

FETCH_HINT = "headcast assets fetch --out DIR"


@dataclass(frozen=True)
class AssetSettings:
    """Where model files are looked for.

    Attributes:
        assets_dir: an explicit folder; when given, the only one searched.
        verify: check sha256 checksums (on by default; a verified file is not hashed again in one process).
    """

    assets_dir: Path | None = None
    verify: bool = True


@dataclass(frozen=True)
class SearchPlan:
    """The folders searched for model files and whether they were chosen explicitly.

    Attributes:
        dirs: the folders, in search order.
        explicit: where the single folder came from (``"--assets"`` or ``"HEADCAST_ASSETS"``), None when searched.
    """

    dirs: tuple[Path, ...]
    explicit: Literal["--assets", "HEADCAST_ASSETS"] | None


_VERIFIED: dict[tuple[str, int, int], bool] = {}


def search_plan(settings: AssetSettings, cwd: Path | None = None, env: dict[str, str] | None = None) -> SearchPlan:
    """The folders searched for model files (see the module docstring)."""
    env = dict(os.environ) if env is None else env
    if settings.assets_dir is not None:
        return SearchPlan((Path(settings.assets_dir),), "--assets")
    if env.get("HEADCAST_ASSETS"):
        return SearchPlan((Path(env["HEADCAST_ASSETS"]),), "HEADCAST_ASSETS")
    cwd = Path.cwd() if cwd is None else cwd
    dirs = [parent / "shared" / "assets" for parent in (cwd, *cwd.parents)]
    checkout = editable_checkout()
    if checkout is not None:
        dirs.append(checkout.parent / "shared" / "assets")
    dirs.append(user_cache_dir(env))
    return SearchPlan(tuple(dict.fromkeys(dirs)), None)


def candidate_dirs(settings: AssetSettings, cwd: Path | None = None, env: dict[str, str] | None = None) -> list[Path]:
    """Folders searched for model files, in order: the explicit one alone, or the searched list."""
    return list(search_plan(settings, cwd, env).dirs)


def user_cache_dir(env: dict[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/headcast/assets`` (default ``~/.cache/headcast/assets``)."""
    env = dict(os.environ) if env is None else env
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "headcast" / "assets"


def default_fetch_dir(env: dict[str, str] | None = None) -> Path:
    """Where ``headcast assets fetch`` writes without ``--out``: ``HEADCAST_ASSETS`` when set, else the cache."""
    env = dict(os.environ) if env is None else env
    return Path(env["HEADCAST_ASSETS"]) if env.get("HEADCAST_ASSETS") else user_cache_dir(env)


def editable_checkout() -> Path | None:
    """The source folder of an editable install of headcast (from its ``direct_url.json``), else None."""
    try:
        text = importlib.metadata.distribution("headcast").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    info = json.loads(text)
    url = str(info.get("url", ""))
    if not info.get("dir_info", {}).get("editable") or not url.startswith("file://"):
        return None
    return Path(url.removeprefix("file://"))


_SHA_CHECKED: set[tuple[str, int, int, str]] = set()


def sha256_mismatch(path: Path, expected: str) -> str | None:
    """None when ``path``'s sha256 is ``expected``, else the actual digest.

    A file that matched is not hashed again in this process while its size and modification time stay the same
    (the weight files are up to 94 MB).
    """
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, expected)
    if memo in _SHA_CHECKED:
        return None
    actual = sha256_file(path)
    if actual != expected:
        return actual
    _SHA_CHECKED.add(memo)
    return None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def npz_content_sha256(path: Path) -> str:
    """Digest of the arrays of an ``.npz``, independent of how its members were compressed.

    For each member in stored order: its name, dtype string (``"<f4"``), shape, then its C-order bytes; all fed
    to one sha256. Object arrays are refused (``allow_pickle=False``).

    Raises:
        ValueError: not a readable ``.npz`` of plain arrays.
    """
    import numpy as np  # only needed on this slow path

    digest = hashlib.sha256()
    with np.load(path, allow_pickle=False) as data:
        for name in data.files:
            array = np.ascontiguousarray(data[name])
            digest.update(f"{name}\0{array.dtype.str}\0{array.shape}\0".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def file_matches(path: Path, spec: AssetSpec) -> bool:
    """Whether ``path`` is ``spec``'s file: same sha256, or (for a built ``.npz``) the same arrays."""
    if sha256_file(path) == spec.sha256:
        return True
    if spec.content_sha256 is None:
        return False
    try:
        return npz_content_sha256(path) == spec.content_sha256
    except (OSError, ValueError):
        return False


def _get_it(spec: AssetSpec) -> str:
    return f"Get it with `{FETCH_HINT}` (downloads and builds every model file), or from: {spec.source}."


def _missing_message(spec: AssetSpec, plan: SearchPlan) -> str:
    if plan.explicit is not None:
        folder = plan.dirs[0]
        return (
            f"Model file '{spec.relpath}' ({spec.key}, licence {spec.licence}) is not in the asset folder {folder} "
            f"(given by {plan.explicit}; no other folder is searched when one is given).\n"
            f"{_get_it(spec)}\nPut it at {folder / spec.relpath}."
        )
    where = "\n".join(f"  - {d}" for d in plan.dirs)
    return (
        f"Model file '{spec.relpath}' ({spec.key}, licence {spec.licence}) was not found.\n"
        f"Looked in:\n{where}\n"
        f"{_get_it(spec)}\n"
        f"Put it at <assets>/{spec.relpath} and point headcast at <assets> with --assets DIR or HEADCAST_ASSETS=DIR."
    )


def check_assets_dir(settings: AssetSettings, env: dict[str, str] | None = None) -> None:
    """Fail early when an explicitly chosen asset folder (``--assets`` / ``HEADCAST_ASSETS``) does not exist.

    Cheap (one ``stat``); callers run it before loading anything heavy.

    Raises:
        AssetError: the explicit folder is missing or not a folder.
    """
    _check_folder(search_plan(settings, env=env), None)


def _check_folder(plan: SearchPlan, spec: AssetSpec | None) -> None:
    if plan.explicit is None or plan.dirs[0].is_dir():
        return
    folder = plan.dirs[0]
    what = "is not a folder" if folder.exists() else "does not exist"
    wanted = "" if spec is None else f", so model file '{spec.relpath}' ({spec.key}) cannot be loaded"
    raise AssetError(
        f"The asset folder {folder} (given by {plan.explicit}) {what}{wanted}; no other folder is searched when "
        f"one is given.\nCreate it with `headcast assets fetch --out {folder}`, or give the folder that holds "
        f"ict_facekit_mit/, mediapipe_face_landmarker/ and mediapipe_face_geometry_apache2/."
        + ("" if spec is None else f"\nSource of this file: {spec.source}.")
    )


def resolve_asset(key: str, settings: AssetSettings | None = None) -> Path:
    """Return the path of a verified model file.

    Args:
        key: an ``ASSETS`` key, e.g. ``"ict_model"``.
        settings: where to look; defaults to ``AssetSettings()``.

    Raises:
        AssetError: the explicit folder does not exist, the file is in none of the folders, or its sha256 does
            not match.
    """
    settings = AssetSettings() if settings is None else settings
    if key not in ASSETS:
        raise AssetError(f"Unknown model file key '{key}'. Known: {', '.join(sorted(ASSETS))}.")
    spec = ASSETS[key]
    plan = search_plan(settings)
    _check_folder(plan, spec)
    for folder in plan.dirs:
        path = folder / spec.relpath
        if path.is_file():
            if settings.verify:
                _verify(path, spec)
            return path
    raise AssetError(_missing_message(spec, plan))


AssetState = Literal["ok", "missing", "checksum mismatch"]


@dataclass(frozen=True)
class AssetStatus:
    """One model file's state in the folders searched (``headcast assets verify``).

    Attributes:
        spec: the file.
        state: ``"ok"``, ``"missing"`` or ``"checksum mismatch"``.
        folder: the asset folder it was found in (None when missing).
    """

    spec: AssetSpec
    state: AssetState
    folder: Path | None


def asset_status(spec: AssetSpec, settings: AssetSettings | None = None) -> AssetStatus:
    """Where ``spec``'s file is and whether it matches (hashes the file; never raises for a bad file)."""
    plan = search_plan(AssetSettings() if settings is None else settings)
    for folder in plan.dirs:
        path = folder / spec.relpath
        if path.is_file():
            return AssetStatus(spec, "ok" if file_matches(path, spec) else "checksum mismatch", folder)
    return AssetStatus(spec, "missing", None)


def _verify(path: Path, spec: AssetSpec) -> None:
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if _VERIFIED.get(memo):
        return
    if not file_matches(path, spec):
        raise AssetError(
            f"Model file '{path}' ({spec.key}) is corrupt or a different version: sha256 {sha256_file(path)}, "
            f"expected {spec.sha256}.\n{_get_it(spec)}"
        )
    _VERIFIED[memo] = True

"""Find a model file, verify its sha256, and fail with one clear message when it is missing or corrupt.

Search order (first folder that holds the file wins):

1. ``AssetSettings.assets_dir`` when set (the CLI's ``--assets``);
2. the environment variable ``HEADCAST_ASSETS``;
3. ``shared/assets`` in the current directory or any parent of it (finds ``../shared/assets`` when run inside a
   checkout);
4. ``../shared/assets`` beside the checkout headcast was installed from (editable installs record their source
   folder in the package metadata, ``direct_url.json``), so it is found from any working directory;
5. the user cache folder ``$XDG_CACHE_HOME/headcast/assets`` (default ``~/.cache/headcast/assets``).
"""

import hashlib
import importlib.metadata
import json
import os
from dataclasses import dataclass
from pathlib import Path

from headcast.assets.registry import ASSETS, AssetSpec
from headcast.errors import AssetError


@dataclass(frozen=True)
class AssetSettings:
    """Where model files are looked for.

    Attributes:
        assets_dir: an explicit folder; searched first when given.
        verify: check sha256 checksums (on by default; a verified file is not hashed again in one process).
    """

    assets_dir: Path | None = None
    verify: bool = True


_VERIFIED: dict[tuple[str, int, int], bool] = {}


def candidate_dirs(settings: AssetSettings, cwd: Path | None = None, env: dict[str, str] | None = None) -> list[Path]:
    """Folders searched for model files, in order (see the module docstring)."""
    env = dict(os.environ) if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    dirs: list[Path] = []
    if settings.assets_dir is not None:
        dirs.append(Path(settings.assets_dir))
    if env.get("HEADCAST_ASSETS"):
        dirs.append(Path(env["HEADCAST_ASSETS"]))
    for parent in (cwd, *cwd.parents):
        dirs.append(parent / "shared" / "assets")
    checkout = editable_checkout()
    if checkout is not None:
        dirs.append(checkout.parent / "shared" / "assets")
    cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    dirs.append(cache / "headcast" / "assets")
    seen: set[Path] = set()
    unique = []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            unique.append(d)
    return unique


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


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _missing_message(spec: AssetSpec, searched: list[Path]) -> str:
    where = "\n".join(f"  - {d}" for d in searched)
    return (
        f"Model file '{spec.relpath}' ({spec.key}, licence {spec.licence}) was not found.\n"
        f"Looked in:\n{where}\n"
        f"Get it from: {spec.source}.\n"
        f"Put it at <assets>/{spec.relpath} and point headcast at <assets> with --assets DIR or HEADCAST_ASSETS=DIR."
    )


def resolve_asset(key: str, settings: AssetSettings | None = None) -> Path:
    """Return the path of a verified model file.

    Args:
        key: an ``ASSETS`` key, e.g. ``"ict_model"``.
        settings: where to look; defaults to ``AssetSettings()``.

    Raises:
        AssetError: the file is in none of the folders, or its sha256 does not match.
    """
    settings = AssetSettings() if settings is None else settings
    if key not in ASSETS:
        raise AssetError(f"Unknown model file key '{key}'. Known: {', '.join(sorted(ASSETS))}.")
    spec = ASSETS[key]
    searched = candidate_dirs(settings)
    for folder in searched:
        path = folder / spec.relpath
        if path.is_file():
            if settings.verify:
                _verify(path, spec)
            return path
    raise AssetError(_missing_message(spec, searched))


def _verify(path: Path, spec: AssetSpec) -> None:
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if _VERIFIED.get(memo):
        return
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise AssetError(
            f"Model file '{path}' ({spec.key}) is corrupt or a different version: sha256 {actual}, "
            f"expected {spec.sha256}.\nGet the right file from: {spec.source}."
        )
    _VERIFIED[memo] = True

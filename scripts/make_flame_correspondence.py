"""Regenerate ``src/headcast/fitting/data/ict_flame_correspondence.npz`` (FLAME skin vertices → ICT FaceKit surface).

Usage (from the repository root)::

    python scripts/make_flame_correspondence.py [--out PATH] [--assets DIR] [--flame-cc-by DIR]

Reads ICT FaceKit from the asset folder (verified) and FLAME's CC-BY template and 68-point embedding from
``flame_tf_flame_cc_by/`` (``--flame-cc-by``, else that folder in the asset folders; both files are checked against
the sha256 the table was made from), builds the table (method: :mod:`headcast.fitting.flame_correspondence`) and
writes it byte-reproducibly; tests/headmodel/test_flame_correspondence.py checks the packaged file against a run.
"""

import argparse
from pathlib import Path

import numpy as np

from headcast.assets import AssetSettings
from headcast.assets.resolver import candidate_dirs, sha256_file
from headcast.errors import AssetError
from headcast.fitting.flame_correspondence import (
    CC_BY_SHA256,
    FLAME_CORRESPONDENCE_FILE,
    build_flame_correspondence,
    read_flame_landmarks68,
    save_flame_correspondence,
)
from headcast.headmodel.flame import load_flame_template_ply
from headcast.headmodel.ict import load_ict_facekit

DEFAULT_OUT = Path("src/headcast/fitting/data") / FLAME_CORRESPONDENCE_FILE
CC_BY_FOLDER = "flame_tf_flame_cc_by"


def find_cc_by_folder(explicit: Path | None, assets: AssetSettings) -> Path:
    """The folder with FLAME's CC-BY files, its two files checked against :data:`CC_BY_SHA256`."""
    folders = [explicit] if explicit is not None else [d / CC_BY_FOLDER for d in candidate_dirs(assets)]
    for folder in folders:
        if all((folder / name).is_file() for name in CC_BY_SHA256):
            for name, expected in CC_BY_SHA256.items():
                if sha256_file(folder / name) != expected:
                    raise AssetError(f"{folder / name} is not the file the table is made from (sha256 differs).")
            return folder
    raise AssetError(f"{CC_BY_FOLDER}/ with {', '.join(CC_BY_SHA256)} not found in: {', '.join(map(str, folders))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .npz (default {DEFAULT_OUT})")
    parser.add_argument("--assets", type=Path, default=None, help="asset folder (default: the usual search)")
    parser.add_argument("--flame-cc-by", type=Path, default=None, help=f"the {CC_BY_FOLDER} folder")
    args = parser.parse_args(argv)
    assets = AssetSettings(assets_dir=args.assets)
    folder = find_cc_by_folder(args.flame_cc_by, assets)
    model = load_ict_facekit(assets)
    template = load_flame_template_ply(folder / "template.ply")
    corr = build_flame_correspondence(model, template, read_flame_landmarks68(folder / "flame_static_embedding_68.npz"))
    save_flame_correspondence(corr, args.out)
    mm = corr.distances_m * 1000.0
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    print(f"alignment FLAME→ICT: scale {corr.alignment_scale:.4f}, "
          f"rotation {np.degrees(np.arccos(np.clip((np.trace(corr.alignment_rotation) - 1) / 2, -1, 1))):.2f}°, "
          f"translation {np.round(corr.alignment_translation * 1000, 2).tolist()} mm")
    print(f"{corr.num_points} of {template.vertices.shape[0]} FLAME vertices corresponded; distance mm: median "
          f"{np.median(mm):.2f}, p95 {np.percentile(mm, 95):.2f}, max {mm.max():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

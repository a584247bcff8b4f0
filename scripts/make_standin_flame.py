"""Write a development stand-in for FLAME's model file: ICT FaceKit's shape spaces on FLAME's CC-BY template.

THE FILE IS NOT FLAME. FLAME's model file cannot be redistributed, so headcast's FLAME support is developed against
stand-ins with FLAME's real pickle layout. This one is realistic enough for a photo fit: its identity components are
ICT FaceKit's 100 identity modes and its expression components the principal components of ICT's expression
shapes, moved onto FLAME's topology through headcast's ICT↔FLAME table; the template is FLAME's CC-BY template; the
kintree, regressor and skinning weights are made up (method: ``build_standin_flame`` in
``tests/headmodel/standin.py``). Nothing in it comes from a FLAME model file, and results obtained with it say
nothing about FLAME's own shape space.

Sources and licences of what the file is derived from:

- ICT FaceKit (USC Institute for Creative Technologies, github.com/ICT-VGL/ICT-FaceKit), MIT licence;
- FLAME's CC-BY template (MPI-IS, ``data/template.ply`` of github.com/TimoBolkart/TF_FLAME, CC-BY-4.0; Li, Bolkart,
  Black, Li, Romero, "Learning a model of facial shape and expression from 4D scans", ACM TOG 2017).

The file names its origin in its ``standin_note`` entry (FLAME readers ignore extra keys). Generated model data
stays out of the repository: the script refuses an output path inside this checkout.

Usage (from the repository root; a few seconds, ~53 MB)::

    python scripts/make_standin_flame.py OUT.pkl [--layout 2023|2020] [--ict-mean-template] [--assets DIR]
                                             [--flame-cc-by DIR]

``--layout 2023`` (default) writes FLAME 2023's plain-numpy pickle, ``--layout 2020`` FLAME 2020's Python 2 /
chumpy one; ``headcast make --head-model flame --flame-model OUT.pkl`` reads either. ``--ict-mean-template`` moves
the template onto ICT's mean head (then the file is ICT's shape space on FLAME's topology and a landmark fit with it
is as good as ICT's: median NME 0.0128 vs ICT's 0.0121 on the fixture portraits; with the CC-BY template, which no
ICT mode can reach, 0.029).
"""

import argparse
import sys
import time
import types
from pathlib import Path
from typing import Literal, get_args

from headcast.assets import AssetSettings
from headcast.fitting.flame_correspondence import load_flame_correspondence
from headcast.headmodel.flame import load_flame_template_ply
from headcast.headmodel.ict import load_ict_facekit
from make_flame_correspondence import CC_BY_FOLDER, find_cc_by_folder

Layout = Literal["2023", "2020"]
ROOT = Path(__file__).resolve().parents[1]
STANDIN_DIR = ROOT / "tests" / "headmodel"  # standin.py: the builder and the writers the FLAME tests use


def _standin_module() -> types.ModuleType:
    """``tests/headmodel/standin.py`` (a test helper, not part of the package)."""
    if str(STANDIN_DIR) not in sys.path:
        sys.path.insert(0, str(STANDIN_DIR))
    import standin

    return standin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the .pkl to write (outside this repository)")
    parser.add_argument("--layout", choices=get_args(Layout), default="2023", help="FLAME file layout (default 2023)")
    parser.add_argument(
        "--assets", type=Path, default=None, help="asset folder with ICT FaceKit (default: the usual search)"
    )
    parser.add_argument("--flame-cc-by", type=Path, default=None, help=f"the {CC_BY_FOLDER} folder")
    parser.add_argument("--ict-mean-template", action="store_true",
                        help="move the template onto ICT's mean head (the stand-in is then ICT on FLAME's topology)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out.is_relative_to(ROOT):
        parser.error(f"{args.out} is inside the repository ({ROOT}); write generated model data elsewhere")

    start = time.perf_counter()
    standin = _standin_module()
    assets = AssetSettings(assets_dir=args.assets)
    folder = find_cc_by_folder(args.flame_cc_by, assets)
    ict_model = load_ict_facekit(assets)
    template = load_flame_template_ply(folder / "template.ply")
    flame = standin.build_standin_flame(template, ict_model, load_flame_correspondence(), args.ict_mean_template)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.layout == "2020":
        standin.write_flame_2020(out, flame, edit=lambda d, _chumpy: d.update(standin_note=standin.STANDIN_NOTE))
    else:
        standin.write_flame_2023(out, flame, edit=lambda d: d.update(standin_note=standin.STANDIN_NOTE))
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, FLAME {args.layout} layout) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    print(standin.STANDIN_NOTE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

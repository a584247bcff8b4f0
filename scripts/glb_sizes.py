"""Measure ``avatar.glb`` sizes per quality over a folder of portraits.

Issue [9] asks for a ``web`` GLB median of at most 5 MB with hair and 2.5 MB without.

Each photo is made once (``Pipeline.make``, default options: the photo's hair and expression); its GLB is then
written at ``full`` and ``web`` quality, with the hair and without it (the same avatar, ``hair=None``), and the web
GLB's compression time is noted. Prints a table and the medians (asserts nothing).

Usage:
    python scripts/glb_sizes.py [PORTRAITS_DIR] [--limit N] [--json OUT.json]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from headcast.cli.main import find_photos
from headcast.export.glb import write_glb
from headcast.export.settings import ExportSettings
from headcast.options import Options
from headcast.pipeline import Pipeline, PipelineSettings

MB = 1e6


def measure(pipeline: Pipeline, photo: Path, work: Path) -> dict[str, float]:
    """The four GLB sizes (MB) of one photo's avatar and the web GLB's write time (s, with hair)."""
    avatar = pipeline.make(photo, Options())
    bald = replace(avatar, hair=None)
    row: dict[str, float] = {}
    for quality in ("full", "web"):
        settings = ExportSettings(quality=quality)
        for label, subject in (("hair", avatar), ("bald", bald)):
            start = time.perf_counter()
            path = write_glb(work / f"{quality}_{label}.glb", subject, settings)
            row[f"{quality}_{label}_s"] = time.perf_counter() - start
            row[f"{quality}_{label}_mb"] = path.stat().st_size / MB
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", nargs="?", type=Path, default=Path("../shared/fixtures/portraits"))
    parser.add_argument("--limit", type=int, default=None, help="measure at most N photos")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    photos = find_photos(args.photos)[: args.limit]
    pipeline = Pipeline.load(PipelineSettings())
    rows: dict[str, dict[str, float]] = {}
    print(f"{'photo':34s} {'full+hair':>10s} {'full':>8s} {'web+hair':>9s} {'web':>8s} {'web write':>10s}  (MB, s)")
    with tempfile.TemporaryDirectory() as tmp:
        for photo in photos:
            try:
                row = measure(pipeline, photo, Path(tmp))
            except Exception as err:  # a fixture without a usable face: reported, not measured
                print(f"{photo.name:34s} failed: {err}", file=sys.stderr)
                continue
            rows[photo.name] = row
            print(f"{photo.name:34s} {row['full_hair_mb']:10.2f} {row['full_bald_mb']:8.2f} "
                  f"{row['web_hair_mb']:9.2f} {row['web_bald_mb']:8.2f} {row['web_hair_s']:10.2f}")
    pipeline.close()
    if not rows:
        return 1
    medians = {key: statistics.median(r[key] for r in rows.values()) for key in next(iter(rows.values()))}
    print(f"{'median of ' + str(len(rows)):34s} {medians['full_hair_mb']:10.2f} {medians['full_bald_mb']:8.2f} "
          f"{medians['web_hair_mb']:9.2f} {medians['web_bald_mb']:8.2f} {medians['web_hair_s']:10.2f}")
    print(f"max web+hair {max(r['web_hair_mb'] for r in rows.values()):.2f} MB, "
          f"max web {max(r['web_bald_mb'] for r in rows.values()):.2f} MB")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "medians": medians}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

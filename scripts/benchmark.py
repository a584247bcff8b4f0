"""Benchmark the face-avatar pipeline: per-stage wall time and peak memory (prints figures, asserts nothing).

Usage:
    python scripts/benchmark.py [PHOTOS_DIR] [--repeat N] [--threads N] [--json OUT.json]

Loads the pipeline once (reported separately as start-up), then makes and writes one avatar per photo.
"Total" is one photo from file to finished bundle (detect + fit + texture + render + export), excluding start-up;
"total_cpu" is the CPU time this process used for it (all threads) — steadier than wall time on a shared machine.
Peak RSS is the process's high-water mark (``resource.getrusage``), start-up included.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from headcast.options import Options
from headcast.pipeline import Pipeline, PipelineSettings

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", nargs="?", type=Path, default=Path("../shared/fixtures/portraits"))
    parser.add_argument("--repeat", type=int, default=1, help="runs per photo (median taken)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--hair", default="none", help="hair stage: none (the face avatar alone, default), auto, or a style name"
    )
    args = parser.parse_args()

    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    t0 = time.perf_counter()
    base = PipelineSettings()
    pipeline = Pipeline.load(base)
    options = Options(hair=args.hair)
    startup = time.perf_counter() - t0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for photo in photos:
            for _ in range(args.repeat):
                start = time.perf_counter()
                cpu_start = time.process_time()
                avatar = pipeline.make(photo, options)
                t_write = time.perf_counter()
                pipeline.write(avatar, Path(tmp) / photo.stem)
                end = time.perf_counter()
                stages = dict(avatar.timings)
                stages["render+export"] = end - t_write
                stages["total"] = end - start
                stages["total_cpu"] = time.process_time() - cpu_start
                rows.append((photo.name, stages))
    pipeline.close()

    stage_names = list(rows[0][1])
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; hair: {args.hair}")
    print(f"start-up (load model files, detector, GL context): {startup:.2f} s")
    print(f"{'photo':32s}" + "".join(f"{s:>14s}" for s in stage_names))
    for name, stages in rows:
        print(f"{name:32s}" + "".join(f"{stages.get(s, float('nan')):14.3f}" for s in stage_names))
    medians = {s: statistics.median(r[1][s] for r in rows) for s in stage_names}
    print(f"{'median':32s}" + "".join(f"{medians[s]:14.3f}" for s in stage_names))
    print(f"median total per portrait: {medians['total']:.2f} s (target ≤ 2 s)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (target ≤ 1536 MB)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"startup_s": startup, "median_s": medians, "peak_rss_mb": peak_rss_mb(), "rows": rows,
                 "cores": os.cpu_count()},
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

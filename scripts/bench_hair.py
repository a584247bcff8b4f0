"""Benchmark the hair stage: library style try-on, reconstruction from a photo, the bundle's hair files.

Prints figures (asserts nothing). Wall time and this process's CPU time (``time.process_time``, all threads) are
both reported: on a shared machine wall time is noisy, CPU time steadier. BLAS is limited to one thread as in the
pipeline (``PipelineSettings.blas_threads``); torch (BiSeNet) keeps its default thread count.

* **style**: every library style (authored, real grooms, MakeHuman shells) applied with ``hair.stage.style_strands``
  to a head prepared once from a fixture portrait's fit (``hair.head.prepare_head``, timed separately); the first
  application of a groom or shell also reads its asset file (process-wide cache), so each style is applied
  ``--repeat`` + 1 times and the first run is dropped. Per style: the median over the repeats; then the median, min
  and max over styles.
* **try-on**: ``hair.stage.make_hair`` with each library style on the same photo, one after another, as the web
  service's hair variants call it (photo analysis for the colour, head preparation, style); the first call on a
  photo prepares the head and analyses the photo, later calls reuse them (``prepare_head`` and the analysis keep
  the last two). The parsing classes are computed once beforehand (the service stores them).
* **reconstruction**: per photo, BiSeNet face parsing (``Pipeline.parse_face``) plus ``hair.stage.make_hair`` with
  ``mode="auto"`` (analysis, head preparation, reconstruction); median over ``--repeat`` runs, then over photos.
* **files**: ``hair.stage.hair_files`` (all bundle hair formats) for each reconstructed groom: time and sizes.

Detection and fitting are not timed (they belong to the face pipeline); ``--cache DIR`` keeps them between runs.

Usage:
    python scripts/bench_hair.py [PORTRAITS_DIR] [--photos N] [--repeat N] [--styles a,b,...] [--cache DIR]
        [--markdown OUT.md] [--json OUT.json]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

from fit_cache import cached_fit
from headcast.cli.main import find_photos
from headcast.hair.head import prepare_head
from headcast.hair.library import library_styles
from headcast.hair.stage import HairSettings, hair_files, make_hair, style_strands
from headcast.pipeline import Pipeline, PipelineSettings

try:
    from headcast.hair.stage import clear_caches
except ImportError:  # an older headcast (to compare against): nothing is remembered there

    def clear_caches(model: object = None) -> None:
        """No caches to clear."""


T = TypeVar("T")
DEFAULT_PHOTOS = ("london_003_neutral", "azure_Family3-Man1", "singnet_model_face", "webmorph_lisa1")


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """``(result, wall seconds, CPU seconds)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def prepared(pipe: Pipeline, photo: Path, cache: Path | None) -> tuple[Any, Any]:
    """Photo pixels and the fitted head (cached in ``cache`` when given)."""
    pixels, fit = cached_fit(pipe, photo, None if cache is None else cache / f"{photo.stem}.fit.pkl")
    return pixels, fit


def load() -> str:
    """``uptime``'s load averages (or os.getloadavg)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def stats(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("portraits", nargs="?", type=Path, default=Path("../shared/fixtures/portraits"))
    parser.add_argument("--photos", default=",".join(DEFAULT_PHOTOS),
                        help="comma-separated photo stems for the reconstruction part ('all' = every photo)")
    parser.add_argument("--style-photo", default=DEFAULT_PHOTOS[0], help="photo whose fitted head wears the styles")
    parser.add_argument("--styles", default="", help="comma-separated style names (default: the whole library)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", default="", help="parts to skip: style,tryon,reconstruct,files")
    parser.add_argument("--cache", type=Path, default=None, help="folder caching detection + fit per photo")
    parser.add_argument("--markdown", type=Path, default=None, help="write the figures as a markdown table here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    load_before = load()
    pipe = Pipeline.load(PipelineSettings())
    photos = {p.stem: p for p in find_photos(args.portraits)}
    chosen = list(photos) if args.photos == "all" else [s for s in args.photos.split(",") if s in photos]
    report: dict[str, Any] = {"machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                              f"python {sys.version.split()[0]}", "load_before": load_before}
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    with threadpool_limits(limits=pipe.settings.blas_threads, user_api="blas"):
        if "style" not in skip:
            pixels, fit = prepared(pipe, photos[args.style_photo], args.cache)
            head, hw, hc = timed(lambda: prepare_head(pipe.model, fit.params))
            say(f"## style try-on on {args.style_photo}'s head (prepare_head {hw:.3f} s wall, {hc:.3f} s CPU)")
            say("")
            say("| style | origin | strands | wall s (median) | CPU s (median) |")
            say("|---|---|---|---|---|")
            names = [s for s in args.styles.split(",") if s] or [s.name for s in library_styles() if not s.bald]
            origin = {s.name: s.origin for s in library_styles()}
            rows = {}
            for name in names:
                runs = [timed(lambda n=name: style_strands(n, head)) for _ in range(args.repeat + 1)][1:]
                strands = runs[0][0]
                wall = statistics.median(r[1] for r in runs)
                cpu = statistics.median(r[2] for r in runs)
                rows[name] = {"wall": wall, "cpu": cpu, "origin": origin.get(name, "?")}
                say(f"| {name} | {origin.get(name, '?')} | {0 if strands is None else strands.num_strands} "
                    f"| {wall:.3f} | {cpu:.3f} |")
            walls = [r["wall"] for r in rows.values()]
            cpus = [r["cpu"] for r in rows.values()]
            say("")
            say(f"**style apply over {len(rows)} styles**: wall {stats(walls)} s; CPU {stats(cpus)} s "
                f"(target ≤ 0.5 s)")
            say("")
            report["style"] = {"prepare_head_wall": hw, "prepare_head_cpu": hc, "rows": rows}
        if "tryon" not in skip:
            pixels, fit = prepared(pipe, photos[args.style_photo], args.cache)
            classes = pipe.parse_face(pixels)
            clear_caches(pipe.model)
            names = [s for s in args.styles.split(",") if s] or [s.name for s in library_styles() if not s.bald]
            (_, cold_w, cold_c) = timed(lambda: make_hair(pixels, fit, pipe.model, HairSettings(mode=names[0]),
                                                          classes, pipe.renderer))
            warm = [timed(lambda n=name: make_hair(pixels, fit, pipe.model, HairSettings(mode=n), classes,
                                                   pipe.renderer)) for name in names]
            say(f"## try-on: `make_hair` with each style on {args.style_photo}'s photo, one after another")
            say("")
            say(f"first call (analysis + head + style): wall {cold_w:.3f} s, CPU {cold_c:.3f} s; then per style "
                f"over {len(warm)} styles: wall {stats([w[1] for w in warm])} s, CPU {stats([w[2] for w in warm])} s")
            say("")
            report["tryon"] = {"cold_wall": cold_w, "cold_cpu": cold_c,
                               "rows": {n: {"wall": w[1], "cpu": w[2]} for n, w in zip(names, warm, strict=True)}}
        recon: list[dict[str, Any]] = []
        results = []
        if "reconstruct" not in skip:
            say("## hair reconstruction per photo (`--hair auto`: BiSeNet parsing + analysis + head + fit)")
            say("")
            say("| photo | style | BiSeNet wall | BiSeNet CPU | make_hair wall | make_hair CPU | total wall "
                "| total CPU |")
            say("|---|---|---|---|---|---|---|---|")
            settings = HairSettings(mode="auto")
            pipe.parse_face(prepared(pipe, photos[chosen[0]], args.cache)[0])  # loads torch + weights once
            for stem in chosen:
                pixels, fit = prepared(pipe, photos[stem], args.cache)
                runs = []
                for _ in range(args.repeat):
                    clear_caches(pipe.model)  # every run from scratch: no remembered analysis or head
                    classes, pw, pc = timed(lambda px=pixels: pipe.parse_face(px))
                    res, mw, mc = timed(lambda px=pixels, f=fit, c=classes: make_hair(
                        px, f, pipe.model, settings, c, pipe.renderer))
                    runs.append((pw, pc, mw, mc))
                results.append(res)
                med = [statistics.median(r[i] for r in runs) for i in range(4)]
                row = {"photo": stem, "style": res.style, "parse_wall": med[0], "parse_cpu": med[1],
                       "hair_wall": med[2], "hair_cpu": med[3], "total_wall": med[0] + med[2],
                       "total_cpu": med[1] + med[3]}
                recon.append(row)
                say(f"| {stem} | {res.style} | {med[0]:.3f} | {med[1]:.3f} | {med[2]:.3f} | {med[3]:.3f} "
                    f"| {row['total_wall']:.3f} | {row['total_cpu']:.3f} |")
            tw = statistics.median(r["total_wall"] for r in recon)
            tc = statistics.median(r["total_cpu"] for r in recon)
            share = statistics.median(r["parse_wall"] / r["total_wall"] for r in recon)
            say("")
            say(f"**reconstruction median per photo**: wall {tw:.3f} s, CPU {tc:.3f} s; BiSeNet share of wall "
                f"{100 * share:.0f} % (target ≤ 2 s)")
            say("")
            report["reconstruct"] = recon
        if "files" not in skip and results:
            say("## bundle hair files (`hair.stage.hair_files`, all formats)")
            say("")
            file_rows = []
            for res in results:
                if res.strands is None:
                    continue
                runs = [timed(lambda r=res: hair_files(r, HairSettings(mode="auto"))) for _ in range(args.repeat)]
                files = runs[0][0]
                file_rows.append({"wall": statistics.median(r[1] for r in runs),
                                  "cpu": statistics.median(r[2] for r in runs),
                                  "sizes": {k: len(v) for k, v in files.items()}})
            if file_rows:
                sizes = file_rows[0]["sizes"]
                say(f"hair_files per groom: wall {stats([r['wall'] for r in file_rows])} s, CPU "
                    f"{stats([r['cpu'] for r in file_rows])} s; sizes (first groom): "
                    + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items())
                    + f"; total {sum(sizes.values()) / 1e6:.1f} MB")
                say("")
            report["files"] = file_rows
    pipe.close()
    load_after = load()
    say(f"machine: {report['machine']}; BLAS threads {pipe.settings.blas_threads}")
    say(f"load before: `{load_before}`; after: `{load_after}`")
    report["load_after"] = load_after
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

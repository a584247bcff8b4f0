"""The hair of a ``headcast make`` bundle, restored for ``headcast eval --reuse``.

What a bundle holds (:func:`headcast.hair.stage.hair_files`): ``hair.json`` always (style, strand count, root and
tip colours rounded to 4 decimals, the hair stage's IoU); with strands also ``hair.data`` (every render strand,
float32, model frame), ``hair.hair`` (the same points with per-point colours), ``hair_guides.obj`` (the valid
guides, without their grid cells) and, with ``usd-core``, ``hair.usdc`` (the render strands as USD curves).

Enough to draw and measure the strands: the render strands' points (``hair.data``, else ``hair.hair``) and the two
colours of ``hair.json``; the display colours (:func:`headcast.hair.display.strand_colors`) follow from them (the
4-decimal rounding moves a colour by less than 0.02 sRGB levels). Not restored: the guides' 32 × 32 grid (the OBJ
lists the valid guides without their cells) and the render strands' root UVs — nothing in the evaluation reads
them, so :class:`~headcast.hair.types.Strands` gets an all-invalid guide grid and NaN root UVs, and the hair
stage's photo analysis (hairline, fringe), which :func:`headcast.eval.runner.evaluate_hair` recomputes from the
photo.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from headcast.hair.formats import read_data, read_hair
from headcast.hair.stage import HairResult
from headcast.hair.types import HairParams, Strands

BundleHairStatus = Literal["restored", "bald", "absent", "unreadable"]
"""``restored``: strands read back; ``bald``: the hair stage ran and found no hair; ``absent``: the bundle has no
``hair.json`` (made with ``--hair none`` or by an older version); ``unreadable``: ``hair.json`` promises strands that
no strand file provides."""

GUIDE_GRID = (32, 32, 100)
"""The guide grid of :class:`~headcast.hair.types.Strands` (rows, columns, points per guide)."""


@dataclass(frozen=True, eq=False)
class BundleHair:
    """The hair restored from one bundle.

    Attributes:
        status: :data:`BundleHairStatus`.
        report: the hair stage's outcome as far as the bundle tells it (None unless ``restored`` or ``bald``);
            its ``analysis`` is None.
        source: the strand file read (``"hair.data"`` / ``"hair.hair"``), None without strands.
        note: one line for the report.
    """

    status: BundleHairStatus
    report: HairResult | None
    source: str | None
    note: str

    @property
    def strands(self) -> Strands | None:
        """The restored strands (None unless ``restored``)."""
        return None if self.report is None else self.report.strands


def _colour(value: object, fallback: tuple[float, float, float]) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        return fallback
    r, g, b = (float(v) for v in value)
    return (r, g, b)


def _stack(polys: list[np.ndarray]) -> np.ndarray | None:
    """``(N, P, 3)`` float32 when every polyline has the same point count (as the hair stage writes), else None."""
    if not polys or any(len(p) != len(polys[0]) for p in polys):
        return None
    return np.stack(polys).astype(np.float32)


def read_bundle_hair(bundle_dir: Path) -> BundleHair:
    """Restore the hair of the bundle in ``bundle_dir`` (module docstring).

    Never raises for a missing or damaged hair file: the status and note say what was found.
    """
    json_path = bundle_dir / "hair.json"
    if not json_path.is_file():
        return BundleHair("absent", None, None, f"{bundle_dir.name}: no hair.json in the bundle; rendered bald")
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return BundleHair("unreadable", None, None, f"{bundle_dir.name}: hair.json unreadable ({err}); rendered bald")
    style = str(doc.get("style", "custom"))
    count = int(doc.get("strands") or 0)
    iou = doc.get("hair_iou")
    orient = doc.get("orientation_error_deg")
    notes = tuple(str(n) for n in doc.get("notes", []))
    if count == 0:
        report = HairResult(None, style, notes=notes)
        return BundleHair("bald", report, None, f"{bundle_dir.name}: the hair stage found no hair ({style})")
    points = None
    source = None
    problems = []
    for name in ("hair.data", "hair.hair"):
        path = bundle_dir / name
        if not path.is_file():
            problems.append(f"{name} missing")
            continue
        try:
            polys = read_data(path) if name == "hair.data" else read_hair(path)[0]
        except (OSError, ValueError) as err:
            problems.append(f"{name}: {err}")
            continue
        stacked = _stack(polys)
        if stacked is None or len(stacked) != count:
            problems.append(f"{name}: {len(polys)} strands of unequal or unexpected length (hair.json: {count})")
            continue
        points, source = stacked, name
        break
    if points is None:
        return BundleHair("unreadable", None, None,
                          f"{bundle_dir.name}: hair.json lists {count} strands but {'; '.join(problems)}; "
                          "rendered bald")
    params = None
    if isinstance(doc.get("params"), dict):
        try:
            params = HairParams.from_json(doc["params"])
        except (TypeError, ValueError):  # written by another version: the strands do not need them
            params = None
    strands = Strands(
        guides=np.zeros((*GUIDE_GRID, 3), np.float32),
        valid=np.zeros(GUIDE_GRID[:2], bool),
        points=points,
        root_uv=np.full((len(points), 2), np.nan, np.float32),
        root_color=_colour(doc.get("root_color"), Strands.root_color),
        tip_color=_colour(doc.get("tip_color"), Strands.tip_color),
        name=style,
        params=params,
    )
    report = HairResult(
        strands, style,
        iou=float("nan") if iou is None else float(iou),
        orientation_error_deg=float("nan") if orient is None else float(orient),
        notes=notes,
    )
    return BundleHair("restored", report, source,
                      f"{bundle_dir.name}: {count} strands restored from {source} + hair.json ({style})")

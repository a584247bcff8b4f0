"""Values passed between the hair stages: generator parameters, library styles, strands, photo analysis."""

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

Updo = Literal["none", "ponytail", "bun", "braid"]
"""How the hair is gathered: loose, a ponytail, a bun or a braid (gathered at the back of the head)."""

Origin = Literal["generated", "groom", "shell"]
"""Where a library style's strands come from: the procedural generator, a real groom file, or strands grown
into a MakeHuman polygon shell."""


@dataclass(frozen=True)
class HairParams:
    """Interpretable parameters of the procedural groom generator (see ``generator.grow_guides``).

    Lengths are strand arc lengths in metres; per-region lengths are blended over the scalp by the root's
    direction from the skull centre (front = +z, back = −z, sides = ±x, top = +y).

    Attributes:
        length_top: strands at the crown, metres.
        length_front: strands at the front hairline, metres.
        length_sides: strands above the ears, metres.
        length_back: strands at the back and nape, metres.
        parting: x of the parting as a fraction of the skull radius (−1 = the head's right, 0 = centre, +1 = left).
        part_depth: how sharply the hair is combed apart at the parting, [0, 1] (1 = a clear parting line with the
            scalp showing; 0 = no parting: the top is combed back and the sides fall smoothly from the mid-line,
            e.g. curly hair, afros, swept-back styles).
        volume: how far the hair layer stands off the scalp, metres.
        crown_volume: multiplier of ``volume`` at the crown (blended by the root's height: 1 at the sides), e.g.
            2–3 for hair piled up on top.
        gravity: how strongly strands bend downwards (0 = stand out along the scalp normal, 1 = fall).
        curl_radius: radius of helical curls, metres (0 = none).
        curl_frequency: turns per metre of strand for curls and waves.
        waviness: amplitude of a planar wave, metres (0 = straight).
        clumping: how much render strands gather towards their guide at the tips, [0, 1].
        frizz: random displacement at the tips, metres.
        fringe: share of the front hairline combed forwards over the forehead (bangs), [0, 1].
        fringe_stop: how far above the brow line fringe strands end, metres (±6 mm per strand; negative: over the
            brows).
        fringe_sweep: sideways slant of the fringe, ``dx / dy`` (0: straight down; positive: towards the head's
            left, +x).
        updo: gather style (:data:`Updo`).
        updo_height: gather point from the nape (0) to the crown (1).
        tail_length: length of the ponytail / braid below the gather point (bun: coil length), metres.
        tail_side: where a ponytail / braid hangs: 0 = down the back, +1 = over the head's left shoulder (+x),
            −1 = over its right (beside the neck, in front of the shoulder); fractions in between.
    """

    length_top: float = 0.10
    length_front: float = 0.08
    length_sides: float = 0.07
    length_back: float = 0.09
    parting: float = 0.3
    part_depth: float = 1.0
    volume: float = 0.012
    crown_volume: float = 1.0
    gravity: float = 0.8
    curl_radius: float = 0.0
    curl_frequency: float = 30.0
    waviness: float = 0.0
    clumping: float = 0.3
    frizz: float = 0.001
    fringe: float = 0.0
    fringe_stop: float = 0.006
    fringe_sweep: float = 0.0
    updo: Updo = "none"
    updo_height: float = 0.5
    tail_length: float = 0.2
    tail_side: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready ``{field: value}``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "HairParams":
        """Parameters from :meth:`to_json` output; missing keys keep their defaults, unknown keys raise."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown hair parameters: {', '.join(sorted(unknown))}")
        return replace(cls(), **data)


@dataclass(frozen=True)
class HairStyle:
    """One library entry.

    Attributes:
        name: unique style name (the CLI's ``--hair NAME``).
        tags: descriptive tags (``"short"``, ``"long"``, ``"fringe"``, ``"tied"``, ...).
        params: generator parameters; None for ``bald`` and for styles whose strands come from a file.
        origin: where the strands come from (:data:`~headcast.hair.types.Origin`).
        source: asset key (grooms, shells) or ``"authored"``.
    """

    name: str
    tags: tuple[str, ...]
    params: HairParams | None
    origin: Origin = "generated"
    source: str = "authored"

    @property
    def bald(self) -> bool:
        """True for the no-hair style."""
        return self.origin == "generated" and self.params is None


@dataclass(frozen=True, eq=False)
class Strands:
    """A groom on one head, in the model frame (metres, +y up, +z forward).

    Guides follow HairNet's canonical layout: a 32 × 32 grid over the scalp UV map (row = v, column = u; see
    ``hair.scalp``) with 100 points per strand, root first; cells off the scalp are marked invalid (their points
    are zeros). Render strands are the dense display set interpolated from the guides.

    Attributes:
        guides: ``(32, 32, 100, 3)`` float32 guide polylines, metres.
        valid: ``(32, 32)`` bool, True where a guide exists.
        points: ``(N, P, 3)`` float32 render strands, root first, metres (N ≥ 10 000 for a full head of hair).
        root_uv: ``(N, 2)`` float32 scalp UV of each render strand's root.
        root_color: ``(3,)`` sRGB colour at the roots, in [0, 1].
        tip_color: ``(3,)`` sRGB colour at the tips, in [0, 1].
        name: style name (``"auto"`` for a reconstruction, a library name otherwise).
        params: generator parameters, when the strands were generated.
        colors: ``(N, P, 3)`` float32 sRGB in [0, 1] per render-strand point (taken from the photo,
            ``hair.colour``), or None for the root-to-tip gradient of ``root_color`` and ``tip_color``.
    """

    guides: NDArray[np.float32]
    valid: NDArray[np.bool_]
    points: NDArray[np.float32]
    root_uv: NDArray[np.float32]
    root_color: tuple[float, float, float] = (0.25, 0.17, 0.11)
    tip_color: tuple[float, float, float] = (0.33, 0.23, 0.15)
    name: str = "custom"
    params: HairParams | None = None
    colors: NDArray[np.float32] | None = None

    @property
    def num_strands(self) -> int:
        """N render strands."""
        return int(self.points.shape[0])

    @property
    def guide_polylines(self) -> NDArray[np.float32]:
        """``(G, 100, 3)`` the valid guides, row-major over the grid."""
        return self.guides[self.valid]

    def recoloured(self, root: tuple[float, float, float], tip: tuple[float, float, float] | None = None) -> "Strands":
        """The same strands with new sRGB colours in [0, 1] (the tip defaults to the root colour).

        Per-point photo colours (``colors``) are dropped.
        """
        return replace(self, root_color=tuple(root), tip_color=tuple(root if tip is None else tip),  # type: ignore[arg-type]
                       colors=None)


@dataclass(frozen=True, eq=False)
class HairAnalysis:
    """What the photo says about the hair, in ``Photo.pixels`` coordinates.

    Attributes:
        hair: ``(H, W)`` bool hair mask (BiSeNet class 17).
        hat: ``(H, W)`` bool hat mask (class 18).
        skin: ``(H, W)`` bool facial skin mask.
        face: ``(H, W)`` bool face mask (skin, brows, eyes, nose, mouth, lips, ears).
        root_lab: ``(3,)`` CIE Lab (D65) median colour of the upper third of the hair.
        tip_lab: ``(3,)`` CIE Lab median colour of the lower third of the hair.
        orientation: ``(H, W)`` float32 strand direction angle in [0, π), image axes (x right, y down).
        confidence: ``(H, W)`` float32 orientation confidence in [0, 1] (0 outside the hair).
        hairline_y: image row of the hairline above the face centre (top of the skin), pixels.
        fringe: share of the forehead band (between brows and hairline height) covered by hair, [0, 1].
        lowest_y: lowest hair row, pixels.
        reaches_shoulders: the hair reaches below the chin by more than half the face height.
        hair_ratio: hair area / face area.
        bald: almost no hair visible (hair_ratio below the bald threshold, no hat).
        shaved: a thin layer of hair only (hair above the head but little of it).
        notes: remarks (e.g. no hair visible).
        coherence: how consistent the strand direction is locally, [0, 1] (confidence-weighted length of the mean
            doubled-angle vector in small windows, averaged over the hair): straight hair ≈ 0.6–0.8, tight
            curls below 0.5; NaN when not measured.
        tail_side: a tail of hair hanging beside the neck on one side only (a ponytail or braid worn over a
            shoulder): +1 on the head's left (+x, the image's right in a frontal photo), −1 on its right, 0 none.
        loose_area: hair below the ear line (landmark 2's row) and outside the jaw contour's columns, face heights²
            (hair worn loose hangs there; tied-back or short hair leaves it empty).
        lowest_below_chin: how far the lowest hair row is below the chin, face heights (negative: above it).
        fringe_y: image row where hair over the middle of the forehead ends (a fringe's lower edge), pixels; NaN
            when there is none.
        fringe_slant: ``dx / dy`` of the hair's direction over the forehead (0: bangs straight down; positive: down
            towards the image's right, the head's left).
    """

    hair: NDArray[np.bool_]
    hat: NDArray[np.bool_]
    skin: NDArray[np.bool_]
    face: NDArray[np.bool_]
    root_lab: NDArray[np.float64]
    tip_lab: NDArray[np.float64]
    orientation: NDArray[np.float32]
    confidence: NDArray[np.float32]
    hairline_y: float
    fringe: float
    lowest_y: float
    reaches_shoulders: bool
    hair_ratio: float
    bald: bool
    shaved: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    coherence: float = float("nan")
    tail_side: float = 0.0
    loose_area: float = 0.0
    lowest_below_chin: float = -1.0
    fringe_y: float = float("nan")
    fringe_slant: float = 0.0

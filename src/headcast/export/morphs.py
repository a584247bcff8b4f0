"""The GLB's morph targets: ARKit's 52 blend shapes by exact name, the 15 Oculus visemes, the model's other shapes.

Each target is a fixed linear combination of the head model's expression shapes (apart from the made tongueOut).

Apps that animate avatars look morph targets up by name: a face tracker (ARKit, MediaPipe's Face Landmarker) sets
``eyeBlinkLeft`` … ``tongueOut`` from its 52 scores, a lip-sync engine (Oculus/Meta Lipsync) sets the 15
``viseme_*`` weights. So a head model with canonical (ARKit) names (``LinearHeadModel.expression_arkit``, e.g. ICT
FaceKit) is written as:

1. the 52 ARKit shapes in :data:`~headcast.headmodel.base.ARKIT_EXPRESSIONS` order. A model shape with the ARKit
   name is the target; a name the model splits into halves (ICT's left and right halves of ARKit's unsided
   ``browInnerUp``, likewise ``cheekPuff``) is the sum of both halves; ``tongueOut``, which ICT lacks, is made here
   (:func:`tongue_out_delta`: the tongue pushed forward over the lower teeth, the jaw a little open); a name the
   model cannot make at all is an all-zero target, so that name lookups still find it.
2. the 15 Oculus visemes (:data:`OCULUS_VISEMES`), each a mix of the ARKit targets above (:data:`VISEME_RECIPES`).
3. the model's shapes that are neither (ICT: ``cheekRaiserLeft``/``Right``, ``pupilDilateLeft``/``Right``),
   under their canonical names.

A model without canonical names (a test model) or with unbounded coefficients (FLAME's ψ) keeps one target per
expression component under its own name (the first ``ExportSettings.max_coefficient_targets`` coefficients).

Convention:
    Target ``t``'s delta is ``Σ_e M[t, e] · expression_basis[e] + extra_t`` (``M`` = :attr:`MorphSet.mixing`,
    ``extra_t`` = :attr:`MorphSet.extra`, zero for all but made shapes). A fitted expression ``w`` is shown as
    target weights ``u = S w`` (``S`` = :attr:`MorphSet.show`) and the rest, ``w − Mᵀu``, is baked into the
    positions; as made targets get weight 0, a viewer's ``positions + Σ u_t · delta_t`` is the fitted head exactly
    (:func:`shown_weights`). For a split name ``S`` takes the mean of the two halves (their difference stays in
    the positions); visemes and made shapes start at 0.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from headcast.headmodel.base import ARKIT_EXPRESSIONS, LinearHeadModel

OCULUS_VISEMES: tuple[str, ...] = (
    "viseme_sil", "viseme_PP", "viseme_FF", "viseme_TH", "viseme_DD", "viseme_kk", "viseme_CH", "viseme_SS",
    "viseme_nn", "viseme_RR", "viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U",
)  # fmt: skip
"""The 15 visemes of Oculus (Meta) Lipsync, in its order and spelling: silence, then the mouth shapes of the
phoneme groups p/b/m, f/v, th, t/d, k/g, tʃ/dʒ/ʃ, s/z, n/l, r, ɑ, e, i, o, u."""


def _both(base: str, weight: float) -> dict[str, float]:
    return {f"{base}Left": weight, f"{base}Right": weight}


VISEME_RECIPES: Mapping[str, Mapping[str, float]] = {
    # silence: the resting mouth (an all-zero target)
    "viseme_sil": {},
    # p, b, m: lips pressed together, rolled in a little
    "viseme_PP": {**_both("mouthPress", 0.5), "mouthRollLower": 0.3, "mouthRollUpper": 0.2, "mouthClose": 0.1},
    # f, v: the lower lip tucked under the upper teeth
    "viseme_FF": {"mouthRollLower": 0.7, **_both("mouthUpperUp", 0.25), "jawOpen": 0.05},
    # th: the tongue tip between the teeth
    "viseme_TH": {"jawOpen": 0.1, "tongueOut": 0.35, **_both("mouthLowerDown", 0.2)},
    # t, d: teeth nearly together, lips slightly apart and spread
    "viseme_DD": {"jawOpen": 0.15, **_both("mouthStretch", 0.15), **_both("mouthLowerDown", 0.2)},
    # k, g: the jaw a little more open, lips relaxed
    "viseme_kk": {"jawOpen": 0.25, **_both("mouthStretch", 0.2), **_both("mouthLowerDown", 0.1)},
    # tʃ, dʒ, ʃ: lips pushed forward and open, teeth close
    "viseme_CH": {"mouthFunnel": 0.5, "jawOpen": 0.1, **_both("mouthUpperUp", 0.2), **_both("mouthLowerDown", 0.2)},
    # s, z: teeth almost closed, lips spread showing them
    "viseme_SS": {**_both("mouthStretch", 0.4), "jawOpen": 0.05, **_both("mouthUpperUp", 0.15),
                  **_both("mouthLowerDown", 0.2), **_both("mouthSmile", 0.1)},
    # n, l: slightly open, the tongue behind the upper teeth (not visible)
    "viseme_nn": {"jawOpen": 0.15, **_both("mouthStretch", 0.2), **_both("mouthLowerDown", 0.15)},
    # r: lips slightly rounded
    "viseme_RR": {"mouthFunnel": 0.35, "mouthPucker": 0.2, "jawOpen": 0.12},
    # ɑ (father): the jaw wide open
    "viseme_aa": {"jawOpen": 0.6, **_both("mouthLowerDown", 0.2)},
    # e (bed): open and spread
    "viseme_E": {"jawOpen": 0.35, **_both("mouthStretch", 0.35), **_both("mouthUpperUp", 0.2),
                 **_both("mouthLowerDown", 0.3)},
    # i (see): spread, nearly closed
    "viseme_I": {"jawOpen": 0.2, **_both("mouthStretch", 0.45), **_both("mouthSmile", 0.2)},
    # o (go): rounded and open
    "viseme_O": {"jawOpen": 0.4, "mouthFunnel": 0.6},
    # u (you): tightly rounded, pushed forward
    "viseme_U": {"mouthPucker": 0.7, "mouthFunnel": 0.3, "jawOpen": 0.1},
}  # fmt: skip
"""Each viseme as ARKit shape weights: written by this project from the mouth pictures and phoneme descriptions of
Meta's viseme reference (the names and phoneme groups are Meta's; the weights are ours, checked by rendering)."""


@dataclass(frozen=True)
class TongueSettings:
    """How :func:`tongue_out_delta` makes ``tongueOut`` (model frame: +y up, +z forward, metres).

    Attributes:
        reach_m: how far the tongue's tip moves forward.
        drop_m: how far the tip moves down (negative: up, into the gap between the lips).
        length_m: the push fades to 0 this far behind the front teeth.
        rigid_m: the tongue's front part, this far back from the front teeth, moves whole (keeps its rounded tip).
        teeth_clear_m: ``(inner, outer)``: gum-and-tongue vertices within ``inner`` of a tooth stay (the gums);
            beyond ``outer`` they move fully.
        floor_m: vertices lower than the lowest tooth plus this are the floor of the mouth and stay.
        half_width_m: vertices further than this from the mid-plane (the sides of the mouth) stay.
        blend_m: the floor and side limits fade in over this distance (no torn triangles at the edge).
        jaw_open: ``jawOpen`` weight mixed in, so the tongue passes the teeth.
    """

    reach_m: float = 0.04
    drop_m: float = -0.005
    length_m: float = 0.06
    rigid_m: float = 0.03
    teeth_clear_m: tuple[float, float] = (0.002, 0.005)
    floor_m: float = 0.014
    half_width_m: float = 0.018
    blend_m: float = 0.008
    jaw_open: float = 0.35


@dataclass(frozen=True, eq=False)
class MorphSet:
    """The GLB's morph targets as combinations of the model's expression shapes (module docstring).

    Attributes:
        names: ``(T,)`` target names.
        mixing: ``(T, E)`` ``M``: target ``t``'s delta is ``Σ_e M[t, e] · expression_basis[e] + extra_t``.
        show: ``(T, E)`` ``S``: the target weights ``u = S w`` that show a fitted expression ``w``.
        extra: ``{t: (V, 3) float64}`` deltas that are no combination of the model's shapes (a made
            ``tongueOut``), metres.
    """

    names: tuple[str, ...]
    mixing: NDArray[np.float64]
    show: NDArray[np.float64]
    extra: Mapping[int, NDArray[np.float64]]

    def delta(self, model: LinearHeadModel, t: int) -> NDArray[np.float64]:
        """``(V, 3)`` delta of target ``t``, metres."""
        row = self.mixing[t]
        used = np.flatnonzero(row)
        d = np.zeros((model.num_vertices, 3))
        if len(used):
            d = np.tensordot(row[used], model.expression_basis[used].astype(np.float64), axes=1)
        return d + self.extra[t] if t in self.extra else d


def shown_weights(
    morphs: MorphSet, expression: NDArray[np.floating]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The target weights that show ``expression`` and the expression left in the positions.

    Returns:
        ``(u, rest)``: ``(T,)`` target weights ``S w`` and ``(E,)`` ``w − Mᵀu`` (module docstring).
    """
    w = np.asarray(expression, dtype=np.float64)
    u = morphs.show @ w
    return u, w - morphs.mixing.T @ u


def tongue_out_delta(model: LinearHeadModel, settings: TongueSettings) -> NDArray[np.float64] | None:
    """``(V, 3)`` the tongue pushed out over the lower teeth, or None for a model without tongue and teeth parts.

    ICT FaceKit models the gums and the tongue as one part. Its vertices that lie below the teeth's mid-height, above
    the floor of the mouth and clear of every tooth are taken as the tongue (the gums hug the teeth); each moves
    forward by ``reach_m`` and down by ``drop_m`` times a weight that grows smoothly from 0, ``length_m`` behind the
    front teeth, to 1 at ``rigid_m`` behind them (the front moves whole, the root stays), times a 0 → 1 ramp of its
    distance to the nearest tooth. Looked at from the front and the side on a fitted head (jaw 0.35 open): the tip
    comes out about 1.5 cm between the lips.
    """
    if not model.has_part("gums_tongue", "teeth"):
        return None
    ids = model.parts["gums_tongue"]
    v = model.template[ids].astype(np.float64)
    teeth = model.template[model.parts["teeth"]].astype(np.float64)
    inner, outer = settings.teeth_clear_m
    clear = np.clip((cKDTree(teeth).query(v)[0] - inner) / max(outer - inner, 1e-9), 0.0, 1.0)
    y_teeth = teeth[:, 1]
    floor = y_teeth.min() + settings.floor_m
    below = (v[:, 1] < 0.5 * (y_teeth.min() + y_teeth.max())) * np.clip((v[:, 1] - floor) / settings.blend_m, 0, 1)
    half = settings.half_width_m
    below = below * np.clip((half - np.abs(v[:, 0])) / settings.blend_m, 0.0, 1.0)
    front = float(teeth[:, 2].max())
    x = np.clip((v[:, 2] - (front - settings.length_m)) / max(settings.length_m - settings.rigid_m, 1e-9), 0.0, 1.0)
    ramp = x * x * (3.0 - 2.0 * x)  # smoothstep: the back stays, the front moves whole
    gain = clear * below * ramp
    delta = np.zeros((model.num_vertices, 3))
    delta[ids, 2] = settings.reach_m * gain
    delta[ids, 1] = -settings.drop_m * gain
    return delta


def morph_set(model: LinearHeadModel, max_coefficient_targets: int, tongue: TongueSettings | None = None) -> MorphSet:
    """The GLB's morph targets for ``model`` (module docstring)."""
    e = model.num_expressions
    canonical = {c: model.expression_names.index(n) for n, c in model.expression_arkit.items()}
    if model.expression_kind != "weights" or not canonical:
        n = e if model.expression_kind == "weights" else max(0, min(e, max_coefficient_targets))
        eye = np.eye(n, e)
        return MorphSet(tuple(model.expression_names[:n]), eye, eye.copy(), {})

    rows: list[NDArray[np.float64]] = []
    shows: list[NDArray[np.float64]] = []
    extra: dict[int, NDArray[np.float64]] = {}
    covered: set[int] = set()
    for name in ARKIT_EXPRESSIONS:
        m, s = np.zeros(e), np.zeros(e)
        halves = [canonical.get(name + side) for side in ("Left", "Right")]
        if name in canonical:
            m[canonical[name]] = s[canonical[name]] = 1.0
            covered.add(canonical[name])
        elif all(h is not None for h in halves):
            for h in halves:
                assert h is not None
                m[h], s[h] = 1.0, 0.5
                covered.add(h)
        elif name == "tongueOut":
            made = tongue_out_delta(model, TongueSettings() if tongue is None else tongue)
            if made is not None:
                extra[len(rows)] = made
                if "jawOpen" in canonical:
                    m[canonical["jawOpen"]] = (TongueSettings() if tongue is None else tongue).jaw_open
        rows.append(m)
        shows.append(s)

    arkit_index = {n: i for i, n in enumerate(ARKIT_EXPRESSIONS)}
    for viseme in OCULUS_VISEMES:
        m = np.zeros(e)
        made = np.zeros((model.num_vertices, 3))
        for name, weight in VISEME_RECIPES[viseme].items():
            t = arkit_index[name]
            m += weight * rows[t]
            if t in extra:
                made += weight * extra[t]
        if np.any(made):
            extra[len(rows)] = made
        rows.append(m)
        shows.append(np.zeros(e))

    names = list(ARKIT_EXPRESSIONS) + list(OCULUS_VISEMES)
    for j, own in enumerate(model.expression_names):
        if j not in covered:
            names.append(model.expression_arkit.get(own, own))
            rows.append(np.eye(e)[j])
            shows.append(np.eye(e)[j])
    return MorphSet(tuple(names), np.array(rows), np.array(shows), extra)


def target_sources(model: LinearHeadModel, morphs: MorphSet) -> dict[str, dict[str, float]]:
    """``{target: {model shape name: gain}}``: the rows of ``S`` by name, for targets a fitted expression sets.

    Written into the GLB (``mesh.extras.targetSources``) so that a viewer holding weights of the model's own shapes
    (the emotion network's outputs, params.json's resting face) can set the targets: ``u_t = Σ gain · w_shape``.
    """
    out: dict[str, dict[str, float]] = {}
    for t, name in enumerate(morphs.names):
        used = np.flatnonzero(morphs.show[t])
        if len(used):
            out[name] = {model.expression_names[j]: float(morphs.show[t, j]) for j in used}
    return out

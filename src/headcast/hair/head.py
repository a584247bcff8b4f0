"""The head-side data the hair stages need, computed once per fitted head: scalp, SDF, posed vertices.

``prepare_head`` keeps the last few heads it made of a model (by the fitted identity, expression and settings, in
the model's memo), so that trying one library style after another on the same person (the web service's hair
variants, each a new call of ``stage.make_hair``) does not rebuild the SDF and the scalp every time.
"""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from headcast.hair.scalp import Scalp, ScalpSettings, build_scalp, head_surface_triangles
from headcast.hair.sdf import HeadSDF, build_head_sdf
from headcast.headmodel.base import HeadParams, LinearHeadModel, head_vertices, rest_vertices
from headcast.headmodel.warp import pack_warp


@dataclass(frozen=True, eq=False)
class HairHead:
    """A head prepared for hair.

    Attributes:
        model: the head model.
        vertices: ``(V, 3)`` neutral-expression vertices with the fitted identity (the GLB's base mesh), metres.
        posed_vertices: ``(V, 3)`` vertices with identity and expression (what the photo shows), metres.
        scalp: scalp samples, UV grid and limits.
        sdf: signed distance grid of ``vertices``.
        front_height: the front hairline height used for ``scalp`` (brow-to-nose-base units).
        photo_keep: ``(S,)`` the candidate surface samples that ``scalp`` keeps as read off the photo
            (``hairline.photo_scalp``), or None for the default hairline curve.
    """

    model: LinearHeadModel
    vertices: NDArray[np.float64]
    posed_vertices: NDArray[np.float64]
    scalp: Scalp
    sdf: HeadSDF
    front_height: float = 1.0
    photo_keep: NDArray[np.bool_] | None = None


def prepare_head(
    model: LinearHeadModel, params: HeadParams, scalp_settings: ScalpSettings | None = None,
    sdf_spacing: float = 0.006, front_height: float = 1.0,
) -> HairHead:
    """Scalp and SDF of a fitted head (identity applied, expression zero: hair rides on the neutral head).

    Args:
        model: the head model.
        params: fitted identity and expression.
        scalp_settings: hairline shape and sampling.
        sdf_spacing: SDF voxel side, metres.
        front_height: front hairline height above the brows in brow-to-nose-base units (``hairline_height``).

    Returns:
        The prepared head; the same object for the same inputs while it is among the last ``HEAD_CACHE_SIZE``
        heads made (treat it as read-only).
    """
    key = _head_key(params, scalp_settings, sdf_spacing, front_height)
    cache = prepared_heads(model)
    with cache.lock:
        hit = cache.heads.get(key)
        if hit is not None:
            cache.heads.move_to_end(key)
            return hit
    base = rest_vertices(model, params.identity, np.zeros(model.num_expressions), params.warp)
    posed = head_vertices(model, params)
    scalp = build_scalp(model, base, scalp_settings, front_height)
    sdf = build_head_sdf(base, head_surface_triangles(model, base), spacing=sdf_spacing)
    head = HairHead(model, base, posed, scalp, sdf, front_height)
    with cache.lock:
        cache.heads[key] = head
        while len(cache.heads) > HEAD_CACHE_SIZE:
            cache.heads.popitem(last=False)
    return head


HEAD_CACHE_SIZE = 2
"""Prepared heads kept per model by ``prepare_head`` (about 15 MB each with the sampling tables built on first use)."""


@dataclass(eq=False)
class PreparedHeads:
    """The last ``HEAD_CACHE_SIZE`` heads ``prepare_head`` made of one model, most recent last (in its memo)."""

    heads: "OrderedDict[bytes, HairHead]" = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        """Forget the heads (benchmarks time cold runs with it)."""
        with self.lock:
            self.heads.clear()


def prepared_heads(model: LinearHeadModel) -> PreparedHeads:
    """The prepared-head store of ``model`` (kept in ``model.memo``)."""
    return model.memo.get(("hair.prepared_heads",), PreparedHeads)


def _head_key(params: HeadParams, scalp_settings: ScalpSettings | None, sdf_spacing: float,
              front_height: float) -> bytes:
    """Digest of what a prepared head of one model depends on."""
    h = hashlib.blake2b(digest_size=20)
    for a in (params.identity, params.expression, pack_warp(params.warp)):
        arr = np.ascontiguousarray(a, dtype=np.float64)
        h.update(repr(arr.shape).encode())
        h.update(arr.data)
    h.update(repr((scalp_settings, float(sdf_spacing), float(front_height))).encode())
    return h.digest()


def with_front_height(head: HairHead, front_height: float) -> HairHead:
    """The same head with the scalp rebuilt for another front hairline height (the SDF is reused).

    A scalp read off the photo (``head.photo_keep``) is dropped: the control-point curve delimits the new one.
    """
    scalp = build_scalp(head.model, head.vertices, None, front_height)
    return replace(head, scalp=scalp, front_height=front_height, photo_keep=None)


def hairline_height(hairline_y: float, landmarks68: NDArray[np.floating], fringe: float) -> float:
    """Front hairline height above the brows in brow-to-nose-base units, from the photo.

    ``(brow_y − hairline_y) / (nose_base_y − brow_y)`` in image rows, clipped to [0.6, 1.5]; 1.0 when a fringe
    hides the hairline (``fringe > 0.6``).

    Args:
        hairline_y: image row of the top of the forehead skin (``HairAnalysis.hairline_y``).
        landmarks68: ``(68, 2)`` iBUG-68 points, pixels.
        fringe: ``HairAnalysis.fringe``.
    """
    lm = np.asarray(landmarks68, dtype=np.float64)
    brow = float(lm[17:27, 1].mean())
    unit = max(float(lm[33, 1]) - brow, 1.0)
    if fringe > 0.6:
        return 1.0
    return float(np.clip((brow - hairline_y) / unit, 0.6, 1.5))

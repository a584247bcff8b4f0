"""An eyelash texture with alpha for the lash cards, so renderers other than ours draw lashes, not black bands.

A head model's lashes (material role ``lashes``) are thin cards along the lid margins; the photo cannot texture
them, and the atlas gives their cell one flat colour, which drawn opaque looks like thick eyeliner. This module
paints single lashes with coverage into an RGBA image of the lash tile (the model's own UVs of the lash triangles,
taken modulo 1), for the GLB's alpha-blended ``lashes`` material.

Conventions:
    The image covers the unit tile, row 0 = top (``v = 1``), the same layout as the lash tile of the model's UVs
    (bottom-left origin). Each card is found as a connected component of the lash triangles; its UV rectangle's
    *root edge* is the one of its two ``v`` edges whose vertices lie nearer the eyeball centre (the lid margin),
    the lashes grow from it towards the other edge. Per card ``LASHES_PER_UNIT_U × width`` lashes (seeded: the
    same model gives the same picture), evenly spaced with jitter, each a slightly curved, tapering stroke over
    55–100 % of the card's height (shorter towards the card's ends; on lower lids fewer and shorter: ``LOWER_LID``),
    drawn at ``SUPERSAMPLE``× and area-averaged down. RGB is the given colour everywhere (so bilinear filtering
    at stroke edges never bleeds another colour), alpha is the coverage.
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from headcast.headmodel.base import LinearHeadModel

LASHES_PER_UNIT_U = 90
"""Lashes per unit of tile ``u`` along each card (ICT's cards span ~0.48: ~43 lashes a card, three cards a lid)."""
LOWER_LID = (0.5, 0.75)
"""Lower-lid lashes relative to the upper lid's: how many (about 75–80 against 90–160 a lid) and how long
(6–8 mm against 8–12 mm)."""
SUPERSAMPLE = 4
_ROOT_WIDTH_PX = 2.2  # stroke width at the root, output pixels (512² tile), tapering to a third at the tip
_SEGMENTS = 6


@dataclass(frozen=True)
class LashCard:
    """One lash card in the tile: its UV rectangle and which ``v`` edge the lashes grow from.

    Attributes:
        u0, u1, v0, v1: the rectangle, tile UVs (bottom-left origin), ``u0 < u1``, ``v0 < v1``.
        root_at_top: whether the root edge is ``v1`` (else ``v0``).
        upper: whether the card is on an upper lid (its vertices above the eyeball centre on average).
    """

    u0: float
    u1: float
    v0: float
    v1: float
    root_at_top: bool
    upper: bool = True


def lash_cards(model: LinearHeadModel) -> tuple[LashCard, ...]:
    """The model's lash cards (see the module docstring); empty without a ``lashes`` material or eyes."""
    mask = model.material_mask("lashes")
    if not mask.any() or not model.has_material("sclera_left", "sclera_right"):
        return ()
    tris, tuvs = model.triangles[mask], model.triangle_uvs[mask]
    n = len(tris)
    shared = coo_matrix((np.ones(3 * n), (np.repeat(np.arange(n), 3), tris.ravel())))
    adjacency = (shared @ shared.T).tocoo()  # triangles sharing a vertex
    _, labels = connected_components(adjacency, directed=False)
    centres = [
        model.template[np.unique(model.triangles[model.material_mask(role)])].mean(axis=0)
        for role in ("sclera_left", "sclera_right")
    ]
    cards = []
    for label in np.unique(labels):
        vid, uid = tris[labels == label].ravel(), tuvs[labels == label].ravel()
        uv = np.mod(model.uv[uid], 1.0)
        pos = model.template[vid]
        eye = min(centres, key=lambda c: float(np.linalg.norm(pos.mean(axis=0) - c)))
        dist = np.linalg.norm(pos - eye, axis=1)
        v0, v1 = float(uv[:, 1].min()), float(uv[:, 1].max())
        edge = 0.1 * (v1 - v0)
        top, bottom = uv[:, 1] > v1 - edge, uv[:, 1] < v0 + edge
        cards.append(LashCard(float(uv[:, 0].min()), float(uv[:, 0].max()), v0, v1,
                              bool(dist[top].mean() < dist[bottom].mean()), bool(pos[:, 1].mean() > eye[1])))
    return tuple(cards)


def paint_lashes(cards: tuple[LashCard, ...], colour: NDArray[np.floating], size: int, seed: int = 7
                 ) -> NDArray[np.uint8]:
    """``(size, size, 4)`` uint8 RGBA lash tile: ``colour`` (RGB in [0, 1]) with lash coverage as alpha."""
    big = size * SUPERSAMPLE
    canvas = np.zeros((big, big), np.uint8)
    rng = np.random.default_rng(seed)
    for card in cards:
        density, reach = (1.0, 1.0) if card.upper else LOWER_LID
        count = max(1, round(LASHES_PER_UNIT_U * density * (card.u1 - card.u0)))
        height = (card.v1 - card.v0) * reach
        for i in range(count):
            along = (i + rng.uniform(0.15, 0.85)) / count  # jittered even spacing: no clumps, no gaps
            u = card.u0 + along * (card.u1 - card.u0)
            length = rng.uniform(0.55, 1.0) * height * (0.6 + 0.4 * np.sin(np.pi * along))  # shorter at the ends
            lean = rng.normal(0.0, 0.1) * length  # sideways drift of the tip, tile units
            bend = rng.normal(0.0, 0.05) * length
            t = np.linspace(0.0, 1.0, _SEGMENTS + 1)
            vs = card.v1 - t * length if card.root_at_top else card.v0 + t * length
            us = u + lean * t + bend * t * (1.0 - t) * 4.0
            px = np.stack([us * big, (1.0 - vs) * big], axis=1)
            for k in range(_SEGMENTS):
                width = _ROOT_WIDTH_PX * SUPERSAMPLE * (1.0 - 0.67 * (t[k] + t[k + 1]) / 2.0)
                a, b = px[k], px[k + 1]
                cv2.line(canvas, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 255,
                         max(1, round(width)), cv2.LINE_AA)
    alpha = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    rgb = np.broadcast_to(np.clip(np.asarray(colour, np.float64), 0.0, 1.0) * 255.0 + 0.5, (size, size, 3))
    return np.concatenate([rgb.astype(np.uint8), alpha[..., None]], axis=-1)


def lash_texture(model: LinearHeadModel, colour: NDArray[np.floating], size: int = 512) -> NDArray[np.uint8] | None:
    """The model's lash tile as RGBA (``paint_lashes`` of ``lash_cards``); None for a model without lash cards.

    The coverage is kept in ``model.memo`` per size; only the colour changes between avatars.
    """
    cards = model.memo.get(("texture.lashes.cards",), lambda: lash_cards(model))
    if not cards:
        return None
    coverage = model.memo.get(("texture.lashes.alpha", size), lambda: paint_lashes(cards, np.zeros(3), size)[..., 3])
    rgb = np.broadcast_to(np.clip(np.asarray(colour, np.float64), 0.0, 1.0) * 255.0 + 0.5, (size, size, 3))
    return np.concatenate([rgb.astype(np.uint8), coverage[..., None]], axis=-1)

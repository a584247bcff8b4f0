"""Lash cards and their RGBA texture (headcast.texture.lashes): found from the model, lashes growing from the lid
margin, upper lids fuller than lower ones, and the colour given."""

import numpy as np

from headcast.headmodel.base import LinearHeadModel
from headcast.texture.lashes import LashCard, lash_cards, lash_texture, paint_lashes


def test_ict_has_three_cards_per_lid_with_roots_at_the_lid(ict_model: LinearHeadModel) -> None:
    cards = lash_cards(ict_model)
    assert len(cards) == 12
    assert sum(c.upper for c in cards) == 6
    for card in cards:
        assert 0.0 <= card.u0 < card.u1 <= 1.0 and 0.0 <= card.v0 < card.v1 <= 1.0
    # each card's root edge is the one nearer its eyeball: recompute it for one card from the geometry
    mask = ict_model.material_mask("lashes")
    uv = np.mod(ict_model.uv[ict_model.triangle_uvs[mask]], 1.0).reshape(-1, 2)
    pos = ict_model.template[ict_model.triangles[mask]].reshape(-1, 3)
    card = cards[0]
    inside = (uv[:, 0] >= card.u0) & (uv[:, 0] <= card.u1) & (uv[:, 1] >= card.v0) & (uv[:, 1] <= card.v1)
    eye = ict_model.template[np.unique(ict_model.triangles[ict_model.material_mask(
        "sclera_left" if pos[inside, 0].mean() > 0 else "sclera_right")])].mean(axis=0)
    top = inside & (uv[:, 1] > card.v1 - 0.01)
    bottom = inside & (uv[:, 1] < card.v0 + 0.01)
    nearer_top = np.linalg.norm(pos[top] - eye, axis=1).mean() < np.linalg.norm(pos[bottom] - eye, axis=1).mean()
    assert card.root_at_top == nearer_top


def test_lashes_grow_from_the_root_edge_and_upper_lids_are_fuller() -> None:
    upper = LashCard(0.1, 0.9, 0.6, 0.9, root_at_top=True, upper=True)
    lower = LashCard(0.1, 0.9, 0.1, 0.4, root_at_top=False, upper=False)
    rgba = paint_lashes((upper, lower), np.array([0.1, 0.08, 0.05]), 256)
    alpha = rgba[..., 3].astype(float) / 255
    rows = lambda v0, v1: alpha[round((1 - v1) * 256) : round((1 - v0) * 256)]  # noqa: E731
    up = rows(0.6, 0.9)
    assert up[: len(up) // 4].mean() > 2 * up[-len(up) // 4 :].mean()  # dense at the root (top), thin at the tips
    low = rows(0.1, 0.4)
    assert low[-len(low) // 4 :].mean() > 2 * low[: len(low) // 4].mean()  # this card's root is its bottom edge
    assert low.mean() < 0.7 * up.mean()  # fewer, shorter lashes on the lower lid
    assert alpha[round(0.45 * 256) : round(0.55 * 256)].max() == 0  # nothing between the cards
    assert np.all(rgba[..., :3] == rgba[0, 0, :3]) and tuple(rgba[0, 0, :3]) == (26, 20, 13)


def test_lash_texture_is_the_model_tile_in_the_given_colour(ict_model: LinearHeadModel) -> None:
    brown = lash_texture(ict_model, np.array([0.3, 0.2, 0.1]), 128)
    black = lash_texture(ict_model, np.zeros(3), 128)
    assert brown is not None and black is not None and brown.shape == (128, 128, 4)
    assert np.array_equal(brown[..., 3], black[..., 3])  # the same lashes, only the colour differs
    assert 0.05 < brown[..., 3].mean() / 255 < 0.5

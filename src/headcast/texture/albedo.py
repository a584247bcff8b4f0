"""De-lit albedo of the face cell: estimate the photo's lighting on the projected skin and divide it out.

The projection pass gives every face-cell texel the photo's colour and the fitted mesh's normal in the camera
frame. On well-seen plain skin (photo weight × hair gate × skin samples × photo zone) the colours are fitted by one
achromatic second-order SH shading times an albedo (:func:`~headcast.texture.lighting.estimate_sh_lighting`),
and every seen texel's colour is divided by that shading (:func:`~headcast.texture.lighting.delight`) before the
completion steps, so the skin tone, the mirror and the fill all work on albedo. With ``delight_chroma =
"per_channel"`` each channel is divided by ``s ** k_c`` with exponents measured on the same skin (beard zone left
out; :func:`~headcast.texture.lighting.fit_channel_exponents`): red shading is softer on skin, and dividing one
grey shading out leaves a grey-blue lit cheek beside an orange shadow side.

How much of the shading is removed (the ``strength``, 0 = none, 1 = all) is the product of

* a map: ``plain_skin`` blurred by ``delight_blur_px`` (face-cell texels per 1024) — full on cheeks, forehead
  and nose bridge, fading to 0 over eyes, brows, lips and nostrils, where the fitted geometry is least
  trustworthy (eyelids, nostril rims, the lips' folds: dividing by its shading there makes glare) and the fit
  never looked;
* a global guard in [0, 1] (:func:`lighting_guard`): a lighting that explains little of the skin's variation, or
  whose dominant direction points away from the camera (light from behind the head, ``direction_z < 0`` in the
  camera frame, where the photo cannot show the lit side), is most likely a fit of something other than
  lighting (a smile's folds, a beard, a misfit) and is removed less or not at all.

The strength reached each atlas texel travels with the texture (:func:`delight_map` → ``UVTexture.delight_map``),
so that the renders multiply back exactly the shading that was divided out (:mod:`headcast.render.views`).
"""

from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.texture.fill import estimate_skin_tone, hair_gate
from headcast.texture.lighting import ShLighting, delight, estimate_sh_lighting, fit_channel_exponents
from headcast.texture.maps import AtlasMaps
from headcast.texture.settings import TextureSettings


@dataclass(frozen=True, eq=False)
class DelitFace:
    """The face cell's colours with the photo's lighting divided out.

    Attributes:
        color: ``(F, F, 3)`` float32 sRGB in [0, 1]: de-lit where the photo weight is > 0, the input elsewhere.
        lighting: the estimated lighting (camera frame); None when too few skin texels were seen to fit one. Its
            ``shading_range`` is the clamp the de-lighting used (the fitted range with its low end raised to
            ``TextureSettings.delight_floor``), so that a renderer multiplying the same clamped shading back
            (:func:`headcast.render.views.albedo_light`) inverts the de-lighting exactly.
        guard: the global strength factor the estimate earned (:func:`lighting_guard`; 0 without a lighting).
        strength: ``(F, F)`` float32 in [0, 1]: the fraction of the shading divided out of each seen texel
            (``guard`` × the blurred ``plain_skin``: 0 over eyes, brows, lips and nostrils); None when nothing was.
    """

    color: NDArray[np.float32]
    lighting: ShLighting | None
    guard: float
    strength: NDArray[np.float32] | None = None


def lighting_guard(lighting: ShLighting, explained: tuple[float, float], facing: tuple[float, float]) -> float:
    """How far to trust an estimated lighting for de-lighting, in [0, 1].

    ``smoothstep(explained, lighting.explained) · smoothstep(facing, lighting.direction[2])``: 0 when the shading
    explains less than ``explained[0]`` of the skin's variance or the dominant light direction's camera-frame z
    (towards the camera = +1, from behind the head = −1) is below ``facing[0]``; 1 above both upper ends.

    Args:
        lighting: a lighting in the camera frame.
        explained: ``(lo, hi)`` ramp on :attr:`ShLighting.explained`.
        facing: ``(lo, hi)`` ramp on the z of :attr:`ShLighting.direction`.
    """
    if not np.isfinite(lighting.explained):
        return 0.0
    return _smoothstep(explained, lighting.explained) * _smoothstep(facing, float(lighting.direction[2]))


def delight_face(
    color: NDArray[np.float32],
    weight: NDArray[np.float32],
    normal: NDArray[np.float32],
    maps: AtlasMaps,
    settings: TextureSettings,
    as_photographed: NDArray[np.float32] | None = None,
) -> DelitFace:
    """Estimate the photo's lighting on the face cell's skin and divide it out of the seen texels.

    Args:
        color: ``(F, F, 3)`` projected photo colours, sRGB [0, 1].
        weight: ``(F, F)`` raw photo weights (visibility × view angle × trust).
        normal: ``(F, F, 3)`` unit normals of the fitted mesh in the camera frame (``Projection.normal``).
        maps: model maps (skin samples, photo zone, hair-gate zones, plain skin).
        settings: ``delight_*`` fields (ridge, floor, strength map blur, guard ramps) and the skin fallback.
        as_photographed: ``(F, F)`` in [0, 1]: how much of each texel's photo colour is kept as photographed
            (its strength is scaled by ``1 − as_photographed``): texels the photo sees at a grazing angle or not
            at all but that take its colour anyway (the nose, :func:`headcast.texture.bake.complete_face`), where
            the shading of the fitted normals says nothing of the colour. None: none.

    Returns:
        The de-lit colours, the lighting (None if fewer than ``settings.delight_min_samples`` skin texels were
        usable) and the guard factor.

    Cost: ~0.1 s at a 1024² face cell with one BLAS thread, as the pipeline runs the bake
    (``PipelineSettings.blas_threads``); the solves are small, and threaded BLAS on a busy machine made the
    estimate several times slower.
    """
    fsize = weight.shape[0]
    px_scale = fsize / 1024.0
    fit_w = weight * maps.photo_zone * maps.skin_sample
    skin = estimate_skin_tone(color, weight, maps.skin_sample, settings.skin_fallback)
    if skin.samples:  # the fit needs skin, not hair over the forehead or a dark beard's shadow
        fit_w = fit_w * hair_gate(color, skin, maps.gate_full_half, maps.gate_hue_half, px_scale)
    if int(np.count_nonzero(fit_w > 0.5)) < settings.delight_min_samples:
        return DelitFace(color, None, 0.0)
    try:
        lighting = estimate_sh_lighting(color, normal, fit_w, ridge=settings.delight_ridge)
    except ValueError:  # all samples clipped, or no positive shading: leave the photo as it is
        return DelitFace(color, None, 0.0)
    if settings.delight_chroma == "per_channel":
        # a beard darkens the chin, which faces away from an overhead light: it would pass for shading's hue
        lighting = fit_channel_exponents(color, normal, fit_w * (1.0 - maps.beard_zone), lighting)
    lo, hi = lighting.shading_range  # the clamp `delight` applies, recorded for the renders that relight
    lighting = replace(lighting, shading_range=(max(lo, settings.delight_floor), max(hi, settings.delight_floor)))
    guard = lighting_guard(lighting, settings.delight_explained, settings.delight_facing)
    if guard <= 0.0:
        return DelitFace(color, lighting, 0.0)
    strength = face_strength(maps, settings, guard)
    if as_photographed is not None:
        strength = (strength * (1.0 - np.clip(as_photographed, 0.0, 1.0))).astype(np.float32)
    seen = weight > 0
    out = color.copy()
    out[seen] = delight(color[seen], normal[seen], lighting, settings.delight_floor, strength[seen])
    return DelitFace(out, lighting, guard, strength)


def face_strength(maps: AtlasMaps, settings: TextureSettings, guard: float) -> NDArray[np.float32]:
    """``(F, F)`` float32: how much of the shading :func:`delight_face` divides out of each face-cell texel.

    ``plain_skin`` blurred by ``settings.delight_blur_px`` (face-cell texels per 1024) times the ``guard``.
    """
    px_scale = maps.plain_skin.shape[0] / 1024.0
    blurred = cv2.GaussianBlur(maps.plain_skin, (0, 0), settings.delight_blur_px * px_scale)
    return np.asarray(blurred, np.float32) * np.float32(guard)


def delight_map(
    maps: AtlasMaps, strength: NDArray[np.float32] | None, coverage: NDArray[np.float32], guard: float
) -> NDArray[np.uint8]:
    """How much of the lighting each atlas texel had divided out, for renders that put it back.

    A face texel's final colour mixes the de-lit photo (weight ``coverage``, strength ``strength``) with the
    completion, which is made of de-lit colours and the skin tone measured on them (strength ``guard``); every
    other cell is skin tone or a painted albedo (``guard``). Gutters copy their chart texels like the atlas's.

    Args:
        maps: the atlas maps (face box, gutter index).
        strength: ``(F, F)`` per-texel strength of :func:`delight_face` (None: ``guard`` everywhere).
        coverage: ``(F, F)`` final photo weight of the face cell (``CompletedFace.weight``).
        guard: the estimate's global strength (:attr:`DelitFace.guard`).

    Returns:
        ``(S, S)`` uint8, 255 = all of the shading divided out, row 0 = top (like the atlas image).
    """
    level = np.float32(255.0 * guard)
    atlas = np.full((maps.size, maps.size), np.clip(np.rint(level), 0, 255), np.uint8)
    if strength is not None:
        r0, r1, c0, c1 = maps.face_box
        face = coverage * strength + (1.0 - coverage) * np.float32(guard)
        atlas[r0:r1, c0:c1] = np.clip(np.rint(255.0 * face), 0, 255).astype(np.uint8)
        flat = atlas.reshape(-1)
        flat[maps.gutter_dst] = flat[maps.gutter_src]
    return atlas


def _smoothstep(edges: tuple[float, float], x: float) -> float:
    """``3t² − 2t³`` of ``t = clip((x − lo) / (hi − lo), 0, 1)``; a step at ``lo`` when ``lo == hi``."""
    lo, hi = edges
    if hi <= lo:
        return 1.0 if x >= lo else 0.0
    t = min(1.0, max(0.0, (x - lo) / (hi - lo)))
    return t * t * (3.0 - 2.0 * t)

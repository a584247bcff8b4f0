"""``bake_texture``: the photo projected into the face cell of the atlas, completed, plus painted materials.

Steps (see DESIGN.md): project the photo through the fitted mesh (visibility, view angle, face-outline trust,
and — with face-parsing classes — no pixel of hair, glasses, hands or clothes) → divide the photo's lighting,
estimated on the seen skin, out of it (albedo) → measure the skin tone on visible front-facing skin → drop
hair-coloured texels above the eyes → feather the weights and fade them out before the seam to the back of the
head → complete occluded texels from the mirrored side → continue the remaining low-frequency colour smoothly to
the skin tone (membrane), with skin detail from the photo → paint eyes, teeth, gums, mouth and eye sockets,
lashes → project the photo's teeth where it shows them (:mod:`headcast.texture.teeth`) → copy chart borders into the
gutters.
"""

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.fitting.types import FitResult
from headcast.geometry.camera import Camera, project, transform_points, turn_from_camera_deg
from headcast.headmodel.base import LinearHeadModel, MaterialRole, head_vertices
from headcast.landmarks.types import Landmarks, Photo
from headcast.parsing.face import FaceClass
from headcast.render.context import Renderer, default_renderer
from headcast.render.raster import smooth_normals
from headcast.texture.albedo import delight_face, delight_map
from headcast.texture.atlas import opaque_triangle_mask
from headcast.texture.blend import membrane_fill
from headcast.texture.detail import photo_skin_detail, tile
from headcast.texture.eyeball import EyePhotoSettings, project_eyeballs
from headcast.texture.fill import SkinTone, estimate_skin_tone, feather_weight, hair_gate, push_pull
from headcast.texture.maps import AtlasMaps, Region, atlas_maps
from headcast.texture.materials import (
    exposure_factor,
    measure_eyes,
    mouth_texels,
    paint_eye,
    paint_eye_from_profile,
    paint_mouth,
)
from headcast.texture.occlusion import occlusion_trust
from headcast.texture.project import FACE_OVAL, face_trust_mask, project_photo
from headcast.texture.register import feature_shifts
from headcast.texture.settings import TextureSettings
from headcast.texture.teeth import TeethPhotoSettings, TeethProjection, blend_teeth, project_teeth, teeth_trust
from headcast.texture.types import UVTexture


def bake_texture(
    photo: Photo,
    fit: FitResult,
    model: LinearHeadModel,
    settings: TextureSettings,
    *,
    landmarks: Landmarks | None = None,
    renderer: Renderer | None = None,
    classes: NDArray[np.uint8] | None = None,
) -> UVTexture:
    """Bake a UV atlas for the fitted head from its photo.

    Args:
        photo: the photo the head was fitted to.
        fit: fitted identity, expression, pose and camera (``fit.camera`` matches ``photo.pixels``).
        model: the head model (material roles, atlas layout, parts).
        settings: atlas size, weighting and material colours.
        landmarks: the detector's landmarks (face outline and irises); ``fit.landmarks_2d`` when None.
        renderer: GL owner; the process default when None.
        classes: ``(H, W)`` uint8 face-parsing classes of ``photo.pixels`` (:class:`headcast.parsing.FaceClass`);
            when given, pixels of hair, hat, glasses, jewellery, clothes and background (a hand) get no photo
            weight (:func:`~headcast.texture.occlusion.occlusion_trust`). None: the face outline alone limits it.

    Returns:
        the atlas image (``settings.atlas_size``²), the atlas UV of every model UV, the per-texel photo
        weight (``coverage``: 1 where the colour is the photo's own view of that texel, 0 where completed or
        painted) and, with ``settings.delight``, the photo's estimated lighting (camera frame) and how much of
        it was divided out (:mod:`headcast.texture.albedo`).

    Raises:
        ValueError: ``classes`` is not ``(H, W)`` of the photo.
    """
    renderer = default_renderer() if renderer is None else renderer
    maps = atlas_maps(model, settings.atlas_size, renderer)
    points = landmarks.points[:, :2] if landmarks is not None else fit.landmarks_2d
    params = fit.params

    verts = transform_points(head_vertices(model, params), params.pose)
    opaque = model.triangles[opaque_triangle_mask(model)]
    normals = smooth_normals(verts, opaque)
    trust = face_trust_mask(photo.pixels.shape[:2], points, settings.oval_erosion, settings.oval_feather)
    face_width = float(np.ptp(np.asarray(points, np.float64)[list(FACE_OVAL), 0]))
    if classes is not None:
        if classes.shape != photo.pixels.shape[:2]:
            raise ValueError(f"classes {classes.shape} do not match the photo {photo.pixels.shape[:2]}")
        keep = occlusion_trust(
            classes, face_width, settings.occluder_dilation, settings.occluder_feather, pixels=photo.pixels
        )
        trust = ((trust.astype(np.uint16) * keep.astype(np.uint16) + 127) // 255).astype(np.uint8)
    shifts = None
    if settings.register_features and landmarks is not None:
        face_ids = np.unique(maps.face_triangles)  # only the face cell's corners are projected
        shifts = np.zeros((len(verts), 2), np.float32)
        face_px = project(verts[face_ids], fit.camera)
        shifts[face_ids] = feature_shifts(
            landmarks.points[:, :2],
            fit.landmarks_2d,
            face_px,
            settings.register_smoothing,
            settings.register_fade,
            settings.register_max_shift,
        )
    r0, r1, c0, c1 = maps.face_box
    proj = project_photo(
        photo.pixels,
        trust,
        fit.camera,
        verts,
        normals,
        opaque,
        maps.face_triangles,
        maps.face_uv,
        r1 - r0,
        settings.depth_tolerance,
        settings.grazing_cos,
        renderer,
        with_normals=settings.delight,
        shifts_px=shifts,
    )
    # the nose takes the photo wherever the photo trusts it (see complete_face) only while the head faces the
    # camera: turned away, the far flank's texels project onto the near side of the nose
    frontal = frontal_factor(params.pose.matrix, settings.nose_turn_deg) if settings.nose_from_photo else 0.0
    nose_trust = proj.trust * np.float32(frontal) if frontal > 0.0 else None
    color, lighting, strength, delit = proj.color, None, 0.0, None
    if settings.delight and proj.normal is not None:
        kept = None
        if nose_trust is not None:  # what the nose takes beyond what the camera sees is kept as photographed
            seen = np.clip(proj.weight / np.maximum(nose_trust, 1e-3), 0.0, 1.0)
            kept = (maps.nose_zone * (1.0 - seen) * (nose_trust > 0)).astype(np.float32)
        delit = delight_face(proj.color, proj.weight, proj.normal, maps, settings, as_photographed=kept)
        color, lighting, strength = delit.color, delit.lighting, delit.guard
    done = complete_face(color, proj.weight, maps, settings, face_width_px=face_width, nose_trust=nose_trust)
    strength_map = (
        None if delit is None or lighting is None else delight_map(maps, delit.strength, done.weight, strength)
    )
    face, weight, skin = done.color, done.weight, done.skin
    eyes = measure_eyes(photo.pixels, points)
    iris_rgb = np.asarray(settings.iris_fallback, np.float32) if eyes.iris is None else eyes.iris
    exposure = exposure_factor(eyes.sclera_luminance, settings.sclera)
    profile = eyes.iris_profile if settings.iris_from_photo else None
    whites = eyes.sclera_rgb if settings.iris_from_photo else None
    image = paint_atlas(maps, face, skin, iris_rgb, settings, exposure, done.detail, profile, whites)
    paint_mouth_cells(image, maps, model, settings, exposure, renderer)
    coverage = np.zeros((maps.size, maps.size), np.float32)
    coverage[r0:r1, c0:c1] = weight
    # cells the photo textures where it shows them (eyeballs, teeth), blended over their painted colours
    from_photo: dict[MaterialRole, TeethProjection] = {}
    if settings.eyes_from_photo:
        from_photo.update(
            project_eyeballs(
                photo.pixels,
                points,
                fit.camera,
                verts,
                normals,
                opaque,
                model,
                maps.uv,
                maps.cell_boxes,
                settings.grazing_cos,
                EyePhotoSettings(),
                renderer,
            )
        )
    if settings.teeth_from_photo and model.has_material("teeth") and len(maps.cell_boxes.get("teeth", ())) == 1:
        mouth = None if classes is None else classes == FaceClass.MOUTH
        from_photo["teeth"] = photo_teeth(
            photo, points, mouth, fit.camera, verts, normals, opaque, model, maps, settings, renderer
        )
    for role, seen in from_photo.items():
        c0, c1, c2, c3 = maps.cell_boxes[role][0]
        image[c0:c1, c2:c3] = _to_uint8(blend_teeth(image[c0:c1, c2:c3].astype(np.float32) / 255.0, seen))
        coverage[c0:c1, c2:c3] = seen.weight
    if from_photo:
        flat = image.reshape(-1, 3)
        flat[maps.gutter_dst] = flat[maps.gutter_src]
    return UVTexture(image, maps.uv.copy(), coverage, lighting, strength, strength_map)


@dataclass(frozen=True, eq=False)
class CompletedFace:
    """The face cell after completion.

    Attributes:
        color: ``(F, F, 3)`` float32 completed colours, sRGB [0, 1].
        weight: ``(F, F)`` float32 final photo weights (the coverage).
        skin: the measured skin tone.
        detail: ``(N, N, 3)`` float32 periodic relative skin detail from the photo (``skin_detail="photo"``), also
            used for the rest of the head's skin; None: synthetic grain.
    """

    color: NDArray[np.float32]
    weight: NDArray[np.float32]
    skin: SkinTone
    detail: NDArray[np.float32] | None


def complete_face(
    color: NDArray[np.float32],
    weight: NDArray[np.float32],
    maps: AtlasMaps,
    settings: TextureSettings,
    face_width_px: float | None = None,
    nose_trust: NDArray[np.float32] | None = None,
) -> CompletedFace:
    """Turn the raw projection of the face cell into a complete face texture.

    Args:
        color: ``(F, F, 3)`` projected photo colours, sRGB [0, 1].
        weight: ``(F, F)`` raw photo weights.
        maps: model maps (photo zone, mirror map, hair risk, seam fade, grain).
        settings: feathering, mirror, hair gate, completion, skin detail.
        face_width_px: the face's width in the photo, pixels; below ``settings.detail_min_face_px`` the photo is
            too small to show skin texture (its high-pass is interpolation and compression noise) and the
            synthetic grain is used. None: not checked.
        nose_trust: ``(F, F)`` the photo's trust where each texel projects (``Projection.trust``): on the nose
            (``AtlasMaps.nose_zone``) the weight is the trust alone, without view angle and visibility: the photo
            sees the flanks at a grazing angle and the nostrils' inside not at all, yet their colour where they
            project (the flank's shade, the nostril's dark opening) is the only one there is, and counted as
            unseen the weights' erosion takes the nostrils out of the texture. None: not done.
    """
    fsize = weight.shape[0]
    px_scale = fsize / 1024.0
    skin = estimate_skin_tone(color, weight, maps.skin_sample, settings.skin_fallback)
    w = weight * maps.photo_zone
    if settings.hair_gate and skin.samples:
        # over the forehead, temples and cheeks: anything far from the skin tone (hair of any colour); around
        # the mouth and chin only colours of a different hue, so that beards and stubble stay
        w = w * hair_gate(color, skin, maps.gate_full_half, maps.gate_hue_half, px_scale)
    if nose_trust is not None:  # after the hair gate: the nose's shade and nostrils are dark, not hair
        w = np.maximum(w, maps.nose_zone * nose_trust * maps.photo_zone)
    w = feather_weight(
        w.astype(np.float32), round(settings.weight_erosion_px * px_scale), settings.weight_feather_px * px_scale
    )
    w *= maps.seam_fade

    c2, w2 = color, w
    if settings.mirror:
        mx, my = maps.mirror_xy[..., 0], maps.mirror_xy[..., 1]
        cm = np.asarray(cv2.remap(color, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT), np.float32)
        wm = np.asarray(cv2.remap(w, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT), np.float32)
        w2 = w + (1.0 - w) * wm
        mixed = (w[..., None] * color + ((1.0 - w) * wm)[..., None] * cm) / np.maximum(w2, 1e-6)[..., None]
        c2 = mixed.astype(np.float32)
    r0, r1, c0, c1 = maps.face_box
    detail = None
    if settings.skin_detail == "photo" and (face_width_px is None or face_width_px >= settings.detail_min_face_px):
        size = max(8, round(settings.detail_patch * px_scale))
        detail = photo_skin_detail(color, w, maps.skin_sample, size, settings.detail_sigma_px * px_scale)
    if detail is None:
        grain = (1.0 + settings.skin_noise * maps.grain[r0:r1, c0:c1])[..., None]
    else:
        grain = 1.0 + tile(detail, (fsize, fsize))
    if settings.completion == "membrane":
        fill = membrane_fill(c2, w2, maps.seam_fade, skin.rgb, settings.membrane_grid, settings.membrane_screening)
        fill = fill * grain
    else:
        # the fill only needs low frequencies: extrapolate at half resolution
        half = (fsize // 2, fsize // 2)
        weighted = ((c2 - skin.rgb) * w2[..., None]).astype(np.float32)
        res_small = np.asarray(cv2.resize(weighted, half, interpolation=cv2.INTER_AREA), np.float32)
        w_small = np.asarray(cv2.resize(w2, half, interpolation=cv2.INTER_AREA), np.float32)
        mean_small = (res_small / np.maximum(w_small, 1e-6)[..., None]).astype(np.float32)
        res_small = push_pull(mean_small, w_small, settings.fill_decay)
        residual = np.asarray(cv2.resize(res_small, (fsize, fsize), interpolation=cv2.INTER_LINEAR), np.float32)
        fill = (skin.rgb + residual * maps.seam_fade[..., None]) * grain
    out = fill + w2[..., None] * (c2 - fill)
    return CompletedFace(np.clip(out, 0.0, 1.0), w, skin, detail)


def frontal_factor(pose: NDArray[np.floating], turn_deg: tuple[float, float]) -> float:
    """How frontal the photo is: 1 to 0 as the head turns from ``turn_deg[0]`` to ``turn_deg[1]`` degrees.

    The turn is :func:`~headcast.geometry.camera.turn_from_camera_deg` of ``pose``, the ``(4, 4)``
    model-to-camera matrix.
    """
    turn = turn_from_camera_deg(pose)
    lo, hi = turn_deg
    return float(np.clip((hi - turn) / max(hi - lo, 1e-9), 0.0, 1.0))


def paint_atlas(
    maps: AtlasMaps,
    face: NDArray[np.float32],
    skin: SkinTone,
    iris_rgb: NDArray[np.float32],
    settings: TextureSettings,
    exposure: float = 1.0,
    detail: NDArray[np.float32] | None = None,
    iris_profile: NDArray[np.float32] | None = None,
    sclera_rgb: NDArray[np.float32] | None = None,
) -> NDArray[np.uint8]:
    """Assemble the atlas: the completed face cell, skin for the back of the head, painted materials, gutters.

    Args:
        maps: model maps (regions, grain, gutter, catchlights).
        face: ``(F, F, 3)`` completed face cell, sRGB [0, 1].
        skin: skin tone for the back of the head and the eye sockets.
        iris_rgb: ``(3,)`` iris colour.
        settings: material colours.
        exposure: brightness factor for the eye whites and teeth (see
            :func:`~headcast.texture.materials.exposure_factor`).
        detail: ``(N, N, 3)`` periodic relative skin detail for the head's skin (tiled); None: synthetic grain.
        iris_profile: ``(B, 3)`` the photo's iris ring colours (:attr:`~headcast.texture.materials.EyeMeasurement.
            iris_profile`): the eyes are painted with them (:func:`~headcast.texture.materials.
            paint_eye_from_profile`); None: the procedural iris in ``iris_rgb``.
        sclera_rgb: ``(3,)`` the photo's eye whites (:attr:`~headcast.texture.materials.EyeMeasurement.
            sclera_rgb`), painted instead of ``settings.sclera`` × ``exposure``; None: those.

    Returns:
        ``(S, S, 3)`` uint8 sRGB atlas, row 0 = top.
    """
    size = maps.size
    # skin wherever no cell of the model lies (a model without teeth, gums or lashes leaves their cells unused)
    atlas = np.broadcast_to(_to_uint8(skin.rgb), (size, size, 3)).copy()

    box = maps.cell_box
    atlas[box("face")] = _to_uint8(face)
    rows, cols = box("head")
    grain = maps.grain[rows, cols]
    if detail is None:
        back = skin.rgb * (1.0 + settings.skin_noise * grain)[..., None]
    else:
        back = skin.rgb * (1.0 + tile(detail, grain.shape))
    region = maps.region[rows, cols]
    mouth = region == Region.MOUTH_SOCKET
    back[mouth] = np.asarray(settings.mouth_socket, np.float32) * (1.0 + 0.08 * grain[mouth])[:, None]
    socket = region == Region.EYE_SOCKET
    socket_rgb = (0.5 * skin.rgb + 0.5 * np.asarray(settings.eye_socket, np.float32)) * 0.85
    back[socket] = socket_rgb * (1.0 + 0.05 * grain[socket])[:, None]
    atlas[rows, cols] = _to_uint8(back)
    painted: tuple[tuple[MaterialRole, tuple[float, ...], float], ...] = (
        ("gums_tongue", settings.gums_tongue, 0.06),
        ("teeth", tuple(max(exposure, 0.8) * np.asarray(settings.teeth)), 0.03),  # teeth are lit: dim less
        ("lashes", settings.lashes, 0.0),
        ("overlay", tuple(skin.rgb), 0.0),  # transparent shells (every cell of the role)
    )
    for role, rgb, amount in painted:
        for r0, r1, c0, c1 in maps.cell_boxes.get(role, ()):
            rows, cols = slice(r0, r1), slice(c0, c1)
            colour = np.asarray(rgb, np.float32)
            if amount:
                atlas[rows, cols] = _to_uint8(colour * (1.0 + amount * maps.grain[rows, cols])[..., None])
            else:
                atlas[rows, cols] = _to_uint8(colour)
    if sclera_rgb is None:
        sclera = (exposure * settings.sclera[0], exposure * settings.sclera[1], exposure * settings.sclera[2])
    else:
        sclera = (float(sclera_rgb[0]), float(sclera_rgb[1]), float(sclera_rgb[2]))
    eyes: tuple[tuple[MaterialRole, Literal["sclera", "iris"]], ...] = (
        ("sclera_left", "sclera"),
        ("sclera_right", "sclera"),
        ("iris_left", "iris"),
        ("iris_right", "iris"),
    )
    for role, kind in eyes:
        if not maps.cell_boxes.get(role):  # e.g. FLAME's eyeball is one sphere: sclera cells only
            continue
        rows, cols = box(role)
        uv = maps.catchlight_uv.get(role) if settings.catchlight else None
        glint = None if uv is None else (float(uv[0]), float(uv[1]))
        n = rows.stop - rows.start
        if iris_profile is None:
            painted_eye = paint_eye(n, kind, iris_rgb, sclera, settings.pupil, glint)
        else:
            painted_eye = paint_eye_from_profile(n, kind, iris_profile, sclera, glint)
        atlas[rows, cols] = _to_uint8(painted_eye)
    flat = atlas.reshape(-1, 3)
    flat[maps.gutter_dst] = flat[maps.gutter_src]
    return atlas


def paint_mouth_cells(
    image: NDArray[np.uint8],
    maps: AtlasMaps,
    model: LinearHeadModel,
    settings: TextureSettings,
    exposure: float,
    renderer: Renderer,
) -> None:
    """Repaint the gums/tongue and teeth cells of ``image`` in place from the rest-pose geometry.

    :func:`~headcast.texture.materials.paint_mouth`: gums vs tongue, darker towards the back; a no-op for a model
    without those materials.
    """
    texels = mouth_texels(model, maps.size, renderer)
    if texels is None:
        return
    (g0, g1, g2, g3), (t0, t1, t2, t3) = (maps.cell_boxes[role][0] for role in ("gums_tongue", "teeth"))
    teeth = tuple(max(exposure, 0.8) * np.asarray(settings.teeth))  # teeth are lit: dim less
    tissue = tuple(exposure * np.asarray(settings.gums_tongue))  # as dim as the photo's eye whites
    gums, tooth = paint_mouth(texels, tissue, teeth, maps.grain[g0:g1, g2:g3], maps.grain[t0:t1, t2:t3])
    image[g0:g1, g2:g3] = _to_uint8(gums)
    image[t0:t1, t2:t3] = _to_uint8(tooth)
    flat = image.reshape(-1, 3)
    flat[maps.gutter_dst] = flat[maps.gutter_src]


def photo_teeth(
    photo: Photo,
    points: NDArray[np.floating],
    mouth_class: NDArray[np.bool_] | None,
    camera: Camera,
    vertices_cam: NDArray[np.floating],
    normals_cam: NDArray[np.floating],
    opaque: NDArray[np.integer],
    model: LinearHeadModel,
    maps: AtlasMaps,
    settings: TextureSettings,
    renderer: Renderer,
) -> TeethProjection:
    """The photo's teeth projected into the teeth cell (:mod:`headcast.texture.teeth`); zero weight when unseen."""
    teeth_settings = TeethPhotoSettings()
    trust = teeth_trust(photo.pixels, points, teeth_settings, mouth_class)
    t0, t1, _, _ = maps.cell_boxes["teeth"][0]
    return project_teeth(
        photo.pixels,
        trust,
        camera,
        vertices_cam,
        normals_cam,
        opaque,
        model,
        maps.uv,
        t1 - t0,
        settings.grazing_cos,
        teeth_settings,
        renderer,
    )


def _to_uint8(rgb: NDArray[np.floating]) -> NDArray[np.uint8]:
    """Convert sRGB in [0, 1] to uint8 (rounded, clipped)."""
    return np.clip(np.asarray(rgb, np.float32) * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)

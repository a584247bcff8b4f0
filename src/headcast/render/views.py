"""Pictures of a head: the avatar at the photo's camera, a photo | render | overlay preview, and turntables.

All functions return ``(H, W, 3|4)`` uint8 images, row 0 at the top (docs/conventions.md).

Lighting: a texture without a lighting estimate (``TextureSettings.delight`` off) is drawn under the render
settings' lambert light (``RenderSettings.light_dir``, ``ambient``). A texture that carries one
(``UVTexture.lighting``: the photo's light, of which ``delight_strength`` was divided out) is an albedo and is drawn
under that estimate instead (:func:`albedo_light`), so the photo's own view shows the photo's shading again.

Convention (the light stays in the room, the head turns):
    The estimate is expressed in the photo's camera frame. Every view here is taken by a camera standing where the
    photo's camera stood, looking the same way (the photo's camera; a turntable's or an evaluation's fixed
    camera), and what changes between views is the head's pose (the fitted pose, a yaw). The light, fixed in that
    room, therefore has the same coefficients in every view's camera frame, and the shader evaluates it on
    camera-frame normals: a head turned by ``R`` is lit at model normal ``n`` by ``shading(R · n, L)``, which is
    ``shading(n, rotate_lighting(L, R))`` — the light does not turn with the head.
"""

from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.avatar import Avatar
from headcast.geometry.camera import Camera, HeadPose, camera_from_fov, transform_points
from headcast.geometry.rotation import axis_angle_to_matrix
from headcast.headmodel.base import HeadParams, LinearHeadModel, head_vertices
from headcast.landmarks.types import Photo
from headcast.render.context import Renderer
from headcast.render.eyes import DEFAULT_EYE_OCCLUSION, EyeOcclusionSettings, lid_polylines
from headcast.render.mouth import DEFAULT_CAVITY, CavitySettings, cavity_occlusion
from headcast.render.raster import LineSet, MeshDraw, RenderResult, RenderSettings, ShLight, render, smooth_normals
from headcast.texture.atlas import opaque_triangle_mask
from headcast.texture.lighting import shading_matrix
from headcast.texture.types import UVTexture

#: Turntable background: neutral mid grey (sRGB 128).
GREY = (0.5, 0.5, 0.5)
#: Default turntable look: lambert shading on grey, 2 × 2 supersampling.
TURNTABLE_SETTINGS = RenderSettings(background=GREY, supersample=2)


#: Bounds on the clamp of an albedo light's shading (a range the bake did not bound, e.g. ``(0, inf)``).
_SHADING_BOUNDS = (1e-3, 1e3)


def albedo_light(texture: UVTexture) -> ShLight | None:
    """The light an albedo texture is drawn under: the photo's lighting its bake divided out (camera frame).

    The inverse of :func:`headcast.texture.lighting.delight` as the bake applied it: the same coefficients,
    per-channel exponents, shading range (which the texture stage raised to its de-lighting floor) and strength
    per texel (``texture.delight_map``: less over eyes, brows, lips and nostrils, whose photo shading was kept;
    without a map ``texture.delight_strength`` everywhere). Strength 0 (the guard kept the photo's shading) draws
    the texture as it is, with only the mouth cavity darkened.

    Args:
        texture: a baked atlas.

    Returns:
        The :class:`~headcast.render.raster.ShLight` for the camera frame of every view (module docstring), or None
        when the texture carries no lighting estimate (de-lighting off, or too little skin seen to fit one).
    """
    est = texture.lighting
    if est is None:
        return None
    lo, hi = est.shading_range
    lo = min(max(lo, _SHADING_BOUNDS[0]), _SHADING_BOUNDS[1])
    hi = min(max(hi, lo), _SHADING_BOUNDS[1])
    k = tuple(float(c) for c in est.channel_exponents)
    per_texel = texture.delight_map is not None  # the map holds the guard's strength too
    return ShLight(
        shading_matrix(est),
        (k[0], k[1], k[2]),
        1.0 if per_texel else float(np.clip(texture.delight_strength, 0.0, 1.0)),
        (lo, hi),
        max(est.ambient, 0.0),
        texture.delight_map,
    )


def head_mesh_draw(
    model: LinearHeadModel,
    vertices_cam: NDArray[np.floating],
    texture: UVTexture,
    normals_cam: NDArray[np.floating] | None = None,
    light_dir: tuple[float, float, float] = RenderSettings.light_dir,
    cavity: CavitySettings | None = DEFAULT_CAVITY,
    eyes: EyeOcclusionSettings | None = DEFAULT_EYE_OCCLUSION,
) -> MeshDraw:
    """The opaque part of a head (transparent eye shells and lash cards left out) as a drawable mesh.

    An albedo texture (one with a lighting estimate) is drawn under that estimate (:func:`albedo_light`, module
    docstring), and the lips' shadow into the mouth follows the estimate's dominant direction.

    Args:
        model: topology, UV indices and materials.
        vertices_cam: ``(V, 3)`` camera-frame vertices, metres.
        texture: atlas image and atlas UVs, and the lighting estimate when the texture is an albedo.
        normals_cam: ``(V, 3)`` camera-frame unit normals; computed from the opaque triangles when None.
        light_dir: direction towards the light in the camera frame (for the lips' shadow into the mouth) when the
            texture carries no lighting estimate.
        cavity: darkening of the inside of the mouth by the lips' opening (:mod:`headcast.render.mouth`);
            None leaves it as bright as the face.
        eyes: the lids' soft shadow on the eyeballs (:mod:`headcast.render.eyes`); None draws the eyeballs evenly
            lit up to the lid edge.
    """
    keep = opaque_triangle_mask(model)
    tris = model.triangles[keep]
    uv = texture.uv[model.triangle_uvs[keep]]  # (T', 3, 2) per corner: UV seams stay sharp
    normals = smooth_normals(vertices_cam, tris) if normals_cam is None else normals_cam
    light = albedo_light(texture)
    towards = light_dir if texture.lighting is None else texture.lighting.direction
    occlusion = None if cavity is None else cavity_occlusion(model, vertices_cam, towards, cavity)
    lids = None if eyes is None else lid_polylines(model, vertices_cam, viewpoint=np.zeros(3))  # camera at 0
    lid_edges, lid_eye = (None, None) if lids is None else lids
    heights = (1e-3, 1e-3) if eyes is None else (1e-3 * eyes.upper_mm, 1e-3 * eyes.lower_mm)
    return MeshDraw(np.asarray(vertices_cam, np.float32), tris, uv, texture.image, normals, occlusion=occlusion,
                    lighting=light, lid_edges=lid_edges, lid_eye=lid_eye, lid_height=heights)


def render_head(
    model: LinearHeadModel,
    params: HeadParams,
    texture: UVTexture,
    camera: Camera,
    pose: HeadPose | None = None,
    settings: RenderSettings | None = None,
    strands: Sequence[LineSet] = (),
    renderer: Renderer | None = None,
    eyes: EyeOcclusionSettings | None = DEFAULT_EYE_OCCLUSION,
) -> RenderResult:
    """Render a textured head (identity, expression and joint pose from ``params``) seen by ``camera``.

    Args:
        model: the head model.
        params: identity, expression, joint rotations (a skinned model's jaw, ...) and (default) pose.
        texture: the baked atlas.
        camera: intrinsics of the output image.
        pose: model-to-camera transform; ``params.pose`` when None.
        settings: shading, background, supersampling (``RenderSettings()`` when None).
        strands: line sets in the **model** frame (e.g. hair), moved with the head.
        renderer: GL owner; the process default when None.
        eyes: the lids' shadow on the eyeballs (:func:`head_mesh_draw`); None: off.
    """
    settings = RenderSettings() if settings is None else settings
    pose = params.pose if pose is None else pose
    verts = transform_points(head_vertices(model, params), pose)
    lines = [replace(s, vertices=transform_points(s.vertices, pose)) for s in strands]
    mesh = head_mesh_draw(model, verts, texture, light_dir=settings.light_dir, eyes=eyes)
    return render(camera, [mesh], lines, settings, renderer)


def render_avatar(
    avatar: Avatar,
    camera: Camera | None = None,
    pose: HeadPose | None = None,
    settings: RenderSettings | None = None,
    renderer: Renderer | None = None,
    strands: Sequence[LineSet] = (),
    eyes: EyeOcclusionSettings | None = DEFAULT_EYE_OCCLUSION,
) -> RenderResult:
    """Render an avatar, by default exactly as fitted to its photo (the photo's camera and the fitted pose).

    ``strands`` are model-frame line sets drawn with the head (e.g. ``headcast.hair.display.strands_line_set``);
    ``eyes``: the lids' shadow on the eyeballs (:func:`head_mesh_draw`), None: off.
    """
    cam = avatar.fit.camera if camera is None else camera
    return render_head(
        avatar.model, avatar.fit.params, avatar.texture, cam, pose, settings, strands=strands, renderer=renderer,
        eyes=eyes,
    )


def preview_image(
    photo: Photo, rendered: RenderResult, max_height: int = 512, overlay_alpha: float = 0.6
) -> NDArray[np.uint8]:
    """Side-by-side ``photo | render on grey | render blended over the photo``.

    Args:
        photo: the input photo.
        rendered: a render at the photo's camera (any scale of it; the photo is resized to match).
        max_height: panels are downscaled to at most this height.
        overlay_alpha: opacity of the render in the overlay panel.

    Returns:
        ``(h, 3·w, 3)`` uint8 sRGB.
    """
    h, w = rendered.color.shape[:2]
    scale = min(1.0, max_height / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    pic = cv2.resize(photo.pixels, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    col = cv2.resize(rendered.color, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = col[..., 3:4] / 255.0
    rgb = col[..., :3]
    straight = rgb / np.maximum(alpha, 1e-3)  # undo compositing over the render's own background
    straight = np.where(alpha > 0, straight, 0.0)
    on_grey = alpha * straight + (1.0 - alpha) * np.float32(255 * GREY[0])
    a = overlay_alpha * alpha
    overlay = a * straight + (1.0 - a) * pic
    panels = [pic, on_grey, overlay]
    return np.clip(np.rint(np.concatenate(panels, axis=1)), 0, 255).astype(np.uint8)


def turntable_pose(model_vertices: NDArray[np.floating], yaw: float, distance: float) -> HeadPose:
    """Pose that turns the head by ``yaw`` about its vertical axis and puts its centre ``distance`` ahead.

    The axis passes through the bounding-box centre of the vertices; the head stays upright (no pitch or roll).

    Args:
        model_vertices: ``(V, 3)`` model-frame vertices, metres.
        yaw: rotation about +y in radians (positive turns the face towards the image's right).
        distance: metres from the camera to the head centre.
    """
    v = np.asarray(model_vertices, dtype=np.float64)
    centre = 0.5 * (v.min(axis=0) + v.max(axis=0))
    rot = np.array([0.0, yaw, 0.0])
    r = axis_angle_to_matrix(rot)
    return HeadPose(rot, -r @ centre + np.array([0.0, 0.0, -distance]))


def turntable_image(
    model: LinearHeadModel,
    params: HeadParams,
    texture: UVTexture,
    yaws_deg: Sequence[float] = (-90.0, -45.0, 0.0, 45.0, 90.0),
    size: int = 384,
    columns: int | None = None,
    fov_deg: float = 20.0,
    settings: RenderSettings | None = None,
    strands: Sequence[LineSet] = (),
    renderer: Renderer | None = None,
) -> NDArray[np.uint8]:
    """A grid of views of the head turned by each yaw, seen by a fixed camera on a neutral grey background.

    Args:
        model: the head model.
        params: identity, expression and joint rotations (the fitted head pose is ignored: the head is upright,
            facing the camera at yaw 0).
        texture: the baked atlas.
        yaws_deg: head yaw per view, degrees.
        size: side of each square view, pixels.
        columns: views per row (all in one row when None).
        fov_deg: the camera's field of view; the distance is chosen so the whole head fits.
        settings: shading and supersampling; None gives lambert shading, a grey background and 4× supersampling.
        strands: model-frame line sets drawn with the head.
        renderer: GL owner; the process default when None.

    Returns:
        ``(rows · size, columns · size, 3)`` uint8 sRGB.
    """
    settings = TURNTABLE_SETTINGS if settings is None else settings
    verts = head_vertices(model, params)
    extent = verts.max(axis=0) - verts.min(axis=0)
    radius = 0.5 * float(np.linalg.norm(extent[:2])) * 1.02
    distance = radius / np.tan(np.deg2rad(fov_deg) / 2.0) + 0.5 * float(extent[2])
    camera = camera_from_fov(size, size, fov_deg)
    normals = smooth_normals(verts, model.triangles[opaque_triangle_mask(model)])
    views = []
    for yaw in yaws_deg:
        pose = turntable_pose(verts, float(np.deg2rad(yaw)), distance)
        rot = axis_angle_to_matrix(pose.rotation)
        mesh = head_mesh_draw(model, transform_points(verts, pose), texture, normals @ rot.T, settings.light_dir)
        lines = [replace(s, vertices=transform_points(s.vertices, pose)) for s in strands]
        views.append(render(camera, [mesh], lines, settings, renderer).color[..., :3])
    cols = len(views) if columns is None else max(1, int(columns))
    rows = -(-len(views) // cols)
    blank = np.full((size, size, 3), round(255 * settings.background[0]), dtype=np.uint8)
    views += [blank] * (rows * cols - len(views))
    return np.concatenate([np.concatenate(views[r * cols : (r + 1) * cols], axis=1) for r in range(rows)], axis=0)

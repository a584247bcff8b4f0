"""Would a photometric term find the true head? An oracle test on synthetic heads with known geometry.

Issue [8] item 1 asks for an analysis-by-synthesis refinement after the landmark fit: a differentiable render of
the head under spherical-harmonics lighting compared with the photo. Such a term can only move the fit towards the
truth if, at the photo, the true geometry explains the pixels clearly better than the fitted one. This script
measures exactly that, before anything is optimised.

For each synthetic head of :mod:`headcast.eval.synthetic` (``sample_head``; rendered as ``run_synthetic`` renders
it, wearing the skin atlas the pipeline bakes from a fixture portrait, head ``i`` wearing sorted portrait ``i``)
the pipeline reconstructs the head (detection, parsing, landmark fit, outline refinement). The photometric energy is
then evaluated at four geometries:

* ``fit``: the pipeline's identity, expression and pose;
* ``true-id``: the true identity at the fitted expression and pose;
* ``truth``: the true identity, expression and pose;
* ``mean-id``: the mean identity at the fitted expression and pose.

Energy of a geometry: the head's face region (``model.face_vertices``' triangles, back faces culled) is rasterised at
the photo's camera scaled so that the face is ``--width`` pixels wide; on the pixels that face parsing labels skin or
nose (eroded by one pixel) it is the RMS of ``linear RGB − albedo_c · s(n)``, where ``n`` is the interpolated normal,
``s(n) = Y(n) · L`` second-order SH shading (9 coefficients, one grey light, as ``headcast.texture.lighting``) and the
albedo of channel ``c`` a quadratic polynomial of the template position (the smooth skin a refinement without a
statistical albedo model has to assume). ``L`` and the 3 × 10 albedo coefficients are solved by alternating least
squares: the lowest energy any such lighting and smooth albedo give that geometry.

The same heads are also rendered wearing a flat grey skin (same fit and parsing): the control that the energy does
reward the true shape when the albedo really is smooth.

Usage (from the repository root; ~10 s per head)::

    python scripts/photometric_oracle.py [--count 10] [--seed 0] [--width 128] [--photos ../shared/fixtures/portraits]
"""

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.cli.main import find_photos
from headcast.eval.synthetic import SyntheticSettings, sample_head
from headcast.geometry.camera import Camera, camera_from_fov, transform_points
from headcast.headmodel.base import HeadParams, LinearHeadModel, blend_vertices
from headcast.landmarks.types import Photo
from headcast.parsing.face import FaceClass, class_mask
from headcast.pipeline import Pipeline
from headcast.render.context import Renderer
from headcast.render.raster import RenderSettings, render_triangle_ids, smooth_normals
from headcast.render.views import GREY, render_head
from headcast.texture.atlas import opaque_triangle_mask
from headcast.texture.lighting import sh_basis, srgb_to_linear
from headcast.texture.types import UVTexture

GEOMETRIES = ("fit", "true-id", "truth", "mean-id")


@dataclass(frozen=True, eq=False)
class FaceMesh:
    """The face region as its own mesh: vertex ids into the model, local triangles, albedo polynomial features."""

    vertices: NDArray[np.int64]
    triangles: NDArray[np.int64]
    features: NDArray[np.float64]  # (N, 10): 1, x, y, z, x², y², z², xy, yz, xz of the standardised template


def face_mesh(model: LinearHeadModel) -> FaceMesh:
    """The opaque triangles whose three corners lie in ``model.face_vertices``."""
    inside = np.zeros(len(model.template), dtype=bool)
    inside[model.face_vertices] = True
    tris = model.triangles[opaque_triangle_mask(model) & inside[model.triangles].all(axis=1)]
    ids = np.unique(tris)
    local = np.full(len(model.template), -1, dtype=np.int64)
    local[ids] = np.arange(len(ids))
    t = model.template[ids].astype(np.float64)
    x, y, z = ((t - t.mean(axis=0)) / t.std(axis=0)).T
    feats = np.stack([np.ones_like(x), x, y, z, x * x, y * y, z * z, x * y, y * z, x * z], axis=1)
    return FaceMesh(ids.astype(np.int64), local[tris], feats)


def photometric_energy(
    pixels: NDArray[np.uint8], skin: NDArray[np.bool_], vertices_cam: NDArray[np.float64], mesh: FaceMesh,
    camera: Camera, renderer: Renderer, rounds: int = 6,
) -> float:
    """RMS (linear RGB) of the best smooth-albedo, SH-lit explanation of the skin pixels (module docstring).

    Args:
        pixels: ``(H, W, 3)`` the image at ``camera``'s size.
        skin: ``(H, W)`` pixels that may be used.
        vertices_cam: ``(N, 3)`` camera-frame positions of ``mesh.vertices``.
        mesh: the face mesh.
        camera: intrinsics of ``pixels``.
        renderer: GL owner.
        rounds: alternations of the lighting and albedo solves.
    """
    ids = render_triangle_ids(vertices_cam, mesh.triangles, camera, cull_back_faces=True, renderer=renderer)
    sel = (ids.triangle_id >= 0) & skin
    corners = mesh.triangles[ids.triangle_id[sel]]  # (P, 3)
    bary = ids.barycentric[sel].astype(np.float64)[:, :, None]
    normals = smooth_normals(vertices_cam, mesh.triangles).astype(np.float64)
    n = (normals[corners] * bary).sum(axis=1)
    basis = sh_basis(n / np.linalg.norm(n, axis=1, keepdims=True))  # (P, 9)
    feats = (mesh.features[corners] * bary).sum(axis=1)  # (P, 10)
    obs = srgb_to_linear(pixels[sel] / 255.0)  # (P, 3)
    light = np.linalg.lstsq(basis, obs.mean(axis=1), rcond=None)[0]
    for _ in range(rounds):
        coef = np.linalg.lstsq(feats * (basis @ light)[:, None], obs, rcond=None)[0]  # (10, 3)
        albedo = feats @ coef  # (P, 3)
        light = np.linalg.lstsq((basis[:, None, :] * albedo[:, :, None]).reshape(-1, 9), obs.ravel(), rcond=None)[0]
    pred = (feats @ coef) * (basis @ light)[:, None]
    return float(np.sqrt(np.mean((pred - obs) ** 2)))


def geometries(model: LinearHeadModel, fitted: HeadParams, truth: HeadParams) -> dict[str, HeadParams]:
    """The four geometries of the module docstring."""
    return {
        "fit": fitted,
        "true-id": replace(fitted, identity=truth.identity),
        "truth": truth,
        "mean-id": replace(fitted, identity=np.zeros_like(fitted.identity)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=float, default=128.0, help="face width of the analysed image, pixels")
    parser.add_argument("--photos", type=Path, default=Path("../shared/fixtures/portraits"))
    args = parser.parse_args()
    pipe = Pipeline.load()
    model, renderer = pipe.model, pipe.renderer
    mesh = face_mesh(model)
    photos = find_photos(args.photos)
    settings = SyntheticSettings(count=args.count, seed=args.seed)
    camera = camera_from_fov(settings.image_size, settings.image_size, pipe.settings.fit.fov_deg)
    look = RenderSettings(background=GREY, supersample=2)
    skins: dict[int, UVTexture] = {}
    table: dict[str, dict[str, list[float]]] = {"photo skin": {g: [] for g in GEOMETRIES},
                                                "flat skin": {g: [] for g in GEOMETRIES}}
    for i in range(settings.count):
        head = sample_head(model, settings, i)
        k = i % len(photos)
        if k not in skins:
            skins[k] = pipe.reconstruct(photos[k]).texture
        skin_tex = skins[k]
        flat = replace(skin_tex, image=np.full_like(skin_tex.image, 170), lighting=None)
        renders = {name: np.ascontiguousarray(render_head(model, head.params, tex, camera, settings=look,
                                                          renderer=renderer).color[..., :3])
                   for name, tex in (("photo skin", skin_tex), ("flat skin", flat))}
        avatar = pipe.reconstruct(Photo(renders["photo skin"], None, (settings.image_size,) * 2))
        fit = avatar.fit
        if avatar.parsing is None:
            print(f"head {i}: no face parsing")
            continue
        scale = min(1.0, args.width / float(np.ptp(fit.landmarks_2d[:, 0])))
        small = camera.scaled(scale)
        size = (small.width, small.height)
        skin = class_mask(np.asarray(cv2.resize(avatar.parsing, size, interpolation=cv2.INTER_NEAREST), np.uint8),
                          (FaceClass.SKIN, FaceClass.NOSE))
        skin = cv2.erode(skin.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        line = [f"head {i} ({photos[k].stem}):"]
        for name, rgb in renders.items():
            img = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), np.uint8)
            energies = {}
            for g, params in geometries(model, fit.params, head.params).items():
                verts = transform_points(blend_vertices(model, params.identity, params.expression)[mesh.vertices],
                                         params.pose)
                energies[g] = photometric_energy(img, skin, verts, mesh, small, renderer)
                table[name][g].append(energies[g])
            line.append(f"{name}: " + " ".join(f"{g} {e:.4f}" for g, e in energies.items()))
        print("  ".join(line), flush=True)
    for name, rows in table.items():
        fit_e, true_e = np.array(rows["fit"]), np.array(rows["truth"])
        med = " ".join(f"{g} {np.median(v):.4f}" for g, v in rows.items())
        print(f"{name}: median RMS {med}; truth below fit on {int((true_e < fit_e).sum())}/{len(fit_e)} heads, "
              f"median (fit - truth) / fit {np.median((fit_e - true_e) / fit_e):+.1%}")
    pipe.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

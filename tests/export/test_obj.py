"""OBJ/MTL/PNG writer: fitted geometry in the model frame, bottom-left UVs, white diffuse material."""

from pathlib import Path

import numpy as np
import trimesh
from exporthelp import make_avatar, random_texture, tiny_eye_model, tiny_skinned_model
from PIL import Image

from headcast.avatar import Avatar
from headcast.export.obj import write_obj
from headcast.headmodel.base import head_vertices, pose_head

# positions are written with 6 decimals (metres): ≤ 0.5 µm rounding
OBJ_ATOL_M = 5e-7


def _parse(path: Path) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, *rest = line.split()
            rows.setdefault(key, []).append(rest)
    return rows


def test_obj_geometry_uvs_and_faces(tmp_path: Path, tiny_avatar: Avatar) -> None:
    files = write_obj(tmp_path / "head.obj", tiny_avatar)
    rows = _parse(files.obj)
    model = tiny_avatar.model
    kept = np.r_[0:8, 11:14]  # cube + lash vertices; the overlay triangle's 8..10 are dropped
    fitted = pose_head(model, tiny_avatar.fit.params, frame="model").vertices
    v = np.array(rows["v"], float)
    np.testing.assert_allclose(v, fitted[kept], atol=OBJ_ATOL_M)
    assert rows["mtllib"] == [["head.mtl"]] and rows["usemtl"] == [["head"]]
    faces = np.array([[c.split("/") for c in f] for f in rows["f"]], int) - 1  # (F, 3, [v, vt, vn])
    assert faces.shape == (13, 3, 3)
    # face corners resolve to the model's triangles and to the atlas UVs as stored (bottom-left origin)
    keep_tris = np.r_[0:12, 13]
    np.testing.assert_array_equal(kept[faces[:, :, 0]], model.triangles[keep_tris])
    vt = np.array(rows["vt"], float)
    np.testing.assert_allclose(
        vt[faces[:, :, 1]], tiny_avatar.texture.uv[model.triangle_uvs[keep_tris]], atol=5e-7
    )
    np.testing.assert_array_equal(faces[:, :, 2], faces[:, :, 0])
    assert np.allclose(np.linalg.norm(np.array(rows["vn"], float), axis=1), 1.0, atol=1e-3)


def test_mtl_is_white_diffuse_with_texture(tmp_path: Path, tiny_avatar: Avatar) -> None:
    files = write_obj(tmp_path / "head.obj", tiny_avatar)
    mtl = _parse(files.mtl)
    assert mtl["newmtl"] == [["head"]]
    assert [float(x) for x in mtl["Kd"][0]] == [1.0, 1.0, 1.0]
    assert mtl["map_Kd"] == [["texture.png"]]
    np.testing.assert_array_equal(np.asarray(Image.open(files.texture)), tiny_avatar.texture.image)


def test_obj_loads_in_trimesh_with_its_texture(tmp_path: Path, tiny_avatar: Avatar) -> None:
    files = write_obj(tmp_path / "head.obj", tiny_avatar)
    mesh = trimesh.load(files.obj, force="mesh", process=False)
    assert len(mesh.faces) == 13
    assert mesh.visual.material.image.size == (16, 16)


def test_skinned_obj_shows_the_joint_pose(tmp_path: Path) -> None:
    """A skinned head's OBJ is head_vertices: rest blend, pose correctives and skinning at the fitted joints."""
    model = tiny_skinned_model()
    rotations = np.array([[0.1, -0.2, 0.05], [0.0, 0.15, 0.0], [0.3, 0.0, -0.05], [0.0, 0.2, 0.1], [0.1, 0.0, 0.2]])
    avatar = make_avatar(model, np.array([0.5, -1.0]), np.array([0.7, 0.4, 0.25]), random_texture(len(model.uv)),
                         joint_rotations=rotations)
    v = np.array(_parse(write_obj(tmp_path / "head.obj", avatar).obj)["v"], float)
    kept = np.r_[0:8, 11:14]
    np.testing.assert_allclose(v, head_vertices(model, avatar.fit.params)[kept], atol=OBJ_ATOL_M)
    at_rest = make_avatar(model, np.array([0.5, -1.0]), np.array([0.7, 0.4, 0.25]), random_texture(len(model.uv)))
    assert np.abs(v - head_vertices(model, at_rest.fit.params)[kept]).max() > 0.01  # the pose shows


def test_obj_of_a_model_without_teeth_lashes_or_overlay(tmp_path: Path) -> None:
    """Only face/head/sclera/iris roles (a FLAME head's): nothing is left out, every vertex and triangle written."""
    model = tiny_eye_model()
    avatar = make_avatar(model, np.zeros(2), np.zeros(3), random_texture(len(model.uv)))
    rows = _parse(write_obj(tmp_path / "head.obj", avatar).obj)
    assert len(rows["v"]) == model.num_vertices and len(rows["f"]) == len(model.triangles)
    faces = np.array([[c.split("/")[0] for c in f] for f in rows["f"]], int) - 1
    np.testing.assert_array_equal(faces, model.triangles)

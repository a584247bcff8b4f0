"""The FLAME loader on synthetic files in FLAME 2020's and 2023's pickle layouts; the CC-BY template; the errors."""

import itertools
import pickle
import pickletools
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from headcast.assets import AssetSettings
from headcast.errors import AssetError
from headcast.headmodel.flame import (
    FLAME_JOINT_NAMES,
    FLAME_MODEL_RELPATH,
    FLAME_SOURCE,
    FlameFileLayout,
    FlameModel,
    FlameTemplate,
    _as_array,
    _read_pickle,
    flame_lbs,
    load_flame,
    load_flame_template_ply,
    resolve_flame_model,
)
from headcast.headmodel.lbs import linear_blend_skinning

BUFFERS = ("template", "faces", "shape_basis", "expression_basis", "posedirs", "j_regressor", "parents", "lbs_weights")


@pytest.fixture(scope="module")
def flame_2020(flame_files: dict[str, Path]) -> FlameModel:
    return load_flame(flame_files["2020"])


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A file path removed after the test (variants of the 53 MB synthetic model would pile up in /tmp)."""
    path = tmp_path / "model.pkl"
    yield path
    path.unlink(missing_ok=True)


# --- both layouts ---------------------------------------------------------------------------------------------------


def test_the_2020_fixture_is_written_as_python_2_wrote_it(flame_files: dict[str, Path]) -> None:
    ops = list(pickletools.genops(flame_files["2020"].read_bytes()))
    names = {op.name for op, _, _ in ops}
    globals_ = {arg for op, arg, _ in ops if op.name == "GLOBAL"}
    assert ops[0][1] == 2 and "BINSTRING" in names and "SHORT_BINSTRING" in names
    assert {"chumpy.ch Ch", "numpy.core.multiarray _reconstruct", "scipy.sparse.csc csc_matrix"} <= globals_
    assert not any(g.startswith("_codecs") for g in globals_)  # byte strings are Python 2 str, not Python 3 bytes


def test_the_2023_fixtures_use_both_numpy_array_reducers(flame_files: dict[str, Path]) -> None:
    def globals_of(path: Path) -> set[str]:
        ops = list(pickletools.genops(path.read_bytes()))
        strings = [arg for op, arg, _ in ops if isinstance(arg, str)]
        return {n for m, n in itertools.pairwise(strings) if m.startswith("numpy")}  # (module, name) pushes

    assert "_reconstruct" in globals_of(flame_files["2023"])  # numpy(._)core.multiarray, protocol 4
    assert "_frombuffer" in globals_of(flame_files["2023-chumpy"])  # numpy(._)core.numeric, protocol 5


@pytest.mark.parametrize("layout", ["2023", "2023-chumpy"])
def test_both_layouts_give_identical_buffers(flame_2020: FlameModel, flame_files: dict[str, Path], layout: str) -> None:
    other = load_flame(flame_files[layout])
    for name in BUFFERS:
        a, b = getattr(flame_2020, name), getattr(other, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert other.joint_names == flame_2020.joint_names == FLAME_JOINT_NAMES


def test_layouts_are_recorded(flame_2020: FlameModel, flame_files: dict[str, Path]) -> None:
    assert flame_2020.layout == FlameFileLayout("chumpy", "sparse")
    assert load_flame(flame_files["2023"]).layout == FlameFileLayout("numpy", "dense")
    assert load_flame(flame_files["2023-chumpy"]).layout == FlameFileLayout("chumpy", "dense")


def test_buffers_hold_the_file_s_arrays_split_300_plus_100(flame_2020: FlameModel, synthetic_flame) -> None:
    m, s = flame_2020, synthetic_flame
    np.testing.assert_array_equal(m.template, s.v_template.astype(np.float32))
    np.testing.assert_array_equal(m.faces, s.f)
    np.testing.assert_array_equal(m.shape_basis, s.shapedirs[..., :300].astype(np.float32))
    np.testing.assert_array_equal(m.expression_basis, s.shapedirs[..., 300:].astype(np.float32))
    np.testing.assert_array_equal(m.posedirs, s.posedirs.astype(np.float32))
    np.testing.assert_array_equal(m.j_regressor, s.j_regressor)  # dense float64, from the CSC matrix
    np.testing.assert_array_equal(m.lbs_weights, s.weights)  # float64: rows still sum to one
    np.testing.assert_array_equal(m.parents, [-1, 0, 1, 1, 1])  # the uint32 root 4294967295 read as -1
    assert (m.num_vertices, m.num_shape, m.num_expression, m.num_joints) == (5023, 300, 100, 5)
    assert m.joint_index("jaw") == 2 and m.name == "flame"
    with pytest.raises(KeyError, match="eye_left"):
        m.joint_index("head")


def test_loading_needs_no_chumpy(flame_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("chumpy", "chumpy.ch"):
        monkeypatch.setitem(sys.modules, name, None)  # `import chumpy` raises ImportError from here on
    with pytest.raises(ImportError):
        __import__("chumpy.ch")
    assert load_flame(flame_files["2020"]).layout.arrays == "chumpy"


@pytest.mark.parametrize("matrix", [sp.csr_matrix, sp.coo_matrix, sp.csc_array])
def test_other_sparse_regressors_load(
    flame_2020: FlameModel, synthetic_flame, flame_writers, scratch: Path, matrix: Callable
) -> None:
    def edit(d: dict) -> None:
        d["J_regressor"] = matrix(d["J_regressor"])

    model = load_flame(flame_writers.write_2023(scratch, synthetic_flame, edit=edit))
    assert model.layout.j_regressor == "sparse"
    np.testing.assert_array_equal(model.j_regressor, flame_2020.j_regressor)


def test_a_protocol_0_python_2_pickle_reads(tmp_path: Path, flame_writers) -> None:
    # The reader's pieces on a small file: protocol 0 rebuilds objects with copy_reg._reconstructor, not NEWOBJ.
    with flame_writers.fake_chumpy() as chumpy:
        data = flame_writers.py2_pickle_bytes(
            {b"a": chumpy.Ch(np.arange(6.0).reshape(2, 3)), b"m": sp.csc_matrix(np.eye(3)[:2]), b"s": b"lbs"},
            protocol=0,
        )
    assert b"copy_reg\n_reconstructor" in data and b"chumpy.ch\nCh" in data
    path = tmp_path / "p0.pkl"
    path.write_bytes(data)
    d = _read_pickle(path)
    array, kind = _as_array(d["a"], "a", path)
    np.testing.assert_array_equal(array, np.arange(6.0).reshape(2, 3))
    assert kind == "chumpy" and d["s"] == "lbs"
    dense, kind = _as_array(d["m"], "m", path)
    np.testing.assert_array_equal(dense, np.eye(3)[:2])
    assert kind == "sparse"


# --- the model ------------------------------------------------------------------------------------------------------


def test_zero_parameters_give_the_template(flame_2020: FlameModel) -> None:
    out = flame_lbs(flame_2020, np.zeros((2, 300)), np.zeros((2, 100)), np.zeros((2, 5, 3)))
    assert out.vertices.shape == (2, 5023, 3)
    np.testing.assert_allclose(out.vertices, np.broadcast_to(flame_2020.template, (2, 5023, 3)), rtol=0, atol=1e-15)


def test_flame_lbs_is_lbs_with_identity_then_expression(flame_2020: FlameModel) -> None:
    rng = np.random.default_rng(5)
    beta, psi, pose = rng.normal(size=(2, 20)), rng.normal(size=(2, 10)), rng.uniform(-0.3, 0.3, (2, 5, 3))
    out = flame_lbs(flame_2020, beta, psi, pose)
    m = flame_2020
    dirs = np.concatenate([m.shape_basis[..., :20], m.expression_basis[..., :10]], axis=2)
    ref = linear_blend_skinning(
        m.template, dirs, np.hstack([beta, psi]), m.posedirs, m.j_regressor, m.parents, m.lbs_weights, pose
    )
    np.testing.assert_array_equal(out.vertices, ref.vertices)
    with pytest.raises(ValueError, match="at most 300 shape and 100 expression"):
        flame_lbs(m, np.zeros((1, 301)), np.zeros((1, 0)), np.zeros((1, 5, 3)))


def test_opening_the_jaw_moves_the_chin_down_and_leaves_the_skull(
    flame_2020: FlameModel, flame_cc_by_dir: Path
) -> None:
    m = flame_2020
    pose = np.zeros((1, 5, 3))
    pose[0, m.joint_index("jaw")] = [0.2, 0.0, 0.0]  # about +x: positive pitch lowers the front (conventions.md)
    no_correctives = np.zeros_like(m.posedirs)
    out = linear_blend_skinning(
        m.template, m.shape_basis, np.zeros((1, 300)), no_correctives, m.j_regressor, m.parents, m.lbs_weights, pose
    )
    moved = out.vertices[0] - m.template
    chin = (
        _landmarks68(flame_cc_by_dir, out.vertices[0], m.faces)[8]
        - _landmarks68(flame_cc_by_dir, m.template, m.faces)[8]
    )
    assert chin[1] < -5e-3  # the chin drops by millimetres
    jaw_free = m.lbs_weights[:, 2] == 0.0
    assert jaw_free.sum() > 4000
    np.testing.assert_allclose(moved[jaw_free], 0.0, rtol=0, atol=1e-15)


# --- files headcast refuses -----------------------------------------------------------------------------------------


def _drop(*keys: str) -> Callable[[dict], None]:
    def edit(d: dict) -> None:
        for key in keys:
            del d[key]

    return edit


def _set(key: str, value: Callable[[dict], object]) -> Callable[[dict], None]:
    def edit(d: dict) -> None:
        d[key] = value(d)

    return edit


def _swap_eyes(d: dict) -> None:
    d["J_regressor"] = d["J_regressor"][[0, 1, 2, 4, 3]]


UNRECOGNISED = {
    "missing keys": (_drop("posedirs", "weights"), r"lacks posedirs, weights \(found keys: .*v_template"),
    "another basis split": (_set("shapedirs", lambda d: d["shapedirs"][..., :350]), r"350 components.*400 = 300"),
    "another vertex count": (_set("v_template", lambda d: d["v_template"][:5000]), r"'v_template' has shape \(5000"),
    "another tree": (_set("kintree_table", lambda d: np.array([[-1, 0, 1, 1, 2], range(5)])), "kintree_table parents"),
    "joints renumbered": (_set("kintree_table", lambda d: np.array([[-1, 0, 1, 1, 1], [0, 1, 2, 4, 3]])), "lists"),
    "millimetres": (_set("v_template", lambda d: d["v_template"] * 1000.0), "not in metres"),
    "another pose feature": (_set("bs_type", lambda d: "lrotmin_quat"), "bs_type is 'lrotmin_quat'"),
    "text where an array goes": (_set("weights", lambda d: "abc"), "'weights' is not a numeric array"),
}


@pytest.mark.parametrize("case", UNRECOGNISED, ids=list(UNRECOGNISED))
def test_an_unrecognised_file_is_refused_with_what_was_found(synthetic_flame, flame_writers, scratch, case) -> None:
    edit, message = UNRECOGNISED[case]
    flame_writers.write_2023(scratch, synthetic_flame, edit=edit)
    with pytest.raises(AssetError, match=message) as info:
        load_flame(scratch)
    assert str(scratch) in str(info.value) and info.value.exit_code == 5


def test_eyes_are_named_by_where_they_sit(synthetic_flame, flame_writers, scratch: Path) -> None:
    flame_writers.write_2023(scratch, synthetic_flame, edit=_swap_eyes)
    model = load_flame(scratch)
    joints = model.j_regressor @ model.template.astype(np.float64)
    assert model.joint_names[3:] == ("eye_right", "eye_left")
    assert joints[model.joint_index("eye_left"), 0] > joints[model.joint_index("eye_right"), 0]


def test_a_chumpy_expression_is_refused(synthetic_flame, flame_writers, scratch: Path) -> None:
    def edit(d: dict, chumpy) -> None:
        d["posedirs"] = chumpy.Select(chumpy.Ch(synthetic_flame.posedirs), np.arange(3))

    flame_writers.write_2020(scratch, synthetic_flame, edit=edit)
    with pytest.raises(AssetError, match=r"'posedirs' is a chumpy expression \(chumpy.reordering.Select\)"):
        load_flame(scratch)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"v 0 0 0\nf 1 2 3\n", "is not a readable FLAME model file"),
        (pickle.dumps([1, 2, 3]), "holds a list, not the dict"),
        (pickle.dumps({"v_template": np.zeros((3, 3))})[:-20], "is not a readable FLAME model file"),
    ],
    ids=["text", "a list", "truncated"],
)
def test_not_a_flame_pickle(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(content)
    with pytest.raises(AssetError, match=message):
        load_flame(path)


CALLS: list[str] = []


def _record_call(what: str) -> object:
    CALLS.append(what)
    return np.zeros((5023, 3))


class _Sneaky:
    def __reduce__(self):
        return (_record_call, ("ran",))


def test_no_code_from_the_file_runs(tmp_path: Path, synthetic_flame) -> None:
    d = synthetic_flame.as_dict()
    d["v_template"] = _Sneaky()
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(d, protocol=4))
    assert pickle.loads(path.read_bytes())["v_template"].shape == (5023, 3) and CALLS == ["ran"]  # plain pickle runs it
    CALLS.clear()
    with pytest.raises(AssetError, match=r"'v_template' holds a .*_record_call object"):
        load_flame(path)
    assert CALLS == []


# --- where the file is ----------------------------------------------------------------------------------------------


def _assert_names_source_and_terms(message: str) -> None:
    assert FLAME_SOURCE in message and "MPI-IS" in message
    assert "non-commercial scientific research only" in message and "licence" in message
    assert f"<assets>/{FLAME_MODEL_RELPATH}" in message and "--flame-model PATH" in message


def test_a_missing_file_says_where_to_obtain_flame_and_its_terms(tmp_path: Path) -> None:
    with pytest.raises(AssetError) as info:
        load_flame(tmp_path / "generic_model.pkl")
    _assert_names_source_and_terms(str(info.value))
    assert str(tmp_path / "generic_model.pkl") in str(info.value) and info.value.exit_code == 5
    assert FLAME_MODEL_RELPATH == "flame/generic_model.pkl"


def test_resolve_an_explicit_path(tmp_path: Path) -> None:
    path = tmp_path / "my_flame.pkl"
    with pytest.raises(AssetError, match="given by --flame-model") as info:
        resolve_flame_model(path)
    _assert_names_source_and_terms(str(info.value))
    path.write_bytes(b"x")
    assert resolve_flame_model(path) == path


def test_resolve_in_the_asset_folders(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    with pytest.raises(AssetError) as info:
        resolve_flame_model(settings=AssetSettings(assets_dir=assets), env={})
    assert str(assets / FLAME_MODEL_RELPATH) in str(info.value)
    _assert_names_source_and_terms(str(info.value))
    (assets / "flame").mkdir(parents=True)
    (assets / FLAME_MODEL_RELPATH).write_bytes(b"x")
    assert resolve_flame_model(settings=AssetSettings(assets_dir=assets), env={}) == assets / FLAME_MODEL_RELPATH
    assert resolve_flame_model(env={"HEADCAST_ASSETS": str(assets)}) == assets / FLAME_MODEL_RELPATH
    searched = {"cwd": tmp_path / "work", "env": {"XDG_CACHE_HOME": str(tmp_path / "cache")}}
    cached = tmp_path / "cache" / "headcast" / "assets" / FLAME_MODEL_RELPATH
    with pytest.raises(AssetError, match=re.escape(str(cached))):
        resolve_flame_model(**searched)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert resolve_flame_model(**searched) == cached


# --- the CC-BY template ---------------------------------------------------------------------------------------------


def _landmarks68(folder: Path, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    emb = np.load(folder / "flame_static_embedding_68.npz")
    corners = np.asarray(vertices, dtype=np.float64)[faces[emb["lmk_face_idx"]]]
    return np.einsum("lk,lkc->lc", emb["lmk_b_coords"], corners)


def test_the_template_is_flame_topology_in_headcast_s_frame(flame_template: FlameTemplate, flame_cc_by_dir) -> None:
    v, f = flame_template.vertices, flame_template.faces
    assert v.shape == (5023, 3) and f.shape == (9976, 3) and v.dtype == np.float32 and f.dtype == np.int32
    size = v.max(0) - v.min(0)
    assert np.all((size > 0.15) & (size < 0.4))  # metres: a head with neck
    lm = _landmarks68(flame_cc_by_dir, v, f)
    assert lm[45, 0] > 0.03 > -0.03 > lm[36, 0]  # iBUG 45 = the head's left outer eye corner at +x
    assert lm[19, 1] > lm[8, 1] + 0.1  # brow above chin: +y up
    assert lm[30, 2] > lm[36, 2] + 0.03  # nose tip in front of the eye corners: +z forward
    tri = v[f].astype(np.float64)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    emb = np.load(flame_cc_by_dir / "flame_static_embedding_68.npz")
    assert normals[emb["lmk_face_idx"][30], 2] > 0  # counter-clockwise from outside: the nose's normal points +z


def test_a_missing_template_names_its_source(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="TF_FLAME"):
        load_flame_template_ply(tmp_path / "template.ply")

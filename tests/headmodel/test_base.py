"""The role interface of ``LinearHeadModel`` (parts, material roles, atlas cells) and its per-model memo."""

import pickle
import threading
from dataclasses import replace

import numpy as np
import pytest

from headcast.headmodel.base import AtlasCell, LinearHeadModel, ModelMemo


def _model(**overrides: object) -> LinearHeadModel:
    """Four vertices, three triangles with materials ``skin, shell_a, shell_b``."""
    fields: dict[str, object] = dict(
        name="roles-test",
        template=np.zeros((4, 3), np.float32),
        identity_basis=np.zeros((0, 4, 3), np.float32),
        expression_basis=np.zeros((0, 4, 3), np.float32),
        expression_names=(),
        triangles=np.array([[0, 1, 2], [1, 2, 3], [0, 2, 3]], np.int32),
        triangle_uvs=np.zeros((3, 3), np.int32),
        uv=np.zeros((1, 2), np.float32),
        triangle_material=np.array([0, 1, 2], np.int16),
        material_names=("skin", "shell_a", "shell_b"),
        parts={"face": np.array([0, 1]), "teeth": np.array([3])},
        landmarks68=np.zeros(68, np.int64),
        face_vertices=np.arange(2, dtype=np.int64),
        material_roles={"face": ("skin",), "overlay": ("shell_b", "shell_a")},
        uv_atlas={"skin": AtlasCell(0.0, 1.0, (0.0, 0.0, 0.5, 0.5)), "shell_a": AtlasCell(1.0, 1.0, (0.5, 0, 1, 0.5)),
                  "shell_b": AtlasCell(2.0, 1.0, (0.5, 0.5, 1, 1))},
    )
    fields.update(overrides)
    return LinearHeadModel(**fields)  # type: ignore[arg-type]


def test_parts_are_vertex_masks() -> None:
    m = _model()
    assert m.part_mask("face").tolist() == [True, True, False, False]
    assert m.part_mask("face", "teeth").tolist() == [True, True, False, True]
    assert m.has_part("face", "teeth") and not m.has_part("face", "eyeballs")
    with pytest.raises(KeyError):
        m.part_mask("eyeballs")


def test_material_roles_select_the_model_s_own_materials() -> None:
    m = _model()
    assert m.material_ids("overlay") == (2, 1)  # in the role's order
    assert m.material_mask("overlay").tolist() == [False, True, True]
    assert m.material_mask("face", "teeth").tolist() == [True, False, False]  # no teeth material: matches nothing
    assert m.has_material("face") and not m.has_material("face", "teeth")
    assert [m.material_role(i) for i in range(3)] == ["face", "overlay", "overlay"]
    assert m.atlas_cell("face").rect == (0.0, 0.0, 0.5, 0.5)
    assert [c.tile_u0 for c in m.atlas_cells("overlay")] == [2.0, 1.0]
    with pytest.raises(ValueError, match="2 materials with role 'overlay'"):
        m.atlas_cell("overlay")


def test_a_material_with_two_roles_is_refused() -> None:
    with pytest.raises(ValueError, match="two roles"):
        _model(material_roles={"face": ("skin",), "head": ("skin",)})


def test_a_material_without_a_role_is_named() -> None:
    with pytest.raises(KeyError, match="shell_a"):
        _model(material_roles={"face": ("skin",)}).material_role(1)


def test_the_memo_belongs_to_one_model() -> None:
    m = _model()
    calls: list[int] = []
    first = m.memo.get(("k", 1), lambda: calls.append(1) or [1])
    assert m.memo.get(("k", 1), lambda: calls.append(2) or [2]) is first and calls == [1]
    other = replace(m, name="copy")  # a replaced model starts empty: its arrays may differ
    assert other.memo is not m.memo and len(other.memo) == 0
    m.memo.clear()
    assert len(m.memo) == 0


def test_a_pickled_model_starts_with_an_empty_memo() -> None:
    m = _model()
    m.memo.get("k", lambda: 1)
    back = pickle.loads(pickle.dumps(m))
    assert len(back.memo) == 0 and back.memo.get("k", lambda: 2) == 2
    np.testing.assert_array_equal(back.part_mask("face"), m.part_mask("face"))


def test_the_memo_keeps_the_first_value_when_threads_race() -> None:
    memo = ModelMemo()
    start = threading.Barrier(4)
    out: list[object] = []

    def build() -> object:
        return object()

    def worker() -> None:
        start.wait()
        out.append(memo.get("key", build))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(v) for v in out}) == 1

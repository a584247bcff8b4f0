"""A synthetic FLAME model file in FLAME's real pickle layouts, built on the CC-BY template's topology.

No FLAME model file may enter the repository or the test machines, so the loader is tested on a file that has the
real file's structure and made-up contents:

- topology and template vertices: the CC-BY ``template.ply`` (5,023 vertices, 9,976 triangles, metres);
- ``shapedirs`` (5023, 3, 400): random orthonormal directions (QR) scaled to millimetre RMS displacements, the first
  300 "identity", the last 100 "expression";
- kintree: global (root) → neck → jaw, neck → eye_left, neck → eye_right;
- ``J_regressor``: each row an average of a few vertices (neck-base ring, jaw sides, each eyeball);
- ``weights``: smooth, with exact zeros (each eyeball rigid to its eye, a jaw region, the neck base to the root);
- ``posedirs``: small random offsets (0.2 mm per unit of the pose feature).

Two writers give the two layouts: :func:`write_flame_2020` as Python 2's cPickle wrote FLAME 2020's
``generic_model.pkl`` (protocol 2, byte strings as ``BINSTRING``, Python 2 module names, ``chumpy.ch.Ch`` arrays, a
``scipy.sparse`` CSC ``J_regressor``, a uint32 kintree) and :func:`write_flame_2023` as plain numpy arrays
(protocol 4, dense ``J_regressor``, -1 as the root's parent), optionally with ``chumpy`` arrays.
"""

import pickle
import struct
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from headcast.headmodel.flame import FlameTemplate, load_flame_template_ply

EYEBALL_START = 3931  # vertices 3931…5022 are the two eyeballs (two closed 546-vertex meshes in the template)


@dataclass(frozen=True)
class SyntheticFlame:
    """The arrays of a synthetic FLAME file (float64; the loaders store them in the real layouts)."""

    v_template: np.ndarray  # (5023, 3) metres
    f: np.ndarray  # (9976, 3)
    shapedirs: np.ndarray  # (5023, 3, 400): 300 identity + 100 expression
    posedirs: np.ndarray  # (5023, 3, 36)
    j_regressor: np.ndarray  # (5, 5023) dense
    weights: np.ndarray  # (5023, 5)
    parents: tuple[int, ...] = (-1, 0, 1, 1, 1)

    def as_dict(self) -> dict[str, object]:
        """The plain-numpy (FLAME 2023 style) dict of the required and the usual extra keys."""
        joints = self.j_regressor @ self.v_template
        return {
            "v_template": self.v_template,
            "f": self.f,
            "shapedirs": self.shapedirs,
            "posedirs": self.posedirs,
            "J_regressor": self.j_regressor,
            "kintree_table": np.array([self.parents, range(5)], dtype=np.int64),
            "weights": self.weights,
            "J": joints,
            "bs_style": "lbs",
            "bs_type": "lrotmin",
        }


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 below ``lo``, 1 above ``hi``, C¹ in between (``hi < lo`` gives the falling step)."""
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _orthonormal_basis(rng: np.random.Generator, n_rows: int, n_cols: int) -> np.ndarray:
    """Orthonormal columns: the Q of a Gaussian matrix's QR factorisation, by Cholesky QR.

    ``Q = A R⁻¹`` with ``Rᵀ R = Aᵀ A`` (Cholesky) is the Q of the QR factorisation with a positive diagonal; for a
    well-conditioned ``A`` (15069 × 400 Gaussian) it is orthonormal to ~1e-15 and ~8× faster than Householder
    QR on two cores.
    """
    a = rng.standard_normal((n_rows, n_cols))
    lower = np.linalg.cholesky(a.T @ a)
    return scipy.linalg.solve_triangular(lower, a.T, lower=True).T


def _nearest_average(v: np.ndarray, targets: list[np.ndarray], k: int) -> np.ndarray:
    """A regressor row averaging the ``k`` vertices nearest to each target (uniform weights, summing to 1)."""
    row = np.zeros(len(v))
    for target in targets:
        ids = np.argsort(np.linalg.norm(v - target, axis=1))[:k]
        row[ids] += 1.0
    return row / row.sum()


def build_synthetic_flame(template: FlameTemplate, seed: int = 2017) -> SyntheticFlame:
    rng = np.random.default_rng(seed)
    v = template.vertices.astype(np.float64)
    n = len(v)
    body = np.arange(n) < EYEBALL_START
    left_eye = ~body & (v[:, 0] > 0)
    right_eye = ~body & (v[:, 0] < 0)

    # Bases: orthonormal directions in R^{3V}; column k of the identity part moves vertices by ~2 mm RMS / √(k+1),
    # the expression part by ~1 mm RMS / √(k+1) (per unit coefficient, as FLAME's σ-scaled components roughly do).
    basis = _orthonormal_basis(rng, 3 * n, 400)
    rms = np.concatenate([2e-3 / np.sqrt(np.arange(1, 301)), 1e-3 / np.sqrt(np.arange(1, 101))])
    shapedirs = (basis * (rms * np.sqrt(3 * n))).reshape(n, 3, 400)

    y_min = v[body, 1].min()
    regressor = np.stack(
        [
            _nearest_average(v, [v[body & (v[:, 1] < y_min + 0.01)].mean(0)], 12),  # global: neck-base ring
            _nearest_average(v, [np.array([s * 0.045, -0.11, -0.01]) for s in (1, -1)], 10),  # neck
            _nearest_average(v, [np.array([s * 0.065, -0.02, -0.03]) for s in (1, -1)], 10),  # jaw, at both ears
            left_eye / left_eye.sum(),
            right_eye / right_eye.sum(),
        ]
    )

    root = _smoothstep(v[:, 1], -0.08, -0.13)  # the neck base follows the root (global) joint
    jaw = _smoothstep(v[:, 1], -0.03, -0.05) * _smoothstep(v[:, 2], -0.02, 0.01) * (1.0 - root)  # below the mouth
    weights = np.zeros((n, 5))
    weights[:, 0] = root
    weights[:, 2] = jaw
    weights[:, 1] = 1.0 - root - jaw
    weights[~body] = 0.0
    weights[left_eye, 3] = 1.0
    weights[right_eye, 4] = 1.0

    posedirs = rng.normal(scale=2e-4, size=(n, 3, 36))
    return SyntheticFlame(v, template.faces.astype(np.int64), shapedirs, posedirs, regressor, weights)


# --- writers --------------------------------------------------------------------------------------------------------


@contextmanager
def fake_chumpy() -> Iterator[types.SimpleNamespace]:
    """Modules ``chumpy.ch`` (class ``Ch``) and ``chumpy.reordering`` (class ``Select``), importable only inside.

    Pickle names an object's class by module and name; these classes exist so that a file can reference
    ``chumpy.ch.Ch`` as FLAME 2020's does, and are gone again before anything is loaded. Their instances hold what
    chumpy's own ``Ch.__getstate__`` returns (its ``__dict__`` without the weak-reference caches).
    """
    names = ("chumpy", "chumpy.ch", "chumpy.reordering")
    saved = {name: sys.modules.get(name) for name in names}
    package, ch_module, reordering = (types.ModuleType(name) for name in names)

    class Ch:
        def __init__(self, x: object) -> None:
            self.__dict__.update(
                x=np.asarray(x, dtype=np.float64),
                _dirty_vars=set(),
                _itr=None,
                _depends_on_deps={},
                _make_dense=False,
                _make_sparse=False,
            )

    class Select(Ch):  # a chumpy expression (an indexing op), not a stored array
        def __init__(self, a: object, idxs: object) -> None:
            super().__init__(np.zeros(0))
            del self.__dict__["x"]
            self.__dict__.update(a=a, idxs=idxs)

    for cls, module in ((Ch, ch_module), (Select, reordering)):
        cls.__module__ = module.__name__
        cls.__qualname__ = cls.__name__
        setattr(module, cls.__name__, cls)
    package.ch = ch_module  # type: ignore[attr-defined]
    package.reordering = reordering  # type: ignore[attr-defined]
    sys.modules.update(dict(zip(names, (package, ch_module, reordering), strict=True)))
    try:
        yield types.SimpleNamespace(Ch=Ch, Select=Select)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class Py2StylePickler(pickle._Pickler):  # the pure-Python pickler: its dispatch table can be extended
    """Writes ``bytes`` as Python 2's ``str`` (``SHORT_BINSTRING`` / ``BINSTRING``), as Python 2's cPickle did.

    A Python 3 pickler writes bytes at protocol 2 as ``_codecs.encode(text, "latin1")``; a file from Python 2 has
    raw byte strings instead, which Python 3 reads only with ``encoding="latin1"`` (numpy's array buffers included).
    """

    dispatch: ClassVar[dict] = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def save_py2_str(self, obj: bytes) -> None:
        if not self.bin:  # protocol 0: STRING, the repr of the byte string on one line
            self.write(pickle.STRING + repr(obj)[1:].encode("ascii") + b"\n")
        elif len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


# Module paths as a Python 2-era numpy / scipy wrote them (GLOBAL opcodes are newline-terminated text).
PY2_MODULE_NAMES = {
    b"numpy._core.multiarray\n": b"numpy.core.multiarray\n",
    b"scipy.sparse._csc\n": b"scipy.sparse.csc\n",
}


def py2_pickle_bytes(obj: object, protocol: int = 2) -> bytes:
    """``obj`` pickled the way Python 2's cPickle with Python 2-era numpy and scipy would have."""
    import io

    buf = io.BytesIO()
    Py2StylePickler(buf, protocol=protocol).dump(obj)
    data = buf.getvalue()
    for new, old in PY2_MODULE_NAMES.items():
        data = data.replace(new, old)
    return data


def write_flame_2020(
    path: Path, flame: SyntheticFlame, edit: Callable[[dict, types.SimpleNamespace], None] | None = None
) -> Path:
    """FLAME 2020's layout: chumpy arrays, sparse CSC regressor, uint32 kintree, Python 2 pickle (protocol 2).

    ``edit(d, chumpy)`` may change the dict before it is written (for the unrecognised-file tests).
    """
    with fake_chumpy() as chumpy:
        kintree = np.array([[2**32 - 1, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.uint32)
        d: dict = {
            "v_template": chumpy.Ch(flame.v_template),
            "f": flame.f.astype(np.uint32),
            "shapedirs": chumpy.Ch(flame.shapedirs),
            "posedirs": chumpy.Ch(flame.posedirs),
            "J_regressor": sp.csc_matrix(flame.j_regressor),
            "kintree_table": kintree,
            "weights": chumpy.Ch(flame.weights),
            "J": chumpy.Ch(flame.j_regressor @ flame.v_template),
            "weights_prior": chumpy.Ch(flame.weights),
            "pose": chumpy.Ch(np.zeros(15)),
            "betas": chumpy.Ch(np.zeros(400)),
            "trans": chumpy.Ch(np.zeros(3)),
            "bs_style": b"lbs",
            "bs_type": b"lrotmin",
        }
        if edit is not None:
            edit(d, chumpy)
        data = py2_pickle_bytes({key.encode("latin1"): value for key, value in d.items()})
    path.write_bytes(data)
    return path


def write_flame_2023(
    path: Path,
    flame: SyntheticFlame,
    chumpy_arrays: bool = False,
    edit: Callable[[dict], None] | None = None,
    protocol: int = 4,
) -> Path:
    """FLAME 2023's layout: plain numpy arrays (or, with ``chumpy_arrays``, ``chumpy.ch.Ch`` ones), Python 3 pickle.

    ``edit(d)`` may change the dict before it is written. Protocol 5 stores numpy arrays through
    ``numpy._core.numeric._frombuffer`` instead of ``_reconstruct``.
    """
    d = flame.as_dict()
    d["f"] = flame.f.astype(np.int32)
    if edit is not None:
        edit(d)
    if chumpy_arrays:
        with fake_chumpy() as chumpy:
            for key in ("v_template", "shapedirs", "posedirs", "weights", "J"):
                d[key] = chumpy.Ch(d[key])
            path.write_bytes(pickle.dumps(d, protocol=protocol))
    else:
        path.write_bytes(pickle.dumps(d, protocol=protocol))
    return path


# --- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def flame_cc_by_dir(shared_dir: Path) -> Path:
    folder = shared_dir / "assets" / "flame_tf_flame_cc_by"
    if not (folder / "template.ply").is_file():
        pytest.skip(f"the CC-BY FLAME template is not in {folder}")
    return folder


@pytest.fixture(scope="session")
def flame_template(flame_cc_by_dir: Path) -> FlameTemplate:
    return load_flame_template_ply(flame_cc_by_dir / "template.ply")


@pytest.fixture(scope="session")
def synthetic_flame(flame_template: FlameTemplate) -> SyntheticFlame:
    return build_synthetic_flame(flame_template)


@pytest.fixture(scope="session")
def flame_files(synthetic_flame: SyntheticFlame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic model in each layout: ``"2020"``, ``"2023"``, and ``"2023-chumpy"`` (chumpy arrays, protocol 5)."""
    folder = tmp_path_factory.mktemp("flame")
    files = {
        "2020": write_flame_2020(folder / "generic_model.pkl", synthetic_flame),
        "2023": write_flame_2023(folder / "flame2023.pkl", synthetic_flame),
        "2023-chumpy": write_flame_2023(folder / "flame2023_ch.pkl", synthetic_flame, chumpy_arrays=True, protocol=5),
    }
    assert "chumpy" not in sys.modules  # the stand-in modules are gone again
    return files


@pytest.fixture(scope="session")
def flame_writers() -> types.SimpleNamespace:
    """The writers and helpers above, for tests that write variants of the file."""
    return types.SimpleNamespace(
        write_2020=write_flame_2020,
        write_2023=write_flame_2023,
        fake_chumpy=fake_chumpy,
        py2_pickle_bytes=py2_pickle_bytes,
    )

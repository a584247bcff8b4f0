"""FLAME from a user-supplied model file: buffers, a safe reader for both release layouts, the CC-BY template.

FLAME (Li, Bolkart, Black, Li, Romero, "Learning a model of facial shape and expression from 4D scans", ACM TOG /
SIGGRAPH Asia 2017) is a 5,023-vertex head with 300 identity and 100 expression blend shapes, five joints (global,
neck, jaw, left eye, right eye), linear blend skinning and pose-corrective blend shapes. Its model file cannot be
redistributed: each user downloads it from MPI-IS (:data:`FLAME_SOURCE`) and headcast reads it from
``<assets>/flame/generic_model.pkl`` (:data:`FLAME_MODEL_RELPATH`) or ``--flame-model PATH``. No checksum is
registered for it (``assets/registry.py`` pins the files everyone shares; this one is each user's own copy, of one of
several releases), so instead of a checksum the loader checks the file's structure and refuses anything it does not
recognise.

File layouts (SMPL-style pickled ``dict``; both releases use the same keys: ``v_template``, ``f``, ``shapedirs``,
``posedirs``, ``J_regressor``, ``kintree_table``, ``weights``, plus unused ones such as ``J``, ``bs_style``,
``bs_type``):

- FLAME 2020 (``generic_model.pkl``), written by Python 2: arrays are ``numpy`` arrays or ``chumpy.ch.Ch``
  objects, ``J_regressor`` is a ``scipy.sparse`` matrix, byte strings need ``encoding="latin1"``;
- FLAME 2023 (``flame2023.pkl``, ``flame2023_no_jaw.pkl``): the same keys and shapes, plain ``numpy`` arrays
  (third-party notes report ``chumpy`` objects in these files too).

The reader does not tell the releases apart by name or rely on either description: every array may be either kind
(``chumpy`` or ``numpy``, sparse or dense), and :class:`FlameFileLayout` records what was found. ``shapedirs``
``(5023, 3, 400)`` is split into 300 identity and 100 expression components; any other count is refused rather
than guessed.

No code from the file runs: the unpickler resolves only numpy's array/dtype constructors and a few built-in
containers; ``chumpy`` and ``scipy.sparse`` classes become inert stand-ins whose stored state is read as arrays
(``chumpy`` need not be installed); any other class or function becomes an inert placeholder, an error only if a
required key holds one.

Conventions: FLAME's frame is headcast's model frame (docs/conventions.md) — metres, right-handed, +x the head's
left, +y up, +z forward, triangles counter-clockwise from outside — checked on the CC-BY template with the 68-point
landmark embedding, so no conversion is applied.
"""

import builtins
import codecs
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from headcast.assets.resolver import AssetSettings, search_plan
from headcast.errors import AssetError
from headcast.headmodel.lbs import LbsOutput, linear_blend_skinning

FLAME_MODEL_RELPATH = "flame/generic_model.pkl"
"""Where headcast looks for the user's FLAME file inside an asset folder (``--flame-model PATH`` overrides it)."""

FLAME_SOURCE = "https://flame.is.tue.mpg.de"
"""MPI-IS's FLAME website: register, accept the model licence, download (FLAME 2020 or FLAME 2023)."""

FLAME_LICENCE_NOTE = (
    "FLAME is licensed by the Max Planck Institute for Intelligent Systems for non-commercial scientific research "
    "only (terms: https://flame.is.tue.mpg.de/modellicense.html) and may not be redistributed, so headcast neither "
    "ships nor downloads it"
)

FLAME_NUM_VERTICES = 5023
FLAME_NUM_FACES = 9976
FLAME_NUM_SHAPE = 300
FLAME_NUM_EXPRESSION = 100
FLAME_JOINT_NAMES = ("global", "neck", "jaw", "eye_left", "eye_right")
"""Joint order of FLAME's kintree; ``eye_left`` is the head's own left eye (+x)."""
FLAME_PARENTS = (-1, 0, 1, 1, 1)
"""FLAME's kinematic tree: global → neck → jaw, neck → eye_left, neck → eye_right."""

_NUM_POSE_FEATURES = 9 * (len(FLAME_JOINT_NAMES) - 1)
_REQUIRED_KEYS = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "kintree_table", "weights")
_TEMPLATE_DIAGONAL_M = (0.1, 1.0)  # FLAME's head-and-neck box is ~0.44 m across; a mm or cm file falls outside

ArrayKind = Literal["chumpy", "numpy", "mixed"]


@dataclass(frozen=True)
class FlameFileLayout:
    """How a FLAME file stored its arrays (for messages and diagnostics; the buffers do not depend on it).

    Attributes:
        arrays: storage of ``v_template``, ``shapedirs``, ``posedirs`` and ``weights``: all ``chumpy.ch.Ch``
            objects, all numpy arrays, or some of each.
        j_regressor: ``"sparse"`` (a ``scipy.sparse`` matrix, FLAME 2020) or ``"dense"`` (a numpy array).
    """

    arrays: ArrayKind
    j_regressor: Literal["sparse", "dense"]


@dataclass(frozen=True, eq=False)
class FlameModel:
    """Buffers of a FLAME model, in headcast's model frame (metres). Batch size comes from the inputs.

    The large buffers are float32 like ``LinearHeadModel``'s (the bases: 24 MB instead of 48); the regressor and
    the skinning weights stay float64, since their rows sum to one and float32 rounding of the weights would scale
    every skinned vertex by up to 1 ± 6e-8.

    Attributes:
        template: ``(V, 3)`` float32 mean head at zero pose, metres (V = 5023).
        faces: ``(F, 3)`` int32 vertex indices, counter-clockwise from outside (F = 9976).
        shape_basis: ``(V, 3, S)`` float32 identity blend shapes (β), metres per unit coefficient (S = 300).
        expression_basis: ``(V, 3, E)`` float32 expression blend shapes (ψ), metres per unit coefficient (E = 100).
        posedirs: ``(V, 3, 9 (J − 1))`` float32 pose-corrective blend shapes, metres per unit of the pose feature
            (``headcast.headmodel.lbs`` Convention).
        j_regressor: ``(J, V)`` float64 dense joint regressor (J = 5).
        parents: ``(J,)`` int64 kinematic tree, ``-1`` for the root (:data:`FLAME_PARENTS`).
        lbs_weights: ``(V, J)`` float64 skinning weights.
        joint_names: ``J`` names in joint order (:data:`FLAME_JOINT_NAMES`).
        layout: how the file stored its arrays.
        name: model id for files written later, ``"flame"``.
    """

    template: NDArray[np.float32]
    faces: NDArray[np.int32]
    shape_basis: NDArray[np.float32]
    expression_basis: NDArray[np.float32]
    posedirs: NDArray[np.float32]
    j_regressor: NDArray[np.float64]
    parents: NDArray[np.int64]
    lbs_weights: NDArray[np.float64]
    joint_names: tuple[str, ...]
    layout: FlameFileLayout
    name: str = "flame"

    @property
    def num_vertices(self) -> int:
        """V."""
        return int(self.template.shape[0])

    @property
    def num_shape(self) -> int:
        """S, the identity components."""
        return int(self.shape_basis.shape[2])

    @property
    def num_expression(self) -> int:
        """E, the expression components."""
        return int(self.expression_basis.shape[2])

    @property
    def num_joints(self) -> int:
        """J."""
        return int(self.parents.shape[0])

    def joint_index(self, name: str) -> int:
        """Index of a joint by name (KeyError names the known joints)."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(f"unknown FLAME joint '{name}'; known: {', '.join(self.joint_names)}") from None


@dataclass(frozen=True, eq=False)
class FlameTemplate:
    """FLAME's topology with one set of vertices (the CC-BY template of ``shared/assets/flame_tf_flame_cc_by``).

    Attributes:
        vertices: ``(V, 3)`` float32, metres, headcast's model frame.
        faces: ``(F, 3)`` int32, counter-clockwise from outside.
    """

    vertices: NDArray[np.float32]
    faces: NDArray[np.int32]


def flame_lbs(
    model: FlameModel,
    shape: NDArray[np.floating],
    expression: NDArray[np.floating],
    pose: NDArray[np.floating],
) -> LbsOutput:
    """FLAME's vertices, joints and skinning transforms for a batch of parameters.

    Args:
        model: the buffers.
        shape: ``(B, S')`` identity coefficients β, ``S' ≤ S`` (the first ``S'`` components are used).
        expression: ``(B, E')`` expression coefficients ψ, ``E' ≤ E``.
        pose: ``(B, J, 3)`` axis-angle per joint in :data:`FLAME_JOINT_NAMES` order, radians, each relative to its
            parent (global rotation, neck, jaw, left eye, right eye).

    Returns:
        :class:`~headcast.headmodel.lbs.LbsOutput` in the model frame, metres (no global translation).
    """
    beta = np.atleast_2d(np.asarray(shape, dtype=np.float64))
    psi = np.atleast_2d(np.asarray(expression, dtype=np.float64))
    if beta.shape[1] > model.num_shape or psi.shape[1] > model.num_expression:
        raise ValueError(
            f"at most {model.num_shape} shape and {model.num_expression} expression coefficients, "
            f"got {beta.shape[1]} and {psi.shape[1]}"
        )
    if beta.shape[0] != psi.shape[0]:
        raise ValueError(f"shape (B, S') and expression (B, E') need the same B, got {beta.shape} and {psi.shape}")
    dirs = np.concatenate((model.shape_basis[..., : beta.shape[1]], model.expression_basis[..., : psi.shape[1]]), 2)
    return linear_blend_skinning(
        model.template,
        dirs,
        np.concatenate((beta, psi), axis=1),
        model.posedirs,
        model.j_regressor,
        model.parents,
        model.lbs_weights,
        pose,
    )


# --- where the file is ----------------------------------------------------------------------------------------------


def flame_missing_message(looked: list[Path], explicit: bool) -> str:
    """The message for a FLAME file that is not there: where a user obtains it, its licence, where it goes."""
    where = "\n".join(f"  - {p}" for p in looked)
    given = " (given by --flame-model)" if explicit else ""
    return (
        f"The FLAME model file was not found{given}. Looked for:\n{where}\n"
        f"Get FLAME from the MPI-IS FLAME website, {FLAME_SOURCE}: register, accept the FLAME model licence, and "
        f"download FLAME 2020 (generic_model.pkl) or FLAME 2023 (flame2023.pkl). {FLAME_LICENCE_NOTE}.\n"
        f"headcast looks for it at <assets>/{FLAME_MODEL_RELPATH}, or give the file with --flame-model PATH."
    )


def resolve_flame_model(
    flame_model: Path | str | None = None,
    settings: AssetSettings | None = None,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Path:
    """The user's FLAME file: ``flame_model`` when given, else ``<assets>/flame/generic_model.pkl``.

    The asset folders are the ones every model file is searched in (``headcast.assets.resolver.search_plan``:
    ``--assets`` / ``HEADCAST_ASSETS`` alone when set, else the searched list). No checksum is checked (see the
    module docstring); :func:`load_flame` checks the structure.

    Args:
        flame_model: an explicit path (``--flame-model``); when given, the only place looked at.
        settings: asset folder settings.
        cwd: working directory for the search (default: the current one).
        env: environment for the search (default: ``os.environ``).

    Raises:
        AssetError: the file is not there; the message says where to obtain FLAME and on which terms.
    """
    if flame_model is not None:
        path = Path(flame_model)
        if not path.is_file():
            raise AssetError(flame_missing_message([path], explicit=True))
        return path
    plan = search_plan(AssetSettings() if settings is None else settings, cwd, env)
    looked = [folder / FLAME_MODEL_RELPATH for folder in plan.dirs]
    for path in looked:
        if path.is_file():
            return path
    raise AssetError(flame_missing_message(looked, explicit=False))


# --- reading the pickle without running it --------------------------------------------------------------------------


class _Inert:
    """A stand-in for a class or function found in a pickle: absorbs arguments and state, runs nothing."""

    origin: ClassVar[str] = "?"
    state: object

    def __new__(cls, *args: object, **kwargs: object) -> "_Inert":
        obj = object.__new__(cls)
        object.__setattr__(obj, "state", None)
        return obj

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        object.__setattr__(self, "state", state)

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def append(self, value: object) -> None:
        """Absorb a list-append from the pickle."""

    def extend(self, values: object) -> None:
        """Absorb a list-extend from the pickle."""


class _ChumpyObject(_Inert):
    """A ``chumpy`` object; a plain ``chumpy.ch.Ch`` keeps its value as the float64 array ``state["x"]``."""


class _SparseMatrix(_Inert):
    """A ``scipy.sparse`` matrix; its state holds the index arrays, read by :func:`_dense_from_sparse`."""


_SPARSE_CLASSES = frozenset(f"{fmt}_{kind}" for fmt in ("csc", "csr", "coo") for kind in ("matrix", "array"))
_SAFE_BUILTINS = frozenset({"object", "set", "frozenset", "list", "dict", "tuple", "int", "float", "complex", "bool",
                            "str", "bytes", "bytearray"})  # fmt: skip
# numpy's own reconstructors, found from its reduce protocol (their module moved from numpy.core to numpy._core).
_NUMPY_FUNCTIONS: dict[str, Callable[..., object]] = {
    "_reconstruct": cast(Callable[..., object], np.zeros(1).__reduce__()[0]),
    "scalar": cast(Callable[..., object], np.float64(0.0).__reduce__()[0]),
    "_frombuffer": cast(Callable[..., object], np.zeros(1).__reduce_ex__(5)[0]),
}
_NUMPY_FUNCTION_MODULES = frozenset({"numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric",
                                     "numpy._core.numeric"})  # fmt: skip


def _safe_reconstructor(cls: object, base: object, state: object) -> object:
    """``copy_reg._reconstructor`` for stand-ins only (Python 2 protocol 0/1 pickles of new-style objects)."""
    if isinstance(cls, type) and issubclass(cls, _Inert):
        return cls.__new__(cls)
    return _Inert()


class _FlameUnpickler(pickle.Unpickler):
    """Resolves only numpy constructors and built-in containers; chumpy, scipy.sparse and the rest become stand-ins."""

    def __init__(self, file: Any) -> None:
        super().__init__(file, encoding="latin1")  # Python 2 byte strings (and numpy buffers) as latin-1
        self._stand_ins: dict[tuple[type[_Inert], str], type[_Inert]] = {}

    def _stand_in(self, base: type[_Inert], origin: str) -> type[_Inert]:
        key = (base, origin)
        if key not in self._stand_ins:
            self._stand_ins[key] = type(base.__name__, (base,), {"origin": origin})
        return self._stand_ins[key]

    def find_class(self, module: str, name: str) -> Any:
        """Map a global named in the pickle to a safe implementation or an inert stand-in."""
        if module in ("copy_reg", "copyreg") and name == "_reconstructor":
            return _safe_reconstructor
        if module in ("__builtin__", "builtins") and name in _SAFE_BUILTINS:
            return getattr(builtins, name)
        if (module, name) == ("_codecs", "encode"):
            return codecs.encode
        if module in _NUMPY_FUNCTION_MODULES and name in _NUMPY_FUNCTIONS:
            return _NUMPY_FUNCTIONS[name]
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if module.split(".")[0] == "chumpy":
            return self._stand_in(_ChumpyObject, f"{module}.{name}")
        if module.startswith("scipy.sparse") and name in _SPARSE_CLASSES:
            return self._stand_in(_SparseMatrix, name)
        return self._stand_in(_Inert, f"{module}.{name}")


def _read_pickle(path: Path) -> Mapping[str, object]:
    try:
        with open(path, "rb") as fh:
            data = _FlameUnpickler(fh).load()
    except OSError as exc:
        raise AssetError(f"Cannot read the FLAME model file {path}: {exc}.") from exc
    except Exception as exc:  # any malformed pickle: UnpicklingError, EOFError, ValueError, TypeError, ...
        raise AssetError(
            f"{path} is not a readable FLAME model file (not a Python pickle of FLAME's arrays: "
            f"{type(exc).__name__}: {exc}). Give the generic_model.pkl (FLAME 2020) or flame2023.pkl (FLAME 2023) "
            f"downloaded from {FLAME_SOURCE}."
        ) from exc
    if not isinstance(data, dict):
        raise AssetError(
            f"{path} is not a FLAME model file: it holds a {type(data).__name__}, not the dict of arrays FLAME's "
            f"generic_model.pkl / flame2023.pkl hold."
        )
    return {str(k): v for k, v in data.items()}


def _dense_from_sparse(matrix: _SparseMatrix, key: str, path: Path) -> NDArray[np.float64]:
    state = matrix.state if isinstance(matrix.state, dict) else {}
    shape = state.get("_shape", state.get("shape"))
    fmt = matrix.origin[:3]
    try:
        if shape is None:
            raise KeyError("_shape")
        if fmt in ("csc", "csr"):
            cls = sp.csc_matrix if fmt == "csc" else sp.csr_matrix
            parts = (np.asarray(state["data"]), np.asarray(state["indices"]), np.asarray(state["indptr"]))
            dense = cls(parts, shape=tuple(shape)).toarray()
        else:
            rows, cols = state["coords"] if "coords" in state else (state["row"], state["col"])
            dense = sp.coo_matrix((np.asarray(state["data"]), (rows, cols)), shape=tuple(shape)).toarray()
    except (KeyError, TypeError, ValueError) as exc:
        raise AssetError(f"{path}: '{key}' is a scipy.sparse {matrix.origin} that cannot be read ({exc}).") from exc
    return np.asarray(dense, dtype=np.float64)


def _as_array(value: object, key: str, path: Path) -> tuple[NDArray[Any], Literal["chumpy", "numpy", "sparse"]]:
    """A stored value as a numeric array, and how it was stored."""
    kind: Literal["chumpy", "numpy", "sparse"] = "numpy"
    if isinstance(value, _ChumpyObject):
        state = value.state
        if value.origin != "chumpy.ch.Ch" or not isinstance(state, dict) or "x" not in state:
            raise AssetError(
                f"{path}: '{key}' is a chumpy expression ({value.origin}), not a stored array; headcast reads the "
                f"plain arrays of FLAME's released files. Is this a FLAME model file from {FLAME_SOURCE}?"
            )
        value, kind = state["x"], "chumpy"
    if isinstance(value, _SparseMatrix):
        return _dense_from_sparse(value, key, path), "sparse"
    if isinstance(value, _Inert):
        raise AssetError(f"{path}: '{key}' holds a {value.origin} object where FLAME stores an array.")
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise AssetError(f"{path}: '{key}' is not a numeric array (dtype {array.dtype}).")
    return array, kind


def _expect_shape(array: NDArray[Any], expected: tuple[int, ...], key: str, path: Path) -> None:
    if array.shape != expected:
        raise AssetError(
            f"{path}: '{key}' has shape {array.shape}, FLAME's is {expected}. This is not a FLAME 2020/2023 model "
            f"file headcast recognises."
        )


def _parents_from_kintree(kintree: NDArray[Any], path: Path) -> NDArray[np.int64]:
    n_joints = len(FLAME_JOINT_NAMES)
    _expect_shape(kintree, (2, n_joints), "kintree_table", path)
    parents = kintree[0].astype(np.int64)
    if not np.array_equal(kintree[1].astype(np.int64), np.arange(n_joints)):
        raise AssetError(f"{path}: kintree_table lists joints {kintree[1].tolist()}, FLAME's are 0…{n_joints - 1}.")
    root_ok = not 0 <= parents[0] < n_joints  # stored as -1 or as uint32 4294967295
    if not root_ok or tuple(parents[1:].tolist()) != FLAME_PARENTS[1:]:
        raise AssetError(
            f"{path}: kintree_table parents {kintree[0].tolist()} are not FLAME's (root, then {FLAME_PARENTS[1:]}: "
            f"global → neck → jaw and neck → both eyes); headcast would not know which joint is which."
        )
    return np.asarray(FLAME_PARENTS, dtype=np.int64)


def load_flame(path: Path | str) -> FlameModel:
    """Read a user-supplied FLAME model file (FLAME 2020 ``generic_model.pkl`` or FLAME 2023 ``flame2023.pkl``).

    Both layouts of the module docstring are read without ``chumpy``; the shape basis is split into the first
    300 identity and the last 100 expression components. Checked: the required keys, FLAME's vertex, face, basis,
    pose-corrective and joint counts, the kinematic tree, ``bs_style == "lbs"`` and ``bs_type == "lrotmin"`` when
    present (the skinning and pose-feature kind this module implements) and a template in metres. Anything else
    is an ``AssetError`` that says what was found. The two eye joints are named by where they sit (``eye_left`` on
    the head's own left, +x).

    No checksum can be checked: the file is each user's own download, not a file headcast pins.

    Args:
        path: the pickle.

    Returns:
        The model buffers (see :class:`FlameModel` for their dtypes; the J_regressor dense).

    Raises:
        AssetError: missing (where to obtain FLAME and its licence terms), unreadable, or not a FLAME file.
    """
    path = Path(path)
    if not path.is_file():
        raise AssetError(flame_missing_message([path], explicit=False))
    data = _read_pickle(path)
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    if missing:
        raise AssetError(
            f"{path} is not a FLAME model file: it lacks {', '.join(missing)} (found keys: "
            f"{', '.join(sorted(data)) or 'none'}). Give the generic_model.pkl (FLAME 2020) or flame2023.pkl "
            f"(FLAME 2023) downloaded from {FLAME_SOURCE}."
        )
    for key, expected in (("bs_style", "lbs"), ("bs_type", "lrotmin")):
        if key in data and str(data[key]) != expected:
            raise AssetError(f"{path}: {key} is '{data[key]}', headcast implements FLAME's '{expected}'.")

    arrays: dict[str, NDArray[Any]] = {}
    kinds: dict[str, str] = {}
    for key in _REQUIRED_KEYS:
        arrays[key], kinds[key] = _as_array(data[key], key, path)

    n_v, n_j = FLAME_NUM_VERTICES, len(FLAME_JOINT_NAMES)
    n_basis = FLAME_NUM_SHAPE + FLAME_NUM_EXPRESSION
    _expect_shape(arrays["v_template"], (n_v, 3), "v_template", path)
    _expect_shape(arrays["f"], (FLAME_NUM_FACES, 3), "f", path)
    shapedirs = arrays["shapedirs"]
    if shapedirs.ndim == 3 and shapedirs.shape[:2] == (n_v, 3) and shapedirs.shape[2] != n_basis:
        raise AssetError(
            f"{path}: shapedirs has {shapedirs.shape[2]} components; FLAME 2020 and 2023 have {n_basis} = "
            f"{FLAME_NUM_SHAPE} identity + {FLAME_NUM_EXPRESSION} expression, and headcast does not guess another "
            f"split."
        )
    _expect_shape(shapedirs, (n_v, 3, n_basis), "shapedirs", path)
    _expect_shape(arrays["posedirs"], (n_v, 3, _NUM_POSE_FEATURES), "posedirs", path)
    _expect_shape(arrays["J_regressor"], (n_j, n_v), "J_regressor", path)
    _expect_shape(arrays["weights"], (n_v, n_j), "weights", path)
    parents = _parents_from_kintree(arrays["kintree_table"], path)

    faces = arrays["f"]
    if faces.dtype.kind not in "iu" or faces.min() < 0 or faces.max() >= n_v:
        raise AssetError(f"{path}: 'f' must hold vertex indices 0…{n_v - 1}.")
    template = arrays["v_template"].astype(np.float64)
    diagonal = float(np.linalg.norm(template.max(0) - template.min(0)))
    if not _TEMPLATE_DIAGONAL_M[0] < diagonal < _TEMPLATE_DIAGONAL_M[1]:
        raise AssetError(
            f"{path}: the template is {diagonal:.3g} units across; FLAME's is about 0.44 m. The file is not in "
            f"metres, or not FLAME."
        )
    joints = arrays["J_regressor"].astype(np.float64) @ template
    left, right = FLAME_JOINT_NAMES.index("eye_left"), FLAME_JOINT_NAMES.index("eye_right")
    # The eyes are named by where they sit (eye_left = the head's own left, +x), not by an assumed joint order:
    # no public document fixes which of joints 3 and 4 is which, so a file with them the other way round is
    # read with the names swapped rather than refused.
    joint_names: tuple[str, ...] = FLAME_JOINT_NAMES
    if joints[left, 0] < joints[right, 0]:
        names = list(FLAME_JOINT_NAMES)
        names[left], names[right] = names[right], names[left]
        joint_names = tuple(names)

    float_kinds = {kinds[k] for k in ("v_template", "shapedirs", "posedirs", "weights")}
    stored: ArrayKind = "chumpy" if float_kinds == {"chumpy"} else "numpy" if float_kinds == {"numpy"} else "mixed"
    layout = FlameFileLayout(stored, "sparse" if kinds["J_regressor"] == "sparse" else "dense")
    return FlameModel(
        template=template.astype(np.float32),
        faces=faces.astype(np.int32),
        shape_basis=np.ascontiguousarray(shapedirs[..., :FLAME_NUM_SHAPE], dtype=np.float32),
        expression_basis=np.ascontiguousarray(shapedirs[..., FLAME_NUM_SHAPE:], dtype=np.float32),
        posedirs=np.ascontiguousarray(arrays["posedirs"], dtype=np.float32),
        j_regressor=np.ascontiguousarray(arrays["J_regressor"], dtype=np.float64),
        parents=parents,
        lbs_weights=np.ascontiguousarray(arrays["weights"], dtype=np.float64),
        joint_names=joint_names,
        layout=layout,
    )


def load_flame_template_ply(path: Path | str) -> FlameTemplate:
    """Read FLAME's CC-BY template mesh (``shared/assets/flame_tf_flame_cc_by/template.ply``, binary PLY).

    Source: MPI-IS's TF_FLAME repository, FLAME model licence CC-BY-4.0 (see that folder's SOURCE.txt and
    LICENSE). It holds the 2017-era mean head on FLAME's topology, in metres and headcast's axes; no UVs.

    Args:
        path: the ``.ply`` file.

    Returns:
        Vertices ``(5023, 3)`` and faces ``(9976, 3)`` in file order.

    Raises:
        AssetError: missing, unreadable, or not FLAME's topology.
    """
    import trimesh  # only needed here; keeps the buffers module light

    path = Path(path)
    if not path.is_file():
        raise AssetError(
            f"FLAME template mesh not found: {path}. It is the CC-BY template.ply of MPI-IS's TF_FLAME repository "
            f"(github.com/TimoBolkart/TF_FLAME, data/template.ply), kept in shared/assets/flame_tf_flame_cc_by/."
        )
    try:
        mesh = trimesh.load(path, process=False, force="mesh")
    except Exception as exc:  # trimesh raises several types for a malformed file
        raise AssetError(f"Cannot read the FLAME template mesh {path}: {exc}.") from exc
    if not isinstance(mesh, trimesh.Trimesh):
        raise AssetError(f"{path} is not a triangle mesh.")
    vertices = np.asarray(mesh.vertices, dtype=np.float32)
    faces = np.asarray(mesh.faces, dtype=np.int32)
    if vertices.shape != (FLAME_NUM_VERTICES, 3) or faces.shape != (FLAME_NUM_FACES, 3):
        raise AssetError(
            f"{path}: {vertices.shape[0]} vertices and {faces.shape[0]} triangles; FLAME's topology has "
            f"{FLAME_NUM_VERTICES} and {FLAME_NUM_FACES}."
        )
    return FlameTemplate(vertices=vertices, faces=faces)

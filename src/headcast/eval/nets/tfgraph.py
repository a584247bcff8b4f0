"""Frozen TensorFlow graphs read without TensorFlow: a ``GraphDef`` protobuf as typed, immutable Python data.

A *frozen* graph (``.pb``) is a serialised ``tensorflow.GraphDef``: a list of nodes, each with a name, an op type,
inputs and attributes; the weights are ``Const`` nodes whose ``value`` attribute holds a ``TensorProto``. Inputs
are written ``"node"`` or ``"node:k"`` (the k-th output of ``node``) for data, ``"^node"`` for a control dependency
(an ordering constraint that carries no value).

The bytes are decoded by the protobuf runtime with the compiled schema that ``tensorboardX`` ships
(``tensorboardX.proto.graph_pb2``, TensorFlow's ``graph.proto``, ``node_def.proto``, ``attr_value.proto``,
``tensor.proto`` and ``types.proto`` kept in step with TensorFlow), then turned into a :class:`TFGraph` of frozen
:class:`TFNode` whose attributes are plain Python values and whose constants are numpy arrays. Nothing here runs a
graph: :mod:`headcast.eval.nets.tfrun` does.

Convention: tensors keep TensorFlow's layout and dtype (images are NHWC, filters HWIO); constants are decoded as
little-endian, as TensorFlow writes ``tensor_content``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from headcast.eval.deps import import_optional

TENSORBOARDX_PIP = "pip install tensorboardX==2.6.5"

AttrValue = str | int | float | bool | tuple[int, ...] | tuple[float, ...] | tuple[str, ...] | NDArray[Any] | None
"""A node attribute as Python data: ``s`` → str, ``i``/``type`` → int, ``f`` → float, ``b`` → bool, ``shape`` →
tuple of dims (−1 unknown), ``list`` → tuple, ``tensor`` → numpy array, unset → None."""

# TensorFlow ``DataType`` enum value → (numpy dtype, the ``TensorProto`` field holding values when
# ``tensor_content`` is empty). DT_HALF stores each value's 16 bits in ``half_val``.
DTYPES: Mapping[int, tuple[np.dtype[Any], str]] = MappingProxyType(
    {
        1: (np.dtype("<f4"), "float_val"),  # DT_FLOAT
        2: (np.dtype("<f8"), "double_val"),  # DT_DOUBLE
        3: (np.dtype("<i4"), "int_val"),  # DT_INT32
        4: (np.dtype("u1"), "int_val"),  # DT_UINT8
        5: (np.dtype("<i2"), "int_val"),  # DT_INT16
        6: (np.dtype("i1"), "int_val"),  # DT_INT8
        9: (np.dtype("<i8"), "int64_val"),  # DT_INT64
        10: (np.dtype("?"), "bool_val"),  # DT_BOOL
        19: (np.dtype("<f2"), "half_val"),  # DT_HALF
    }
)


class UnsupportedGraphError(ValueError):
    """The graph uses something this reader or runtime does not implement, or is malformed."""


@dataclass(frozen=True)
class TensorRef:
    """A reference to one output of a node.

    Attributes:
        node: the producing node's name.
        output: the output index (``"node:k"`` → k; plain ``"node"`` → 0).
    """

    node: str
    output: int = 0

    @staticmethod
    def parse(text: str) -> "TensorRef":
        """``"name"`` or ``"name:k"`` → the reference (a control input ``"^name"`` is not a tensor: rejected)."""
        if text.startswith("^"):
            raise UnsupportedGraphError(f"'{text}' is a control dependency, not a tensor")
        name, sep, index = text.rpartition(":")
        if sep and index.isdigit():
            return TensorRef(name, int(index))
        return TensorRef(text, 0)


@dataclass(frozen=True, eq=False)
class TFNode:
    """One node of a graph.

    Attributes:
        name: unique node name.
        op: the op type, e.g. ``"Conv2D"``.
        inputs: the data inputs, in order.
        control_inputs: names of nodes that must run first (no value flows).
        attrs: attribute name → value (see :data:`AttrValue`); ``Const`` nodes hold their array in ``"value"``.
    """

    name: str
    op: str
    inputs: tuple[TensorRef, ...]
    control_inputs: tuple[str, ...]
    attrs: Mapping[str, AttrValue]

    def _attr(self, key: str, default: AttrValue, kinds: tuple[type, ...]) -> Any:
        value = self.attrs.get(key, default)
        if value is None or not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise UnsupportedGraphError(f"node '{self.name}' ({self.op}): attribute '{key}' is {value!r}")
        return value

    def attr_int(self, key: str, default: int | None = None) -> int:
        """An integer (``i`` or ``type``) attribute."""
        return int(self._attr(key, default, (int,)))

    def attr_float(self, key: str, default: float | None = None) -> float:
        """A float (``f``) attribute."""
        return float(self._attr(key, default, (float, int)))

    def attr_bool(self, key: str, default: bool | None = None) -> bool:
        """A boolean (``b``) attribute."""
        return bool(self._attr(key, default, (bool,)))

    def attr_str(self, key: str, default: str | None = None) -> str:
        """A string (``s``) attribute, decoded as UTF-8."""
        return str(self._attr(key, default, (str,)))

    def attr_ints(self, key: str, default: tuple[int, ...] | None = None) -> tuple[int, ...]:
        """A list-of-integers (or shape) attribute."""
        value = self._attr(key, default, (tuple,))
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise UnsupportedGraphError(f"node '{self.name}' ({self.op}): attribute '{key}' is {value!r}")
        return tuple(int(v) for v in value)

    def attr_array(self, key: str = "value") -> NDArray[Any]:
        """A tensor attribute (a ``Const`` node's ``value``)."""
        return np.asarray(self._attr(key, None, (np.ndarray,)))


@dataclass(frozen=True, eq=False)
class TFGraph:
    """A decoded ``GraphDef``.

    Attributes:
        nodes: node name → node, in file order.
    """

    nodes: Mapping[str, TFNode]

    def node(self, name: str) -> TFNode:
        """The node called ``name``.

        Raises:
            UnsupportedGraphError: there is none.
        """
        try:
            return self.nodes[name]
        except KeyError:
            raise UnsupportedGraphError(f"the graph has no node '{name}'") from None

    def ops(self) -> set[str]:
        """The op types the graph uses."""
        return {n.op for n in self.nodes.values()}


# ----------------------------------------------------------------------------------------------- pure decoding


def tensor_values(dtype: int, shape: tuple[int, ...], content: bytes, values: list[Any]) -> NDArray[Any]:
    """Decode a ``TensorProto`` into a numpy array.

    TensorFlow stores a tensor either as raw little-endian bytes (``tensor_content``) or in a typed repeated field;
    in the latter, fewer values than elements mean "repeat the last value" (a constant fill), and none means zeros.

    Args:
        dtype: the ``DataType`` enum value (see :data:`DTYPES`).
        shape: the tensor's dims.
        content: ``tensor_content`` (empty when the typed field is used).
        values: the typed field's values (``float_val``, ``int_val``, ...).

    Returns:
        The array of that shape, in the dtype of :data:`DTYPES` (native byte order).

    Raises:
        UnsupportedGraphError: unknown dtype, or a size that does not match the shape.
    """
    if dtype not in DTYPES:
        raise UnsupportedGraphError(f"tensor dtype {dtype} (TensorFlow DataType enum) is not supported")
    np_dtype = DTYPES[dtype][0]
    size = int(np.prod(shape, dtype=np.int64))
    if content:
        if len(content) != size * np_dtype.itemsize:
            raise UnsupportedGraphError(f"tensor of shape {shape} has {len(content)} bytes of content")
        flat = np.frombuffer(content, dtype=np_dtype)
    elif dtype == 19:  # DT_HALF: the 16-bit patterns, one per int32 value
        flat = np.asarray(values, dtype=np.uint16).view(np_dtype)
    else:
        flat = np.asarray(values, dtype=np_dtype)
    if flat.size > size:
        raise UnsupportedGraphError(f"tensor of shape {shape} has {flat.size} values")
    if flat.size < size:
        fill = flat[-1] if flat.size else np.zeros((), np_dtype)
        flat = np.concatenate([flat, np.full(size - flat.size, fill, np_dtype)])
    return flat.astype(np_dtype.newbyteorder("="), copy=True).reshape(shape)


def _tensor(proto: Any) -> NDArray[Any]:
    shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
    field = DTYPES[proto.dtype][1] if proto.dtype in DTYPES else "float_val"
    return tensor_values(int(proto.dtype), shape, bytes(proto.tensor_content), list(getattr(proto, field)))


def _attr_value(proto: Any) -> AttrValue:
    kind = proto.WhichOneof("value")
    if kind is None:
        return None
    if kind == "s":
        return bytes(proto.s).decode("utf-8", errors="replace")
    if kind in ("i", "type"):
        return int(getattr(proto, kind))
    if kind == "f":
        return float(proto.f)
    if kind == "b":
        return bool(proto.b)
    if kind == "shape":
        return tuple(int(d.size) for d in proto.shape.dim)
    if kind == "tensor":
        return _tensor(proto.tensor)
    if kind == "list":
        lst = proto.list
        if lst.s:
            return tuple(bytes(v).decode("utf-8", errors="replace") for v in lst.s)
        if lst.i:
            return tuple(int(v) for v in lst.i)
        if lst.f:
            return tuple(float(v) for v in lst.f)
        if lst.type:
            return tuple(int(v) for v in lst.type)
        return ()  # empty, or lists of bools/shapes/tensors that no supported op reads
    return None  # placeholder / func: not used by frozen inference graphs


def parse_graph_def(data: bytes) -> TFGraph:
    """Decode a serialised ``GraphDef``.

    Args:
        data: the bytes of a ``.pb`` file.

    Returns:
        The graph; node order is the file's.

    Raises:
        MissingEvalDependencyError: ``tensorboardX`` (the compiled schema) is not installed.
        UnsupportedGraphError: the bytes are not a ``GraphDef``, or two nodes share a name.
    """
    graph_pb2 = import_optional("tensorboardX.proto.graph_pb2", TENSORBOARDX_PIP)
    message = graph_pb2.GraphDef()
    try:
        message.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError differs between its backends
        raise UnsupportedGraphError(f"not a TensorFlow GraphDef: {exc}") from exc
    nodes: dict[str, TFNode] = {}
    for n in message.node:
        if n.name in nodes:
            raise UnsupportedGraphError(f"two nodes are called '{n.name}'")
        nodes[n.name] = TFNode(
            name=n.name,
            op=n.op,
            inputs=tuple(TensorRef.parse(i) for i in n.input if not i.startswith("^")),
            control_inputs=tuple(i[1:] for i in n.input if i.startswith("^")),
            attrs=MappingProxyType({k: _attr_value(v) for k, v in n.attr.items()}),
        )
    return TFGraph(MappingProxyType(nodes))


def read_graph_def(path: Path) -> TFGraph:
    """Read a frozen graph file (``.pb``) — see :func:`parse_graph_def`."""
    return parse_graph_def(Path(path).read_bytes())

"""Run a frozen TensorFlow graph with torch: a small interpreter for the ops of inference CNNs.

:class:`GraphRunner` takes a :class:`~headcast.eval.nets.tfgraph.TFGraph`, finds the nodes the requested outputs
depend on, orders them (inputs before users) and evaluates them one by one with the pure op functions of
:data:`OPS`, keeping each value only until its last user has run.

Convention: TensorFlow's semantics throughout — tensors keep the graph's layout (``data_format`` must be NHWC:
images ``(N, H, W, C)``, filters ``(kh, kw, C_in, C_out)``), binary ops broadcast as numpy does, and ``"SAME"``
padding is ``pad_total = max((⌈in/s⌉ − 1)·s + (k − 1)·d + 1 − in, 0)`` split with the odd pixel *after*
(bottom/right). Convolutions and pools view an NHWC tensor as NCHW with channels-last strides (a permutation, no
copy), the layout oneDNN prefers on CPU; Conv2D filters are stored once in OIHW memory order for the same reason.

Supported ops (the set of Inception-ResNet style classifiers; anything else is refused when the runner is built):

=================================  ==========================================================================
op                                 TensorFlow meaning implemented
=================================  ==========================================================================
``Placeholder``, ``Const``,        a fed input (shape checked against ``shape``; −1 matches any size), a
``Identity``                       constant, a pass-through
``Conv2D``                         ``strides``, ``dilations``, ``padding`` SAME/VALID (NHWC)
``BiasAdd``                        ``x + b`` over the last axis
``Relu``                           ``max(x, 0)``
``MaxPool``, ``AvgPool``           ``ksize``, ``strides``, SAME/VALID; SAME average pooling divides by the
                                   number of in-image pixels of each window (padding is not counted)
``ConcatV2``                       ``N`` tensors then the axis
``Add``, ``AddV2``, ``Mul``,       element-wise with broadcasting
``Maximum``, ``Square``,
``Rsqrt``
``Sum``                            over the axes of the second input, ``keep_dims``
``MatMul``                         2-D, ``transpose_a``/``transpose_b``
``Reshape``                        to the shape of the second input (one −1 allowed)
``FusedBatchNorm``, ``…V3``        inference only: ``(x − mean)/√(var + ε)·scale + offset`` (output 0)
=================================  ==========================================================================
"""

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import Tensor

from headcast.eval.nets.tfgraph import DTYPES, TensorRef, TFGraph, TFNode, UnsupportedGraphError

Padding = Literal["SAME", "VALID"]

# ----------------------------------------------------------------------------------------------- pure functions


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``"SAME"`` padding of one spatial axis: ``(before, after)`` pixels, the odd one after.

    Example: ``same_padding(4, 3, 2) == (0, 1)`` (output ⌈4/2⌉ = 2 pixels need 5 input pixels).
    """
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _padding_pairs(
    padding: Padding, hw: tuple[int, int], kernel: tuple[int, int], strides: tuple[int, int], dilations: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    if padding == "VALID":
        return (0, 0), (0, 0)
    return (
        same_padding(hw[0], kernel[0], strides[0], dilations[0]),
        same_padding(hw[1], kernel[1], strides[1], dilations[1]),
    )


def _nchw(x: Tensor) -> Tensor:
    """``(N, H, W, C)`` → the same memory viewed as ``(N, C, H, W)`` (channels-last strides)."""
    return x.permute(0, 3, 1, 2)


def _nhwc(x: Tensor) -> Tensor:
    """``(N, C, H, W)`` → ``(N, H, W, C)`` view."""
    return x.permute(0, 2, 3, 1)


def conv2d_nhwc(
    x: Tensor,
    filters: Tensor,
    strides: tuple[int, int],
    padding: Padding,
    dilations: tuple[int, int] = (1, 1),
) -> Tensor:
    """TensorFlow ``Conv2D`` (NHWC, cross-correlation, no bias).

    Args:
        x: ``(N, H, W, C_in)`` input.
        filters: ``(kh, kw, C_in, C_out)`` (HWIO).
        strides: ``(s_h, s_w)``.
        padding: ``"SAME"`` or ``"VALID"`` (see the module docstring).
        dilations: ``(d_h, d_w)``.

    Returns:
        ``(N, H', W', C_out)``.
    """
    kernel = (int(filters.shape[0]), int(filters.shape[1]))
    (top, bottom), (left, right) = _padding_pairs(padding, (x.shape[1], x.shape[2]), kernel, strides, dilations)
    xc = _nchw(x)
    if top == bottom and left == right:
        out = F.conv2d(xc, filters.permute(3, 2, 0, 1), stride=strides, padding=(top, left), dilation=dilations)
    else:
        xc = F.pad(xc, (left, right, top, bottom))
        out = F.conv2d(xc, filters.permute(3, 2, 0, 1), stride=strides, dilation=dilations)
    return _nhwc(out)


def max_pool_nhwc(x: Tensor, ksize: tuple[int, int], strides: tuple[int, int], padding: Padding) -> Tensor:
    """TensorFlow ``MaxPool`` over ``(N, H, W, C)``; SAME pads with −∞ (padding never wins)."""
    (top, bottom), (left, right) = _padding_pairs(padding, (x.shape[1], x.shape[2]), ksize, strides, (1, 1))
    xc = _nchw(x)
    if top or bottom or left or right:
        xc = F.pad(xc, (left, right, top, bottom), value=-math.inf)
    return _nhwc(F.max_pool2d(xc, ksize, strides))


def avg_pool_nhwc(x: Tensor, ksize: tuple[int, int], strides: tuple[int, int], padding: Padding) -> Tensor:
    """TensorFlow ``AvgPool`` over ``(N, H, W, C)``; SAME divides each window by its in-image pixel count."""
    (top, bottom), (left, right) = _padding_pairs(padding, (x.shape[1], x.shape[2]), ksize, strides, (1, 1))
    xc = _nchw(x)
    if not (top or bottom or left or right):
        return _nhwc(F.avg_pool2d(xc, ksize, strides))
    pad = (left, right, top, bottom)
    sums = F.avg_pool2d(F.pad(xc, pad), ksize, strides, divisor_override=1)
    counts = F.avg_pool2d(F.pad(torch.ones_like(xc[:1, :1]), pad), ksize, strides, divisor_override=1)
    return _nhwc(sums / counts)


def batch_norm_inference(
    x: Tensor, scale: Tensor, offset: Tensor, mean: Tensor, variance: Tensor, epsilon: float
) -> Tensor:
    """``(x − mean) / √(variance + ε) · scale + offset`` over the last axis of ``(..., C)`` (``(C,)`` params)."""
    return (x - mean) * torch.rsqrt(variance + epsilon) * scale + offset


def reshape_tf(x: Tensor, shape: Sequence[int]) -> Tensor:
    """TensorFlow ``Reshape``: C order, at most one −1 (inferred).

    Raises:
        UnsupportedGraphError: the element counts do not match.
    """
    try:
        return x.reshape([int(s) for s in shape])
    except RuntimeError as exc:
        raise UnsupportedGraphError(f"cannot reshape {tuple(x.shape)} to {tuple(shape)}: {exc}") from exc


# --------------------------------------------------------------------------------------------------- op table

OpFunction = Callable[[TFNode, Sequence[Tensor]], Tensor]
"""One op: the node (for its attributes) and its data inputs → its output 0."""


def _nhwc_only(node: TFNode) -> None:
    if node.attr_str("data_format", "NHWC") != "NHWC":
        raise UnsupportedGraphError(f"node '{node.name}' ({node.op}): only data_format NHWC is supported")


def _spatial(node: TFNode, key: str, default: tuple[int, ...] | None = None) -> tuple[int, int]:
    """An NHWC 4-vector attribute (``strides``, ``ksize``, ``dilations``) → its ``(h, w)``; N and C must be 1."""
    v = node.attr_ints(key, default)
    if len(v) != 4 or v[0] != 1 or v[3] != 1:
        raise UnsupportedGraphError(f"node '{node.name}' ({node.op}): {key} {v} (batch/channel must be 1)")
    return v[1], v[2]


def _padding(node: TFNode) -> Padding:
    p = node.attr_str("padding")
    if p == "SAME":
        return "SAME"
    if p == "VALID":
        return "VALID"
    raise UnsupportedGraphError(f"node '{node.name}' ({node.op}): padding '{p}' is not supported")


def _ints(t: Tensor) -> list[int]:
    return [int(v) for v in t.reshape(-1).tolist()]


def _conv2d(node: TFNode, xs: Sequence[Tensor]) -> Tensor:
    _nhwc_only(node)
    return conv2d_nhwc(xs[0], xs[1], _spatial(node, "strides"), _padding(node), _spatial(node, "dilations", (1,) * 4))


def _bias_add(node: TFNode, xs: Sequence[Tensor]) -> Tensor:
    _nhwc_only(node)
    return xs[0] + xs[1]


def _max_pool(node: TFNode, xs: Sequence[Tensor]) -> Tensor:
    _nhwc_only(node)
    return max_pool_nhwc(xs[0], _spatial(node, "ksize"), _spatial(node, "strides"), _padding(node))


def _avg_pool(node: TFNode, xs: Sequence[Tensor]) -> Tensor:
    _nhwc_only(node)
    return avg_pool_nhwc(xs[0], _spatial(node, "ksize"), _spatial(node, "strides"), _padding(node))


def _concat_v2(node: TFNode, xs: Sequence[Tensor]) -> Tensor:
    (axis,) = _ints(xs[-1])
    return torch.cat(list(xs[:-1]), dim=axis)


def _sum(node: TFNode, xs: Sequence[Tensor]) -> Tensor:
    axes = _ints(xs[1])
    return torch.sum(xs[0], dim=axes, keepdim=node.attr_bool("keep_dims", False)) if axes else xs[0]


def _mat_mul(node: TFNode, xs: Sequence[Tensor]) -> Tensor:
    a, b = xs
    a = a.T if node.attr_bool("transpose_a", False) else a
    b = b.T if node.attr_bool("transpose_b", False) else b
    return a @ b


def _fused_batch_norm(node: TFNode, xs: Sequence[Tensor]) -> Tensor:
    _nhwc_only(node)
    if node.attr_bool("is_training", True):
        raise UnsupportedGraphError(f"node '{node.name}': FusedBatchNorm in training mode is not supported")
    return batch_norm_inference(xs[0], xs[1], xs[2], xs[3], xs[4], node.attr_float("epsilon", 1e-4))


OPS: Mapping[str, OpFunction] = MappingProxyType(
    {
        "Identity": lambda node, xs: xs[0],
        "Conv2D": _conv2d,
        "BiasAdd": _bias_add,
        "Relu": lambda node, xs: torch.relu(xs[0]),
        "MaxPool": _max_pool,
        "AvgPool": _avg_pool,
        "ConcatV2": _concat_v2,
        "Add": lambda node, xs: xs[0] + xs[1],
        "AddV2": lambda node, xs: xs[0] + xs[1],
        "Mul": lambda node, xs: xs[0] * xs[1],
        "Maximum": lambda node, xs: torch.maximum(xs[0], xs[1]),
        "Square": lambda node, xs: xs[0] * xs[0],
        "Rsqrt": lambda node, xs: torch.rsqrt(xs[0]),
        "Sum": _sum,
        "MatMul": _mat_mul,
        "Reshape": lambda node, xs: reshape_tf(xs[0], _ints(xs[1])),
        "FusedBatchNorm": _fused_batch_norm,
        "FusedBatchNormV3": _fused_batch_norm,
    }
)
"""Op type → function (``Placeholder`` and ``Const`` are handled by :class:`GraphRunner` itself)."""


def execution_order(graph: TFGraph, outputs: Sequence[str]) -> list[str]:
    """The nodes ``outputs`` depend on (data and control inputs), each after all of its inputs.

    Args:
        graph: the graph.
        outputs: node names.

    Returns:
        Node names in an order in which they can be evaluated; only the needed ones.

    Raises:
        UnsupportedGraphError: a missing node or a cycle.
    """
    order: list[str] = []
    state: dict[str, bool] = {}  # False: being visited (on the stack); True: done
    for root in outputs:
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                state[name] = True
                order.append(name)
                continue
            if state.get(name) is True:
                continue
            if name in state:
                raise UnsupportedGraphError(f"the graph has a cycle through '{name}'")
            node = graph.node(name)
            state[name] = False
            stack.append((name, True))
            for dep in (*(r.node for r in node.inputs), *node.control_inputs):
                if state.get(dep) is False:
                    raise UnsupportedGraphError(f"the graph has a cycle through '{dep}'")
                if dep not in state:
                    stack.append((dep, False))
    return order


# ------------------------------------------------------------------------------------------------------ runner


class GraphRunner:
    """Evaluates chosen outputs of a frozen graph with torch on the CPU (inference mode, the graph's dtypes).

    Args:
        graph: the decoded graph.
        outputs: the tensors to return, as ``"node"`` or ``"node:0"`` (only output 0 of a node is supported).

    Raises:
        UnsupportedGraphError: an op outside :data:`OPS`, an output index other than 0, a missing node or a cycle.

    Example:
        >>> runner = GraphRunner(read_graph_def(path), ["embeddings"])  # doctest: +SKIP
        >>> (emb,) = runner({"input": batch})  # doctest: +SKIP
    """

    def __init__(self, graph: TFGraph, outputs: Sequence[str]) -> None:
        self.graph = graph
        self.outputs = tuple(TensorRef.parse(o) for o in outputs)
        self.order = execution_order(graph, [r.node for r in self.outputs])
        unsupported = sorted({graph.node(n).op for n in self.order} - set(OPS) - {"Placeholder", "Const"})
        if unsupported:
            raise UnsupportedGraphError(f"ops not supported by the torch runtime: {', '.join(unsupported)}")
        for ref in (*self.outputs, *(r for n in self.order for r in graph.node(n).inputs)):
            if ref.output != 0:
                raise UnsupportedGraphError(f"'{ref.node}:{ref.output}': only output 0 of a node is supported")
        self.placeholders = tuple(n for n in self.order if graph.node(n).op == "Placeholder")
        filters = {graph.node(n).inputs[1].node for n in self.order if graph.node(n).op == "Conv2D"}
        self._constants = {
            n: _constant(graph.node(n).attr_array(), oihw=n in filters)
            for n in self.order
            if graph.node(n).op == "Const"
        }
        # the position after which each value is no longer needed (outputs: never freed)
        self._last_use: dict[int, list[str]] = {}
        last: dict[str, int] = {}
        for i, n in enumerate(self.order):
            for r in graph.node(n).inputs:
                last[r.node] = i
        keep = {r.node for r in self.outputs}
        for name, i in last.items():
            if name not in keep:
                self._last_use.setdefault(i, []).append(name)

    def __call__(self, feeds: Mapping[str, Tensor | NDArray[np.generic]]) -> tuple[Tensor, ...]:
        """Evaluate the outputs.

        Args:
            feeds: placeholder name → value (numpy arrays are converted; shapes must match each placeholder's
                ``shape`` attribute, −1 matching any size).

        Returns:
            The output tensors, in the order of ``outputs``.

        Raises:
            UnsupportedGraphError: a placeholder is not fed or its value has the wrong shape.
        """
        missing = [p for p in self.placeholders if p not in feeds]
        if missing:
            raise UnsupportedGraphError(f"no value fed for the placeholder(s) {', '.join(missing)}")
        values: dict[str, Tensor] = {}
        with torch.inference_mode():
            for i, name in enumerate(self.order):
                node = self.graph.node(name)
                if node.op == "Const":
                    values[name] = self._constants[name]
                elif node.op == "Placeholder":
                    values[name] = _fed(node, feeds[name])
                else:
                    values[name] = OPS[node.op](node, [values[r.node] for r in node.inputs])
                for done in self._last_use.get(i, ()):
                    del values[done]
        return tuple(values[r.node] for r in self.outputs)


def _constant(array: NDArray[np.generic], oihw: bool) -> Tensor:
    """A constant as a tensor; a Conv2D filter keeps its HWIO shape but gets OIHW memory order (free permute)."""
    t = torch.from_numpy(np.array(array, copy=True))
    if oihw and t.ndim == 4:
        t = t.permute(3, 2, 0, 1).contiguous().permute(2, 3, 1, 0)
    return t


def _fed(node: TFNode, value: Tensor | NDArray[np.generic]) -> Tensor:
    """A placeholder's value as a tensor of its declared dtype, its shape checked against the declared one."""
    dtype = node.attrs.get("dtype")
    np_dtype = DTYPES[dtype][0] if isinstance(dtype, int) and dtype in DTYPES else None
    if isinstance(value, Tensor):
        t = value if np_dtype is None else value.to(torch.from_numpy(np.empty(0, np_dtype)).dtype)
    else:
        t = torch.from_numpy(np.ascontiguousarray(value if np_dtype is None else np.asarray(value, np_dtype)))
    want = node.attrs.get("shape")
    if isinstance(want, tuple) and want:
        shape = tuple(int(s) for s in t.shape)
        if len(shape) != len(want) or any(w not in (-1, s) for w, s in zip(want, shape, strict=False)):
            raise UnsupportedGraphError(f"placeholder '{node.name}' expects shape {want}, got {shape}")
    return t

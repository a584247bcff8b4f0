"""The torch runtime for frozen TensorFlow graphs, checked op by op on small synthetic graphs.

Every op is compared with an independent float64 numpy reference written from TensorFlow's documented semantics
(explicit padding amounts, window loops). Tolerance: float32 sums of at most 27 products of O(1) values, plus one
normalisation: relative and absolute error stay below 1e-5 (observed ~1e-7).
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
graph_pb2 = pytest.importorskip("tensorboardX.proto.graph_pb2")

from headcast.eval.nets.tfgraph import UnsupportedGraphError, parse_graph_def  # noqa: E402
from headcast.eval.nets.tfrun import GraphRunner, execution_order, same_padding  # noqa: E402

TOL = {"rtol": 1e-5, "atol": 1e-5}
X_SHAPE = (2, 7, 6, 3)  # batch 2, odd height and even width: SAME padding is symmetric in H, one-sided in W

# --------------------------------------------------------------------------------------------- graph builder


class Builder:
    """Writes a GraphDef protobuf node by node (the way TensorFlow serialises one)."""

    def __init__(self) -> None:
        self.graph = graph_pb2.GraphDef()

    def node(self, name: str, op: str, inputs: tuple[str, ...] = (), **attrs) -> str:
        n = self.graph.node.add()
        n.name, n.op = name, op
        n.input.extend(inputs)
        for key, value in attrs.items():
            a = n.attr[key]
            if isinstance(value, bool):
                a.b = value
            elif isinstance(value, int):
                a.i = value
            elif isinstance(value, float):
                a.f = value
            elif isinstance(value, str):
                a.s = value.encode()
            else:
                a.list.i.extend(value)
        if op not in ("Const", "Placeholder"):
            n.attr["T"].type = 1
        return name

    def placeholder(self, name: str, shape: tuple[int, ...]) -> str:
        n = self.graph.node.add()
        n.name, n.op = name, "Placeholder"
        n.attr["dtype"].type = 1
        for s in shape:
            n.attr["shape"].shape.dim.add().size = s
        return name

    def const(self, name: str, value, dtype: int = 1, fill: list | None = None) -> str:
        """A Const: raw ``tensor_content``, or with ``fill`` the typed field (shorter than the shape: repeated)."""
        n = self.graph.node.add()
        n.name, n.op = name, "Const"
        n.attr["dtype"].type = dtype
        arr = np.asarray(value, {1: "<f4", 3: "<i4"}[dtype])
        t = n.attr["value"].tensor
        t.dtype = dtype
        for s in arr.shape:
            t.tensor_shape.dim.add().size = s
        if fill is None:
            t.tensor_content = arr.tobytes()
        elif dtype == 1:
            t.float_val.extend(fill)
        else:
            t.int_val.extend(fill)
        return name

    def runner(self, outputs: list[str]) -> GraphRunner:
        return GraphRunner(parse_graph_def(self.graph.SerializeToString()), outputs)


# ----------------------------------------------------------------------------------------- numpy references


def ref_conv(x, w, stride, pads_h, pads_w, dilation=1):
    """Cross-correlation by an explicit loop over output pixels (NHWC, HWIO), zero padding as given."""
    xp = np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)))
    kh, kw = w.shape[:2]
    ho = (xp.shape[1] - (kh - 1) * dilation - 1) // stride + 1
    wo = (xp.shape[2] - (kw - 1) * dilation - 1) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, w.shape[3]))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * stride : i * stride + (kh - 1) * dilation + 1 : dilation,
                       j * stride : j * stride + (kw - 1) * dilation + 1 : dilation, :]  # fmt: skip
            out[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, w)
    return out


def ref_pool(x, k, stride, pads_h, pads_w, kind):
    """Max or average over the in-image pixels of each window (padding never counts)."""
    h, w = x.shape[1:3]
    ho = (h + sum(pads_h) - k) // stride + 1
    wo = (w + sum(pads_w) - k) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, x.shape[3]))
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * stride - pads_h[0], j * stride - pads_w[0]
            win = x[:, max(r0, 0) : min(r0 + k, h), max(c0, 0) : min(c0 + k, w), :]
            out[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def run(b: Builder, outputs: list[str], x: np.ndarray) -> list[np.ndarray]:
    return [t.numpy().astype(np.float64) for t in b.runner(outputs)({"x": x.astype(np.float32)})]


# ------------------------------------------------------------------------------------------------- padding


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation", "expected"),
    [
        (4, 3, 2, 1, (0, 1)),  # 2 outputs need 5 pixels: the extra one goes after
        (7, 3, 2, 1, (1, 1)),
        (6, 3, 2, 1, (0, 1)),
        (160, 3, 1, 1, (1, 1)),
        (5, 1, 1, 1, (0, 0)),
        (4, 2, 1, 1, (0, 1)),
        (5, 3, 1, 2, (2, 2)),  # dilated 3-tap kernel spans 5 pixels
        (3, 5, 3, 1, (1, 1)),
    ],
)
def test_same_padding_matches_tensorflow_rule(size, kernel, stride, dilation, expected):
    assert same_padding(size, kernel, stride, dilation) == expected
    before, after = expected
    out = math.ceil(size / stride)
    assert (size + before + after - ((kernel - 1) * dilation + 1)) // stride + 1 == out


# ------------------------------------------------------------------------------------------------- ops


def test_conv_bias_relu_same_strided(rng):
    x, w, bias = rng.normal(size=X_SHAPE), rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)
    b = Builder()
    b.placeholder("x", (-1, 7, 6, 3))
    b.const("w", w)
    b.const("b", bias)
    b.node("conv", "Conv2D", ("x:0", "w"), strides=[1, 2, 2, 1], padding="SAME", data_format="NHWC")
    b.node("bias", "BiasAdd", ("conv", "b"), data_format="NHWC")
    b.node("relu", "Relu", ("bias",))
    (got,) = run(b, ["relu"], x)
    want = np.maximum(ref_conv(x, w, 2, (1, 1), (0, 1)) + bias, 0.0)
    assert got.shape == (2, 4, 3, 4)
    np.testing.assert_allclose(got, want, **TOL)


def test_conv_valid_dilated_and_pointwise(rng):
    x, w3, w1 = rng.normal(size=X_SHAPE), rng.normal(size=(3, 2, 3, 5)), rng.normal(size=(1, 1, 3, 2))
    b = Builder()
    b.placeholder("x", X_SHAPE)
    b.const("w3", w3)
    b.const("w1", w1)
    b.node("dil", "Conv2D", ("x", "w3"), strides=[1, 1, 1, 1], dilations=[1, 2, 2, 1], padding="VALID")
    b.node("pw", "Conv2D", ("x", "w1"), strides=[1, 1, 1, 1], padding="SAME")
    dil, pw = run(b, ["dil", "pw"], x)
    np.testing.assert_allclose(dil, ref_conv(x, w3, 1, (0, 0), (0, 0), dilation=2), **TOL)
    np.testing.assert_allclose(pw, ref_conv(x, w1, 1, (0, 0), (0, 0)), **TOL)
    assert dil.shape == (2, 3, 4, 5)


@pytest.mark.parametrize(
    ("op", "kind", "k", "stride", "padding", "pads_h", "pads_w"),
    [
        ("MaxPool", "max", 3, 2, "VALID", (0, 0), (0, 0)),
        ("MaxPool", "max", 3, 2, "SAME", (1, 1), (0, 1)),
        ("AvgPool", "mean", 3, 1, "VALID", (0, 0), (0, 0)),
        ("AvgPool", "mean", 3, 2, "SAME", (1, 1), (0, 1)),
        ("AvgPool", "mean", 2, 1, "SAME", (0, 1), (0, 1)),
    ],
)
def test_pools(rng, op, kind, k, stride, padding, pads_h, pads_w):
    x = rng.normal(size=X_SHAPE) - 3.0  # all negative: a max over zero padding would show
    b = Builder()
    b.placeholder("x", X_SHAPE)
    b.node("pool", op, ("x",), ksize=[1, k, k, 1], strides=[1, stride, stride, 1], padding=padding)
    (got,) = run(b, ["pool"], x)
    np.testing.assert_allclose(got, ref_pool(x, k, stride, pads_h, pads_w, kind), **TOL)


def test_residual_block_ops(rng):
    """ConcatV2, a scalar Mul (block scale), Add/AddV2, Maximum, Identity and a control input."""
    x = rng.normal(size=X_SHAPE)
    b = Builder()
    b.placeholder("x", X_SHAPE)
    b.const("scale", 0.17, fill=[0.17])  # scalar from the typed field
    b.const("floor", 0.1)
    b.const("axis", 3, dtype=3)
    b.node("half", "Mul", ("scale", "x"))
    b.node("cat", "ConcatV2", ("x", "half", "axis"), N=2)
    b.node("mx", "Maximum", ("x", "floor"))
    b.node("id", "Identity", ("mx", "^cat"))
    b.node("add", "Add", ("x", "half"))
    b.node("add2", "AddV2", ("add", "id"))
    cat, add2 = run(b, ["cat", "add2"], x)
    np.testing.assert_allclose(cat, np.concatenate([x, 0.17 * x], axis=3), **TOL)
    np.testing.assert_allclose(add2, x + 0.17 * x + np.maximum(x, 0.1), **TOL)


@pytest.mark.parametrize("op", ["FusedBatchNorm", "FusedBatchNormV3"])
def test_fused_batch_norm_inference(rng, op):
    x = rng.normal(size=X_SHAPE)
    offset, mean, var = rng.normal(size=3), rng.normal(size=3), rng.uniform(0.1, 2.0, 3)
    b = Builder()
    b.placeholder("x", X_SHAPE)
    b.const("gamma", np.ones(3), fill=[1.0])  # one value fills all three (TensorFlow's rule)
    b.const("beta", offset)
    b.const("mean", mean)
    b.const("var", var)
    b.node("bn", op, ("x", "gamma", "beta", "mean", "var"), epsilon=0.001, is_training=False, data_format="NHWC")
    (got,) = run(b, ["bn"], x)
    np.testing.assert_allclose(got, (x - mean) / np.sqrt(var + 0.001) + offset, **TOL)


def test_embedding_head(rng):
    """The FaceNet head: flatten, bottleneck MatMul, L2 normalisation by Square/Sum/Maximum/Rsqrt/Mul."""
    x, w = rng.normal(size=X_SHAPE), rng.normal(size=(126, 5)) / 10
    b = Builder()
    b.placeholder("x", X_SHAPE)
    b.const("flat_shape", [2, -1], dtype=3)
    b.const("w", w)
    b.const("wt", w.T)
    b.const("axes", 1, dtype=3, fill=[1])
    b.const("eps", 1e-10)
    b.node("flat", "Reshape", ("x", "flat_shape"), Tshape=3)
    b.node("mm", "MatMul", ("flat", "w"), transpose_a=False, transpose_b=False)
    b.node("mmt", "MatMul", ("flat", "wt"), transpose_b=True)
    b.node("sq", "Square", ("mm",))
    b.node("sum", "Sum", ("sq", "axes"), keep_dims=True, Tidx=3)
    b.node("mx", "Maximum", ("sum", "eps"))
    b.node("rs", "Rsqrt", ("mx",))
    b.node("emb", "Mul", ("mm", "rs"))
    emb, mmt = run(b, ["emb", "mmt"], x)
    y = x.reshape(2, -1) @ w
    np.testing.assert_allclose(emb, y / np.linalg.norm(y, axis=1, keepdims=True), **TOL)
    np.testing.assert_allclose(mmt, y, **TOL)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)


# ------------------------------------------------------------------------------------------------- runner


def test_execution_order_needs_only_the_outputs():
    b = Builder()
    b.placeholder("x", (1,))
    b.node("a", "Relu", ("x",))
    b.node("unused", "Relu", ("x",))
    b.node("c", "Add", ("a", "x", "^b"))
    b.node("b", "Relu", ("a",))  # a control input listed before its node: order comes from the edges
    graph = parse_graph_def(b.graph.SerializeToString())
    order = execution_order(graph, ["c"])
    assert set(order) == {"x", "a", "b", "c"}
    assert order.index("x") < order.index("a") < order.index("b") < order.index("c")


def test_runner_refuses_what_it_cannot_run():
    b = Builder()
    b.placeholder("x", (1, 2, 2, 1))
    b.node("soft", "Softmax", ("x",))
    b.node("r", "Relu", ("x",))
    b.node("nchw", "BiasAdd", ("x", "x"), data_format="NCHW")
    b.node("loop_a", "Relu", ("loop_b",))
    b.node("loop_b", "Relu", ("loop_a",))
    with pytest.raises(UnsupportedGraphError, match="Softmax"):
        b.runner(["soft"])
    with pytest.raises(UnsupportedGraphError, match="only output 0"):
        b.runner(["r:1"])
    with pytest.raises(UnsupportedGraphError, match="no node 'missing'"):
        b.runner(["missing"])
    with pytest.raises(UnsupportedGraphError, match="cycle"):
        b.runner(["loop_a"])
    runner = b.runner(["r"])
    with pytest.raises(UnsupportedGraphError, match="no value fed"):
        runner({})
    with pytest.raises(UnsupportedGraphError, match="expects shape"):
        runner({"x": np.zeros((1, 3, 2, 1), np.float32)})
    with pytest.raises(UnsupportedGraphError, match="NHWC"):
        b.runner(["nchw"])({"x": np.zeros((1, 2, 2, 1), np.float32)})


def test_runner_feeds_convert_to_the_placeholder_dtype_and_are_not_changed():
    b = Builder()
    b.placeholder("x", (-1, 2))
    b.node("r", "Relu", ("x",))
    runner = b.runner(["r", "x"])
    x = np.array([[-1.0, 2.0], [3.0, -4.0], [0.5, 0.0]])  # float64 in, float32 graph
    r, echo = runner({"x": x})
    assert r.dtype == torch.float32 and r.shape == (3, 2)
    np.testing.assert_array_equal(r.numpy(), np.maximum(x, 0))
    np.testing.assert_array_equal(echo.numpy(), x)
    assert x[0, 0] == -1.0

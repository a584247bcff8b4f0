"""Decoding frozen TensorFlow graphs: tensor values, attributes, input references, malformed files."""

import numpy as np
import pytest

from headcast.eval.nets.tfgraph import TensorRef, UnsupportedGraphError, tensor_values

# ------------------------------------------------------------------------------------------------- pure decoding


def test_tensor_ref_parse():
    assert TensorRef.parse("conv") == TensorRef("conv", 0)
    assert TensorRef.parse("scope/conv:0") == TensorRef("scope/conv", 0)
    assert TensorRef.parse("bn:2") == TensorRef("bn", 2)
    assert TensorRef.parse("odd:name") == TensorRef("odd:name", 0)  # not an index: part of the name
    with pytest.raises(UnsupportedGraphError, match="control"):
        TensorRef.parse("^conv")


def test_tensor_values_from_raw_content():
    arr = np.arange(6, dtype="<f4").reshape(2, 3) / 7
    got = tensor_values(1, (2, 3), arr.tobytes(), [])
    np.testing.assert_array_equal(got, arr)
    assert got.dtype == np.float32 and got.flags.writeable
    ints = tensor_values(3, (2,), np.array([-1, 512], "<i4").tobytes(), [])
    assert ints.dtype == np.int32 and ints.tolist() == [-1, 512]


def test_tensor_values_typed_field_repeats_the_last_value():
    np.testing.assert_array_equal(tensor_values(1, (4,), b"", [1.0]), np.ones(4))
    np.testing.assert_array_equal(tensor_values(3, (2, 2), b"", [7, 8]), [[7, 8], [8, 8]])
    np.testing.assert_array_equal(tensor_values(1, (3,), b"", []), np.zeros(3))  # no value: zeros
    assert tensor_values(1, (), b"", [0.25]).shape == ()  # a scalar
    half = tensor_values(19, (2,), b"", [int(v) for v in np.array([1.5, -2.0], np.float16).view(np.uint16)])
    np.testing.assert_array_equal(half, [1.5, -2.0])
    assert tensor_values(10, (2,), b"", [True, False]).tolist() == [True, False]


def test_tensor_values_rejects_inconsistent_tensors():
    with pytest.raises(UnsupportedGraphError, match="bytes"):
        tensor_values(1, (3,), b"\0" * 8, [])
    with pytest.raises(UnsupportedGraphError, match="values"):
        tensor_values(1, (1,), b"", [1.0, 2.0])
    with pytest.raises(UnsupportedGraphError, match="dtype 7"):  # DT_STRING
        tensor_values(7, (1,), b"", [])


# ------------------------------------------------------------------------------------------------ GraphDef files


@pytest.fixture
def graph_pb2():
    return pytest.importorskip("tensorboardX.proto.graph_pb2")


def test_parse_graph_def_attributes_and_inputs(graph_pb2, tmp_path):
    from headcast.eval.nets.tfgraph import read_graph_def

    g = graph_pb2.GraphDef()
    x = g.node.add()
    x.name, x.op = "x", "Placeholder"
    x.attr["dtype"].type = 1
    for s in (-1, 4):
        x.attr["shape"].shape.dim.add().size = s
    c = g.node.add()
    c.name, c.op = "c", "Const"
    c.attr["value"].tensor.dtype = 1
    c.attr["value"].tensor.tensor_shape.dim.add().size = 4
    c.attr["value"].tensor.float_val.append(2.5)
    n = g.node.add()
    n.name, n.op = "n", "Op"
    n.input.extend(["x:0", "c", "^x"])
    n.attr["padding"].s = b"SAME"
    n.attr["strides"].list.i.extend([1, 2, 2, 1])
    n.attr["epsilon"].f = 0.5
    n.attr["is_training"].b = False
    n.attr["names"].list.s.extend([b"a", b"b"])
    path = tmp_path / "g.pb"
    path.write_bytes(g.SerializeToString())

    graph = read_graph_def(path)
    assert list(graph.nodes) == ["x", "c", "n"]
    assert graph.ops() == {"Placeholder", "Const", "Op"}
    node = graph.node("n")
    assert node.inputs == (TensorRef("x", 0), TensorRef("c", 0))
    assert node.control_inputs == ("x",)
    assert node.attr_str("padding") == "SAME"
    assert node.attr_ints("strides") == (1, 2, 2, 1)
    assert node.attr_float("epsilon") == 0.5
    assert node.attr_bool("is_training") is False
    assert node.attrs["names"] == ("a", "b")
    assert node.attr_str("data_format", "NHWC") == "NHWC"  # absent: the default
    assert graph.node("x").attr_int("dtype") == 1
    assert graph.node("x").attr_ints("shape") == (-1, 4)
    np.testing.assert_array_equal(graph.node("c").attr_array(), [2.5] * 4)
    with pytest.raises(UnsupportedGraphError, match="attribute 'padding'"):
        node.attr_int("padding")  # a string is not an int
    with pytest.raises(UnsupportedGraphError, match="attribute 'is_training'"):
        node.attr_int("is_training")  # nor is a bool
    with pytest.raises(UnsupportedGraphError, match="attribute 'missing'"):
        node.attr_float("missing")
    with pytest.raises(UnsupportedGraphError, match="no node"):
        graph.node("y")


def test_parse_graph_def_rejects_bad_files(graph_pb2):
    from headcast.eval.nets.tfgraph import parse_graph_def

    with pytest.raises(UnsupportedGraphError, match="GraphDef"):
        parse_graph_def(b"\xff\xff\xff not a protobuf")
    g = graph_pb2.GraphDef()
    for _ in range(2):
        g.node.add().name = "twice"
    with pytest.raises(UnsupportedGraphError, match="twice"):
        parse_graph_def(g.SerializeToString())

import pytest

torch = pytest.importorskip("torch")

from headcast.parsing.bisenet import AUX_HEAD_PREFIXES, NUM_CLASSES, BiSeNet, load_bisenet  # noqa: E402


def test_output_shape_and_dtype():
    net = BiSeNet().eval()
    with torch.inference_mode():
        out = net(torch.zeros(2, 3, 64, 96))
    assert out.shape == (2, NUM_CLASSES, 64, 96) and out.dtype == torch.float32


def test_load_drops_aux_heads_and_is_strict():
    state = BiSeNet().state_dict()
    with_aux = {**state, "conv_out16.conv_out.weight": torch.zeros(19, 64, 1, 1)}
    net = load_bisenet(with_aux)
    assert not net.training
    missing = dict(state)
    missing.pop("ffm.conv1.weight")
    with pytest.raises(RuntimeError, match=r"ffm\.conv1\.weight"):
        load_bisenet(missing)
    assert all(p.startswith("conv_out") for p in AUX_HEAD_PREFIXES)

import pytest

torch = pytest.importorskip("torch")

from headcast.eval.nets.stlpips_alex import (  # noqa: E402
    CHANNELS,
    BlurPool,
    ShiftTolerantLPIPS,
    checkpoint_key_map,
    load_stlpips_alex,
)


def test_blurpool_keeps_constants_and_halves_size():
    pool = BlurPool(3)
    x = torch.full((1, 3, 17, 20), 0.7)
    y = pool(x)
    assert y.shape == (1, 3, 10, 11)  # pad 2 each side, 3×3 kernel, stride 2: ⌊(n + 4 − 3) / 2⌋ + 1
    torch.testing.assert_close(y, torch.full_like(y, 0.7))


def test_feature_channels_and_distance_shape():
    model = ShiftTolerantLPIPS().eval()
    x0, x1 = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.inference_mode():
        feats = model.net(x0)
        d = model(x0, x1)
        d_same = model(x0, x0)
    assert [f.shape[1] for f in feats] == list(CHANNELS)
    assert d.shape == (2,)
    assert torch.all(d_same == 0)


def test_key_map_covers_the_model_exactly():
    targets = set(checkpoint_key_map().values())
    assert set(ShiftTolerantLPIPS().state_dict()) <= targets


def test_loads_a_checkpoint_shaped_state_dict():
    model = ShiftTolerantLPIPS()
    inverse = {v: k for k, v in checkpoint_key_map().items()}
    ckpt = {inverse[k]: v for k, v in model.state_dict().items()}
    loaded = load_stlpips_alex(ckpt)
    assert not loaded.training
    with pytest.raises(ValueError, match="Unexpected keys"):
        load_stlpips_alex({**ckpt, "lin5.model.1.weight": torch.zeros(1)})

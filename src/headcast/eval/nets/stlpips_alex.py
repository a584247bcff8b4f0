"""Shift-tolerant LPIPS with an AlexNet trunk (ST-LPIPS), inference only.

Ghildyal & Liu, "Shift-tolerant Perceptual Similarity Metric" (ECCV 2022): LPIPS (Zhang et al., CVPR 2018) whose
AlexNet trunk has stride-1 convolutions followed by reflect-padded binomial blur-pool downsampling, so that small
shifts change the distance little. Written from the PyPI package ``stlpips-pytorch`` 0.0.2
(``invariant_networks.alexnet(variant="shift_tolerant")`` and ``stlpips.LPIPS(version="0.1")``), whose own import
needs torchvision, IPython and torchsummary; the weights ``weights/vST0.0/alex_shift_tolerant.pth`` are loaded from
that package. Its values are **not** comparable with vanilla LPIPS.

Formula: for layers l = 1..5 with unit-normalised features f̂ˡ (channel L2 norm), the distance is
``d = Σ_l mean_hw( wˡ · (f̂ˡ₀ − f̂ˡ₁)² )`` with learned non-negative channel weights wˡ (1×1 convs).

Shapes: inputs ``(B, 3, H, W)`` float32 RGB in [-1, 1]; output ``(B,)`` float32 distances.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CHANNELS = (64, 192, 384, 256, 256)
# LPIPS v0.1 input scaling (ImageNet statistics expressed in [-1, 1] units).
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
# The checkpoint stores the trunk as five Sequential slices indexing one flat layer list; layer i of
# ``ShiftTolerantAlexNet.features`` is stored as ``net.slice<k>.<i>``. Slice boundaries (end-exclusive):
SLICE_ENDS = (3, 7, 11, 13, 15)


class BlurPool(nn.Module):
    """Anti-aliased downsampling: reflect pad by 2, depthwise 3×3 binomial blur ([1,2,1]ᵀ[1,2,1]/16), stride 2.

    The filter is a buffer named ``filt`` (as in the checkpoint, which stores it).
    """

    filt: Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        a = torch.tensor([1.0, 2.0, 1.0])
        kernel = a[:, None] * a[None, :]
        self.register_buffer("filt", (kernel / kernel.sum())[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` → ``(B, C, ⌊H/2⌋ + 1, ⌊W/2⌋ + 1)`` (pad 2 each side, 3×3, stride 2)."""
        return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), self.filt, stride=2, groups=x.shape[1])


class ShiftTolerantAlexNet(nn.Module):
    """AlexNet features with blur-pool downsampling; returns the five ReLU activations LPIPS compares."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=1, padding=2),  # 0
            BlurPool(64),  # 1
            nn.ReLU(),  # 2 → relu1
            nn.MaxPool2d(kernel_size=3, stride=1),  # 3
            BlurPool(64),  # 4
            nn.Conv2d(64, 192, kernel_size=5, padding=2),  # 5
            nn.ReLU(),  # 6 → relu2
            nn.MaxPool2d(kernel_size=3, stride=1),  # 7
            BlurPool(192),  # 8
            nn.Conv2d(192, 384, kernel_size=3, padding=1),  # 9
            nn.ReLU(),  # 10 → relu3
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # 11
            nn.ReLU(),  # 12 → relu4
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # 13
            nn.ReLU(),  # 14 → relu5
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        """``(B, 3, H, W)`` scaled input → five feature maps ``(B, C_l, H_l, W_l)``, C = :data:`CHANNELS`."""
        outs = []
        start = 0
        for end in SLICE_ENDS:
            for i in range(start, end):
                x = self.features[i](x)
            outs.append(x)
            start = end
        return outs


class ShiftTolerantLPIPS(nn.Module):
    """ST-LPIPS (AlexNet): ``forward(x0, x1)`` → ``(B,)`` distances for inputs in [-1, 1]."""

    shift: Tensor
    scale: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("shift", torch.tensor(SHIFT)[None, :, None, None])
        self.register_buffer("scale", torch.tensor(SCALE)[None, :, None, None])
        self.net = ShiftTolerantAlexNet()
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, kernel_size=1, bias=False) for c in CHANNELS)

    def forward(self, x0: Tensor, x1: Tensor) -> Tensor:
        """Distances between ``(B, 3, H, W)`` images in [-1, 1]; H, W ≥ 32."""
        feats0 = self.net((x0 - self.shift) / self.scale)
        feats1 = self.net((x1 - self.shift) / self.scale)
        total = torch.zeros(x0.shape[0], dtype=x0.dtype, device=x0.device)
        for lin, f0, f1 in zip(self.lins, feats0, feats1, strict=True):
            diff = (_unit_channels(f0) - _unit_channels(f1)) ** 2
            total = total + lin(diff).mean(dim=(1, 2, 3))
        return total


def _unit_channels(feat: Tensor, eps: float = 1e-10) -> Tensor:
    """Divide each pixel's feature vector by its L2 norm over channels (LPIPS ``normalize_tensor``)."""
    return feat / (feat.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


def checkpoint_key_map() -> dict[str, str]:
    """Map the ``stlpips-pytorch`` checkpoint's keys to :class:`ShiftTolerantLPIPS` keys."""
    mapping = {"scaling_layer.shift": "shift", "scaling_layer.scale": "scale"}
    start = 0
    for k, end in enumerate(SLICE_ENDS, start=1):
        for i in range(start, end):
            for name in ("weight", "bias", "filt"):
                mapping[f"net.slice{k}.{i}.{name}"] = f"net.features.{i}.{name}"
        start = end
    for k in range(len(CHANNELS)):
        mapping[f"lin{k}.model.1.weight"] = f"lins.{k}.weight"
    return mapping


def load_stlpips_alex(state_dict: dict[str, Tensor]) -> ShiftTolerantLPIPS:
    """Build :class:`ShiftTolerantLPIPS` in eval mode from ``alex_shift_tolerant.pth``; every key must match."""
    mapping = checkpoint_key_map()
    unknown = sorted(set(state_dict) - set(mapping))
    if unknown:
        raise ValueError(f"Unexpected keys in the ST-LPIPS checkpoint: {unknown[:5]}")
    model = ShiftTolerantLPIPS()
    model.load_state_dict({mapping[k]: v for k, v in state_dict.items()}, strict=True)
    return model.eval()

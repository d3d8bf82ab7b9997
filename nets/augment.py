"""Label-preserving image augmentation for training batches: small integer shifts, small rotations, noise.

Never flips or mirrors: on digits a mirror can change the class (2 and 5), as can a half turn (6 and 9).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

#: Settings that keep a scikit-learn 8x8 digit recognisable: shifts of one pixel, +-10 degrees, mild noise.
DIGITS_PRESET = dict(max_shift=1, max_rotation=10.0, noise_std=0.25)


class ImageAugmenter:
    """Callable `batch -> batch` for `Trainer.fit(transform=...)`; draws fresh random changes on every call.

    image_shape: (C, H, W). A batch is (B, C*H*W) flat or (B, C, H, W); the result has the same shape,
    dtype and device. Each image gets an integer shift in [-max_shift, max_shift] pixels per axis, a
    rotation by an angle uniform in [-max_rotation, max_rotation] degrees about the image centre (pixels
    that come in from outside are zero) and Gaussian noise with std `noise_std` in input units.
    All three are rigid moves or additive noise, so the affine part has determinant +1: no mirror image.
    """

    def __init__(self, image_shape: Sequence[int] = (1, 8, 8), max_shift: int = 1, max_rotation: float = 10.0,
                 noise_std: float = 0.0, seed: int = 0):
        if len(image_shape) != 3 or min(int(v) for v in image_shape) < 1:
            raise ValueError(f"image_shape must be (C, H, W) with positive sizes, got {tuple(image_shape)}")
        if max_shift < 0 or max_rotation < 0 or noise_std < 0:
            raise ValueError(f"max_shift, max_rotation and noise_std must be >= 0, got "
                             f"{max_shift}, {max_rotation}, {noise_std}")
        if max_rotation > 45:
            raise ValueError(f"max_rotation={max_rotation} degrees is not small; large turns can change a "
                             "digit's class (6 and 9)")
        self.image_shape = tuple(int(v) for v in image_shape)
        self.max_shift, self.max_rotation, self.noise_std = int(max_shift), float(max_rotation), float(noise_std)
        self.generator = torch.Generator().manual_seed(int(seed))

    def sample_affine(self, n: int) -> torch.Tensor:
        """Random rotation + shift matrices (n, 2, 3) in the normalized coordinates of F.affine_grid."""
        _, h, w = self.image_shape
        angle = (torch.rand(n, generator=self.generator) * 2 - 1) * math.radians(self.max_rotation)
        shift = torch.randint(-self.max_shift, self.max_shift + 1, (n, 2), generator=self.generator)
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.zeros(n, 2, 3)
        # affine_grid works in [-1, 1] coordinates whose x and y scales differ when H != W.
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * h / w
        theta[:, 1, 0], theta[:, 1, 1] = sin * w / h, cos
        # theta maps output to input coordinates, so shifting the content by +s moves the sample point by -s.
        theta[:, 0, 2] = -shift[:, 0].float() * 2.0 / w
        theta[:, 1, 2] = -shift[:, 1].float() * 2.0 / h
        return theta

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        shape = batch.shape
        size = math.prod(self.image_shape)
        if batch.dim() == 2 and shape[1] == size:
            images = batch.reshape(-1, *self.image_shape)
        elif batch.dim() == 4 and tuple(shape[1:]) == self.image_shape:
            images = batch
        else:
            raise ValueError(f"batch of shape {tuple(shape)} does not hold images of shape {self.image_shape}")
        out = images.float()
        if self.max_shift or self.max_rotation:
            theta = self.sample_affine(len(images)).to(batch.device)
            grid = F.affine_grid(theta, list(out.shape), align_corners=False)
            out = F.grid_sample(out, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if self.noise_std:
            noise = torch.randn(out.shape, generator=self.generator) * self.noise_std
            out = out + noise.to(batch.device)
        return out.to(batch.dtype).reshape(shape)


def make_augmenter(augment, image_shape: Sequence[int], seed: int) -> ImageAugmenter | None:
    """The estimators' `augment` parameter -> an augmenter: None, "digits" (DIGITS_PRESET) or a dict of
    ImageAugmenter keyword arguments."""
    if augment is None:
        return None
    if isinstance(augment, str):
        if augment != "digits":
            raise ValueError(f"unknown augment preset {augment!r}; use None, 'digits' or a dict of "
                             "ImageAugmenter arguments (max_shift, max_rotation, noise_std)")
        return ImageAugmenter(image_shape, seed=seed, **DIGITS_PRESET)
    if isinstance(augment, dict):
        try:
            return ImageAugmenter(image_shape, seed=seed, **augment)
        except TypeError as err:
            raise ValueError(f"bad augment settings {augment!r}: {err}") from err
    raise ValueError(f"augment must be None, 'digits' or a dict, got {type(augment).__name__}")

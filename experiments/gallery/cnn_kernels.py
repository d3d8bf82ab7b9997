"""Convolution: sliding a kernel over an image finds edges or blurs; padding, stride and pooling set the size.

A numpy sliding window gives the same maps as torch's conv2d (which, like most deep-learning libraries,
computes cross-correlation). Zero padding of 1 keeps a 3x3 convolution's output the input's size, stride 2
halves it, 2x2 pooling halves it too and ignores where in its window a feature sits. Because one kernel is
shared by every position, a conv layer has a few hundred weights where a dense layer between the same
input and output sizes would have tens of millions.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

KERNELS = {
    "vertical edges (Sobel)": np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]),
    "blur (3x3 box)": np.full((3, 3), 1 / 9),
}


def square_image(size: int = 16, low: int = 4, high: int = 12) -> np.ndarray:
    """(size, size) zeros with a bright square of ones in rows and columns low..high-1."""
    image = np.zeros((size, size))
    image[low:high, low:high] = 1.0
    return image


def correlate2d(image: np.ndarray, kernel: np.ndarray, padding: int = 0, stride: int = 1) -> np.ndarray:
    """Slide `kernel` (k, k) over zero-padded `image` (H, W): out[i, j] = sum(window * kernel).
    Output: ((H + 2 padding - k) // stride + 1, same for W)."""
    windows = sliding_window_view(np.pad(image, padding), kernel.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, kernel)


def torch_conv(image: np.ndarray, kernel: np.ndarray, padding: int = 0, stride: int = 1) -> np.ndarray:
    out = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None], padding=padding, stride=stride)
    return out[0, 0].numpy()


def pool(image: np.ndarray, size: int, reduce) -> np.ndarray:
    """Non-overlapping size x size pooling by reshaping (H, W) -> (H/size, size, W/size, size)."""
    h, w = image.shape
    return reduce(image.reshape(h // size, size, w // size, size), axis=(1, 3))


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    image = square_image()
    maps = {name: correlate2d(image, kernel, padding=1) for name, kernel in KERNELS.items()}
    vs_torch = max(float(np.abs(correlate2d(image, k, p, s) - torch_conv(image, k, p, s)).max())
                   for k in KERNELS.values() for p in (0, 1) for s in (1, 2))
    edges = maps["vertical edges (Sobel)"]
    # Flat pixels: the 3x3 neighbourhood the kernel sees is constant, so an edge kernel (weights sum 0) gives 0.
    neighbourhoods = sliding_window_view(np.pad(image, 1), (3, 3))
    flat = neighbourhoods.max(axis=(2, 3)) == neighbourhoods.min(axis=(2, 3))
    sizes = {f"padding {p}, stride {s}": list(correlate2d(image, KERNELS["blur (3x3 box)"], p, s).shape)
             for p in (0, 1) for s in (1, 2)}
    image_t = torch.tensor(image)[None, None]
    max_pooled, avg_pooled = pool(image, 2, np.max), pool(image, 2, np.mean)
    pool_vs_torch = max(float(np.abs(max_pooled - F.max_pool2d(image_t, 2)[0, 0].numpy()).max()),
                        float(np.abs(avg_pooled - F.avg_pool2d(image_t, 2)[0, 0].numpy()).max()))
    # A single bright pixel moved by one pixel inside its 2x2 pooling window: the max-pooled map is unchanged.
    dot, shifted_dot = np.zeros((16, 16)), np.zeros((16, 16))
    dot[4, 4], shifted_dot[5, 5] = 1.0, 1.0
    conv = torch.nn.Conv2d(3, 16, kernel_size=3, padding=1)
    dense = torch.nn.Linear(3 * 32 * 32, 16 * 32 * 32, device="meta")  # "meta": count parameters, store none
    results = {
        "max_abs_diff_vs_torch": vs_torch,
        "output_sizes": sizes,
        "edge_response_on_flat_regions": float(np.abs(edges[flat]).max()),
        "edge_response_max": float(np.abs(edges).max()),
        "edge_columns": sorted({int(c) for c in np.nonzero(np.abs(edges) > 1e-12)[1]}),
        "pooled_shape": list(max_pooled.shape),
        "pool_max_abs_diff_vs_torch": pool_vs_torch,
        "shifted_dot_pooled_equal": bool(np.array_equal(pool(dot, 2, np.max), pool(shifted_dot, 2, np.max))),
        "shifted_dot_images_equal": bool(np.array_equal(dot, shifted_dot)),
        "conv_parameters": sum(p.numel() for p in conv.parameters()),
        "dense_parameters": sum(p.numel() for p in dense.parameters()),
    }
    print(f"16x16 image with a bright square in rows/cols 4..11; numpy vs torch conv2d max diff {vs_torch:.1e}")
    print(f"3x3 kernel output sizes: {sizes}")
    print(f"vertical-edge map is nonzero only in columns {results['edge_columns']} (either side of the square's left "
          f"and right borders), 0 on flat regions, peak |response| {results['edge_response_max']}")
    print(f"2x2 max/avg pooling -> {tuple(max_pooled.shape)}, vs torch {pool_vs_torch:.1e}; "
          f"dot moved within its pool window: pooled maps equal = {results['shifted_dot_pooled_equal']}")
    print(f"3->16 channels on 32x32: conv 3x3 has {results['conv_parameters']:,} parameters, "
          f"a dense layer {results['dense_parameters']:,}")
    if plot_dir is not None:
        fig, axes = new_figure(ncols=4, panel_size=(2.8, 2.8))
        panels = {"image": image, **maps, "2x2 max pool": max_pooled}
        for ax, (title, array) in zip(axes, panels.items(), strict=True):
            ax.imshow(array, cmap="gray")
            ax.set(title=title, xticks=[], yticks=[])
        save_figure(fig, plot_dir, "cnn_kernels")
    return results


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())

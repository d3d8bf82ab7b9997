"""Parameter sharing: a conv layer reuses one small kernel at every position, so it is tiny and shift-equivariant.

A 3x3 convolution with 8 output channels maps a 14x14 image to 8 feature maps of 14x14 with 8 * 9 weights
and 8 biases. A dense layer mapping the same 196 inputs to the same 1568 outputs needs a weight per
(input, output) pair. Because every position uses the same kernel, moving the image moves the feature maps:
conv(shift(x)) = shift(conv(x)) (translation equivariance), to float precision. A dense layer with random
weights has no such structure. The image is a scikit-learn digit on a zero canvas, so shifts lose nothing.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits

import nets
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

CANVAS = 14
CHANNELS = 8
SHIFTS = ((1, 0), (0, -2), (2, 1))


def digit_on_canvas(index: int = 0) -> torch.Tensor:
    """A digit (8x8, scaled to [0, 1]) centred on a CANVAS x CANVAS zero image: (1, 1, CANVAS, CANVAS).

    The 3-pixel zero margin keeps shifts of up to 2 pixels away from the edge, where padding would differ.
    """
    image = np.zeros((CANVAS, CANVAS), dtype=np.float32)
    margin = (CANVAS - 8) // 2
    image[margin:margin + 8, margin:margin + 8] = load_digits().images[index] / 16.0
    return torch.from_numpy(image)[None, None]


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def max_equivariance_error(layer, x: torch.Tensor, shift: tuple[int, int], out_shape: tuple[int, ...]) -> float:
    """max |layer(shift(x)) - shift(layer(x))| with shift = torch.roll over (H, W); the canvas margin is zero,
    so rolling the image is a plain shift. out_shape: (C, H, W) to view the flat outputs as maps."""
    with torch.no_grad():
        shifted_then_mapped = layer(torch.roll(x, shift, dims=(2, 3))).reshape(1, *out_shape)
        mapped_then_shifted = torch.roll(layer(x).reshape(1, *out_shape), shift, dims=(2, 3))
    return float((shifted_then_mapped - mapped_then_shifted).abs().max())


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    in_shape = (1, CANVAS, CANVAS)
    # head=() returns the flattened feature maps: (batch, CHANNELS * CANVAS * CANVAS)
    conv = nets.cnn(in_shape, channels=[CHANNELS], kernel_sizes=3, paddings=1, head=())
    out_shape = nets.cnn_output_shapes(in_shape, [CHANNELS], 3, 1, 1)[-1]
    n_in, n_out = CANVAS * CANVAS, int(np.prod(out_shape))
    # The dense layer sees the image as a vector of n_in pixels; ReLU after both, as in the conv stack.
    dense = torch.nn.Sequential(torch.nn.Flatten(), nets.mlp(n_in, (), n_out), torch.nn.ReLU())
    x = digit_on_canvas()
    conv_errors = [max_equivariance_error(conv, x, s, out_shape) for s in SHIFTS]
    dense_errors = [max_equivariance_error(dense, x, s, out_shape) for s in SHIFTS]
    with torch.no_grad():
        response_scale = float(conv(x).abs().max())
    params = {"conv": count_parameters(conv), "dense": count_parameters(dense)}
    print(f"{n_in} inputs -> {n_out} outputs ({CHANNELS} maps of {out_shape[1]}x{out_shape[2]})")
    print(f"  parameters: 3x3 conv {params['conv']} (= {CHANNELS} * 9 + {CHANNELS}), dense {params['dense']} "
          f"(= {n_in} * {n_out} + {n_out}): {params['dense'] / params['conv']:.0f}x more")
    for shift, conv_err, dense_err in zip(SHIFTS, conv_errors, dense_errors):
        print(f"  shift {shift}: max |f(shift x) - shift f(x)|  conv {conv_err:.1e}   dense {dense_err:.2f} "
              f"(largest conv output {response_scale:.2f})")
    if plot_dir is not None:
        _plot(plot_dir, conv, x, out_shape)
    return {"parameters": params, "shifts": [list(s) for s in SHIFTS], "conv_equivariance_error": conv_errors,
            "dense_equivariance_error": dense_errors, "conv_output_scale": response_scale}


def _plot(plot_dir, conv, x: torch.Tensor, out_shape) -> None:
    shift = SHIFTS[-1]
    with torch.no_grad():
        maps = conv(x).reshape(out_shape)[0]
        maps_shifted = conv(torch.roll(x, shift, dims=(2, 3))).reshape(out_shape)[0]
    fig, axes = new_figure(ncols=4, panel_size=(2.8, 2.8))
    panels = ((x[0, 0], "image x"), (torch.roll(x, shift, dims=(2, 3))[0, 0], f"x shifted by {shift}"),
              (maps, "conv map of x"), (maps_shifted, "conv map of shifted x"))
    for ax, (image, title) in zip(axes, panels):
        ax.imshow(image.numpy(), cmap="gray_r")
        ax.set(title=title, xticks=[], yticks=[])
    save_figure(fig, plot_dir, "parameter_sharing")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())

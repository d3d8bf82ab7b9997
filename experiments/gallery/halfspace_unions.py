"""Unions and intersections of halfspaces: two hidden layers get a non-convex union exactly; one layer does not.

The notes: "if the input can be split up with straight lines and be defined as the unions and intersections of
those halfspaces, then two hidden layers and an output layer must exist that works". The region here is the union
of two overlapping convex quadrilaterals, which is not convex. Built with nets.mlp and weights set by hand: the
first hidden layer holds one step per edge (a pair of steep ReLUs, relu(K a) - relu(K a - 1), is 0 on one side of
the edge's line and 1 on the other), the second hidden layer ANDs each polygon's four edges
(relu(sum of steps - 3)), and the output ORs the two polygons. It labels every point of a 40 x 40 training grid
and of a 256 x 256 check grid right (its output is exactly the number of polygons holding x, minus 1/2). One
hidden layer of threshold units on the same eight lines cannot do it: those units are constant on each cell the
lines cut the square into, and a linear program finds no output unit that separates the inside cells from the
outside ones, however many units sit on each line (two inside cells' 0/1 patterns add up to the same as two
outside cells', so any weighted vote gives both pairs the same total: XOR's argument). Trained one-hidden-layer
ReLU nets with as many weights (85; 3 seeds, Adam) come close, 99.6-99.8% of the training grid, but miss slivers
along the edges and corners: about 0.8% of the check grid. ReLU units are not threshold units, and more units and
training would shrink the slivers; the two-layer recipe gets the region exactly with its 85 weights.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from experiments.gallery._side_by_side import train_side_by_side
from experiments.gallery.xor_hidden_layer import linearly_separable
from nets import mlp

#: Two convex quadrilaterals, corners counterclockwise, overlapping in a small square-ish patch.
POLYGONS = (((0.06, 0.08), (0.56, 0.12), (0.52, 0.57), (0.10, 0.52)),
            ((0.44, 0.43), (0.94, 0.49), (0.89, 0.93), (0.49, 0.89)))
GRID = 40
FINE = 256
TRAIN_SEEDS = (0, 1, 2)
TRAIN_STEPS = 2000


def grid_points(n: int = GRID) -> np.ndarray:
    """The centres of an n x n grid of cells over the unit square, (n*n, 2)."""
    centres = (np.arange(n) + 0.5) / n
    return np.array(list(itertools.product(centres, centres)))


def edge_halfspaces(polygon) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (m, 2) and offsets (m,) with normal . x + offset > 0 on the inner side of each edge."""
    corners = np.asarray(polygon, dtype=np.float64)
    edges = np.roll(corners, -1, axis=0) - corners
    normals = np.column_stack([-edges[:, 1], edges[:, 0]]) / np.linalg.norm(edges, axis=1)[:, None]
    return normals, -np.sum(normals * corners, axis=1)


def in_union(points: np.ndarray, polygons=POLYGONS) -> np.ndarray:
    """True where a point (rows of points) is strictly inside at least one polygon."""
    inside = np.zeros(len(points), dtype=bool)
    for polygon in polygons:
        normals, offsets = edge_halfspaces(polygon)
        inside |= np.all(points @ normals.T + offsets > 0, axis=1)
    return inside


def two_layer_net(polygons=POLYGONS, steepness: float = 1e3) -> torch.nn.Sequential:
    """2 -> (2 per edge) -> (1 per polygon) -> 1 ReLU net (nets.mlp, float64): output = polygons containing x - 1/2.

    Exact at every point farther than 1/steepness from all edge lines.
    """
    halfspaces = [edge_halfspaces(polygon) for polygon in polygons]
    n_edges = sum(len(offsets) for _, offsets in halfspaces)
    net = mlp(2, (2 * n_edges, len(polygons)), 1, activation="relu").double()
    with torch.no_grad():
        for layer in (net[0], net[2], net[4]):
            layer.weight.zero_()
            layer.bias.zero_()
        edge = 0
        for p, (normals, offsets) in enumerate(halfspaces):
            for normal, offset in zip(normals, offsets):
                # step(a) = relu(K a) - relu(K a - 1): 0 for a <= 0, 1 for a >= 1/K.
                net[0].weight[2 * edge:2 * edge + 2] = torch.tensor(steepness * normal)
                net[0].bias[2 * edge:2 * edge + 2] = torch.tensor([steepness * offset, steepness * offset - 1])
                net[2].weight[p, 2 * edge], net[2].weight[p, 2 * edge + 1] = 1.0, -1.0
                edge += 1
            net[2].bias[p] = -(len(offsets) - 1)  # AND: 1 only when all of the polygon's steps are 1
        net[4].weight.fill_(1.0)  # OR: the count of polygons containing x
        net[4].bias.fill_(-0.5)
    return net


def one_layer_threshold_separable(points: np.ndarray, polygons=POLYGONS) -> dict:
    """Can one output threshold unit over threshold units on the polygons' edge lines label the union?

    Those hidden units are constant on each cell the lines cut the plane into, so it suffices to ask an LP
    whether the cells' 0/1 patterns (one per line) are linearly separable by the cells' labels.
    """
    normals, offsets = (np.concatenate(parts) for parts in zip(*(edge_halfspaces(p) for p in polygons)))
    patterns = (points @ normals.T + offsets > 0).astype(np.float64)
    cells, first = np.unique(patterns, axis=0, return_index=True)
    labels = in_union(points, polygons)[first].astype(np.float64)
    return {"lines": int(len(offsets)), "cells": int(len(cells)), "cells_inside": int(labels.sum()),
            "separable": bool(linearly_separable(cells, labels))}


def train_one_layer_nets(width: int, points: np.ndarray, labels: np.ndarray) -> list[torch.nn.Sequential]:
    """One 2-width-1 ReLU net (nets.mlp, torch's default init) per seed in TRAIN_SEEDS, fit to (points, labels)
    with the logistic loss by full-batch Adam. The nets see the points scaled to [-1, 1]^2 (see `scaled`)."""
    nets = []
    for seed in TRAIN_SEEDS:
        torch.manual_seed(seed)
        nets.append(mlp(2, (width,), 1, activation="relu"))
    return train_side_by_side(nets, scaled(points), labels.astype(np.float64), "logistic", TRAIN_STEPS, lr=0.03)


def scaled(points: np.ndarray) -> np.ndarray:
    """Unit-square points moved to [-1, 1]^2, centred as torch's default init expects."""
    return 2 * points - 1


def accuracy(net: torch.nn.Module, points: np.ndarray, labels: np.ndarray) -> float:
    with torch.no_grad():
        x = torch.as_tensor(points, dtype=next(net.parameters()).dtype)
        return float(np.mean((net(x)[:, 0].numpy() > 0) == labels))


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    points, fine = grid_points(GRID), grid_points(FINE)
    labels, fine_labels = in_union(points), in_union(fine)
    normals, offsets = (np.concatenate(parts) for parts in zip(*(edge_halfspaces(p) for p in POLYGONS)))
    margin = float(np.abs(np.vstack([points, fine]) @ normals.T + offsets).min())  # closest approach to a line
    net = two_layer_net(steepness=2.0 / margin)  # steps sharp enough for every point of both grids
    with torch.no_grad():
        output = net(torch.tensor(fine))[:, 0].numpy()
    containing = sum(in_union(fine, [polygon]).astype(float) for polygon in POLYGONS)
    n_params = sum(p.numel() for p in net.parameters())
    two_layer = {"hidden_sizes": [net[0].out_features, net[2].out_features], "parameters": int(n_params),
                 "grid_accuracy": accuracy(net, points, labels), "fine_accuracy": accuracy(net, fine, fine_labels),
                 "max_abs_error": float(np.abs(output - (containing - 0.5)).max()), "grid_margin": margin}
    threshold = one_layer_threshold_separable(fine)
    width = (n_params - 1) // 4  # a 2-width-1 net has 4 width + 1 weights
    trained = train_one_layer_nets(width, points, labels)
    grid_acc = [accuracy(m, scaled(points), labels) for m in trained]
    fine_acc = [accuracy(m, scaled(fine), fine_labels) for m in trained]
    best = int(np.argmax(fine_acc))
    one_layer = {"width": int(width), "parameters": int(4 * width + 1), "grid_accuracy_per_seed": grid_acc,
                 "fine_accuracy_per_seed": fine_acc, "best_grid_accuracy": max(grid_acc),
                 "best_fine_accuracy": fine_acc[best],
                 "best_fine_errors": int(round((1 - fine_acc[best]) * len(fine)))}
    print(f"region: union of two overlapping convex quadrilaterals; training grid {GRID}x{GRID}, "
          f"check grid {FINE}x{FINE} ({int(fine_labels.sum())} of {len(fine)} inside)")
    print(f"two hidden layers by hand, 2-{two_layer['hidden_sizes'][0]}-{two_layer['hidden_sizes'][1]}-1 "
          f"({n_params} weights): accuracy {two_layer['grid_accuracy']:.4f} / {two_layer['fine_accuracy']:.4f}, "
          f"max |output - (polygons containing x - 1/2)| = {two_layer['max_abs_error']:.1e}")
    print(f"one hidden layer of threshold units on the {threshold['lines']} edge lines: {threshold['cells']} "
          f"cells, an output unit exists (LP): {threshold['separable']}")
    print(f"one hidden layer trained, 2-{width}-1 ({one_layer['parameters']} weights), accuracy training grid / "
          f"check grid per seed: " + ", ".join(f"{g:.4f} / {f:.4f}" for g, f in zip(grid_acc, fine_acc)))
    print(f"  best: {one_layer['best_fine_errors']} of {len(fine)} check points wrong")
    if plot_dir is not None:
        _plot(plot_dir, net, trained[best])
    return {"two_layer": two_layer, "one_layer_threshold": threshold, "one_layer_trained": one_layer}


def _plot(plot_dir, net: torch.nn.Sequential, trained: torch.nn.Sequential) -> None:
    fig, axes = new_figure(ncols=2)
    fine = grid_points(FINE)
    with torch.no_grad():
        maps = {"two hidden layers, by hand": net(torch.tensor(fine))[:, 0].numpy() > 0,
                "one hidden layer, trained (best seed)":
                    trained(torch.tensor(scaled(fine), dtype=torch.float32))[:, 0].numpy() > 0}
    for ax, (title, inside) in zip(axes, maps.items()):
        ax.imshow(inside.reshape(FINE, FINE).T, origin="lower", extent=(0, 1, 0, 1), cmap="Blues", alpha=0.6)
        for polygon in POLYGONS:
            corners = np.vstack([polygon, polygon[:1]])
            ax.plot(*corners.T, "k-", lw=1)
        ax.set(title=title, xlim=(0, 1), ylim=(0, 1), aspect="equal")
    save_figure(fig, plot_dir, "halfspace_unions")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())

"""Why GPUs: a layer's neurons are independent sums; as one matrix product they run hundreds of times faster.

The notes: silicon neurons are fast but connect to few others; "think a ton of really weak cores, which
explains the GPU usage". One layer of 256 ReLU neurons with 256 inputs each (a torch layer from nets.mlp) is
65,536 multiply-adds per sample, and no neuron needs another's result: dealt out to 8 "cores", each computing
only its own neurons, the layer gives identical outputs. Computed one neuron and one multiply-add at a time in
plain Python (most of that time is the interpreter, not the arithmetic), as one numpy matrix product over a
batch (BLAS keeps one core's vector units busy), with torch on the CPU (numpy and torch held to one thread),
and with torch on a GPU when there is one (thousands of simple cores on the batch at once), the outputs agree
to rounding, while the time per sample falls several hundred times on one CPU core alone. Timings are this
machine's and vary from run to run; the agreement does not.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure
from nets import mlp

D_IN, D_OUT = 256, 256
N_LOOP_SAMPLES = 4  # the Python loop is slow: time it on a few samples
N_BATCH = 2048
N_CORES = 8
SEED = 0


def layer_weights() -> tuple[np.ndarray, np.ndarray]:
    """Weights (D_OUT, D_IN) and biases (D_OUT,) of a seeded nets.mlp layer (torch's default init), float64."""
    torch.manual_seed(SEED)
    layer = mlp(D_IN, (), D_OUT)[0]
    return layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()


def one_neuron_at_a_time(W: np.ndarray, b: np.ndarray, X: np.ndarray) -> np.ndarray:
    """relu(W x + b) for each row x of X, one neuron and one multiply-add at a time, in plain Python."""
    weights, biases = W.tolist(), b.tolist()
    out = []
    for x in X.tolist():
        row = []
        for w, bias in zip(weights, biases):
            total = bias
            for w_i, x_i in zip(w, x):
                total += w_i * x_i
            row.append(total if total > 0.0 else 0.0)
        out.append(row)
    return np.array(out)


def split_among_cores(W: np.ndarray, b: np.ndarray, X: np.ndarray, cores: int = N_CORES) -> np.ndarray:
    """The same layer with its neurons dealt out to `cores` workers (here run one after another): each computes
    only its own neurons' sums, and the outputs are put side by side."""
    shares = np.array_split(np.arange(len(W)), cores)
    return np.concatenate([np.maximum(X @ W[share].T + b[share], 0.0) for share in shares], axis=1)


def best_time(fn, repeats: int = 5) -> float:
    """Fastest of `repeats` wall-clock runs of fn(), in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def torch_layer(W: np.ndarray, b: np.ndarray, X: np.ndarray, device: str):
    """A function running relu(X W^T + b) with torch on `device` (float64), and its result as numpy."""
    Wt, bt, Xt = (torch.as_tensor(a, device=device) for a in (W, b, X))

    def run():
        out = torch.relu(Xt @ Wt.T + bt)
        if device == "cuda":
            torch.cuda.synchronize()  # GPU calls return before the work is done
        return out

    return run, run().cpu().numpy()


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):  # numpy's BLAS on one core too, like the loop
        results, extra = compare_ways()
    if plot_dir is not None:
        _plot(plot_dir, results)
    return {"ways": results, **extra}


def compare_ways() -> tuple[dict, dict]:
    """Time per sample and max |difference| from numpy's result for each way of computing the layer."""
    W, b = layer_weights()
    X = np.random.default_rng(SEED).normal(size=(N_BATCH, D_IN))
    reference = np.maximum(X @ W.T + b, 0.0)
    loop_out = one_neuron_at_a_time(W, b, X[:N_LOOP_SAMPLES])
    cores_out = split_among_cores(W, b, X)
    loop_time = best_time(lambda: one_neuron_at_a_time(W, b, X[:N_LOOP_SAMPLES]), repeats=2) / N_LOOP_SAMPLES
    numpy_time = best_time(lambda: np.maximum(X @ W.T + b, 0.0)) / N_BATCH
    # name -> (seconds per sample, output, numpy's output for the same samples)
    ways = {"Python, one neuron at a time": (loop_time, loop_out, reference[:N_LOOP_SAMPLES]),
            "numpy matrix product": (numpy_time, reference, reference)}
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        run, out = torch_layer(W, b, X, device)
        ways[f"torch on {device}"] = (best_time(run, repeats=10) / N_BATCH, out, reference)
    results = {name: {"seconds_per_sample": t, "max_abs_diff_vs_numpy": float(np.abs(out - ref).max())}
               for name, (t, out, ref) in ways.items()}
    loop_time = results["Python, one neuron at a time"]["seconds_per_sample"]
    for row in results.values():
        row["speedup_vs_loop"] = loop_time / row["seconds_per_sample"]
    print(f"one layer of {D_OUT} ReLU neurons x {D_IN} inputs: {D_IN * D_OUT:,} multiply-adds per sample, "
          "all independent")
    print(f"  split among {N_CORES} cores: max |difference| vs all at once = "
          f"{np.abs(cores_out - reference).max():.1e}")
    for name, row in results.items():
        print(f"  {name:30s} {row['seconds_per_sample'] * 1e6:12.2f} us per sample  "
              f"({row['speedup_vs_loop']:9.0f}x the loop; max |difference| {row['max_abs_diff_vs_numpy']:.1e})")
    return results, {"multiply_adds_per_sample": D_IN * D_OUT, "cuda_available": "cuda" in devices,
                     "cores_max_abs_diff": float(np.abs(cores_out - reference).max())}


def _plot(plot_dir, results: dict) -> None:
    fig, ax = new_figure(panel_size=(6.0, 3.0))
    names = list(results)
    ax.barh(names, [results[n]["seconds_per_sample"] * 1e6 for n in names], color="tab:orange")
    ax.set(xscale="log", xlabel="microseconds per sample (log scale)", title=f"one layer, {D_OUT} x {D_IN}")
    ax.invert_yaxis()
    save_figure(fig, plot_dir, "why_gpus")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())

"""Training throughput (samples/s) of an MLP and a small CNN: our Trainer vs a plain torch loop, same run.

Run: `python -m experiments.bench.nets [--epochs 3] [--threads 1]`
"""

from __future__ import annotations

import argparse
import time

import torch

import nets
from experiments.bench.common import machine_line, table
from nets.losses import cross_entropy

CASES = {
    "MLP 64-256-256-10": (lambda: nets.mlp(64, [256, 256], 10), (64,)),
    "CNN 1x8x8 c16-c32 +fc64": (lambda: nets.cnn((1, 8, 8), [16, 32], 3, paddings=1, pool="max", head=(64, 10)),
                                (1, 8, 8)),
}


def synthetic(shape, n=8192, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, *shape, generator=g), torch.randint(0, 10, (n,), generator=g)


def plain_loop(model, X, y, epochs, batch_size, device) -> float:
    """The baseline: the textbook torch loop with no trainer around it. Returns samples/s."""
    model.to(device)
    X, y = X.to(device), y.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X), device=device)
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return epochs * len(X) / (time.perf_counter() - start)


def ours(model, X, y, epochs, batch_size, device) -> float:
    trainer = nets.Trainer(model, cross_entropy, epochs=epochs, batch_size=batch_size, device=device,
                           progress=False)
    start = time.perf_counter()
    trainer.fit(X, y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return epochs * len(X) / (time.perf_counter() - start)


def run(epochs: int = 3, batch_size: int = 128, num_samples: int = 8192) -> str:
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    for name, (build, shape) in CASES.items():
        X, y = synthetic(shape, num_samples)
        for device in devices:
            torch.manual_seed(0)
            ours(build(), X, y, 1, batch_size, device)  # warm-up (allocator, kernels)
            torch.manual_seed(0)
            a = ours(build(), X, y, epochs, batch_size, device)
            torch.manual_seed(0)
            b = plain_loop(build(), X, y, epochs, batch_size, device)
            rows.append([name, device.type, batch_size, a, b, f"{a / b:.2f}"])
    headers = ["model", "device", "batch", "ours samples/s", "plain torch samples/s", "ours/plain"]
    return table(headers, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads on the CPU")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(machine_line())
    print(run(args.epochs, args.batch_size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

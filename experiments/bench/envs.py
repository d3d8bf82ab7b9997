"""Environment speed, all tables in one run: gridworld single-env steps/s and value iteration
(experiments/bench/gridworld.py), then native vector envs vs SyncVectorEnv (experiments/bench/vector_envs.py).

Run: python -m experiments.bench.envs [--quick]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402

from experiments.bench.gridworld import gridworld_tables  # noqa: E402
from experiments.bench.vector_envs import HEADLINE_IDS, vector_env_table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Environment speed: every table in one run.")
    parser.add_argument("--quick", action="store_true", help="smaller maze, fewer steps, headline envs only")
    args = parser.parse_args(argv)
    print("## Gridworld: single env and value iteration\n")
    for text in gridworld_tables(quick=args.quick):
        print(text, flush=True)
    print("\n## Native vector envs vs Gymnasium's SyncVectorEnv (one CPU thread)\n")
    ids = list(HEADLINE_IDS) if args.quick else None
    print(vector_env_table(ids=ids, time_budget=0.2 if args.quick else 1.0), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

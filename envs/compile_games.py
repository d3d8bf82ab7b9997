"""Compile the numba kernels of the compiled games (Breakout, Asterix, Freeway, Seaquest) ahead of use.

numba compiles a kernel on its first call and caches the machine code in envs/__pycache__, so each game's first
env in a fresh checkout waits 2-15 s. `python -m envs.compile_games` (run by `make` after installing) plays each
game a few steps, as a single env and as a vector env with the registered options, so that every later process
loads the kernels from the cache.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the ids)
from envs import autoreset_jit

COMPILED_IDS = ("mdparcade/Breakout-v0", "mdparcade/Asterix-v0", "mdparcade/Freeway-v0", "mdparcade/Seaquest-v0")


def compile_game(env_id: str, steps: int = 3) -> float:
    """Play `env_id` for `steps` steps as a single env and as a 2-copy vector env; the seconds it took."""
    start = time.perf_counter()
    single = gym.make(env_id)
    single.reset(seed=0)
    for _ in range(steps):
        single.step(0)
    vector = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    vector.reset(seed=0)
    for _ in range(steps):
        vector.step(np.zeros(2, dtype=np.int64))
    single.close()
    vector.close()
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", default=list(COMPILED_IDS), help="env ids (default: the compiled games)")
    autoreset_jit.rewind_counters(np.zeros(1, dtype=bool), np.zeros(1, dtype=np.uint64))  # runs only at a reset
    for env_id in parser.parse_args(argv).ids:
        print(f"{env_id}: ready in {compile_game(env_id):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

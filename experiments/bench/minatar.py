"""Our PPO (CNN) on MinAtar's five games against a uniformly random policy, both measured in this run.
`python -m experiments.bench.minatar [--games Breakout,Seaquest,...] [--steps 1000000] [--seeds 3] [--device cuda]`.

Per game: the seeds train as one population (`PPO(env, seeds=[0, 1, 2])`, each member the single run of its
seed) at the game's preset (`experiments.learners.sb3_presets`, MinAtar's defaults: sticky actions 0.1, difficulty
ramping on), then every member and the random policy play the same 100 evaluation episodes (greedy actions for
PPO). The floor: the members' mean return at least `--floor` (5) times the random policy's, on every game.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from agents.evaluation import evaluate, evaluate_members
from experiments.bench.common import machine_line, table
from experiments.learners.ours import AGENTS
from experiments.learners.presets import preset

GAMES = ("Breakout", "Asterix", "Freeway", "Seaquest", "SpaceInvaders")
MINATAR_CONTEXT = ("For context: MinAtar (Young & Tian 2019, arXiv:1903.03176) trains its DQN and actor-critic "
                   "baselines for 5M frames; its learning curves are the published reference, and 1M steps is a "
                   "fifth of that budget")


def random_return(env_id: str, episodes: int, seed: int = 0) -> float:
    env = gym.make(env_id)
    actions = int(env.action_space.n)
    env.close()
    rng = np.random.default_rng(seed)
    return evaluate(lambda obs: rng.integers(actions, size=len(obs)), env_id, episodes=episodes).mean


def game(name: str, steps: int, seeds: list[int], device: str, episodes: int = 100, **overrides) -> dict:
    """Train PPO's population of `seeds` on one game for `steps` steps per member (the game's preset, then
    `overrides` in our config names); score it and random play."""
    env_id = f"mdparcade/{name}-v0"
    started = time.perf_counter()
    agent = AGENTS["PPO"](env_id, seeds=seeds, device=device, **{**preset("PPO", env_id), **overrides}).learn(steps)
    seconds = time.perf_counter() - started
    trained = [e.mean for e in evaluate_members(lambda obs: agent.predict(obs)[0], env_id, len(seeds), episodes)]
    return {"game": name, "steps": steps, "seeds": seeds, "device": device, "seconds": seconds, "ppo": trained,
            "random": random_return(env_id, episodes), "episodes": episodes}


def report(results: list[dict], floor: float) -> str:
    """The table, and whether every game's mean over members is at least `floor` times random play's return
    (where random play scores 0, any positive mean meets it)."""
    rows, misses = [], []
    for r in results:
        mean = float(np.mean(r["ppo"]))
        ratio = f"{mean / r['random']:.1f}x" if r["random"] > 0 else ("random scores 0" if mean > 0 else "0")
        rows.append([r["game"], r["random"], ", ".join(f"{x:.2f}" for x in r["ppo"]), mean, ratio, r["seconds"]])
        if mean < floor * r["random"] or mean <= 0:
            misses.append(r["game"])
    steps, episodes = (results[0]["steps"], results[0]["episodes"]) if results else (0, 0)
    text = (f"## our PPO (CNN) after {steps:,} steps per seed against a random policy ({episodes} episodes each)\n"
            + table(["game", "random", "PPO per seed", "PPO mean", "x random", "population s"], rows))
    verdict = f"MISSES on {', '.join(misses)}" if misses else "meets on every game"
    return text + f"\n{verdict}: floor {floor:g}x random. {MINATAR_CONTEXT}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", default=",".join(GAMES))
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--floor", type=float, default=5.0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", type=Path, default=None, help="also write every result to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    unknown = [g for g in args.games.split(",") if g not in GAMES]
    if unknown:
        raise SystemExit(f"unknown game(s) {', '.join(unknown)}; choose from {', '.join(GAMES)}")
    print(machine_line(), flush=True)
    results = []
    for name in args.games.split(","):
        results.append(game(name, args.steps, list(range(args.seeds)), args.device, args.episodes))
        print(f"  {name}: done in {results[-1]['seconds']:.0f} s", flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps(results, indent=1))
    print(report(results, args.floor), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

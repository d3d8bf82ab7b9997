"""Our populations against stable-baselines3 on the issue's floors, both sides in one process, one torch thread
(`--threads` for both), CPU (`--device cuda` puts ours on the GPU; SB3's MLP runs stay on the CPU, where SB3 runs
them), at identical settings (SB3's names mapped to our config fields by
`experiments.learners.presets.ours_from_sb3`, the one place that mapping is written).
`python -m experiments.bench.population [--quick] [--only ppo-cartpole,...] [--device cuda] [--threads N]`.

Floors: PPO CartPole-v1 100k at rl-zoo's settings (seeds 0-9: our population solves at least as many seeds as
SB3's ten runs, its whole wall-clock at most 2x one SB3 run's; one seed of ours at most 1/2 of one SB3 run's);
DQN CartPole-v1 50k at rl-zoo's settings (at least SB3's solved count; population at most 3x one SB3 run);
PPO slippery FrozenLake8x8 300k at SB3's settings (exact success probability within the 200-step limit not
worse than SB3's, by rliable's probability of improvement and a permutation test; population at most 2x one
SB3 run). Runs are interleaved (SB3 seed 0, our single seed, SB3 seed 1, our population, SB3's other seeds) so
that load from other processes falls on both sides; CPU time (process time, one torch thread) is printed beside
wall-clock, since on a shared machine one long population run can meet load the ten short SB3 runs average
out. `--only stacking` measures torch.func against batched
layers on a (64, 64) MLP (the choice nets/stacked.py records).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch

from agents.env_models import exact_gap, model_info
from agents.evaluation import evaluate
from experiments.bench.common import machine_line, table
from experiments.compare.stats import probability_of_improvement
from experiments.learners.ours import AGENTS
from experiments.learners.presets import ours_from_sb3
from experiments.learners.sb3 import greedy, make_model
from experiments.learners.sb3_presets import sb3_preset

SOLVED = 475.0
FLOORS = {
    "ppo-cartpole": dict(algo="PPO", env="CartPole-v1", steps=100_000, quick=20_000, score="eval", population=2.0,
                         single=0.5),
    "dqn-cartpole": dict(algo="DQN", env="CartPole-v1", steps=50_000, quick=10_000, score="eval", population=3.0),
    "ppo-frozenlake": dict(algo="PPO", env="mdparcade/FrozenLake8x8-v0", steps=300_000, quick=30_000, score="exact",
                           population=2.0),
}

# Scoring --------------------------------------------------------------------------------------------------
def scorer(env_id: str, kind: str):
    if kind == "exact":
        gap, observations = exact_gap(env_id, {}, gamma=0.99), model_info(env_id).observations
        return lambda predict: gap(np.asarray(predict(observations)).reshape(-1))["success_probability"]
    return lambda predict: evaluate(predict, env_id, episodes=10).mean


def sb3_run(algo: str, env_id: str, settings: dict, steps: int, seed: int, score) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    model, vecnormalize = make_model(algo, env_id, copy.deepcopy(settings), seed, device="cpu")
    model.learn(steps)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seed": seed, "seconds": seconds, "cpu": cpu, "score": score(greedy(model, vecnormalize))}


def member_policy(member):
    return lambda obs: member.predict(obs)[0]


def ours_run(algo: str, env_id: str, settings: dict, steps: int, seeds: list[int], score,
             device: str = "cpu") -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    agent = AGENTS[algo](env_id, seeds=seeds, device=device, **settings).learn(steps)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    scores = [score(member_policy(agent.member(k))) for k in range(len(seeds))]
    return {"seeds": seeds, "seconds": seconds, "cpu": cpu, "scores": scores}


# Statistics -----------------------------------------------------------------------------------------------
def permutation_p_value(ours: np.ndarray, theirs: np.ndarray, reps: int = 20_000, seed: int = 0) -> float:
    """Two-sided permutation test of equal means (all labelings drawn at random)."""
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([ours, theirs])
    observed = abs(ours.mean() - theirs.mean())
    count = 0
    for _ in range(reps):
        rng.shuffle(pooled)
        count += abs(pooled[:len(ours)].mean() - pooled[len(ours):].mean()) >= observed - 1e-12
    return (count + 1) / (reps + 1)


def comparison(ours: list[float], theirs: list[float]) -> tuple[str, bool]:
    x, y = np.asarray(ours, float), np.asarray(theirs, float)
    poi = probability_of_improvement(x[:, None], y[:, None])
    p = permutation_p_value(x, y)
    not_worse = poi["high"] >= 0.5 and (p >= 0.05 or x.mean() >= y.mean())
    verdict = "better" if poi["low"] > 0.5 else ("indistinguishable" if not_worse else "worse")
    text = (f"P(ours > SB3) = {poi['probability']:.2f} [95% CI {poi['low']:.2f}, {poi['high']:.2f}] (rliable); "
            f"permutation test of means p = {p:.3f}: {verdict}")
    return text, not_worse


# One floor ------------------------------------------------------------------------------------------------
def run_floor(name: str, spec: dict, quick: bool, seeds: list[int], sb3_seeds: list[int],
              device: str = "cpu") -> tuple[str, dict]:
    algo, env_id = spec["algo"], spec["env"]
    steps = spec["quick"] if quick else spec["steps"]
    settings = sb3_preset(algo, env_id)
    ours_settings = ours_from_sb3(algo, settings)
    score = scorer(env_id, spec["score"])
    sb3_results: list[dict] = []
    order = [("sb3", sb3_seeds[0]), ("single", None)] + [("sb3", s) for s in sb3_seeds[1:2]] + [("population", None)] \
        + [("sb3", s) for s in sb3_seeds[2:]]
    single = population = None
    for side, seed in order:
        if side == "sb3":
            sb3_results.append(sb3_run(algo, env_id, settings, steps, seed, score))
        elif side == "single":
            single = ours_run(algo, env_id, ours_settings, steps, seeds[:1], score, device)
        else:
            population = ours_run(algo, env_id, ours_settings, steps, seeds, score, device)
        print(f"  {name}: {side} {seed if seed is not None else ''} done", flush=True)
    sb3_seconds = float(np.mean([r["seconds"] for r in sb3_results]))
    sb3_cpu = float(np.mean([r["cpu"] for r in sb3_results]))
    sb3_scores = [r["score"] for r in sb3_results]
    lines = [f"## {name}: {algo} {env_id}, {steps:,} steps per seed (ours on {device}, SB3 on cpu)",
             f"SB3 settings: {json.dumps(settings, default=str)}",
             f"ours: {json.dumps(ours_settings, default=str)}"]
    exact = spec["score"] == "exact"
    what = "success within 200 steps (mean)" if exact else f"seeds solved (eval >= {SOLVED:g})"

    def summary(scores):
        return f"{np.mean(scores):.3f}" if exact else f"{sum(s >= SOLVED for s in scores)}/{len(scores)}"

    def row(label, result, scores):
        return [label, result["seconds"], result["seconds"] / sb3_seconds, result["cpu"], result["cpu"] / sb3_cpu,
                summary(scores)]

    sb3_mean = {"seconds": sb3_seconds, "cpu": sb3_cpu}
    rows = [row(f"SB3, one run (mean of {len(sb3_results)} seeds)", sb3_mean, sb3_scores),
            row(f"ours, population of {len(seeds)} (one run)", population, population["scores"]),
            row("ours, single seed", single, single["scores"])]
    lines.append(table(["side", "wall-clock s", "x SB3", "CPU s", "x SB3 (CPU)", what], rows))
    lines.append("per seed: SB3 " + ", ".join(f"{s:.3g}" for s in sb3_scores) + " | ours "
                 + ", ".join(f"{s:.3g}" for s in population["scores"]))
    checks = []
    for label, key, base in (("wall-clock", "seconds", sb3_seconds), ("CPU time", "cpu", sb3_cpu)):
        checks.append((f"population {label} <= {spec['population']:g}x one SB3 run",
                       population[key] <= spec["population"] * base))
        if "single" in spec:
            checks.append((f"single seed {label} <= {spec['single']:g}x one SB3 run",
                           single[key] <= spec["single"] * base))
    if exact:
        text, not_worse = comparison(population["scores"], sb3_scores)
        lines.append(text)
        checks.append(("success not worse than SB3's", not_worse))
    else:
        solved = sum(s >= SOLVED for s in population["scores"])
        sb3_solved = sum(s >= SOLVED for s in sb3_scores)
        checks.append((f"solved {solved} >= SB3's {sb3_solved} (SB3 over {len(sb3_scores)} seeds)",
                       solved >= sb3_solved))
    for text, ok in checks:
        lines.append(f"{'holds' if ok else 'MISSES'}: {text}")
    return "\n".join(lines), {"name": name, "steps": steps, "sb3": sb3_results, "single": single,
                              "population": population}


# torch.func against batched layers ------------------------------------------------------------------------
def stacking(members: int = 10, batch: int = 256) -> str:
    """Forward + backward + Adam step of K (64, 64) tanh MLPs at batch 256: torch.func vmap over stacked
    module state, batched matmuls over stacked weights, a loop over K modules, and one module alone."""
    from torch import nn
    from torch.func import functional_call, stack_module_state, vmap

    def make():
        return nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))

    torch.manual_seed(0)
    models = [make() for _ in range(members)]
    x, y = torch.randn(members, batch, 4), torch.randn(members, batch, 2)
    params, buffers = stack_module_state(models)
    params = {k: nn.Parameter(v) for k, v in params.items()}
    base = copy.deepcopy(models[0]).to("meta")
    vmapped = vmap(lambda p, b, xx: functional_call(base, (p, b), (xx,)))
    func_opt = torch.optim.Adam(list(params.values()), lr=1e-3, fused=True)

    def func_step():
        func_opt.zero_grad(set_to_none=True)
        ((vmapped(params, buffers, x) - y) ** 2).mean(dim=(1, 2)).sum().backward()
        func_opt.step()

    weights = [nn.Parameter(torch.stack([m[i].weight.detach() for m in models])) for i in (0, 2, 4)]
    biases = [nn.Parameter(torch.stack([m[i].bias.detach() for m in models]).unsqueeze(1)) for i in (0, 2, 4)]
    bmm_opt = torch.optim.Adam(weights + biases, lr=1e-3, fused=True)

    def bmm_step():
        bmm_opt.zero_grad(set_to_none=True)
        h = x
        for i in range(3):
            h = torch.baddbmm(biases[i], h, weights[i].transpose(1, 2))
            h = torch.tanh(h) if i < 2 else h
        ((h - y) ** 2).mean(dim=(1, 2)).sum().backward()
        bmm_opt.step()

    optimizers = [torch.optim.Adam(m.parameters(), lr=1e-3, fused=True) for m in models]

    def one(k):
        optimizers[k].zero_grad(set_to_none=True)
        ((models[k](x[k]) - y[k]) ** 2).mean().backward()
        optimizers[k].step()

    def timed(step, n=200):
        for _ in range(20):
            step()
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for _ in range(n):
                step()
            best = min(best, (time.perf_counter() - started) / n * 1e3)
        return best

    rows = [["torch.func (stack_module_state + functional_call + vmap)", timed(func_step)],
            ["batched layers (baddbmm over stacked weights)", timed(bmm_step)],
            [f"loop over {members} modules", timed(lambda: [one(k) for k in range(members)])],
            ["one module (K = 1)", timed(lambda: one(0))]]
    return (f"## stacking: {members} x (64, 64) tanh MLP, batch {batch}, forward + backward + Adam step\n"
            + table(["implementation", "ms per step (best of 3)"], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short budgets, 3 SB3 seeds (a smoke run)")
    parser.add_argument("--only", default="ppo-cartpole,dqn-cartpole,ppo-frozenlake,stacking")
    parser.add_argument("--seeds", type=int, default=10, help="population size and SB3's seed count")
    parser.add_argument("--sb3-seeds", type=int, default=None, help="SB3 runs (default: --seeds; 3 with --quick)")
    parser.add_argument("--json", type=Path, default=None, help="also write every result to this file")
    parser.add_argument("--device", default="cpu", help="our agents' device (cpu, cuda, auto); SB3's MLPs run on cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, both sides (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    sb3_count = args.sb3_seeds or (3 if args.quick else args.seeds)
    print(machine_line(), flush=True)
    results = []
    for name in args.only.split(","):
        if name == "stacking":
            print(stacking(), flush=True)
            continue
        if name not in FLOORS:
            raise SystemExit(f"unknown floor {name!r}; choose from {', '.join([*FLOORS, 'stacking'])}")
        text, result = run_floor(name, FLOORS[name], args.quick, seeds, seeds[:sb3_count], args.device)
        print(text, flush=True)
        results.append(result)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

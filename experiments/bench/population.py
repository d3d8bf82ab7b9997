"""Our populations against stable-baselines3 on the issue's floors, both sides in one process, one torch thread,
CPU, at identical settings (SB3's names mapped to our config fields by `ours_from_sb3`, the one place that
mapping is written). `python -m experiments.bench.population [--quick] [--only ppo-cartpole,...]`.

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

from agents.evaluation import evaluate
from experiments.bench.common import machine_line, table
from experiments.runs import exact_scorer
from experiments.sb3 import LinearSchedule, greedy, make_model, sb3_defaults, zoo_settings

SOLVED = 475.0
FLOORS = {
    "ppo-cartpole": dict(algo="PPO", env="CartPole-v1", steps=100_000, quick=20_000, score="eval", population=2.0,
                         single=0.5),
    "dqn-cartpole": dict(algo="DQN", env="CartPole-v1", steps=50_000, quick=10_000, score="eval", population=3.0),
    "ppo-frozenlake": dict(algo="PPO", env="mdparcade/FrozenLake8x8-v0", steps=300_000, quick=30_000, score="exact",
                           population=2.0),
}

# SB3 constructor argument -> our config field, per algorithm. Schedules (rl-zoo's lin_<x>, SB3's
# LinearSchedule) become the value plus anneal_<field>=True; `normalize` (VecNormalize) becomes normalize_obs and
# normalize_reward; policy_kwargs' net_arch becomes hidden_sizes and activation_fn activation.
SB3_NAMES = {
    "PPO": {"n_envs": "num_envs", "n_steps": "num_steps", "batch_size": "batch_size", "n_epochs": "n_epochs",
            "learning_rate": "learning_rate", "clip_range": "clip_range", "gamma": "gamma",
            "gae_lambda": "gae_lambda", "ent_coef": "ent_coef", "vf_coef": "vf_coef", "max_grad_norm": "max_grad_norm",
            "normalize_advantage": "normalize_advantage", "target_kl": "target_kl"},
    "A2C": {"n_envs": "num_envs", "n_steps": "num_steps", "learning_rate": "learning_rate", "gamma": "gamma",
            "gae_lambda": "gae_lambda", "ent_coef": "ent_coef", "vf_coef": "vf_coef", "max_grad_norm": "max_grad_norm",
            "rms_prop_eps": "rms_eps", "normalize_advantage": "normalize_advantage"},
    "DQN": {"n_envs": "num_envs", "learning_rate": "learning_rate", "buffer_size": "buffer_size",
            "learning_starts": "learning_starts", "batch_size": "batch_size", "tau": "tau", "gamma": "gamma",
            "train_freq": "train_freq", "gradient_steps": "gradient_steps",
            "target_update_interval": "target_update_interval", "exploration_fraction": "exploration_fraction",
            "exploration_initial_eps": "exploration_initial_eps", "exploration_final_eps": "exploration_final_eps",
            "max_grad_norm": "max_grad_norm"},
}
#: SB3's default networks and activations (ActorCriticPolicy: 64-64 tanh; DQN's QNetwork: 64-64 ReLU).
SB3_NETS = {"PPO": ((64, 64), "tanh"), "A2C": ((64, 64), "tanh"), "DQN": ((64, 64), "relu")}
ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu"}


#: SB3 arguments with no counterpart in our agents: a setting other than this value is a ValueError.
UNSUPPORTED = {"clip_range_vf": None, "use_sde": False, "rollout_buffer_class": None, "replay_buffer_class": None}


def ours_from_sb3(algo: str, settings: dict) -> dict:
    """Our config overrides for SB3 `settings` (zoo_settings' form), SB3's constructor defaults filled in."""
    names = SB3_NAMES[algo]
    for key, default in UNSUPPORTED.items():
        if settings.get(key, default) != default:
            raise ValueError(f"{algo} {key}={settings[key]!r} has no counterpart in our agents")
    if algo == "DQN" and settings.get("n_steps", 1) != 1:
        raise ValueError("our DQN has one-step targets (SB3's n_steps=1)")
    full = {k: v for k, v in sb3_defaults(algo).items() if k in names}
    full.update({k: v for k, v in settings.items() if k in names or k in ("n_envs",)})
    ours = {}
    for key, value in full.items():
        field = names[key]
        if isinstance(value, LinearSchedule):
            ours[field], ours[f"anneal_{'lr' if field == 'learning_rate' else field}"] = value.start, True
        elif callable(value):
            raise ValueError(f"{algo} {key}: only constants and lin_ schedules map to our config, got {value!r}")
        else:
            ours[field] = value
            if field in ("learning_rate", "clip_range") and algo != "DQN":
                ours[f"anneal_{'lr' if field == 'learning_rate' else field}"] = False
    if algo == "DQN" and isinstance(full.get("train_freq"), tuple):
        frequency, unit = full["train_freq"]
        if unit != "step":
            raise ValueError("DQN train_freq in episodes has no counterpart in our DQN")
        ours["train_freq"] = frequency
    if algo == "A2C" and settings.get("use_rms_prop", True) is False:
        raise ValueError("our A2C uses RMSprop (SB3's use_rms_prop=True)")
    normalize = settings.get("normalize", False)
    if normalize:
        options = normalize if isinstance(normalize, dict) else {}
        ours["normalize_obs"] = options.get("norm_obs", True)
        ours["normalize_reward"] = options.get("norm_reward", True)
    hidden, activation = SB3_NETS[algo]
    kwargs = settings.get("policy_kwargs") or {}
    arch = kwargs.get("net_arch")
    if isinstance(arch, dict):
        if list(arch.get("pi", [])) != list(arch.get("vf", [])):
            raise ValueError("our actor-critic has the same hidden sizes for the policy and the value net")
        arch = arch["pi"]
    if arch is not None:
        hidden = tuple(int(v) for v in arch)
    if "activation_fn" in kwargs:
        activation = ACTIVATIONS[getattr(kwargs["activation_fn"], "__name__", str(kwargs["activation_fn"]))]
    extractor = kwargs.get("features_extractor_class")
    if extractor is not None:  # boards: MinAtarExtractor is our conv trunk with one hidden layer of features_dim
        if getattr(extractor, "__name__", extractor) != "MinAtarExtractor":
            raise ValueError(f"{algo}: only the MinAtarExtractor trunk maps to our nets, got {extractor!r}")
        options = kwargs.get("features_extractor_kwargs") or {}
        hidden = (int(options.get("features_dim", 128)), *hidden)
        activation = options.get("activation", "relu")
    ours.update(hidden_sizes=hidden, activation=activation)
    return ours


# Scoring --------------------------------------------------------------------------------------------------
def scorer(env_id: str, kind: str):
    if kind == "exact":
        gap, observations = exact_scorer(env_id, {}, gamma=0.99)
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


def ours_run(algo: str, env_id: str, settings: dict, steps: int, seeds: list[int], score) -> dict:
    from experiments.algorithms import algorithm

    started, cpu = time.perf_counter(), time.process_time()
    agent = algorithm(algo)(env_id, seeds=seeds, device="cpu", **settings).learn(steps)
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
    from experiments.stats import probability_of_improvement

    x, y = np.asarray(ours, float), np.asarray(theirs, float)
    poi = probability_of_improvement(x[:, None], y[:, None])
    p = permutation_p_value(x, y)
    not_worse = poi["high"] >= 0.5 and (p >= 0.05 or x.mean() >= y.mean())
    verdict = "better" if poi["low"] > 0.5 else ("indistinguishable" if not_worse else "worse")
    text = (f"P(ours > SB3) = {poi['probability']:.2f} [95% CI {poi['low']:.2f}, {poi['high']:.2f}] (rliable); "
            f"permutation test of means p = {p:.3f}: {verdict}")
    return text, not_worse


# One floor ------------------------------------------------------------------------------------------------
def run_floor(name: str, spec: dict, quick: bool, seeds: list[int], sb3_seeds: list[int]) -> tuple[str, dict]:
    algo, env_id = spec["algo"], spec["env"]
    steps = spec["quick"] if quick else spec["steps"]
    settings = zoo_settings(algo, env_id)
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
            single = ours_run(algo, env_id, ours_settings, steps, seeds[:1], score)
        else:
            population = ours_run(algo, env_id, ours_settings, steps, seeds, score)
        print(f"  {name}: {side} {seed if seed is not None else ''} done", flush=True)
    sb3_seconds = float(np.mean([r["seconds"] for r in sb3_results]))
    sb3_cpu = float(np.mean([r["cpu"] for r in sb3_results]))
    sb3_scores = [r["score"] for r in sb3_results]
    lines = [f"## {name}: {algo} {env_id}, {steps:,} steps per seed",
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
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
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
        text, result = run_floor(name, FLOORS[name], args.quick, seeds, seeds[:sb3_count])
        print(text, flush=True)
        results.append(result)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

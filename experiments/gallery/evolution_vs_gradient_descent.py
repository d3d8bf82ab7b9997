"""Evolution instead of gradient descent: CEM solves CartPole gradient-free in ~5x PPO's steps; aim fades as 1/sqrt(n).

The notes' aside under "Gradient descent" is "alt: evolution". The cross-entropy method (CEM) keeps a Gaussian
over a policy net's weights. Each generation it plays one CartPole episode with each of 64 sampled nets, all at
once in one vector env, then refits the Gaussian to the best 20%. It never takes a derivative. PPO
(`PPO_CARTPOLE`: 16 copies x 64 steps, 6 epochs) trains the same `nets.mlp` policy by gradient steps.
Both count as solved when the greedy policy's mean return over `agents.evaluation.evaluate`'s 10 episodes is
>= 475. We record env steps and training seconds (the solved checks not counted) for hidden sizes
(4, 4), (16, 16) and (64, 64), that is 50, 386 and 4,610 policy weights.

Why evolution should scale badly: a gradient gives every weight's direction from one backward pass. An
evolution step only learns the directions its population happened to try. With m = 32 antithetic pairs (64
evaluations, one generation's worth), the evolution-strategies estimate of the gradient is aligned with the true
one (autograd) by a cosine of about sqrt(m / (m + n + 1)). It fades as 1/sqrt(n), so a task that needs every
direction costs evolution about n times more evaluations. The script measures that cosine on an imitation loss
of the same nets.

CartPole shows this only weakly, because many very different nets balance the pole. Over seeds 0-3 (one seed
here, to stay near 30 s), CEM needed a median of about 60k, 70k and 80k steps for 50, 386 and 4,610 weights,
with up to 4x spread between seeds. PPO needed 10-20k steps at 4,610 weights (CEM 4-7x as many) and 14-35k at
386 (one seed's CEM run beat it there). PPO was least reliable with the tiny 4x4 net: 17-55k steps, and seed 0
does not solve it within 100k.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, vmap

import nets
from agents.evaluation import evaluate
from agents.ppo import PPO
from experiments.gallery._plotting import new_figure, plot_dir_from_argv, save_figure

ENV_ID = "CartPole-v1"
#: PPO's settings here: rl-zoo's CartPole values with twice the copies and rollout and 6 epochs of 4 minibatches.
PPO_CARTPOLE = dict(num_envs=16, num_steps=64, batch_size=256, n_epochs=6)
OBS_DIM, NUM_ACTIONS = 4, 2


@dataclass(frozen=True)
class EvolutionConfig:
    hidden_sizes: tuple[tuple[int, ...], ...] = ((4, 4), (16, 16), (64, 64))
    seed: int = 0
    population: int = 64  # nets per CEM generation, one episode each
    elite_fraction: float = 0.2
    initial_std: float = 1.0  # of the weight Gaussian, around the net's default initialization
    extra_std: float = 0.01  # added to the elite's std each generation so the search never collapses
    max_generations: int = 60
    ppo_max_steps: int = 100_000
    eval_episodes: int = 10
    solved_return: float = 475.0
    alignment_pairs: int = 32  # antithetic pairs per ES gradient estimate (64 evaluations, one generation)
    alignment_draws: int = 20
    alignment_states: int = 512


def policy_net(hidden_sizes: tuple[int, ...]) -> torch.nn.Sequential:
    """The policy both methods train: 4 CartPole numbers -> tanh hidden layers -> 2 action logits."""
    return nets.mlp(OBS_DIM, hidden_sizes, NUM_ACTIONS, activation="tanh")


def count_parameters(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


class Population:
    """Evaluates P weight vectors (P, n) of one net architecture at once via torch.func (no Python loop)."""

    def __init__(self, net: torch.nn.Module):
        self.net = net
        self.layout = [(name, p.shape, p.numel()) for name, p in net.named_parameters()]
        self.size = sum(numel for _, _, numel in self.layout)

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """(P, n) -> {name: (P, *shape)}, in `parameters_to_vector` order."""
        params, start = {}, 0
        for name, shape, numel in self.layout:
            params[name] = flat[:, start:start + numel].reshape(flat.shape[0], *shape)
            start += numel
        return params

    def outputs(self, flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Net i with weights flat[i] applied to x[i]: flat (P, n), x (P, B, in) -> (P, B, out)."""
        return vmap(lambda params, inputs: functional_call(self.net, params, (inputs,)))(self.unflatten(flat), x)


def play_population(population: Population, weights: np.ndarray, env, seed: int) -> np.ndarray:
    """One episode per weight vector, copy i of the vector env played greedily by net i. Returns lengths (P,),
    which on CartPole (reward 1 per step) are also the returns."""
    flat = torch.as_tensor(weights, dtype=torch.float32)
    obs, _ = env.reset(seed=seed)
    lengths = np.zeros(len(weights), dtype=np.int64)
    running = np.ones(len(weights), dtype=bool)
    with torch.no_grad():
        while running.any():
            x = torch.as_tensor(obs, dtype=torch.float32)[:, None, :]
            actions = population.outputs(flat, x)[:, 0].argmax(-1).numpy()
            obs, _, terminated, truncated, _ = env.step(actions)
            lengths += running
            running &= ~(terminated | truncated)
    return lengths


def greedy_score(net: torch.nn.Module, episodes: int) -> float:
    with torch.no_grad():
        result = evaluate(lambda obs: net(torch.as_tensor(obs, dtype=torch.float32)).argmax(-1).numpy(), ENV_ID,
                          episodes)
    return result.mean


def cross_entropy_method(hidden_sizes: tuple[int, ...], config: EvolutionConfig) -> dict:
    """CEM with a diagonal Gaussian until the mean net is solved or `max_generations` pass."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = policy_net(hidden_sizes)
    population = Population(net)
    mean = torch.nn.utils.parameters_to_vector(net.parameters()).detach().double().numpy()
    std = np.full(population.size, config.initial_std)
    elite = max(2, int(round(config.elite_fraction * config.population)))
    env = gym.make_vec(ENV_ID, config.population, vectorization_mode="vector_entry_point")
    steps, seconds, curve, solved_at = 0, 0.0, [], None
    for generation in range(config.max_generations):
        started = time.perf_counter()
        weights = mean + std * rng.standard_normal((config.population, population.size))
        lengths = play_population(population, weights, env, seed=config.seed * 10_000 + generation)
        best = weights[np.argsort(-lengths, kind="stable")[:elite]]
        mean, std = best.mean(axis=0), best.std(axis=0) + config.extra_std
        steps += int(lengths.sum())
        seconds += time.perf_counter() - started
        torch.nn.utils.vector_to_parameters(torch.as_tensor(mean, dtype=torch.float32), net.parameters())
        score = greedy_score(net, config.eval_episodes)
        curve.append((steps, score))
        if score >= config.solved_return:
            solved_at = generation + 1
            break
    env.close()
    return {"parameters": population.size, "solved": solved_at is not None, "generations": solved_at or
            config.max_generations, "env_steps": steps, "train_seconds": seconds, "curve": curve}


def ppo(hidden_sizes: tuple[int, ...], config: EvolutionConfig) -> dict:
    """PPO with PPO_CARTPOLE (the policy net's hidden sizes changed), checked after every rollout."""
    agent = PPO(ENV_ID, seed=config.seed, device="cpu", **{**PPO_CARTPOLE, "hidden_sizes": hidden_sizes})
    curve, checking = [], [0.0]

    def check(agent, info) -> bool:
        started = time.perf_counter()
        score = evaluate(lambda obs: agent.predict(obs, deterministic=True)[0], ENV_ID, config.eval_episodes).mean
        curve.append((agent.num_timesteps, score))
        checking[0] += time.perf_counter() - started
        return score < config.solved_return

    started = time.perf_counter()
    agent.learn(config.ppo_max_steps, callback=check)
    seconds = time.perf_counter() - started - checking[0]
    return {"parameters": count_parameters(agent.policy.member_nets(0)["policy_net"]),
            "solved": curve[-1][1] >= config.solved_return, "env_steps": agent.num_timesteps,
            "train_seconds": seconds, "curve": curve}


def imitation_batch(states: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """CartPole states from random play and the "push towards the lean" action (angle + angular velocity > 0)."""
    copies = 16
    env = gym.make_vec(ENV_ID, copies, vectorization_mode="vector_entry_point")
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    seen = []
    for _ in range(states // copies):
        seen.append(obs)
        obs, *_ = env.step(rng.integers(NUM_ACTIONS, size=copies))
    env.close()
    x = torch.as_tensor(np.concatenate(seen), dtype=torch.float64)
    return x, (x[:, 2] + x[:, 3] > 0).long()


def gradient_alignment(hidden_sizes: tuple[int, ...], config: EvolutionConfig, sigma: float = 1e-4) -> dict:
    """Cosine between the antithetic ES estimate (1 / (2 sigma m)) sum_j (L(w + sigma e_j) - L(w - sigma e_j)) e_j
    and autograd's gradient of the same cross-entropy loss, averaged over `alignment_draws` estimates."""
    torch.manual_seed(config.seed)
    net = policy_net(hidden_sizes).double()
    population = Population(net)
    x, y = imitation_batch(config.alignment_states, config.seed)
    loss = F.cross_entropy(net(x), y)
    gradient = torch.autograd.grad(loss, list(net.parameters()))
    gradient = torch.cat([g.reshape(-1) for g in gradient])
    weights = torch.nn.utils.parameters_to_vector(net.parameters()).detach()
    generator = torch.Generator().manual_seed(config.seed)
    m, cosines = config.alignment_pairs, []
    with torch.no_grad():
        for _ in range(config.alignment_draws):
            noise = torch.randn(m, population.size, generator=generator, dtype=torch.float64)
            probes = torch.cat([weights + sigma * noise, weights - sigma * noise])
            logits = population.outputs(probes, x.expand(2 * m, *x.shape))
            losses = F.cross_entropy(logits.transpose(1, 2), y.expand(2 * m, -1), reduction="none").mean(dim=1)
            estimate = ((losses[:m] - losses[m:]) / (2 * sigma)) @ noise / m
            cosines.append(float(F.cosine_similarity(estimate, gradient, dim=0)))
    n = population.size
    return {"parameters": n, "cosine_mean": float(np.mean(cosines)), "cosine_std": float(np.std(cosines)),
            "theory": math.sqrt(m / (m + n + 1))}


def run(config: EvolutionConfig) -> dict:
    results = {}
    for hidden in config.hidden_sizes:
        key = "x".join(map(str, hidden))
        results[key] = {"hidden_sizes": list(hidden), "cem": cross_entropy_method(hidden, config),
                        "ppo": ppo(hidden, config), "alignment": gradient_alignment(hidden, config)}
    return {"sizes": results, "population": config.population, "seed": config.seed,
            "solved_return": config.solved_return, "eval_episodes": config.eval_episodes,
            "alignment_pairs": config.alignment_pairs}


def _describe(row: dict, what: str) -> str:
    if not row["solved"]:
        return f"not solved in {row['env_steps']:>7,} steps ({row['train_seconds']:4.1f} s)"
    extra = f", {row['generations']} generations" if what == "cem" else ""
    return f"solved at {row['env_steps']:>7,} steps, {row['train_seconds']:4.1f} s{extra}"


def main(plot_dir: str | None = None) -> dict:
    torch.set_num_threads(1)
    config = EvolutionConfig()
    numbers = run(config)
    print(f"CartPole-v1, solved = greedy mean return >= {config.solved_return:.0f} over {config.eval_episodes} "
          f"evaluation episodes; seed {config.seed}; seconds exclude the solved checks")
    for key, row in numbers["sizes"].items():
        print(f"  hidden {key:>5} ({row['cem']['parameters']:>5,} weights): CEM {_describe(row['cem'], 'cem')}")
        print(f"  {'':31} PPO {_describe(row['ppo'], 'ppo')}")
    print(f"ES gradient estimate from {config.alignment_pairs} antithetic pairs vs autograd (imitation loss): cosine")
    for row in numbers["sizes"].values():
        a = row["alignment"]
        print(f"  {a['parameters']:>5,} weights: {a['cosine_mean']:.3f} +- {a['cosine_std']:.3f}   "
              f"sqrt(m/(m+n+1)) = {a['theory']:.3f}")
    if plot_dir is not None:
        _plot(plot_dir, numbers)
    return numbers


def _plot(plot_dir: str, numbers: dict) -> None:
    fig, (ax_curve, ax_align) = new_figure(ncols=2, panel_size=(5.0, 3.8))
    colors = ("tab:blue", "tab:orange", "tab:green", "tab:red")
    for color, (key, row) in zip(colors, numbers["sizes"].items()):
        for method, style in (("cem", "-"), ("ppo", "--")):
            steps, scores = zip(*row[method]["curve"])
            ax_curve.plot(steps, scores, style, color=color, label=f"{method.upper()} {key}")
    ax_curve.axhline(numbers["solved_return"], color="gray", lw=0.8)
    ax_curve.set(xscale="log", xlabel="env steps", ylabel="greedy mean return (10 episodes)",
                 title="CartPole: CEM (solid) vs PPO (dashed)")
    ax_curve.legend(fontsize=7)
    n = [row["alignment"]["parameters"] for row in numbers["sizes"].values()]
    cos = [row["alignment"]["cosine_mean"] for row in numbers["sizes"].values()]
    m = numbers["alignment_pairs"]
    grid = np.geomspace(min(n) / 2, max(n) * 2, 50)
    ax_align.loglog(grid, np.sqrt(m / (m + grid + 1)), color="gray", label="sqrt(m / (m + n + 1))")
    ax_align.loglog(n, cos, "o", color="tab:purple", label="measured")
    ax_align.set(xlabel="weights n", ylabel="cosine(ES estimate, gradient)",
                 title=f"ES aim with {2 * m} evaluations")
    ax_align.legend(fontsize=8)
    save_figure(fig, plot_dir, "evolution_vs_gradient_descent")


if __name__ == "__main__":
    main(plot_dir=plot_dir_from_argv())

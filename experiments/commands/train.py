"""`mdparcade train ALGO ENV_ID`: train an agent (ours, stable-baselines3's `sb3:PPO`..., a tabular learner or
value iteration) into a run folder (config.json, metrics.csv, the model, summary.json), evaluating it on a
separate env as it learns; an interrupted run resumes when re-run."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import torch

from experiments.algorithms import ALGORITHMS, literal, parse_assignments
from experiments.learners import all_names, learner_class
from experiments.runs import Run, RunSpec


def _config_keys() -> str:
    lines = ["config keys for --set (defaults: rl-zoo's tuned values; see each agents/<algo>.py):"]
    for name, cls in ALGORITHMS.items():
        fields = ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(cls.config_class))
        lines.append(f"  {name}: {fields}")
    lines.append("stable-baselines3 (sb3:PPO, sb3:DQN, sb3:A2C): --set takes the SB3 class's keyword arguments "
                 "(rl-zoo's values by default; see experiments/sb3.py); QLearning, SARSA, ExpectedSARSA: "
                 "learning_rate, epsilon, gamma, initial_q; ValueIteration: gamma, tol")
    return "\n".join(lines)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train an agent (ours, stable-baselines3's, tabular) into a run folder",
        description="Train an agent on an env id; write config.json, metrics.csv, the model (model.pt, or model.zip "
                    "for stable-baselines3) and summary.json.",
        epilog=_config_keys(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("algo", metavar="ALGO", nargs="?", help=f"one of {', '.join(all_names())}")
    parser.add_argument("env_id", metavar="ENV_ID", nargs="?",
                        help="an mdparcade id (mdparcade/Catch-v0, or just Catch) or a Gymnasium id (CartPole-v1)")
    parser.add_argument("--steps", type=int, default=100_000, help="env steps to train (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the nets, sampling and envs (default 0)")
    parser.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps")
    parser.add_argument("--out", type=Path, default=None, help="run folder (default runs/<algo>-<env>-s<seed>)")
    parser.add_argument("--set", dest="settings", action="append", metavar="KEY=VALUE",
                        help="override a config field, e.g. --set n_epochs=10 --set hidden_sizes=64,64")
    parser.add_argument("--env-kwargs", dest="env_kwargs", action="append", metavar="KEY=VALUE",
                        help="keyword argument for gym.make, e.g. --env-kwargs map=FourRooms")
    parser.add_argument("--eval-every", type=int, default=10_000, help="env steps between evaluations")
    parser.add_argument("--eval-episodes", type=int, default=10, help="episodes per evaluation (fixed seeds)")
    parser.add_argument("--from", dest="from_config", type=Path, default=None,
                        help="reproduce a run from its config.json (other options then override nothing)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: small nets lose more to thread overhead than they gain)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    if args.from_config is not None:
        if not args.from_config.is_file():
            raise FileNotFoundError(f"--from: {args.from_config} does not exist")
        saved = json.loads(args.from_config.read_text())
        keys = ("algo", "env_id", "steps", "seed", "device", "overrides", "env_kwargs", "eval_every", "eval_episodes")
        return RunSpec(**{key: saved[key] for key in keys if key in saved})
    if args.algo is None or args.env_id is None:
        raise ValueError("give ALGO and ENV_ID (or --from CONFIG.json)")
    spec = RunSpec(algo=args.algo, env_id=args.env_id, steps=args.steps, seed=args.seed, device=args.device,
                   env_kwargs={k: literal(v) for k, v in parse_assignments(args.env_kwargs, "--env-kwargs").items()},
                   eval_every=args.eval_every, eval_episodes=args.eval_episodes)
    spec.overrides = learner_class(spec.algo).check_overrides(spec.algo, parse_assignments(args.settings, "--set"))
    return spec


def default_out(spec: RunSpec) -> Path:
    return Path("runs") / f"{spec.algo.lower().replace(':', '-')}-{spec.env_id.split('/')[-1]}-s{spec.seed}"


def run(args: argparse.Namespace) -> int:
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    spec = spec_from_args(args)
    out = args.out if args.out is not None else default_out(spec)
    print(f"training {spec.algo} on {spec.env_id} for {spec.steps} steps (seed {spec.seed}) -> {out}", flush=True)
    summary = Run(spec, out, progress=False if args.quiet else None).run()
    print(format_summary(summary))
    print(f"wrote {out}/config.json, metrics.csv, {summary['model_file']}, summary.json")
    return 0


def format_summary(summary: dict) -> str:
    lines = [f"{summary['algo']} on {summary['env_id']}: eval return {summary['eval_mean']:.3f} "
             f"± {summary['eval_std']:.3f} over {summary['eval_episodes']} episodes after {summary['steps']} steps, "
             f"{summary['seconds']:.1f} s ({summary['steps_per_second']:.0f} steps/s) on {summary['device']}"]
    exact = summary.get("exact")
    if exact:
        line = f"exact: V(start) {exact['value']:.4f} vs optimal {exact['optimal_value']:.4f} " \
               f"(ratio {exact['value_ratio']:.3f})"
        if "success_probability" in exact:
            line += f"; success within the step limit {exact['success_probability']:.3f} " \
                    f"vs optimal {exact['optimal_success_probability']:.3f}"
        lines.append(line)
    return "\n".join(lines)

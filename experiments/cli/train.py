"""`mdparcade train ALGO ENV_ID`: train an agent (ours, stable-baselines3's `sb3:PPO`..., a tabular learner or
value iteration) into a run folder (config.json, metrics.csv, the model, summary.json), evaluating it on a
separate env as it learns; an interrupted run resumes when re-run."""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli import check_writable
from experiments.learners.registry import FAMILIES, all_names


class ShowConfigHelp(argparse.Action):
    """--help: the usual help, and, when ALGO and ENV_ID come before it, the config that run would use."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show this help; after ALGO ENV_ID (and --set ...), also the config the run would use")

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        if getattr(namespace, "algo", None) and getattr(namespace, "env_id", None):
            print()
            try:
                print(describe_config(namespace))
            except (ValueError, OSError) as err:
                print(f"(cannot show the config: {err})")
        parser.exit()


def register(subparsers) -> None:
    families = "; ".join(f"{', '.join(f.algorithms)}: {f.summary}" for f in FAMILIES)
    parser = subparsers.add_parser(
        "train", help="train an agent (ours, stable-baselines3's, tabular) into a run folder", add_help=False,
        description="Train an agent on an env id; write config.json, metrics.csv, the model (model.pt, model.zip "
                    "for stable-baselines3, policy.json for value iteration) and summary.json.",
        epilog=f"algorithms: {families}. A run's config is the algorithm's defaults, then the preset for the env "
               "(published or tuned values), then --set overrides; `mdparcade train ALGO ENV_ID [--set ...] "
               "--help` prints exactly what a run will use, and config.json records it.")
    parser.add_argument("-h", "--help", action=ShowConfigHelp)
    parser.add_argument("algo", metavar="ALGO", nargs="?", help=f"one of {', '.join(all_names())}")
    parser.add_argument("env_id", metavar="ENV_ID", nargs="?",
                        help="an mdparcade id (mdparcade/Catch-v0, or just Catch) or a Gymnasium id (CartPole-v1)")
    parser.add_argument("--steps", type=int, default=None, help="env steps to train (default 100000)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the nets, sampling and envs (default 0)")
    parser.add_argument("--seeds", default=None, metavar="SEEDS",
                        help="train several seeds as one population (our deep agents), e.g. 0-9 or 0,3,7: one run "
                             "folder per seed, OUT/s<seed>")
    parser.add_argument("--device", default=None, help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps")
    parser.add_argument("--out", type=Path, default=None, help="run folder (default runs/<algo>-<env>-s<seed>)")
    parser.add_argument("--set", dest="overrides", action="append", metavar="KEY=VALUE",
                        help="override a config value, e.g. --set n_epochs=10 --set hidden_sizes=64,64")
    parser.add_argument("--env-kwargs", dest="env_kwargs", action="append", metavar="KEY=VALUE",
                        help="keyword argument for gym.make, e.g. --env-kwargs map=FourRooms")
    parser.add_argument("--eval-every", type=int, default=None, help="env steps between evaluations (default 10000)")
    parser.add_argument("--eval-episodes", type=int, default=None,
                        help="episodes per evaluation, on fixed seeds (default 10)")
    parser.add_argument("--from", dest="from_config", type=Path, default=None,
                        help="reproduce a run from its config.json into --out (nothing else may be changed)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: small nets lose more to thread overhead than they gain)")
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write TensorBoard scalars to RUN/tensorboard (pip install tensorboard)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


#: The spec's options and their defaults when not given.
SPEC_OPTIONS = {"steps": 100_000, "seed": 0, "device": "auto", "eval_every": 10_000, "eval_episodes": 10}


def spec_from_args(args: argparse.Namespace):
    """The RunSpec the arguments describe, typed and checked (nothing is written yet)."""
    from experiments.learners.overrides import literal, parse_assignments
    from experiments.runs.folder import read_json
    from experiments.runs.spec import RunSpec

    if args.from_config is not None:
        given = [f"--{name.replace('_', '-')}" for name in (*SPEC_OPTIONS, "overrides", "env_kwargs")
                 if getattr(args, name, None) is not None] + (["ALGO ENV_ID"] if args.algo else [])
        if given:
            raise ValueError(f"--from reproduces a run exactly; {', '.join(given)} cannot change it (edit a copy of "
                             "the config.json instead)")
        if args.out is None:
            raise ValueError("--from needs --out: a reproduction goes into a folder of its own")
        return RunSpec.from_config(read_json(args.from_config, "run config"), where=str(args.from_config))
    if args.algo is None or args.env_id is None:
        raise ValueError("give ALGO and ENV_ID (or --from CONFIG.json)")
    env_kwargs = {k: literal(v) for k, v in parse_assignments(args.env_kwargs, "--env-kwargs").items()}
    values = {name: getattr(args, name) if getattr(args, name) is not None else default
              for name, default in SPEC_OPTIONS.items()}
    return RunSpec(algo=args.algo, env_id=args.env_id, overrides=parse_assignments(args.overrides, "--set"),
                   env_kwargs=env_kwargs, **values)


def describe_config(args: argparse.Namespace) -> str:
    """The config a run of ALGO on ENV_ID would use: each value, and where it comes from."""
    from experiments.learners.registry import make_learner

    spec = spec_from_args(args)
    learner = make_learner(spec.algo, spec.env_id, spec.seed, spec.overrides, spec.env_kwargs, "cpu")
    learner.start()
    try:
        config, sources, source = learner.config(), learner.config_sources(), learner.preset_source()
    finally:
        learner.close()
    width = max(map(len, config), default=0)
    lines = [f"config of {spec.algo} on {spec.env_id} (default / preset / --set); preset: {source}:"]
    lines += [f"  {key:<{width}}  {value!r}  ({sources.get(key, 'default')})" for key, value in config.items()]
    return "\n".join(lines)


def parse_seeds(text: str) -> list[int]:
    """'0-9' -> [0, ..., 9]; '0,3,7' -> [0, 3, 7]; a malformed list is a ValueError naming it."""
    seeds = []
    try:
        for part in text.split(","):
            low, dash, high = part.strip().partition("-")
            seeds += list(range(int(low), int(high) + 1)) if dash else [int(low)]
    except ValueError:
        raise ValueError(f"--seeds takes a range or a list of seeds, e.g. 0-9 or 0,3,7, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds needs distinct seeds >= 0, got {text!r}")
    return seeds


def run(args: argparse.Namespace) -> int:
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if args.seeds is not None and args.seed is not None:
        raise ValueError("give --seed (one run) or --seeds (a population), not both")
    spec = spec_from_args(args)
    seeds = parse_seeds(args.seeds) if args.seeds is not None else None
    if seeds is not None and args.from_config is not None:
        raise ValueError("--from reproduces one run; it takes no --seeds")
    out = args.out if args.out is not None else spec.default_folder(population=seeds is not None)
    check_writable(out, "--out", folder=True)

    import dataclasses

    import torch

    from experiments.learners.registry import learner_class
    from experiments.runs.run import PopulationRun, Run

    torch.set_num_threads(args.threads)
    progress = False if args.quiet else None
    if seeds is None:
        print(f"training {spec.algo} on {spec.env_id} for {spec.steps} steps (seed {spec.seed}) -> {out}", flush=True)
        results, outs = [Run(spec, out, progress=progress, tensorboard=args.tensorboard).run()], [out]
    else:
        if not learner_class(spec.algo).supports_populations:
            raise ValueError(f"{spec.algo} trains one seed at a time; --seeds is for our deep agents "
                             "(PPO, DQN, A2C, REINFORCE)")
        outs = [out / f"s{seed}" for seed in seeds]
        print(f"training {spec.algo} on {spec.env_id} for {spec.steps} steps, seeds {args.seeds} as one "
              f"population -> {out}/s<seed>", flush=True)
        specs = [dataclasses.replace(spec, seed=seed) for seed in seeds]
        results = PopulationRun(specs, outs, out, progress=progress, tensorboard=args.tensorboard).run_members()
    for result, member_out in zip(results, outs):
        print(format_summary(result.summary))
        if result.trained:
            print(f"wrote {member_out}/config.json, metrics.csv, {result.summary['model_file']}, summary.json")
        else:
            print(f"{member_out} already holds this finished run: nothing was trained (delete the folder to train "
                  "again)")
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
            line += f"; P(goal within the step limit) {exact['success_probability']:.3f} " \
                    f"vs optimal {exact['optimal_success_probability']:.3f}"
        lines.append(line)
    if summary.get("success") is not None:
        lines.append(f"success: {'yes' if summary['success'] else 'no'} ({summary['success_rule']})")
    return "\n".join(lines)

"""Throughput of our native vector envs against Gymnasium's SyncVectorEnv over the single env, on one thread,
and of our MinAtar games against MinAtar's own implementation (the `minatar` package), measured in the same run.

Run: `python -m experiments.bench.vector_envs [--quick] [--minatar-only]`; `vector_env_table()` and
`minatar_table()` return the same tables as text.
"""

from __future__ import annotations

import os

# One CPU thread, set before numpy loads its BLAS (threadpoolctl below covers the case of an earlier import).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import envs  # noqa: E402, F401  (registers the mdparcade ids)

DEFAULT_SIZES = (1, 64, 1024, 4096)
HEADLINE_IDS = ("mdparcade/FrozenLake8x8-v0", "mdparcade/Catch-v0", "mdparcade/Snake-v0", "mdparcade/Breakout-v0")
REFERENCE_ID = "CartPole-v1"
TARGET_SIZE, SPEEDUP_SIZE, TARGET_SPEEDUP = 4096, 1024, 30.0
# Steps/s targets at N = TARGET_SIZE; gridworlds are table look-ups, games move sprites.
GRIDWORLD_TARGET, CATCH_TARGET, GAME_TARGET = 10e6, 5e6, 1e6
ACTION_POOL = 1 << 20  # actions drawn in advance per cell, cycled if a cell takes more steps
# SyncVectorEnv loops over its copies in Python, so its steps/s barely depends on N; above this many copies
# it is measured at this many and extrapolated (marked *). Every size of the table is measured.
SYNC_MAX_COPIES = 4096
TIME_SLICES = 5
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
# Our MinAtar games and the name of each in the minatar package; ids not registered (yet) are skipped.
MINATAR_GAMES = {
    "mdparcade/Asterix-v0": "asterix",
    "mdparcade/Breakout-v0": "breakout",
    "mdparcade/Freeway-v0": "freeway",
    "mdparcade/Seaquest-v0": "seaquest",
    "mdparcade/SpaceInvaders-v0": "space_invaders",
}
MINATAR_SPEEDUP_FLOOR = 100.0  # ours at TARGET_SIZE copies against MinAtar's one env, steps/s


def registered_ids(module_name: str) -> list[str]:
    """Ids listed in one of our registry modules (empty if that module does not exist yet)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        return []
    return [spec["id"] for spec in module.REGISTRY]


def target_steps_per_second(env_id: str) -> float | None:
    if env_id in registered_ids("envs.gridworld_ids"):
        return GRIDWORLD_TARGET
    if env_id in registered_ids("envs.game_ids"):
        return CATCH_TARGET if "Catch" in env_id else GAME_TARGET
    return None


def steps_per_second(env: gym.vector.VectorEnv, time_budget: float, seed: int = 0, clock: str = "wall") -> float:
    """Copy-steps per second of `env` stepped with random actions for about `time_budget` seconds.

    The budget is cut into TIME_SLICES slices and the fastest slice counts (as timeit's best-of-k does): other
    processes only ever slow a slice down. clock "wall" times elapsed seconds; "cpu" times this process's
    CPU seconds, which on one thread approach the wall time of an idle machine.
    """
    num_envs = env.num_envs
    space = env.single_action_space
    rows = max(8, ACTION_POOL // num_envs)
    if isinstance(space, gym.spaces.Discrete):
        actions = np.random.default_rng(seed).integers(0, space.n, size=(rows, num_envs)) + space.start
    else:
        env.action_space.seed(seed)
        actions = np.stack([env.action_space.sample() for _ in range(rows)])
    env.reset(seed=seed)
    for i in range(2):  # warm caches and first-call paths outside the timed loop
        env.step(actions[i])
    one_slice = _stepping_slices(env, actions, clock, first_step=2)
    return max(one_slice(time_budget / TIME_SLICES) for _ in range(TIME_SLICES))


def _stepping_slices(env: gym.vector.VectorEnv, actions: np.ndarray, clock: str,
                     first_step: int) -> Callable[[float], float]:
    """A function that steps `env` with the rows of `actions` in turn for about the seconds it is given and
    returns the copy-steps/s of that slice."""
    now = CLOCKS[clock]
    step = first_step

    def one_slice(seconds: float) -> float:
        nonlocal step
        slice_steps, start = 0, now()
        while True:
            env.step(actions[step % len(actions)])
            step += 1
            slice_steps += 1
            elapsed = now() - start
            if elapsed >= seconds:
                return slice_steps * env.num_envs / elapsed

    return one_slice


def measure(env_id: str, num_envs: int, mode: str, time_budget: float, clock: str = "wall",
            **env_kwargs) -> float | None:
    """Steps/s of `env_id` at `num_envs` copies in vectorization `mode`; None if the mode is unavailable.
    env_kwargs go to gym.make_vec (e.g. sticky_action_prob=0.0)."""
    try:
        env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **env_kwargs)
    except gym.error.Error:
        return None
    try:
        return steps_per_second(env, time_budget, clock=clock)
    finally:
        env.close()


def _format_rate(rate: float | None) -> str:
    if rate is None:
        return "n/a"
    return f"{rate / 1e6:.2f}M" if rate >= 1e6 else f"{rate / 1e3:.1f}k"


def _format_speedup(speedup: float | None) -> str:
    if speedup is None:
        return "n/a"
    return f"{speedup:.0f}x" if speedup >= 10 else f"{speedup:.2g}x"


def _target_and_verdict(env_id: str, num_envs: int, native: float | None, speedup: float | None):
    target = target_steps_per_second(env_id)
    if num_envs == TARGET_SIZE and target is not None:
        return f">= {target / 1e6:g}M/s", ("n/a" if native is None else "yes" if native >= target else "no")
    if num_envs == SPEEDUP_SIZE and target is not None:
        verdict = "n/a" if speedup is None else "yes" if speedup >= TARGET_SPEEDUP else "no"
        return f">= {TARGET_SPEEDUP:.0f}x sync", verdict
    return "", ""


def machine_description(clock: str = "wall") -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return (f"machine: {platform.platform()}; CPU: {cpu} ({os.cpu_count()} logical cores); "
            f"threads: 1 (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}); python {platform.python_version()}, "
            f"numpy {np.__version__}, gymnasium {gym.__version__}; load average {os.getloadavg()[0]:.1f}; "
            f"clock: {clock}")


def default_ids() -> list[str]:
    """Every registered mdparcade gridworld and game, headline ids first."""
    ours = registered_ids("envs.gridworld_ids") + registered_ids("envs.game_ids")
    return [i for i in HEADLINE_IDS if i in ours] + [i for i in ours if i not in HEADLINE_IDS]


def vector_env_table(ids: Sequence[str] | None = None, sizes: Sequence[int] = DEFAULT_SIZES,
                     time_budget: float = 1.0, clock: str = "wall") -> str:
    """The benchmark as a Markdown table: one row per (env, N), plus CartPole's vector env as reference.

    Each cell runs about `time_budget` seconds of steps; Sync above SYNC_MAX_COPIES copies is extrapolated.
    clock: "wall" (elapsed time) or "cpu" (this process's CPU time; see `steps_per_second`).
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    ids = default_ids() if ids is None else list(ids)
    lines = [machine_description(clock), "",
             "| env | N | native steps/s | sync steps/s | speed-up | target | meets |",
             "|---|---:|---:|---:|---:|---|---|"]
    with _one_thread():
        for env_id in ids:
            for num_envs in sizes:
                native = measure(env_id, num_envs, "vector_entry_point", time_budget, clock)
                sync = measure(env_id, min(num_envs, SYNC_MAX_COPIES), "sync", time_budget, clock)
                sync_mark = "*" if num_envs > SYNC_MAX_COPIES and sync is not None else ""
                speedup = native / sync if native is not None and sync else None
                target, verdict = _target_and_verdict(env_id, num_envs, native, speedup)
                lines.append(f"| {env_id} | {num_envs} | {_format_rate(native)} | {_format_rate(sync)}{sync_mark} | "
                             f"{_format_speedup(speedup)} | {target} | {verdict} |")
        reference = measure(REFERENCE_ID, TARGET_SIZE, "vector_entry_point", time_budget, clock)
        lines.append(f"| {REFERENCE_ID} (Gymnasium's CartPoleVectorEnv, reference) | {TARGET_SIZE} | "
                     f"{_format_rate(reference)} | | | | |")
    note = (f"Steps/s count copy-steps (N per vector step); each cell is the fastest of {TIME_SLICES} slices of a "
            f"{time_budget:g} s run.")
    if max(sizes) > SYNC_MAX_COPIES:
        note += f" * Sync measured at N = {SYNC_MAX_COPIES} (its per-copy cost does not depend on N)."
    lines += ["", note]
    return "\n".join(lines)


def _vector_slices(env_id: str, num_envs: int, clock: str, seed: int = 0, **env_kwargs) -> Callable[[float], float]:
    """A function that steps `gym.make_vec(env_id, num_envs, "vector_entry_point", **env_kwargs)` with random
    actions for about the seconds it is given and returns the copy-steps/s of that slice."""
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **env_kwargs)
    rows = max(8, ACTION_POOL // num_envs)
    actions = np.random.default_rng(seed).integers(0, env.single_action_space.n, size=(rows, num_envs))
    env.reset(seed=seed)
    env.step(actions[0])
    return _stepping_slices(env, actions, clock, first_step=1)


def _minatar_slices(game: str, clock: str, seed: int = 0) -> Callable[[float], float]:
    """The same for MinAtar's own `Environment(game)`, stepped as its users step it: `act` then `state` every
    step, `reset` when an episode ends; random actions from its minimal action set, sticky actions off,
    difficulty ramping on (MinAtar's default)."""
    from minatar import Environment

    now = CLOCKS[clock]
    env = Environment(game, sticky_action_prob=0.0)
    env.seed(seed)
    env.reset()
    actions = [int(a) for a in np.random.default_rng(seed).choice(env.minimal_action_set(), size=ACTION_POOL // 16)]
    step = 0

    def one_slice(seconds: float) -> float:
        nonlocal step
        slice_steps, start = 0, now()
        while True:
            for _ in range(100):  # read the clock every 100 steps: a clock call costs as much as a step here
                _, done = env.act(actions[step % len(actions)])
                env.state()
                if done:
                    env.reset()
                step += 1
            slice_steps += 100
            elapsed = now() - start
            if elapsed >= seconds:
                return slice_steps / elapsed

    return one_slice


def minatar_table(ids: Sequence[str] | None = None, time_budget: float = 1.0, clock: str = "wall") -> str:
    """Our MinAtar games at TARGET_SIZE copies against MinAtar's own env, measured in this run, as Markdown.

    Ours runs with sticky actions off, as the baseline does (`sticky_action_prob=0.0`; difficulty ramping at
    its default, on, on both sides); the "defaults" column is ours with the registered options (sticky
    actions 0.1). The three are measured in turns, one slice each, TIME_SLICES times, and each keeps its
    fastest slice, so a change in the machine's load hits both sides alike. The floor: ours >=
    MINATAR_SPEEDUP_FLOOR x MinAtar's steps/s. Ids not registered are left out; without the minatar package
    the table says so.
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    try:
        import minatar  # noqa: F401
    except ImportError:
        return "MinAtar baseline: the minatar package is not installed (pip install minatar)."
    registered = set(registered_ids("envs.game_ids"))
    ids = [i for i in (MINATAR_GAMES if ids is None else ids) if i in registered]
    lines = [f"| game | ours, N = {TARGET_SIZE}, steps/s | ours, registered defaults | MinAtar act + state, steps/s | "
             f"ours / MinAtar | floor | meets |", "|---|---:|---:|---:|---:|---|---|"]
    with _one_thread():
        for env_id in ids:
            sides = [_vector_slices(env_id, TARGET_SIZE, clock, sticky_action_prob=0.0),
                     _vector_slices(env_id, TARGET_SIZE, clock), _minatar_slices(MINATAR_GAMES[env_id], clock)]
            best = [0.0] * len(sides)
            for _ in range(TIME_SLICES):
                best = [max(rate, side(time_budget / TIME_SLICES)) for rate, side in zip(best, sides)]
            ours, defaults, reference = best
            ratio = ours / reference
            lines.append(f"| {env_id} | {_format_rate(ours)} | {_format_rate(defaults)} | {_format_rate(reference)} | "
                         f"{_format_speedup(ratio)} | >= {MINATAR_SPEEDUP_FLOOR:.0f}x | "
                         f"{'yes' if ratio >= MINATAR_SPEEDUP_FLOOR else 'no'} |")
    note = (f"Ours: gym.make_vec(id, num_envs={TARGET_SIZE}, vectorization_mode='vector_entry_point', "
            f"sticky_action_prob=0.0) with random actions, copy-steps/s (observations included); MinAtar: one "
            f"minatar.Environment(game, sticky_action_prob=0.0), act + state per step. Each cell is the fastest of "
            f"{TIME_SLICES} slices of {time_budget / TIME_SLICES:g} s, the three columns measured in turns.")
    return "\n".join(lines + ["", note])


@contextlib.contextmanager
def _one_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="0.2 s per cell instead of 1 s, and only the headline ids unless --ids is given")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall: elapsed time; cpu: this process's CPU time (fair on a busy shared machine)")
    parser.add_argument("--ids", nargs="*", help="env ids (default: every registered mdparcade env)")
    parser.add_argument("--minatar-only", action="store_true",
                        help="only the table of our MinAtar games against MinAtar's own env")
    args = parser.parse_args(argv)
    budget = 0.2 if args.quick else 1.0
    if not args.minatar_only:
        ids = args.ids or ([i for i in HEADLINE_IDS if i in default_ids()] if args.quick else None)
        print(vector_env_table(ids=ids, time_budget=budget, clock=args.clock), flush=True)
        print(flush=True)
    print(machine_description(args.clock) if args.minatar_only else "", flush=True)
    print(minatar_table(ids=args.ids if args.minatar_only else None, time_budget=budget, clock=args.clock),
          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`mdparcade watch RUN`: play the trained agent of a run folder in the env's pygame window, or record it
to a GIF headless; on gridworlds the agent's own state values and greedy actions are drawn over the map.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: gymnasium and the agents load when a run is watched
    import gymnasium as gym

    from agents.base import Agent

#: GIF delays are whole hundredths of a second, and viewers play delays under 2/100 s at 1/10 s.
MAX_GIF_FPS = 50


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "watch", help="watch a trained agent play in a window, or record it as a GIF",
        description="Play the agent of a run folder (written by `mdparcade train`) with deterministic actions; "
                    "the caption shows the episode and its return. On gridworlds the agent's state values are "
                    "a heatmap and its greedy actions arrows. ESC or closing the window stops.")
    parser.add_argument("run_dir", metavar="RUN", type=Path, help="a run folder, e.g. runs/ppo-Catch-v0-s0")
    parser.add_argument("--episodes", type=int, default=3, help="episodes to play (default 3)")
    parser.add_argument("--fps", type=int, default=None, help="frames per second (default: the env's render_fps)")
    parser.add_argument("--record", type=Path, default=None, metavar="FILE.gif",
                        help="write the episodes to this GIF instead of opening a window (needs no display)")
    parser.add_argument("--seed", type=int, default=None,
                        help="episode i (from 0) is reset with seed S + i (default: the seeds of the run's evaluation "
                             "episodes)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agents.evaluation import EVAL_SEED
    from experiments.cli import check_writable
    from experiments.recording import GifRecorder, captioned

    if args.seed is None:
        args.seed = EVAL_SEED
    if args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {args.episodes}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.fps is not None and args.fps < 1:
        raise ValueError(f"--fps must be >= 1, got {args.fps}")
    if args.record is not None and args.record.suffix.lower() != ".gif":
        raise ValueError(f"--record writes a GIF; give a path ending in .gif, got {args.record}")
    if args.record is not None:
        check_writable(args.record, "--record", folder=False)
    config, agent = load_run(args.run_dir)
    recording = args.record is not None
    env = make_env(config, "rgb_array" if recording else "human")
    try:
        check_spaces(env, agent, args.run_dir)
        fps = args.fps if args.fps is not None else int(env.metadata.get("render_fps") or 30)
        if recording and fps > MAX_GIF_FPS:
            raise ValueError(f"--fps must be <= {MAX_GIF_FPS} with --record (GIF viewers slow faster frames "
                             f"down to 10 fps), got {fps}")
        overlay = show_agent_overlay(env, agent)
        seeds = f"seed {args.seed}" if args.episodes == 1 else f"seeds {args.seed}..{args.seed + args.episodes - 1}"
        print(f"watching {config['algo']} on {env.spec.id} from {args.run_dir} ({agent.num_timesteps} training "
              f"steps): {args.episodes} episode(s), {seeds}, {fps} fps"
              + ("; overlay: the agent's state values and greedy actions" if overlay else ""), flush=True)
        if recording:
            recorder = GifRecorder(fps)

            def add_frame(episode: Episode) -> bool:
                recorder.add(captioned(env.render(), caption(episode, args.episodes)))
                return True

            play_and_print(env, agent, args.episodes, args.seed, add_frame)
        else:
            from envs.window import pygame  # imported there with pygame's banner silenced

            try:
                pacer = WindowPacer(env, args.run_dir.resolve().name, args.episodes, fps)
                play_and_print(env, agent, args.episodes, args.seed, pacer)
            except pygame.error as err:
                raise ValueError(f"cannot open a window ({err}); without a display, record a GIF with "
                                 "--record FILE.gif") from err
    finally:
        env.close()
    if recording:
        path = recorder.save(args.record)
        (height, width), stored, rendered = recorder.size, len(recorder.images), recorder.frames_added
        merged = f" ({rendered} rendered; a repeated frame is shown longer instead)" if stored != rendered else ""
        print(f"wrote {path}: {stored} frames{merged}, {width}x{height} px, {fps} fps, {rendered / fps:.1f} s")
    return 0


# Loading ------------------------------------------------------------------------------------------------------
def load_run(run_dir: Path):
    """(config.json as a dict, the run's agent on the CPU); a missing or broken file is a one-line error.

    Only JSON and tensors are read: our model.pt with weights_only=True, stable-baselines3's model.zip as its
    parameters into a model rebuilt from config.json, value iteration's policy.json as numbers."""
    from experiments.learners.registry import family_of, learner_class
    from experiments.runs.folder import RunFolder

    folder = RunFolder(run_dir)
    if not folder.path.is_dir():
        raise FileNotFoundError(f"run folder {folder.path} does not exist")
    if not folder.config_path.is_file():
        raise FileNotFoundError(f"{folder.path} has no config.json; is it a run folder written by `mdparcade train`?")
    config = folder.read_config()
    family = family_of(config["algo"]).name
    model_path = folder.model_path(family)
    if not model_path.is_file():
        unfinished = folder.has_checkpoint() or folder.metrics_path.is_file()
        raise FileNotFoundError(f"{folder.path} has no {model_path.name}" + (
            " (its training has not finished: re-run the same `mdparcade train` to resume it)" if unfinished else ""))
    steps = folder.read_summary()["steps"] if folder.summary_path.is_file() else 0
    # One observation a step: the CPU is fastest.
    return config, learner_class(config["algo"]).load_agent(model_path, config, steps, device="cpu")


def make_env(config: dict, render_mode: str) -> gym.Env:
    import gymnasium as gym

    from envs import resolve_env_id

    env_kwargs = config.get("env_kwargs") or {}
    if not isinstance(env_kwargs, dict):
        raise ValueError(f"config.json's env_kwargs must be a dict, got {env_kwargs!r}")
    try:
        return gym.make(resolve_env_id(config["env_id"]), render_mode=render_mode, **env_kwargs)
    except TypeError as err:
        raise ValueError(f"config.json's env_kwargs do not fit {config['env_id']}: {err}") from None


def check_spaces(env: gym.Env, agent: Agent, run_dir: Path) -> None:
    for what in ("observation_space", "action_space"):
        if hasattr(agent, what) and getattr(agent, what) != getattr(env, what):
            raise ValueError(f"{run_dir}/model.pt was trained with {what} {getattr(agent, what)}, but the env of "
                             f"config.json has {getattr(env, what)}")


def show_agent_overlay(env: gym.Env, agent: Agent) -> bool:
    """On a gridworld (an env with `set_overlay`), draw the agent's value of every state as a heatmap and its
    greedy action there as an arrow; return whether it did."""
    unwrapped = env.unwrapped
    if not hasattr(unwrapped, "set_overlay") or not hasattr(agent, "state_values"):
        return False
    import numpy as np

    observations = unwrapped.observer.batch(np.arange(unwrapped.observer.num_states))
    unwrapped.set_overlay(values=agent.state_values(observations), policy=agent.predict(observations)[0])
    return True


# Playing ------------------------------------------------------------------------------------------------------
@dataclass
class Episode:
    """An episode so far: its number (from 1), steps taken, return, the game's info["score"] if it has one."""

    number: int
    steps: int = 0
    episode_return: float = 0.0
    score: int | None = None
    finished: bool = False


def play_episodes(env: gym.Env, agent: Agent, episodes: int, seed: int,
                  on_frame: Callable[[Episode], bool]) -> Iterator[Episode]:
    """Play deterministic episodes, episode i (from 0) reset with seed + i, and yield each when it ends.

    `on_frame(episode)` runs after the reset and after every step (one call per rendered frame); when it
    returns False the episode is yielded unfinished and play stops.
    """
    for index in range(episodes):
        obs, info = env.reset(seed=seed + index)
        episode = Episode(index + 1, score=info.get("score"))
        keep_going = on_frame(episode)
        while keep_going and not episode.finished:
            obs, reward, terminated, truncated, info = env.step(agent.predict(obs, deterministic=True)[0])
            episode.steps += 1
            episode.episode_return += float(reward)
            episode.score = info.get("score", episode.score)
            episode.finished = bool(terminated or truncated)
            keep_going = on_frame(episode)
        yield episode
        if not keep_going:
            return


def play_and_print(env: gym.Env, agent: Agent, episodes: int, seed: int,
                   on_frame: Callable[[Episode], bool]) -> None:
    """play_episodes, printing a line as each episode ends and the mean return at the end."""
    returns = []
    for episode in play_episodes(env, agent, episodes, seed, on_frame):
        print(describe(episode, episodes) + ("" if episode.finished else " (stopped)"), flush=True)
        returns.append(episode.episode_return)
    print(f"mean return {sum(returns) / len(returns):.4g} over {len(returns)} episode(s)")


def caption(episode: Episode, episodes: int) -> str:
    """A recorded frame's caption: the episode and its return so far (what the window's caption shows)."""
    return f"episode {episode.number}/{episodes}: return {episode.episode_return:.4g}"


def describe(episode: Episode, episodes: int) -> str:
    text = f"episode {episode.number}/{episodes}: return {episode.episode_return:.4g} in {episode.steps} steps"
    return text if episode.score is None else f"{text}, score {episode.score}"


class WindowPacer:
    """`on_frame` for render_mode="human": puts the episode and its return in the window caption, paces the
    frames to `fps`, and stops on ESC or a closed window."""

    def __init__(self, env: gym.Env, title: str, episodes: int, fps: int):
        from envs.window import pygame

        self.pygame, self.title, self.episodes, self.fps = pygame, title, episodes, fps
        self.clock = pygame.time.Clock()
        # The env's human render waits 1/render_fps after drawing; wait here instead (0: the env does not),
        # after the caption is set, so the caption and the picture change together.
        env.unwrapped.metadata = {**env.unwrapped.metadata, "render_fps": 0}

    def __call__(self, episode: Episode) -> bool:
        pygame = self.pygame
        stop = False
        if pygame.display.get_init():
            pygame.display.set_caption(f"{self.title} - {describe(episode, self.episodes)}")
            stop = any(event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE)
                       for event in pygame.event.get())
        self.clock.tick(self.fps)
        return not stop

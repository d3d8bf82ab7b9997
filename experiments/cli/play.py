"""`mdparcade play ENV_ID`: play an mdparcade game or gridworld with the arrow keys in a pygame window.

Thin layer over gymnasium.utils.play.play, using the env's own key map (get_keys_to_action) and frame rate.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "play",
        help="play a game or gridworld with the arrow keys",
        description="Play an mdparcade env with the keyboard: arrow keys move, ESC or closing the window quits.",
    )
    parser.add_argument("env_id", help="an mdparcade id, e.g. mdparcade/Breakout-v0")
    parser.add_argument("--fps", type=int, default=None, help="steps per second (default: the env's render_fps)")
    parser.add_argument("--zoom", type=float, default=None, help="scale the window by this factor")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first episode")
    parser.set_defaults(func=run)


def _gymnasium_play() -> Callable[..., None]:
    """gymnasium.utils.play.play, imported without its side effects: it switches matplotlib to TkAgg (which
    breaks later headless plotting in the same process) and warns when that fails without a display."""
    try:
        import matplotlib
    except ImportError:
        matplotlib = None
    backend = matplotlib.get_backend() if matplotlib is not None else None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*matplotlib is not installed")
        from gymnasium.utils.play import play
    if matplotlib is not None:
        matplotlib.use(backend)
    return play


def play_env(
    env_id: str,
    fps: int | None = None,
    zoom: float | None = None,
    seed: int | None = None,
    callback: Callable[..., Any] | None = None,
) -> None:
    """Open `env_id` with render_mode="rgb_array" and play it until ESC or the window is closed.

    Turn-based envs (metadata["play_wait_on_player"] True, or no `noop_action` attribute) step only on a key
    press; games step at `fps` (default metadata["render_fps"]) and play their `noop_action` when no key is
    held. callback: as in gymnasium.utils.play.play, called after every step.
    """
    import gymnasium as gym

    from envs import resolve_env_id
    from experiments.cli.keyboard import REPEAT_LAST, RepeatLastAction

    env_id = resolve_env_id(env_id)
    if not env_id.startswith("mdparcade/"):
        raise ValueError(f"play takes an mdparcade game or gridworld (they have keyboard controls), not {env_id}")
    if fps is not None and fps < 1:
        raise ValueError(f"--fps must be >= 1, got {fps}")
    if zoom is not None and zoom <= 0:
        raise ValueError(f"--zoom must be > 0, got {zoom}")
    play = _gymnasium_play()
    env = gym.make(env_id, render_mode="rgb_array")
    if seed is not None:
        # Key the stream once; play()'s own resets then continue it, so episodes differ but replay exactly.
        env.reset(seed=seed)
    keys_to_action = env.get_wrapper_attr("get_keys_to_action")()
    # An env without a do-nothing action to play between key presses is turn-based unless it says otherwise.
    has_noop = hasattr(env.unwrapped, "noop_action")
    wait_on_player = bool(env.metadata.get("play_wait_on_player", not has_noop))
    noop = env.unwrapped.noop_action if has_noop else 0
    if noop is None:
        env, noop = RepeatLastAction(env), REPEAT_LAST
    try:
        play(
            env,
            fps=fps,
            zoom=zoom,
            keys_to_action=keys_to_action,
            noop=noop,
            wait_on_player=wait_on_player,
            callback=callback,
        )
    finally:
        env.close()


def run(args: argparse.Namespace) -> int:
    play_env(args.env_id, fps=args.fps, zoom=args.zoom, seed=args.seed)
    return 0

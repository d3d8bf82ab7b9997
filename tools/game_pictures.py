"""The environments page's pictures of the MinAtar games: each game's rgb_array frame (which is the "human"
window's content, pixel for pixel) some steps into an episode of random play from a fixed seed.

`python tools/game_pictures.py docs/images` writes asterix.png, freeway.png, seaquest.png, space_invaders.png.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import pygame  # noqa: E402

import envs  # noqa: E402, F401  (registers the ids)

#: id -> (file name, steps into an episode): enough steps for each game's objects to show.
PICTURES = {
    "mdparcade/Asterix-v0": ("asterix.png", 40),
    "mdparcade/Freeway-v0": ("freeway.png", 40),
    "mdparcade/Seaquest-v0": ("seaquest.png", 60),
    "mdparcade/SpaceInvaders-v0": ("space_invaders.png", 40),
}


def picture(env_id: str, steps: int, seed: int = 0) -> np.ndarray:
    """The frame `steps` into the first episode of uniformly random play that lasts that long."""
    env = gym.make(env_id, render_mode="rgb_array", sticky_action_prob=0.0)
    env.action_space.seed(seed)
    for episode in range(100):
        env.reset(seed=seed + episode)
        if not any(any(env.step(env.action_space.sample())[2:4]) for _ in range(steps)):
            frame = env.render()
            env.close()
            return frame
    raise RuntimeError(f"{env_id}: no episode of random play lasted {steps} steps")


def main(folder: str) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    for env_id, (name, steps) in PICTURES.items():
        frame = picture(env_id, steps)
        pygame.image.save(pygame.surfarray.make_surface(frame.swapaxes(0, 1)), str(Path(folder) / name))
        print(f"{env_id}: {Path(folder) / name} ({frame.shape[1]} x {frame.shape[0]} px)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/images")

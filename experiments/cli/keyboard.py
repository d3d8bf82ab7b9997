"""Keyboard play's one wrapper: games without a do-nothing action (Snake's absolute directions) repeat the last
key's action while no key is held."""

from __future__ import annotations

import gymnasium as gym

# play() is told this instead of a real action when no key is held in a game without a do-nothing action.
REPEAT_LAST = -1


class RepeatLastAction(gym.ActionWrapper):
    """For games without a do-nothing action (e.g. Snake's absolute directions): no key repeats the last key."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.last_action = 0

    def action(self, action: int) -> int:
        if action != REPEAT_LAST:
            self.last_action = action
        return self.last_action

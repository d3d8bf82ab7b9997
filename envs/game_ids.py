"""Gymnasium ids of the arcade games: one entry per game, registered by envs/registration.py.

Every game uses the same two wrappers (envs/arcade.py); kwargs["game"] names its batched core.

The MinAtar games (Young & Tian 2019) take MinAtar's two options with its defaults, overridable through
gym.make / gym.make_vec keywords: sticky_action_prob=0.1 (sticky_action_prob=0.0 turns it off) and, where the
game ramps in MinAtar (Asterix, Seaquest, Space Invaders; not Breakout or Freeway), difficulty_ramping=True.
Time limits: MinAtar's own gym ids set none. Freeway ends itself (terminated) after 2501 steps, its 2500-frame
clock, so it gets none either: any limit would only cut what the reference plays. The others end only when the
player fails, which a good policy may never do, so they get Breakout's limit of 5000 steps (MINATAR_STEP_LIMIT,
as before): long enough to leave a learning agent's episodes as MinAtar plays them, and it keeps evaluations
finite.
"""

MINATAR_STEP_LIMIT = 5000
MINATAR_DEFAULTS = dict(sticky_action_prob=0.1)
MINATAR_RAMPING = dict(MINATAR_DEFAULTS, difficulty_ramping=True)  # the games that ramp in MinAtar


def game_entry(name: str, core: str, max_episode_steps: int | None, **options) -> dict:
    """One game's registry entry: `core` is "module:Class" of its batched core; options go to the core."""
    return dict(id=f"mdparcade/{name}-v0", entry_point="envs.arcade:GameEnv",
                vector_entry_point="envs.arcade:GameVectorEnv", max_episode_steps=max_episode_steps,
                kwargs=dict(game=core, **options))


REGISTRY = [
    game_entry("Catch", "envs.catch:CatchGame", 100),
    game_entry("Breakout", "envs.breakout:BreakoutGame", MINATAR_STEP_LIMIT, **MINATAR_DEFAULTS),
    # Snake on a 10 x 10 board (height=, width= >= 4 via gym.make kwargs); no starvation rule, so a
    # snake that circles without eating is cut off by the time limit.
    game_entry("Snake", "envs.snake:SnakeGame", 1000),
    game_entry("Asterix", "envs.asterix:AsterixGame", MINATAR_STEP_LIMIT, **MINATAR_RAMPING),
    # Freeway ends itself after 2501 steps (see above) and has no difficulty ramping in MinAtar.
    game_entry("Freeway", "envs.freeway:FreewayGame", None, **MINATAR_DEFAULTS),
    game_entry("Seaquest", "envs.seaquest:SeaquestGame", MINATAR_STEP_LIMIT, **MINATAR_RAMPING),
    game_entry("SpaceInvaders", "envs.space_invaders:SpaceInvadersGame", MINATAR_STEP_LIMIT, **MINATAR_RAMPING),
]

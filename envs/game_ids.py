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

REGISTRY = [
    dict(
        id="mdparcade/Catch-v0",
        entry_point="envs.arcade:GameEnv",
        vector_entry_point="envs.arcade:GameVectorEnv",
        max_episode_steps=100,
        kwargs=dict(game="envs.catch:CatchGame"),
    ),
    dict(
        id="mdparcade/Breakout-v0",
        entry_point="envs.arcade:GameEnv",
        vector_entry_point="envs.arcade:GameVectorEnv",
        max_episode_steps=MINATAR_STEP_LIMIT,
        kwargs=dict(game="envs.breakout:BreakoutGame", **MINATAR_DEFAULTS),
    ),
    # Snake on a 10 x 10 board (height=, width= >= 4 via gym.make kwargs); no starvation rule, so a
    # snake that circles without eating is cut off by the time limit.
    dict(
        id="mdparcade/Snake-v0",
        entry_point="envs.arcade:GameEnv",
        vector_entry_point="envs.arcade:GameVectorEnv",
        max_episode_steps=1000,
        kwargs=dict(game="envs.snake:SnakeGame"),
    ),
    dict(
        id="mdparcade/Asterix-v0",
        entry_point="envs.arcade:GameEnv",
        vector_entry_point="envs.arcade:GameVectorEnv",
        max_episode_steps=MINATAR_STEP_LIMIT,
        kwargs=dict(game="envs.asterix:AsterixGame", **MINATAR_DEFAULTS, difficulty_ramping=True),
    ),
    # Freeway ends itself after 2501 steps (see above) and has no difficulty ramping in MinAtar.
    dict(
        id="mdparcade/Freeway-v0",
        entry_point="envs.arcade:GameEnv",
        vector_entry_point="envs.arcade:GameVectorEnv",
        max_episode_steps=None,
        kwargs=dict(game="envs.freeway:FreewayGame", **MINATAR_DEFAULTS),
    ),
    dict(
        id="mdparcade/Seaquest-v0",
        entry_point="envs.arcade:GameEnv",
        vector_entry_point="envs.arcade:GameVectorEnv",
        max_episode_steps=MINATAR_STEP_LIMIT,
        kwargs=dict(game="envs.seaquest:SeaquestGame", **MINATAR_DEFAULTS, difficulty_ramping=True),
    ),
    dict(
        id="mdparcade/SpaceInvaders-v0",
        entry_point="envs.arcade:GameEnv",
        vector_entry_point="envs.arcade:GameVectorEnv",
        max_episode_steps=MINATAR_STEP_LIMIT,
        kwargs=dict(game="envs.space_invaders:SpaceInvadersGame", **MINATAR_DEFAULTS, difficulty_ramping=True),
    ),
]

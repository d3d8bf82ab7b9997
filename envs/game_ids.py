"""Gymnasium ids of the arcade games: one entry per game, registered by envs/registration.py.

Every game uses the same two wrappers (envs/arcade.py); kwargs["game"] names its batched core.
"""

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
        max_episode_steps=5000,
        kwargs=dict(game="envs.breakout:BreakoutGame"),
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
]

"""Short-run settings of the four deep agents, shared by the population, checkpoint and CUDA tests, and member
k's parameter rows of a population (or of a single run, k = 0) for comparing runs."""

from __future__ import annotations

import torch

from agents.a2c import A2C
from agents.dqn import DQN
from agents.ppo import PPO
from agents.reinforce import REINFORCE

SETTINGS = {
    PPO: dict(num_steps=16, batch_size=64, n_epochs=2),
    A2C: dict(),
    DQN: dict(learning_starts=100, train_freq=16, gradient_steps=4, num_envs=2, hidden_sizes=(64, 64)),
    REINFORCE: dict(batch_episodes=4),
}


def flats(agent, k: int) -> list[torch.Tensor]:
    """Member k's row of every parameter stack, on the CPU."""
    return [stack.flat[k].detach().cpu() for stack in agent._stacks().values()]

"""The policy distributions and the stacked nets pinned against independent computations: torch.distributions
for the Gaussian policy of Box actions, and each member's ordinary nets (`member_nets`) against the stacked
forward pass, for unequal layer widths and for a CNN trunk."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.networks import DiagonalGaussian, conv_padding
from agents.ppo import PPO


def test_the_diagonal_gaussian_is_torchs_normal_over_independent_action_dimensions():
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(2, 5, 3, generator=g)  # (K, B, D)
    log_std = torch.randn(2, 1, 3, generator=g)
    actions = torch.randn(2, 5, 3, generator=g) * 2.0
    dist = DiagonalGaussian(3)
    log_prob, entropy = dist.log_prob_entropy(mean, actions, log_std)
    normal = torch.distributions.Normal(mean, log_std.exp().expand_as(mean))
    torch.testing.assert_close(log_prob, normal.log_prob(actions).sum(-1))
    torch.testing.assert_close(entropy, normal.entropy().sum(-1))
    assert dist.log_prob_entropy(mean, actions, log_std, with_entropy=False)[1] is None
    assert dist.log_prob_entropy(mean, None, log_std, with_log_prob=False)[0] is None
    noise = dist.noise(4, 5, torch.Generator().manual_seed(1))
    assert noise.shape == (4, 5, 3)
    assert torch.equal(noise, torch.randn((4, 5, 3), generator=torch.Generator().manual_seed(1)))
    torch.testing.assert_close(dist.sample(mean, noise[0], log_std), mean + log_std.exp() * noise[0])


@pytest.mark.parametrize("board, padding", [((4, 1, 10), 1), ((4, 2, 2), 1), ((4, 3, 7), 0), ((4, 10, 10), 0)])
def test_boards_thinner_than_the_kernel_are_padded_and_others_are_not(board, padding):
    assert conv_padding(SimpleNamespace(shape=board)) == padding


@pytest.mark.parametrize("env_id, settings", [("CartPole-v1", dict(hidden_sizes=(24, 8))),
                                               ("mdparcade/Catch-v0", dict(hidden_sizes=(32,)))])
def test_each_members_ordinary_nets_compute_what_the_stack_computes_for_it(env_id, settings):
    agent = PPO(env_id, seeds=[0, 1, 2], num_envs=2, num_steps=16, batch_size=32, n_epochs=1, **settings)
    agent.learn(64)  # weights away from their initial values
    x = agent._input(agent._per_member(agent._obs))  # (K, B, input)
    logits, values = agent.policy.forward(x)
    for k in range(3):
        nets = agent.policy.member_nets(k)
        if "policy_net" in nets:
            want_logits, want_values = nets["policy_net"](x[k]), nets["value_net"](x[k]).squeeze(-1)
        else:  # a shared CNN trunk with two heads
            features = nets["trunk"](x[k].reshape(x.shape[1], *agent.encoder.shape))
            want_logits, want_values = nets["policy_head"](features), nets["value_head"](features).squeeze(-1)
        torch.testing.assert_close(logits[k], want_logits, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(values[k].reshape(-1), want_values, rtol=1e-5, atol=1e-6)


def ordinary_q(nets, x: torch.Tensor, dueling: bool) -> torch.Tensor:
    features = nets["trunk"](x)
    advantage = nets["advantage"](features)
    if not dueling:
        return advantage
    # Wang et al.: V(s) + A(s, a) - mean_a A(s, a)
    return nets["state_value"](features) + advantage - advantage.mean(-1, keepdim=True)


@pytest.mark.parametrize("dueling", [False, True])
def test_each_members_ordinary_q_net_computes_what_the_stack_computes_for_it(dueling):
    from agents.dqn import DQN

    agent = DQN("CartPole-v1", seeds=[0, 1], dueling=dueling, hidden_sizes=(24, 8), learning_starts=32,
                train_freq=16, gradient_steps=2, batch_size=16, target_update_interval=1000).learn(200)
    x = torch.randn(2, 7, 4)
    online, target = agent.q_net(x), agent.q_net.q_values(agent.target, x)
    assert not torch.allclose(online, target)  # the target net stayed behind
    for k in range(2):
        torch.testing.assert_close(online[k], ordinary_q(agent.q_net.member_nets(k), x[k], dueling),
                                   rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(target[k], ordinary_q(agent.q_net.member_nets(k, agent.target), x[k], dueling),
                                   rtol=1e-5, atol=1e-6)

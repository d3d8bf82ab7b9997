"""Each algorithm's update pinned against an independent computation: ordinary torch modules (the member's own
nets), torch.distributions, torch.nn.functional losses, torch's optimizers and clip_grad_norm_, and targets,
returns and advantages worked out step by step. A population's members are checked one by one, so per-member
advantage normalization and gradient clipping are pinned too."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from agents.a2c import A2C, a2c_loss
from agents.buffers import compute_gae
from agents.dqn import DQN
from agents.on_policy import TrainingBatch
from agents.ppo import PPO
from agents.reinforce import REINFORCE, discounted_returns


def hand_batch(members: int, rows: int, seed: int, scales=(1.0, 100.0, 0.01)) -> dict:
    """Made-up CartPole rows per member; advantages and returns on very different scales per member."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(members, rows, 4, generator=g)
    actions = torch.randint(0, 2, (members, rows), generator=g)
    old = torch.log(torch.rand(members, rows, generator=g) * 0.8 + 0.1)  # ratios far from 1: clipping matters
    scale = torch.tensor(scales[:members]).unsqueeze(1)
    advantages = torch.randn(members, rows, generator=g) * scale + 3.0 * scale
    returns = torch.randn(members, rows, generator=g) * 10.0 * scale  # big value errors: the norm clip matters
    return {"x": x, "actions": actions, "old": old, "advantages": advantages, "returns": returns}


def pack(data: dict) -> TrainingBatch:
    packed = torch.cat([data["x"], data["actions"].unsqueeze(-1).float(), data["old"].unsqueeze(-1),
                        data["advantages"].unsqueeze(-1), data["returns"].unsqueeze(-1)], dim=2)
    return TrainingBatch(packed, torch.zeros_like(data["returns"]), 4, 1, True)


def ordinary(agent, k: int):
    nets = agent.policy.member_nets(k)
    return nets["policy_net"], nets["value_net"]


def flat_of(policy_net, value_net) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for net in (policy_net, value_net) for p in net.parameters()])


def member_flat(agent, k: int) -> torch.Tensor:
    return flat_of(*ordinary(agent, k))


@pytest.mark.parametrize("members, rows, normalize", [(1, 8, True), (3, 8, True), (3, 8, False), (3, 2, True),
                                                     (2, 1, True)])
def test_ppo_step_equals_the_clipped_objective_by_hand_with_torch_adam(members, rows, normalize):
    """One minibatch of `rows` rows per member; SB3 normalizes the advantages of a minibatch of more than one row
    (`normalize_advantage and len(advantages) > 1`)."""
    agent = PPO("CartPole-v1", seeds=range(members), num_envs=2, num_steps=4, batch_size=rows, n_epochs=1,
                ent_coef=0.01, learning_rate=3e-3, normalize_advantage=normalize)
    data = hand_batch(members, rows, seed=1)
    before = [ordinary(agent, k) for k in range(members)]
    clip = 0.2
    agent.optimizer.set_learning_rate(3e-3)
    figures = agent.update(pack(data), clip)
    for k, (policy_net, value_net) in enumerate(before):
        x, a = data["x"][k], data["actions"][k]
        dist = torch.distributions.Categorical(logits=policy_net(x))
        ratio = torch.exp(dist.log_prob(a) - data["old"][k])
        adv = data["advantages"][k]
        if normalize and rows > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        policy_loss = -torch.min(adv * ratio, adv * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
        value_loss = F.mse_loss(data["returns"][k], value_net(x).squeeze(-1))
        loss = policy_loss + 0.01 * -dist.entropy().mean() + 0.5 * value_loss
        params = list(policy_net.parameters()) + list(value_net.parameters())
        optimizer = torch.optim.Adam(params, lr=3e-3, eps=1e-5)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 0.5)
        assert norm > 0.5  # the clip is active in this test
        optimizer.step()
        assert figures["policy_loss"][k] == pytest.approx(policy_loss.item(), rel=1e-5, abs=1e-6)
        assert figures["value_loss"][k] == pytest.approx(value_loss.item(), rel=1e-5)
        torch.testing.assert_close(member_flat(agent, k), flat_of(policy_net, value_net), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("ent_coef", [0.0, 0.5])
def test_ppo_entropy_bonus_alone_moves_the_policy_when_advantages_are_zero(ent_coef):
    """With zero advantages the clipped objective has no gradient: the policy net moves by the entropy bonus only
    (and not at all without one), the value net by its loss, as torch's Adam moves them."""
    agent = PPO("CartPole-v1", seed=0, num_envs=2, num_steps=4, batch_size=8, n_epochs=1, ent_coef=ent_coef,
                learning_rate=3e-3, max_grad_norm=1e6)
    data = hand_batch(1, 8, seed=4)
    data["advantages"] = torch.zeros_like(data["advantages"])
    policy_net, value_net = ordinary(agent, 0)
    start = flat_of(policy_net, value_net)
    agent.optimizer.set_learning_rate(3e-3)
    agent.update(pack(data), 0.2)
    dist = torch.distributions.Categorical(logits=policy_net(data["x"][0]))
    loss = 0.5 * F.mse_loss(data["returns"][0], value_net(data["x"][0]).squeeze(-1)) - ent_coef * dist.entropy().mean()
    params = list(policy_net.parameters()) + list(value_net.parameters())
    optimizer = torch.optim.Adam(params, lr=3e-3, eps=1e-5)
    loss.backward()
    optimizer.step()
    policy_size = sum(p.numel() for p in policy_net.parameters())
    moved = member_flat(agent, 0)
    torch.testing.assert_close(moved, flat_of(policy_net, value_net), rtol=1e-5, atol=1e-6)
    assert torch.equal(moved[:policy_size], start[:policy_size]) == (ent_coef == 0.0)


def test_ppo_clip_range_changes_the_step():
    data = hand_batch(1, 8, seed=2)
    results = []
    for clip in (0.2, 10.0):
        agent = PPO("CartPole-v1", seed=0, num_envs=2, num_steps=4, batch_size=8, n_epochs=1)
        agent.update(pack(data), clip)
        results.append(member_flat(agent, 0))
    assert not torch.allclose(results[0], results[1])


@pytest.mark.parametrize("normalize_advantage", [False, True])
def test_a2c_step_equals_the_loss_by_hand_with_torch_rmsprop(normalize_advantage):
    agent = A2C("CartPole-v1", seeds=[0, 1], num_envs=2, num_steps=4, ent_coef=0.02, rms_alpha=0.9,
                normalize_advantage=normalize_advantage)
    data = hand_batch(2, 8, seed=3)
    before = [ordinary(agent, k) for k in range(2)]
    batch = pack(data)
    loss, policy_loss, value_loss, entropy = a2c_loss(agent.policy, batch, agent.config)
    from agents.population import gradient_step

    gradient_step(agent.policy.params, agent.optimizer, loss.sum(), agent.config.max_grad_norm)
    for k, (policy_net, value_net) in enumerate(before):
        x, adv = data["x"][k], data["advantages"][k]
        if normalize_advantage:  # SB3's A2C: over the member's whole rollout, unbiased std
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        dist = torch.distributions.Categorical(logits=policy_net(x))
        hand_policy = -(adv * dist.log_prob(data["actions"][k])).mean()
        hand_value = F.mse_loss(data["returns"][k], value_net(x).squeeze(-1))
        hand_entropy = dist.entropy().mean()
        hand = hand_policy + 0.5 * hand_value - 0.02 * hand_entropy
        assert policy_loss[k].item() == pytest.approx(hand_policy.item(), rel=1e-5, abs=1e-6)
        assert value_loss[k].item() == pytest.approx(hand_value.item(), rel=1e-5)
        assert entropy[k].item() == pytest.approx(hand_entropy.item(), rel=1e-5)
        params = list(policy_net.parameters()) + list(value_net.parameters())
        optimizer = torch.optim.RMSprop(params, lr=7e-4, alpha=0.9, eps=1e-5)
        hand.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.5)
        optimizer.step()
        assert loss[k].item() == pytest.approx(hand.item(), rel=1e-5)
        torch.testing.assert_close(member_flat(agent, k), flat_of(policy_net, value_net), rtol=1e-4, atol=1e-5)


# Advantages ------------------------------------------------------------------------------------------------
def gae_by_hand(rewards, values, last_value, terminated, truncated, final_values, gamma, lam):
    """One copy, written out step by step."""
    T = len(rewards)
    adv = [0.0] * T
    following = 0.0
    for t in reversed(range(T)):
        if truncated[t]:
            next_v = final_values[t]
        elif t == T - 1:
            next_v = last_value
        else:
            next_v = values[t + 1]
        delta = rewards[t] + (0.0 if terminated[t] else gamma * next_v) - values[t]
        following = delta + (0.0 if (terminated[t] or truncated[t]) else gamma * lam * following)
        adv[t] = following
    return np.array(adv)


@pytest.mark.parametrize("seed", range(4))
def test_gae_matches_a_step_by_step_computation(seed):
    rng = np.random.default_rng(seed)
    T, M = 12, 3
    rewards, values, finals = rng.normal(size=(T, M)), rng.normal(size=(T, M)), rng.normal(size=(T, M))
    terminated = rng.random((T, M)) < 0.15
    truncated = (rng.random((T, M)) < 0.15) & ~terminated
    last = rng.normal(size=M)
    got = compute_gae(rewards, values, last, terminated, truncated, finals, 0.97, 0.9)
    for m in range(M):
        want = gae_by_hand(rewards[:, m], values[:, m], last[m], terminated[:, m], truncated[:, m], finals[:, m],
                           0.97, 0.9)
        np.testing.assert_allclose(got[:, m], want, rtol=1e-12)


def test_truncation_bootstraps_from_the_last_observation_and_termination_does_not():
    rewards = np.array([[1.0], [1.0], [0.5]])
    values = np.array([[0.5], [0.7], [3.0]])  # row 2 is the next episode's first observation
    finals = np.array([[0.0], [2.0], [0.0]])  # V of the ended episode's last observation
    ended = np.array([[False], [True], [False]])
    never = np.zeros_like(ended)
    as_terminated = compute_gae(rewards, values, np.array([0.2]), ended, never, finals, 0.9, 0.95)
    as_truncated = compute_gae(rewards, values, np.array([0.2]), never, ended, finals, 0.9, 0.95)
    assert as_terminated[1, 0] == pytest.approx(1.0 - 0.7)
    assert as_truncated[1, 0] == pytest.approx(1.0 + 0.9 * 2.0 - 0.7)  # not V = 3.0 of the next episode
    assert as_truncated[2, 0] == pytest.approx(0.5 + 0.9 * 0.2 - 3.0)
    assert as_truncated[0, 0] == pytest.approx(1.0 + 0.9 * 0.7 - 0.5 + 0.9 * 0.95 * as_truncated[1, 0])


# DQN --------------------------------------------------------------------------------------------------------
def dqn_with_distinct_target(double_q: bool, batch_size: int = 4) -> DQN:
    agent = DQN("CartPole-v1", seeds=[0, 1], double_q=double_q, batch_size=batch_size, hidden_sizes=(16,))
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():  # move the online net away from the target net
        agent.q_net.params.flat.add_(torch.randn(agent.q_net.params.flat.shape, generator=g) * 0.3)
    return agent


@pytest.mark.parametrize("double_q", [False, True])
def test_dqn_target_by_hand_uses_the_target_net(double_q):
    agent = dqn_with_distinct_target(double_q)
    g = torch.Generator().manual_seed(0)
    next_x, rewards = torch.randn(2, 5, 4, generator=g), torch.randn(2, 5, generator=g)
    not_done = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0, 1.0]])
    got = agent.targets(rewards, next_x, not_done)
    for k in range(2):
        online, target = agent.q_net.member_nets(k), agent.q_net.member_nets(k, agent.target)

        def q(nets, x):
            return nets["advantage"](nets["trunk"](x))

        with torch.no_grad():
            if double_q:
                best = q(online, next_x[k]).argmax(1, keepdim=True)
                bootstrap = q(target, next_x[k]).gather(1, best).squeeze(1)
            else:
                bootstrap = q(target, next_x[k]).max(1).values
            want = rewards[k] + 0.99 * not_done[k] * bootstrap
            with_online = rewards[k] + 0.99 * not_done[k] * q(online, next_x[k]).max(1).values
        torch.testing.assert_close(got[k], want, rtol=1e-6, atol=1e-6)
        assert not torch.allclose(got[k], with_online)  # a target from the online net would fail this test


# batch 4 backpropagates through autograd, batch 20 by hand (nets.stacked.StackedMLP)
@pytest.mark.parametrize("batch_size", [4, 20])
def test_dqn_gradient_steps_equal_huber_loss_by_hand_with_torch_adam(batch_size):
    agent = dqn_with_distinct_target(False, batch_size)
    n, steps = 30, 2
    rng = np.random.default_rng(3)
    obs = rng.normal(size=(2, n, 4)).astype(np.float32)
    agent.replay.add(obs, rng.integers(2, size=(2, n)), rng.normal(size=(2, n)).astype(np.float32),
                     rng.normal(size=(2, n, 4)).astype(np.float32), rng.random((2, n)) < 0.3)
    generators = [copy.deepcopy(g) for g in agent.generators.numpy]
    before = [agent.q_net.member_nets(k) for k in range(2)]
    targets = [agent.q_net.member_nets(k, agent.target) for k in range(2)]
    agent.optimizer.set_learning_rate(0.01)
    figures = agent.train(steps)
    assert figures["gradient_steps"] == steps
    for k in range(2):
        # the member's own generator picks all the round's minibatches up front, then they are taken in turn
        index = generators[k].integers(0, n, size=steps * batch_size)
        net, target = before[k], targets[k]
        params = list(net.parameters())
        optimizer = torch.optim.Adam(params, lr=0.01, eps=1e-8)
        losses = []
        for step in range(steps):
            rows = index[step * batch_size:(step + 1) * batch_size]
            x = torch.as_tensor(agent.replay.obs[k, rows])
            nx = torch.as_tensor(agent.replay.next_obs[k, rows])
            with torch.no_grad():
                y = torch.as_tensor(agent.replay.rewards[k, rows]) + 0.99 * torch.as_tensor(
                    1.0 - agent.replay.terminated[k, rows].astype(np.float32)) * target["advantage"](
                    target["trunk"](nx)).max(1).values
            q = net["advantage"](net["trunk"](x)).gather(1, torch.as_tensor(agent.replay.actions[k, rows])[:, None])
            loss = F.smooth_l1_loss(q.squeeze(1), y)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            optimizer.step()
            losses.append(loss.item())
        got = agent.q_net.member_nets(k)
        for a, b in zip(got.parameters(), net.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        assert figures["loss"][k] == pytest.approx(np.mean(losses), rel=1e-5)  # the round's mean loss, per member


def test_dqn_predict_explores_as_sb3s_one_coin_per_call_and_values_are_the_greedy_q():
    agent = dqn_with_distinct_target(False)
    obs = np.random.default_rng(0).normal(size=(2, 5, 4)).astype(np.float32)
    greedy = agent.predict(obs)[0]
    agent.exploration_rate = 0.0
    np.testing.assert_array_equal(agent.predict(obs, deterministic=False)[0], greedy)
    agent.exploration_rate = 1.0  # every coin falls below it: each member draws the whole batch at random
    generators = [copy.deepcopy(g) for g in agent.generators.numpy]
    explored = agent.predict(obs, deterministic=False)[0]
    for k, rng in enumerate(generators):
        assert rng.random() < 1.0
        np.testing.assert_array_equal(explored[k], rng.integers(2, size=5))
    assert not np.array_equal(explored, greedy) and explored.dtype == greedy.dtype == np.int64
    values = agent.state_values(obs)
    for k in range(2):
        nets = agent.q_net.member_nets(k)
        with torch.no_grad():
            q = nets["advantage"](nets["trunk"](torch.as_tensor(obs[k])))
        np.testing.assert_allclose(values[k], q.max(1).values.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(greedy[k], q.argmax(1).numpy())


# REINFORCE -----------------------------------------------------------------------------------------------
def test_reinforce_returns_by_hand_with_a_truncation_bootstrap():
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 2.0, 3.0]), 5.0, 0.5), [3.375, 4.75, 5.5])
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 1.0]), 0.0, 0.9), [1.9, 1.0])


def test_reinforce_loss_by_hand_with_padding_and_an_idle_member():
    agent = REINFORCE("CartPole-v1", seeds=[0, 1, 2, 3], ent_coef=0.1, normalize_advantage=True)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 4, generator=g)
    actions = torch.randint(0, 2, (4, 6), generator=g).float()
    returns = torch.randn(4, 6, generator=g) * 5 + torch.tensor([[4.0], [-30.0], [0.0], [7.0]])
    # member 0: 4 real rows and 2 of padding; member 1: 6 real rows; member 2 sits out; member 3: one row
    weight = torch.tensor([[1.0] * 4 + [0.0] * 2, [1.0] * 6, [0.0] * 6, [1.0] + [0.0] * 5])
    loss, figures = agent._loss(x, actions, returns, weight)
    for k, rows in ((0, 4), (1, 6)):
        policy_net, value_net = ordinary(agent, k)
        dist = torch.distributions.Categorical(logits=policy_net(x[k, :rows]))
        values = value_net(x[k, :rows]).squeeze(-1)
        adv = returns[k, :rows] - values.detach()
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        policy_loss = -(dist.log_prob(actions[k, :rows].long()) * adv).mean()
        value_loss = F.mse_loss(values, returns[k, :rows])
        hand = policy_loss + 0.5 * value_loss - 0.1 * dist.entropy().mean()
        assert loss[k].item() == pytest.approx(hand.item(), rel=1e-5)
        assert figures["policy_loss"][k] == pytest.approx(policy_loss.item(), rel=1e-5, abs=1e-6)
        assert figures["value_loss"][k] == pytest.approx(value_loss.item(), rel=1e-5)
        assert figures["entropy"][k] == pytest.approx(dist.entropy().mean().item(), rel=1e-5)
    assert loss[2].item() == 0.0
    # one row: its advantage normalizes to 0 (no policy gradient), the value loss is that row's squared error
    policy_net, value_net = ordinary(agent, 3)
    value = value_net(x[3, :1]).squeeze()
    entropy = torch.distributions.Categorical(logits=policy_net(x[3, :1])).entropy().squeeze()
    assert figures["policy_loss"][3] == 0.0
    assert loss[3].item() == pytest.approx((0.5 * (value - returns[3, 0]) ** 2 - 0.1 * entropy).item(), rel=1e-5)


def test_ppo_shuffles_each_active_members_rows_with_its_own_generator_every_epoch():
    """SB3 draws a fresh permutation of the rollout for every epoch; a member that stopped (target_kl) draws none,
    so its generator stays where its single run's would be."""
    agent = PPO("CartPole-v1", seeds=[0, 1, 2], num_envs=2, num_steps=8, batch_size=8)
    states = [g.get_state() for g in agent.generators.torch]
    first = agent._minibatch_order(64, np.array([True, False, True]))
    second = agent._minibatch_order(64, np.array([True, True, True]))
    for order in (first[0], first[2], second[0], second[1]):
        assert sorted(order.tolist()) == list(range(64)) and order.tolist() != list(range(64))
    assert first[1].tolist() == list(range(64)) and not torch.equal(first[0], second[0])
    for k in (0, 1):  # each member's permutations are its own generator's draws, in order
        g = torch.Generator().set_state(states[k])
        if k == 0:
            assert torch.equal(first[0], torch.randperm(64, generator=g))
        assert torch.equal(second[k], torch.randperm(64, generator=g))


def test_explained_variance_is_sb3s_per_member_and_nan_for_a_constant_target():
    from agents.on_policy import explained_variance

    g = torch.Generator().manual_seed(5)
    target = torch.randn(3, 20, generator=g) * torch.tensor([[1.0], [10.0], [0.0]]) + 2.0
    predicted = target + torch.randn(3, 20, generator=g) * 0.5
    got = explained_variance(predicted, target)
    for k in range(2):  # stable_baselines3.common.utils.explained_variance: 1 - Var[y - y_pred] / Var[y]
        y, y_pred = target[k].numpy(), predicted[k].numpy()
        assert got[k] == pytest.approx(1 - np.var(y - y_pred) / np.var(y), rel=1e-5)
    assert np.isnan(got[2])


@pytest.mark.parametrize("cls", [PPO, A2C])
def test_truncated_episodes_bootstrap_from_their_normalized_last_observation(cls):
    """The value of a truncated episode's last observation goes through the running observation normalizer, each
    member's own, as every other input of the net does."""
    settings = dict(batch_size=16) if cls is PPO else {}
    agent = cls("CartPole-v1", seeds=[0, 1], num_envs=2, num_steps=8, normalize_obs=True, **settings)
    agent.learn(64)  # statistics away from their start
    g = np.random.default_rng(0)
    obs = g.normal(size=(5, 4)).astype(np.float32) * 3
    copies = np.array([0, 3, 1, 2, 3])  # members 0, 1, 0, 1, 1
    rows = [(1, copies[:2], obs[:2]), (6, copies[2:], obs[2:])]
    with torch.no_grad():  # as collect_rollout calls it
        values = agent._final_values(rows, (8, 4))
    members = copies // 2
    normalizer = agent.normalizer
    for i, (t, c) in enumerate([(1, 0), (1, 3), (6, 1), (6, 2), (6, 3)]):
        k = members[i]
        x = np.clip((obs[i] - normalizer.mean[k]) / np.sqrt(normalizer.var[k] + normalizer.epsilon), -normalizer.clip,
                    normalizer.clip)
        want = agent.policy.member_nets(k)["value_net"](torch.as_tensor(x, dtype=torch.float32)[None]).item()
        assert values[t, c] == pytest.approx(want, rel=1e-5, abs=1e-6)
    assert np.count_nonzero(values) == 5


@pytest.mark.parametrize("env_id, action_shape", [("CartPole-v1", ()), ("Pendulum-v1", (1,))])
def test_a_training_batch_unpacks_to_the_rollouts_inputs_actions_and_log_probabilities(env_id, action_shape):
    agent = PPO(env_id, seeds=[0, 1], num_envs=2, num_steps=4, batch_size=8, n_epochs=1)
    agent.learn(8)
    rollout = agent.collect_rollout()
    batch = agent.training_batch(rollout)
    x, actions, old_log_probs, advantages, returns = batch.unpack(batch.packed)
    for k in range(2):  # row t * N + i holds copy i at step t
        want_actions = rollout.actions[:, k].reshape(8, *action_shape)
        assert torch.equal(x[k], rollout.x[:, k].reshape(8, -1))
        assert torch.equal(actions[k], want_actions.long() if not action_shape else want_actions)
        nets = agent.policy.member_nets(k)
        if action_shape:  # a Gaussian policy: the mean from the net, the member's log std
            dist = torch.distributions.Normal(nets["policy_net"](x[k]), agent.policy.log_std[k].exp())
            want = dist.log_prob(actions[k]).sum(-1)
        else:
            want = torch.distributions.Categorical(logits=nets["policy_net"](x[k])).log_prob(actions[k])
        torch.testing.assert_close(old_log_probs[k], want.detach(), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(returns[k], advantages[k] + batch.values[k])


@pytest.mark.parametrize("normalize_reward", [False, True])
def test_reward_scaling_is_on_exactly_when_asked_for(normalize_reward):
    agent = PPO("CartPole-v1", seeds=[0, 1], num_envs=2, num_steps=8, batch_size=16,
                normalize_reward=normalize_reward).learn(32)
    rewards = agent.collect_rollout().rewards  # CartPole pays 1 a step
    assert (agent.reward_normalizer is not None) == normalize_reward
    assert bool((rewards == 1.0).all()) != normalize_reward

"""The gridworld model against independent references: Gymnasium's toy_text P, textbook values, and sampling."""

import gymnasium as gym
import numpy as np
import pytest
from scipy.stats import chisquare

import envs  # noqa: F401  (registers the ids)
from envs import rng
from envs.classic_mdps import TabularMDPEnv, gamblers_problem, garnet
from envs.gridworld import GridWorldEnv


def value_iteration(mdp, gamma=1.0, sweeps=2000):
    """A plain reference solver: V = max_a R + gamma P V, terminal values 0. Returns V (S,)."""
    values = np.zeros(mdp.num_states)
    for _ in range(sweeps):
        values = np.where(mdp.terminal, 0.0, (mdp.R + gamma * mdp.P @ values).max(axis=1))
    return values


def test_frozen_lake_p_equals_gymnasium():
    ours = gym.make("mdparcade/FrozenLake8x8-v0").unwrapped.P
    theirs = gym.make("FrozenLake8x8-v1", is_slippery=True).unwrapped.P
    assert set(ours) == set(theirs)
    for s in theirs:
        for a in range(4):
            assert sorted(ours[s][a]) == sorted(theirs[s][a]), (s, a)


def test_cliff_walking_p_equals_gymnasium_on_open_cells():
    env = gym.make("mdparcade/CliffWalking-v0").unwrapped
    theirs = gym.make("CliffWalking-v1").unwrapped.P
    cells = "".join(env.rows)
    gym_action = {0: 3, 1: 2, 2: 1, 3: 0}  # CliffWalking orders actions up, right, down, left
    checked = 0
    for s, char in enumerate(cells):
        if char in "S.":
            for a in range(4):
                assert sorted(env.P[s][a]) == sorted(theirs[s][gym_action[a]]), (s, a)
                checked += 1
    assert checked == 37 * 4


def test_tabular_mdp_matches_the_p_dict():
    env = gym.make("mdparcade/RussellNorvig4x3-v0").unwrapped
    mdp = env.mdp
    P = np.zeros_like(mdp.P)
    R = np.zeros_like(mdp.R)
    for s, by_action in env.P.items():
        for a, outcomes in by_action.items():
            for prob, next_state, reward, _ in outcomes:
                P[s, a, next_state] += prob
                R[s, a] += prob * reward
    np.testing.assert_allclose(mdp.P, P)
    np.testing.assert_allclose(mdp.R, R)
    assert mdp.terminal.sum() == 2 and mdp.start[8] == 1.0


def test_russell_norvig_utilities_match_the_book():
    # Figure 17.3 utilities (gamma = 1). Our reward comes on entering a cell, so U(s) = V(s) - 0.04.
    book = {(0, 0): 0.812, (0, 1): 0.868, (0, 2): 0.918, (1, 0): 0.762, (1, 2): 0.660,
            (2, 0): 0.705, (2, 1): 0.655, (2, 2): 0.611, (2, 3): 0.388}
    values = value_iteration(gym.make("mdparcade/RussellNorvig4x3-v0").unwrapped.mdp)
    for (row, col), utility in book.items():
        assert values[row * 4 + col] - 0.04 == pytest.approx(utility, abs=1e-3)


def test_cliff_walking_optimal_return_is_minus_13():
    mdp = gym.make("mdparcade/CliffWalking-v0").unwrapped.mdp
    assert value_iteration(mdp, sweeps=100)[36] == pytest.approx(-13.0)


def test_gamblers_problem_values():
    mdp = gamblers_problem(p_heads=0.4, goal=100)
    assert mdp.P.shape == (101, 51, 101)
    values = value_iteration(mdp, sweeps=500)
    # Bold play is optimal for p < 1/2: V(50) = p, V(25) = p^2, V(75) = p + (1 - p) p.
    assert values[50] == pytest.approx(0.4, abs=1e-6)
    assert values[25] == pytest.approx(0.16, abs=1e-6)
    assert values[75] == pytest.approx(0.64, abs=1e-6)


def test_garnet_is_seeded_with_the_requested_branching():
    a, b = garnet(20, 3, 4, seed=5), garnet(20, 3, 4, seed=5)
    np.testing.assert_array_equal(a.P, b.P)
    assert not np.array_equal(a.P, garnet(20, 3, 4, seed=6).P)
    assert ((a.P > 0).sum(axis=2) == 4).all()
    with pytest.raises(ValueError, match="branching"):
        garnet(5, 2, 6)


@pytest.mark.filterwarnings("ignore:.*alternative render modes")  # a bare env has no spec to remake it from
def test_tabular_mdp_env_passes_check_env():
    from gymnasium.utils.env_checker import check_env

    check_env(TabularMDPEnv(gamblers_problem(goal=20), max_episode_steps=50))
    check_env(TabularMDPEnv(garnet(10, 2, 3), max_episode_steps=20))


def chi_square_pvalue(next_states, expected_probs):
    observed = np.bincount(next_states, minlength=len(expected_probs))
    support = expected_probs > 0
    assert observed[~support].sum() == 0, "sampled a successor of probability 0"
    return chisquare(observed[support], expected_probs[support] * len(next_states)).pvalue


@pytest.mark.parametrize(
    "env_id,state,action",
    [("mdparcade/FrozenLake8x8-v0", 0, 1), ("mdparcade/FrozenLake8x8-v0", 18, 2),
     ("mdparcade/RussellNorvig4x3-v0", 6, 3)],
)
def test_single_env_samples_follow_p(env_id, state, action):
    env = gym.make(env_id).unwrapped
    env.reset(seed=123)
    samples = np.empty(40_000, dtype=np.int64)
    for i in range(len(samples)):
        env.state = state
        samples[i] = env.step(action)[0]
    assert chi_square_pvalue(samples, env.mdp.P[state, action]) > 1e-4


def test_vector_samples_follow_p_and_start_distribution():
    env = GridWorldEnv(["S.S.", "..H.", "S..G"], slip=0.6)
    table = env.transitions
    n = 200_000
    u = rng.uniform(rng.seed_to_keys(9, n), np.zeros(n, dtype=np.uint64))
    nexts, _, _ = table.sample_steps(np.full(n, 5), np.full(n, 2), u)
    assert chi_square_pvalue(nexts, env.mdp.P[5, 2]) > 1e-4
    assert chi_square_pvalue(table.sample_starts(u), env.mdp.start) > 1e-4


def test_tabular_mdp_env_samples_follow_p():
    mdp = gamblers_problem()
    env = TabularMDPEnv(mdp)
    env.reset(seed=0)
    samples = np.empty(20_000, dtype=np.int64)
    for i in range(len(samples)):
        env.state = 30
        samples[i] = env.step(20)[0]
    assert chi_square_pvalue(samples, mdp.P[30, 20]) > 1e-4

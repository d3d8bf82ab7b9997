"""The gridworld model against independent references: Gymnasium's toy_text P, textbook values, and sampling."""

import gymnasium as gym
import numpy as np
import pytest
from scipy.stats import chisquare

import envs  # noqa: F401  (registers the ids)
from envs import rng
from envs.classic_mdps import TabularMDPEnv, gamblers_problem, garnet
from envs.gridworld import GridWorldEnv
from envs.gridworld_model import TransitionTable, gridworld_transitions


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


# ---------------------------------------------------------------- the successor tables, pinned by hand

LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3


def test_frozen_lake_outcomes_are_listed_in_gymnasiums_order():
    # Gymnasium lists a slippery move's outcomes as a - 1, a, a + 1; tutorials that index P[s][a][k] rely on it.
    ours = gym.make("mdparcade/FrozenLake8x8-v0").unwrapped.P
    theirs = gym.make("FrozenLake8x8-v1", is_slippery=True).unwrapped.P
    for s in theirs:
        for a in range(4):
            assert ours[s][a] == theirs[s][a], (s, a)


def test_gridworld_defaults_are_deterministic_with_reward_only_at_the_goal():
    P = gridworld_transitions(("S.", "HG")).p_dict()  # cells 0 S, 1 floor, 2 hole, 3 goal
    assert P[0][RIGHT] == [(1.0, 1, 0.0, False)]
    assert P[0][LEFT] == [(1.0, 0, 0.0, False)]  # off the map: stays put
    assert P[0][DOWN] == [(1.0, 2, 0.0, True)]
    assert P[1][DOWN] == [(1.0, 3, 1.0, True)]
    assert P[3][UP] == [(1.0, 3, 0.0, True)]  # terminal: a self-loop with reward 0


def test_slip_is_a_probability_and_zero_slip_only_slides_sideways():
    P = gridworld_transitions(("S.", "HG"), slip=0.0).p_dict()
    assert P[0][RIGHT] == [(0.5, 2, 0.0, True), (0.5, 0, 0.0, False)]  # down, then up (off the map)
    for slip in (-0.1, 1.5):
        with pytest.raises(ValueError, match=rf"slip must be a probability in \[0, 1\], got {slip}"):
            gridworld_transitions(("S.", "HG"), slip=slip)


def test_entering_a_cliff_sends_the_agent_to_each_start_alike_and_cliffs_and_walls_are_never_left():
    table = gridworld_transitions(("S.#", "CSG"))  # starts 0 and 4, wall 2, cliff 3, goal 5
    P = table.p_dict()
    assert P[0][DOWN] == [(0.5, 0, -100.0, False), (0.5, 4, -100.0, False)]
    assert P[0][RIGHT] == [(1.0, 1, 0.0, False)]
    assert P[1][RIGHT] == [(1.0, 1, 0.0, False)]  # into the wall: stays put
    for a in range(4):
        assert P[2][a] == [(1.0, 2, 0.0, False)]  # the wall cell
        assert P[3][a] == [(1.0, 3, 0.0, False)]  # the cliff cell
    mdp = table.tabular_mdp()
    np.testing.assert_array_equal(mdp.P[0, DOWN], [0.5, 0, 0, 0, 0.5, 0])
    np.testing.assert_array_equal(mdp.start, [0.5, 0, 0, 0, 0.5, 0])
    assert mdp.R[0, DOWN] == -100.0


def test_transition_table_keeps_the_order_of_nonzero_entries_and_documented_padding():
    width = 20
    prob = np.zeros((2, width))
    prob[0, 1::2] = 0.1  # ten entries at odd positions, the zeros in between
    prob[1, 5] = 1.0
    next_state = np.tile(np.arange(width), (2, 1)) % 2
    next_state[0, 1::2] = np.arange(10) % 2
    reward = np.tile(np.arange(width, dtype=float), (2, 1))
    table = TransitionTable(prob, next_state, reward, np.zeros((2, width), bool), 1, [False, False], [0.25, 0.75])
    assert table.count.tolist() == [10, 1]
    assert [r for _, _, r, _ in table.p_dict()[0][0]] == list(range(1, width, 2))  # original order
    assert table.p_dict()[1][0] == [(1.0, 1, 5.0, False)]
    # Padding: probability 0 and cumulative 2.0; each row's last real entry has cumulative exactly 1.0.
    assert table.prob[1, 1:].tolist() == [0.0] * 9 and table.cum[1].tolist() == [1.0] + [2.0] * 9
    assert table.cum[0, -1] == 1.0
    assert table.start_states.tolist() == [0, 1] and table.start_cum.tolist() == [0.25, 1.0]


def test_vector_sampling_picks_the_same_entry_as_scalar_sampling_at_the_boundaries():
    prob = np.array([[0.25, 0.25, 0.5]])
    table = TransitionTable(prob, np.array([[0, 1, 2]]), np.zeros((1, 3)), np.zeros((1, 3), bool), 1,
                            np.zeros(3, bool), [0.25, 0.0, 0.75])
    u = np.array([0.0, 0.25, 0.4, 0.5, 0.75, 0.999])
    nexts, _, _ = table.sample_steps(np.zeros(6, dtype=np.int64), np.zeros(6, dtype=np.int64), u)
    assert nexts.tolist() == [table.sample_step(0, 0, x)[0] for x in u] == [0, 1, 1, 2, 2, 2]
    starts = table.sample_starts(u)
    assert starts.tolist() == [table.sample_start(x) for x in u] == [0, 2, 2, 2, 2, 2]
    # Only states with positive start probability are kept, with their cumulative probabilities.
    assert table.start_states.tolist() == [0, 2] and table.start_cum.tolist() == [0.25, 1.0]


def test_tabular_mdp_keeps_state_names_and_refuses_a_dense_model_that_would_not_fit():
    table = gridworld_transitions(("SG",))
    assert table.tabular_mdp(("start", "goal")).state_names == ("start", "goal")
    S, A = 7072, 4  # S * A * S just above 2e8 entries
    rows = np.arange(S * A)[:, None] // A
    start = np.zeros(S)
    start[0] = 1.0
    big = TransitionTable(np.ones((S * A, 1)), rows, np.zeros((S * A, 1)), np.zeros((S * A, 1), bool), A,
                          np.zeros(S, bool), start)
    with pytest.raises(ValueError, match=r"the dense model P\[S, A, S'\] of 7072 states would need 1.6 GB; "
                                         r"use the successor tables \(env.unwrapped.transitions\) instead"):
        big.tabular_mdp()

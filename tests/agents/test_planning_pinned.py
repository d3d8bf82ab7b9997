"""Exact planners pinned on tiny MDPs whose every number is worked out by hand: sweep and improvement counts,
stopping rules at their boundaries, the dense/sparse switch, input checks and the messages that name the problem."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from agents.planning import (
    DENSE_ENTRIES,
    SparseMDP,
    greedy_policy,
    optimal_return,
    optimal_success_probability,
    policy_evaluation,
    policy_iteration,
    policy_model,
    q_from_v,
    reach_probabilities,
    success_probability,
    transition_matrix,
    value_iteration,
)
from envs.tabular_mdp import TabularMDP

RIGHT, STAY = 0, 1


def delayed_reward_chain() -> TabularMDP:
    """States 0, 1, 2 live, 3 terminal. RIGHT moves one state on (reward 1 only for 2 -> 3), STAY stays (0).

    With gamma = 0.5: V* = [0.25, 0.5, 1, 0], and policy iteration from "always stay" fixes one state per
    improvement, from the end backwards (ties keep the current action).
    """
    P = np.zeros((4, 2, 4))
    for s in range(3):
        P[s, RIGHT, s + 1] = 1.0
        P[s, STAY, s] = 1.0
    P[3, :, 3] = 1.0
    R = np.zeros((4, 2))
    R[2, RIGHT] = 1.0
    return TabularMDP(P, R, np.array([False, False, False, True]), np.array([1.0, 0.0, 0.0, 0.0]))


def line(num_states: int, num_actions: int = 1) -> TabularMDP:
    """Every action moves s -> s + 1 with reward 1; the last state is terminal."""
    P = np.zeros((num_states, num_actions, num_states))
    states = np.arange(num_states - 1)
    P[states, :, states + 1] = 1.0
    P[-1, :, -1] = 1.0
    R = np.ones((num_states, num_actions))
    R[-1] = 0.0
    terminal = np.zeros(num_states, dtype=bool)
    terminal[-1] = True
    start = np.zeros(num_states)
    start[0] = 1.0
    return TabularMDP(P, R, terminal, start)


def sparse_line(num_states: int) -> SparseMDP:
    next_states = np.minimum(np.arange(num_states) + 1, num_states - 1)[:, None]
    rewards = np.ones((num_states, 1))
    rewards[-1] = 0.0
    terminal = np.zeros(num_states, dtype=bool)
    terminal[-1] = True
    start = np.zeros(num_states)
    start[0] = 1.0
    return SparseMDP.from_successors(next_states, np.ones((num_states, 1)), rewards, terminal, start)


def line_values(num_states: int, gamma: float) -> np.ndarray:
    """V(s) = 1 + gamma + ... + gamma^(n-1), n = num_states - 1 - s steps to the terminal state."""
    steps = num_states - 1 - np.arange(num_states)
    return (1 - gamma**steps) / (1 - gamma)


# ---------------------------------------------------------------- value iteration


def test_value_iteration_counts_its_sweeps_and_reports_its_result():
    mdp = delayed_reward_chain()
    before = time.perf_counter()
    result = value_iteration(mdp, 0.5)
    elapsed = time.perf_counter() - before
    # Sweeps give [0,0,1,0], [0,.5,1,0], [.25,.5,1,0], then an unchanged V: 4 sweeps, last change exactly 0.
    np.testing.assert_array_equal(result.V, [0.25, 0.5, 1.0, 0.0])
    assert result.iterations == 4
    assert result.residual == 0.0
    np.testing.assert_array_equal(result.Q, q_from_v(mdp, result.V, 0.5))
    np.testing.assert_array_equal(result.Q, [[0.25, 0.125], [0.5, 0.25], [1.0, 0.5], [0.0, 0.0]])
    assert result.policy.tolist() == [RIGHT, RIGHT, RIGHT, RIGHT]
    assert 0.0 <= result.wall_time <= elapsed


def test_value_iteration_with_tol_zero_runs_every_sweep_and_warns_from_the_callers_line():
    # The change of a sweep is never below 0, so tol=0 uses up max_iterations (exactly, not one more).
    with pytest.warns(RuntimeWarning, match=r"value iteration stopped after 10 sweeps with residual 0 >= tol 0") \
            as record:
        result = value_iteration(delayed_reward_chain(), 0.5, tol=0.0, max_iterations=10)
    assert result.iterations == 10
    # stacklevel points past planning.py to its caller (under mutmut a trampoline frame sits in between)
    assert not record[0].filename.endswith("planning.py")
    np.testing.assert_array_equal(result.V, [0.25, 0.5, 1.0, 0.0])


def test_value_iteration_default_cap_is_100_000_sweeps():
    # A reward loop with gamma = 1 never converges: V grows by 1 per sweep until the cap.
    P = np.ones((1, 1, 1))
    mdp = TabularMDP(P, np.ones((1, 1)), np.array([False]), np.array([1.0]))
    with pytest.warns(RuntimeWarning, match="after 100000 sweeps"):
        result = value_iteration(mdp, 1.0)
    assert result.iterations == 100_000 and result.V[0] == 100_000.0


def test_gamma_zero_is_allowed_and_values_are_the_immediate_rewards():
    mdp = delayed_reward_chain()
    result = value_iteration(mdp, 0.0)
    np.testing.assert_array_equal(result.V, [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(result.Q, mdp.R * ~mdp.terminal[:, None])


def test_greedy_policy_with_atol_zero_is_the_plain_argmax():
    assert greedy_policy(np.array([[0.0, 1.0], [3.0, 2.0]]), atol=0.0).tolist() == [1, 0]


# ---------------------------------------------------------------- policy iteration


def test_policy_iteration_improves_one_state_per_step_keeping_tied_actions():
    mdp = delayed_reward_chain()
    before = time.perf_counter()
    result = policy_iteration(mdp, 0.5, initial_policy=np.full(4, STAY))
    elapsed = time.perf_counter() - before
    # stay everywhere -> [stay, stay, right] -> [stay, right, right] -> all right, which is stable: 4
    # evaluations. The terminal state's tie keeps its initial STAY.
    assert result.iterations == 4
    assert result.policy.tolist() == [RIGHT, RIGHT, RIGHT, STAY]
    np.testing.assert_array_equal(result.V, [0.25, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(result.Q, [[0.25, 0.125], [0.5, 0.25], [1.0, 0.5], [0.0, 0.0]])
    assert result.residual == 0.0
    assert 0.0 <= result.wall_time <= elapsed


def test_policy_iteration_from_an_optimal_policy_stops_after_one_evaluation():
    result = policy_iteration(delayed_reward_chain(), 0.5, initial_policy=np.full(4, RIGHT))
    assert result.iterations == 1 and result.policy.tolist() == [RIGHT] * 4


def test_policy_iteration_stops_once_successive_values_differ_by_less_than_tol():
    mdp = delayed_reward_chain()
    # Successive policies' values differ by 1, 0.5, 0.25. With tol 0.75 the third evaluation settles.
    settled = policy_iteration(mdp, 0.5, tol=0.75, initial_policy=np.full(4, STAY))
    assert settled.iterations == 3
    assert settled.policy.tolist() == [STAY, RIGHT, RIGHT, STAY]
    np.testing.assert_array_equal(settled.V, [0.0, 0.5, 1.0, 0.0])
    assert settled.residual == 0.25  # state 0 could still gain 0.25 by moving
    # "less than": a difference of exactly tol does not stop it.
    assert policy_iteration(mdp, 0.5, tol=0.5, initial_policy=np.full(4, STAY)).iterations == 4


def test_policy_iteration_cap_warns_and_returns_the_last_evaluated_policy():
    mdp = delayed_reward_chain()
    with pytest.warns(RuntimeWarning, match="policy iteration stopped after 2 improvements with the policy "
                                            "still changing") as record:
        result = policy_iteration(mdp, 0.5, max_iterations=2, initial_policy=np.full(4, STAY))
    assert not record[0].filename.endswith("planning.py")
    assert result.iterations == 2
    assert result.policy.tolist() == [STAY, STAY, RIGHT, STAY]
    np.testing.assert_array_equal(result.V, [0.0, 0.0, 1.0, 0.0])


def test_policy_iteration_checks_its_evaluation_method_and_initial_policy():
    mdp = delayed_reward_chain()
    with pytest.raises(ValueError, match="method must be 'exact' or 'iterative'"):
        policy_iteration(mdp, 0.5, evaluation="magic")
    with pytest.raises(ValueError, match=r"initial_policy must be deterministic: one action per state, shape \(S,\)"):
        policy_iteration(mdp, 0.5, initial_policy=np.full((4, 2), 0.5))
    iterative = policy_iteration(mdp, 0.5, evaluation="iterative", initial_policy=np.full(4, STAY))
    np.testing.assert_allclose(iterative.V, [0.25, 0.5, 1.0, 0.0], atol=1e-9)


# ---------------------------------------------------------------- policy evaluation and policies


def test_iterative_policy_evaluation_default_tol_matches_the_exact_solve():
    mdp = line(6)
    exact = policy_evaluation(mdp, np.zeros(6, dtype=int), 0.9)
    np.testing.assert_allclose(exact, line_values(6, 0.9), atol=1e-12)
    iterative = policy_evaluation(mdp, np.zeros(6, dtype=int), 0.9, method="iterative")
    np.testing.assert_allclose(iterative, exact, atol=1e-9)
    # A stochastic policy over a garnet-like random model: iterative within 1e-9 of exact as well.
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(5), size=(5, 2))
    random_mdp = TabularMDP(P, rng.normal(size=(5, 2)), np.zeros(5, bool), np.full(5, 0.2))
    policy = rng.dirichlet(np.ones(2), size=5)
    np.testing.assert_allclose(policy_evaluation(random_mdp, policy, 0.8, method="iterative"),
                               policy_evaluation(random_mdp, policy, 0.8), atol=1e-9)


def test_iterative_policy_evaluation_needs_a_change_strictly_below_tol():
    # The chain's values are exact binary fractions, so sweeps reach a change of exactly 0, never below 0.
    with pytest.raises(ValueError, match=r"did not converge in 50 sweeps \(gamma 0.5\)"):
        policy_evaluation(line(4), np.zeros(4, dtype=int), 0.5, method="iterative", tol=0.0, max_iterations=50)


def test_iterative_policy_evaluation_default_cap_is_100_000_sweeps():
    mdp = TabularMDP(np.ones((1, 1, 1)), np.ones((1, 1)), np.array([False]), np.array([1.0]))
    with pytest.raises(ValueError, match="did not converge in 100000 sweeps"):
        policy_evaluation(mdp, np.zeros(1, dtype=int), 1.0, method="iterative")


def test_unbounded_values_name_the_first_paying_state_and_count_the_others():
    # States 1 and 2 loop on themselves earning 1 forever; state 0 steps into the terminal state 3.
    P = np.zeros((4, 1, 4))
    P[0, 0, 3] = P[1, 0, 1] = P[2, 0, 2] = P[3, 0, 3] = 1.0
    R = np.array([[0.0], [1.0], [1.0], [0.0]])
    mdp = TabularMDP(P, R, np.array([False, False, False, True]), np.array([1.0, 0, 0, 0]))
    with pytest.raises(ValueError, match=r"state 1 \(and 1 more\) never reaches a terminal state but keeps "
                                         r"collecting reward; use gamma < 1"):
        policy_evaluation(mdp, np.zeros(4, dtype=int), 1.0)


def test_policy_checks_name_the_offending_state():
    mdp = delayed_reward_chain()
    with pytest.raises(ValueError, match="must hold integer actions, got dtype float64"):
        policy_evaluation(mdp, np.zeros(4), 0.5)
    with pytest.raises(ValueError, match=r"policy\[1\] = 2 is not an action in \[0, 2\)"):
        policy_evaluation(mdp, np.array([0, 2, 0, 0]), 0.5)
    uniform = np.full((4, 2), 0.5)
    too_much = uniform.copy()
    too_much[2] = [0.7, 0.7]  # no negative entry, but sums to 1.4
    with pytest.raises(ValueError, match=r"policy\[2\] is not a distribution over actions: \[0.7 0.7\]"):
        policy_evaluation(mdp, too_much, 0.5)
    negative = uniform.copy()
    negative[1] = [1.5, -0.5]  # sums to 1, but a negative probability
    with pytest.raises(ValueError, match=r"policy\[1\] is not a distribution"):
        policy_evaluation(mdp, negative, 0.5)
    with pytest.raises(ValueError, match=r"V must have shape \(4,\), got \(3,\)"):
        q_from_v(mdp, np.zeros(3), 0.5)


def test_policy_model_keeps_the_form_of_the_transition_matrix():
    small = delayed_reward_chain()
    policy = np.full((4, 2), 0.5)
    P_pi, r_pi = policy_model(small, policy)
    assert isinstance(P_pi, np.ndarray)
    np.testing.assert_array_equal(P_pi, 0.5 * small.P[:, 0] + 0.5 * small.P[:, 1])
    np.testing.assert_array_equal(r_pi, [0.0, 0.0, 0.5, 0.0])
    big = sparse_line(DENSE_ENTRIES + 1)  # S * A * S above the dense limit: T stays sparse
    P_pi, r_pi = policy_model(big, np.ones((big.num_states, 1)))
    assert sp.issparse(P_pi) and P_pi.shape == (big.num_states, big.num_states)
    assert P_pi.nnz == big.num_states


# ---------------------------------------------------------------- dense / sparse transition matrices


def test_transition_matrix_is_dense_up_to_dense_entries_and_sparse_beyond():
    assert DENSE_ENTRIES == 1 << 20
    assert isinstance(transition_matrix(line(1024)), np.ndarray)  # 1024 * 1 * 1024 entries: exactly the limit
    assert sp.issparse(transition_matrix(line(1025)))
    assert sp.issparse(transition_matrix(line(1024, num_actions=2)))
    assert isinstance(transition_matrix(line(700, num_actions=2)), np.ndarray)
    assert isinstance(transition_matrix(sparse_line(1024)), np.ndarray)
    assert sp.issparse(transition_matrix(sparse_line(1025)))


def test_big_sparse_models_are_solved_exactly():
    S = 1500
    expected = line_values(S, 0.5)
    for mdp in (line(S), sparse_line(S)):
        np.testing.assert_allclose(policy_evaluation(mdp, np.zeros(S, dtype=int), 0.5), expected, atol=1e-12)
        np.testing.assert_allclose(policy_evaluation(mdp, np.ones((S, 1)), 0.5), expected, atol=1e-12)
        np.testing.assert_allclose(value_iteration(mdp, 0.5).V, expected, atol=1e-7)
        assert policy_evaluation(mdp, np.zeros(S, dtype=int), 1.0)[0] == pytest.approx(S - 1)


# ---------------------------------------------------------------- SparseMDP


def test_sparse_mdp_rejects_malformed_models_with_clear_messages():
    S, A = 3, 2
    ok_T = sp.csr_array(np.tile(np.eye(S), (1, 1)).repeat(A, axis=0))  # row s*A + a -> s
    R, terminal, start = np.zeros((S, A)), np.zeros(S, bool), np.array([1.0, 0, 0])
    SparseMDP(ok_T, R, terminal, start)  # well formed
    with pytest.raises(ValueError, match=r"T must have shape \(S\*A, S\) = \(6, 3\) for R of shape \(3, 2\), "
                                         r"got \(4, 3\)"):
        SparseMDP(sp.csr_array(np.eye(4, 3)), R, terminal, start)
    bad = ok_T.toarray()
    bad[3] = [0.5, 0.5, 0.5]  # row 3 = s 1, a 1
    with pytest.raises(ValueError, match=r"P\[1, 1, :\] is not a probability distribution \(sum 1.5\)"):
        SparseMDP(sp.csr_array(bad), R, terminal, start)
    with pytest.raises(ValueError, match=r"terminal and start must have shape \(3,\)"):
        SparseMDP(ok_T, R, np.zeros(4, bool), start)
    with pytest.raises(ValueError, match=r"terminal and start must have shape \(3,\)"):
        SparseMDP(ok_T, R, terminal, np.array([1.0, 0.0]))


def test_sparse_mdp_accepts_the_same_rounding_in_row_sums_as_the_dense_model():
    # TabularMDP is the reference: both use isclose(sum, 1, atol=1e-9) with numpy's rtol.
    for excess in (5e-10, 1.0005e-5):
        P = np.zeros((2, 1, 2))
        P[0, 0] = [0.5, 0.5 + excess]
        P[1, 0, 1] = 1.0
        args = (np.zeros((2, 1)), np.array([False, True]), np.array([1.0, 0.0]))
        try:
            TabularMDP(P, *args)
            dense_ok = True
        except ValueError:
            dense_ok = False
        try:
            SparseMDP(sp.csr_array(P.reshape(2, 2)), *args)
            sparse_ok = True
        except ValueError:
            sparse_ok = False
        assert sparse_ok == dense_ok, excess
    assert not dense_ok  # the larger excess is rejected by both


def test_from_successors_normalises_dtypes_and_keeps_unreached_states():
    # 0/1 integer tables, as a map compiler might produce them; state 2 is a start state nothing leads to.
    next_states = np.array([[1, 0], [1, 1], [0, 0]])
    probabilities = np.array([[1, 0], [1, 0], [1, 0]])
    rewards = np.array([[1, 0], [0, 0], [0, 0]])
    mdp = SparseMDP.from_successors(next_states, probabilities, rewards, [0, 1, 0], [0, 0, 1])
    assert mdp.T.shape == (3, 3)
    assert mdp.T.dtype == np.float64 and mdp.start.dtype == np.float64 and mdp.terminal.dtype == bool
    np.testing.assert_array_equal(mdp.terminal, [False, True, False])
    result = value_iteration(mdp, 0.5)
    np.testing.assert_array_equal(result.V, [1.0, 0.0, 0.5])


# ---------------------------------------------------------------- reaching goals


def stuck_or_goal() -> tuple[TabularMDP, np.ndarray]:
    """0 -> goal 2 or -> 1 (each 1/2); 1 loops forever; 3 is a hole. One action."""
    P = np.zeros((4, 1, 4))
    P[0, 0, 2] = P[0, 0, 1] = 0.5
    P[1, 0, 1] = P[2, 0, 2] = P[3, 0, 3] = 1.0
    mdp = TabularMDP(P, np.zeros((4, 1)), np.array([False, False, True, True]), np.array([1.0, 0, 0, 0]))
    return mdp, np.array([False, False, True, False])


def test_reach_probabilities_follow_edges_forwards_only():
    # State 1 is linked to state 0 (0 -> 1) but can itself never reach the goal: its probability is 0,
    # and it must not enter the linear system (there it would make the system singular).
    mdp, goal = stuck_or_goal()
    np.testing.assert_array_equal(reach_probabilities(mdp, np.zeros(4, dtype=int), goal), [0.5, 0.0, 1.0, 0.0])


def test_reach_probabilities_horizon_zero_and_input_checks():
    mdp, goal = stuck_or_goal()
    policy = np.zeros(4, dtype=int)
    np.testing.assert_array_equal(reach_probabilities(mdp, policy, goal, horizon=0), goal.astype(float))
    assert success_probability(mdp, policy, goal, horizon=0) == 0.0
    assert optimal_success_probability(mdp, goal, horizon=0) == 0.0
    with pytest.raises(ValueError, match=r"horizon must be >= 0, got -1"):
        reach_probabilities(mdp, policy, goal, horizon=-1)
    with pytest.raises(ValueError, match=r"horizon must be >= 0, got -1"):
        optimal_success_probability(mdp, goal, horizon=-1)
    with pytest.raises(ValueError, match=r"goal must be a bool mask of shape \(4,\), got \(3,\)"):
        reach_probabilities(mdp, policy, goal[:3])
    with pytest.raises(ValueError, match=r"goal must be a bool mask of shape \(4,\), got \(3,\)"):
        optimal_success_probability(mdp, goal[:3])
    with pytest.raises(ValueError, match="goal state 1 is not a terminal state"):
        reach_probabilities(mdp, policy, np.array([False, True, True, False]))


def test_reach_probabilities_accept_a_0_1_mask_of_any_dtype():
    mdp, goal = stuck_or_goal()
    for mask in (goal.astype(np.int64), goal.astype(np.float64)):
        np.testing.assert_array_equal(reach_probabilities(mdp, np.zeros(4, dtype=int), mask), [0.5, 0, 1, 0])


def geometric_goal() -> tuple[TabularMDP, np.ndarray]:
    """From 0, each step reaches the goal 1 with probability 1/2, else stays. The goal's own row leads back
    to 0 (terminal rows are never followed)."""
    P = np.zeros((2, 1, 2))
    P[0, 0] = [0.5, 0.5]
    P[1, 0, 0] = 1.0
    mdp = TabularMDP(P, np.zeros((2, 1)), np.array([False, True]), np.array([1.0, 0.0]))
    return mdp, np.array([False, True])


def test_optimal_success_probability_sweeps_until_the_change_is_below_tol():
    mdp, goal = geometric_goal()
    # Sweep k gives 1 - 2^-k and changes by 2^-k: with tol 1/8 the 4th sweep (change 1/16) is the first below.
    assert optimal_success_probability(mdp, goal, tol=0.125) == 0.9375
    assert optimal_success_probability(mdp, goal) == pytest.approx(1.0, abs=1e-11)
    # With a horizon, exactly that many sweeps, whatever tol says.
    assert optimal_success_probability(mdp, goal, horizon=10, tol=0.125) == 1 - 2.0**-10
    assert optimal_success_probability(mdp, goal, horizon=3) == 0.875
    np.testing.assert_array_equal(reach_probabilities(mdp, np.zeros(2, dtype=int), goal, horizon=3), [0.875, 1.0])


# ---------------------------------------------------------------- best return within a step limit


def test_optimal_return_counts_only_rewards_within_the_horizon():
    mdp = delayed_reward_chain()  # the only reward is three moves away from the start
    assert [optimal_return(mdp, h) for h in range(5)] == [0.0, 0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="horizon must be >= 0, got -1"):
        optimal_return(mdp, -1)


def test_optimal_return_equals_the_best_time_dependent_plan_by_brute_force():
    import itertools

    rng = np.random.default_rng(1)
    S, A, H = 3, 2, 3  # states 0, 1 live, 2 terminal (its reward and its row must never count)
    P = np.zeros((S, A, S))
    P[:2] = rng.dirichlet(np.ones(S), size=(2, A))
    P[2, :, 0] = 1.0  # a terminal row pointing back into the live states
    R = rng.normal(size=(S, A))
    mdp = TabularMDP(P, R, np.array([False, False, True]), np.array([0.5, 0.5, 0.0]))

    def expected_return(plan):  # plan[t][s]: the action at time t in live state s
        dist, total = mdp.start.copy(), 0.0
        for t in range(H):
            step = np.zeros(S)
            for s in (0, 1):
                total += dist[s] * R[s, plan[t][s]]
                step += dist[s] * P[s, plan[t][s]]
            dist = step * np.array([1.0, 1.0, 0.0])  # mass that entered the terminal state is done
        return total

    plans = itertools.product(itertools.product(range(A), repeat=2), repeat=H)
    best = max(expected_return(plan) for plan in plans)
    assert optimal_return(mdp, H) == pytest.approx(best, abs=1e-12)


def test_reach_probabilities_stay_probabilities_when_the_exact_answer_is_one():
    # One terminal state, the goal, reachable from everywhere: every probability is exactly 1, and the linear
    # solve lands a few ulps above 1 on some of these models; the result must still be a probability.
    rng = np.random.default_rng(0)
    for _ in range(10):
        S = int(rng.integers(3, 10))
        P = rng.dirichlet(np.full(S, 0.5), size=(S, 2))
        terminal = np.zeros(S, bool)
        terminal[-1] = True
        P[-1] = 0.0
        P[-1, :, -1] = 1.0
        mdp = TabularMDP(P, np.zeros((S, 2)), terminal, np.eye(S)[0])
        probability = reach_probabilities(mdp, rng.integers(0, 2, S), terminal)
        assert ((probability >= 0.0) & (probability <= 1.0)).all()
        np.testing.assert_allclose(probability, 1.0, atol=1e-12)

"""Exact planners: value and policy iteration agree, match a plain loop and published values; policy
evaluation and success probabilities match independent computations (linear algebra, Monte Carlo)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the mdparcade ids)
from agents.env_models import exact_model, goal_mask
from agents.planning import (
    SparseMDP,
    greedy_policy,
    optimal_success_probability,
    policy_evaluation,
    policy_iteration,
    q_from_v,
    reach_probabilities,
    success_probability,
    value_iteration,
)
from envs.classic_mdps import gamblers_problem, garnet
from envs.tabular_mdp import TabularMDP

GRIDWORLDS = ["FrozenLake8x8", "CliffWalking", "RussellNorvig4x3", "FourRooms", "Maze", "Corridor"]
# VI stops on a sweep change below tol, so its V is within gamma * tol / (1 - gamma) of V*; a tight tol
# keeps that far below the 1e-6 the comparisons allow.
TIGHT = 1e-11


def make(name: str, **kwargs) -> gym.Env:
    return gym.make(f"mdparcade/{name}-v0", **kwargs)


def value_iteration_loop(P: dict, terminal: np.ndarray, gamma: float, tol: float) -> np.ndarray:
    """Textbook value iteration over Gymnasium's P dict, one state at a time (Sutton & Barto 4.4)."""
    V = np.zeros(len(P))
    while True:
        delta = 0.0
        new_V = V.copy()
        for s in P:
            if terminal[s]:
                continue
            best = max(sum(p * (r + gamma * V[s2]) for p, s2, r, _ in P[s][a]) for a in P[s])
            delta = max(delta, abs(best - V[s]))
            new_V[s] = best
        V = new_V
        if delta < tol:
            return V


def chain_mdp() -> TabularMDP:
    """0 -> 1 -> 2 (terminal), reward 1 per move; action 1 stays put."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[1, 0, 2] = 1.0
    P[0, 1, 0] = P[1, 1, 1] = 1.0
    P[2, :, 2] = 1.0
    R = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    return TabularMDP(P, R, np.array([False, False, True]), np.array([1.0, 0.0, 0.0]))


@pytest.mark.parametrize("name", GRIDWORLDS)
@pytest.mark.parametrize("gamma", [0.9, 0.99])
def test_value_and_policy_iteration_agree_on_builtin_maps(name, gamma):
    mdp = make(name).unwrapped.mdp
    vi = value_iteration(mdp, gamma, tol=TIGHT)
    pi = policy_iteration(mdp, gamma)
    assert np.abs(vi.V - pi.V).max() < 1e-6
    # Each greedy policy is optimal: its exact value is V*.
    assert np.abs(policy_evaluation(mdp, vi.policy, gamma) - vi.V).max() < 1e-6
    assert np.abs(policy_evaluation(mdp, pi.policy, gamma) - vi.V).max() < 1e-6
    assert np.all(vi.V[mdp.terminal] == 0) and np.all(pi.V[mdp.terminal] == 0)


def test_value_and_policy_iteration_agree_on_100_garnets():
    for seed in range(100):
        mdp = garnet(num_states=20, num_actions=3, branching=3, seed=seed)
        vi = value_iteration(mdp, 0.9, tol=1e-10)  # within 1e-9 of V*
        pi = policy_iteration(mdp, 0.9)
        assert np.abs(vi.V - pi.V).max() < 1e-6, f"garnet seed {seed}"
        assert np.abs(policy_evaluation(mdp, vi.policy, 0.9) - vi.V).max() < 1e-6, f"garnet seed {seed}"


def test_value_iteration_matches_a_per_state_python_loop_on_a_maze():
    env = make("Maze")
    vectorized = value_iteration(env.unwrapped.mdp, 0.95, tol=1e-12)
    looped = value_iteration_loop(env.unwrapped.P, env.unwrapped.mdp.terminal, 0.95, tol=1e-12)
    np.testing.assert_allclose(vectorized.V, looped, atol=1e-9)


def test_russell_norvig_4x3_matches_the_books_utilities():
    # Russell & Norvig Figure 17.3 (gamma 1, -0.04 per state). The book charges R(s) in every state,
    # terminal +1 included, so its U(s) is our V(s) plus one more -0.04 for the state itself.
    mdp = make("RussellNorvig4x3").unwrapped.mdp
    V = value_iteration(mdp, 1.0, tol=1e-12).V.reshape(3, 4)
    V[1, 1] = np.nan  # the obstacle
    book = np.array([[0.812, 0.868, 0.918], [0.762, np.nan, 0.660], [0.705, 0.655, 0.611]])
    np.testing.assert_allclose(V[:, :3] - 0.04, book, atol=6e-4, equal_nan=True)
    assert abs(V[2, 3] - 0.04 - 0.388) < 6e-4


def test_gamblers_problem_value_is_the_probability_of_winning():
    # S&B Example 4.3: with p_h = 0.4 the optimal win probability from capital 50 is p_h (one all-in bet).
    mdp = gamblers_problem(p_heads=0.4, goal=100)
    result = value_iteration(mdp, 1.0, tol=1e-12)
    assert result.V[50] == pytest.approx(0.4, abs=1e-9)
    assert np.all(np.diff(result.V[1:100]) > 0)  # more capital, better odds


def test_policy_evaluation_exact_iterative_and_dense_solve_agree_for_a_stochastic_policy():
    mdp = make("FrozenLake8x8").unwrapped.mdp
    policy = np.random.default_rng(0).dirichlet(np.ones(4), size=mdp.num_states)
    exact = policy_evaluation(mdp, policy, 0.9, method="exact")
    iterative = policy_evaluation(mdp, policy, 0.9, method="iterative", tol=1e-13)
    # Independent: dense solve of V = r_pi + gamma P_pi V with terminal rows zeroed.
    P_pi = np.einsum("sa,sat->st", policy, mdp.P) * ~mdp.terminal[:, None]
    r_pi = (policy * mdp.R).sum(axis=1) * ~mdp.terminal
    dense = np.linalg.solve(np.eye(mdp.num_states) - 0.9 * P_pi, r_pi)
    np.testing.assert_allclose(exact, dense, atol=1e-10)
    np.testing.assert_allclose(iterative, dense, atol=1e-10)


def test_q_from_v_and_greedy_policy():
    mdp = chain_mdp()
    Q = q_from_v(mdp, np.array([2.0, 1.0, 0.0]), gamma=0.5)
    np.testing.assert_allclose(Q, [[1.5, 1.0], [1.0, 0.5], [0.0, 0.0]])
    assert greedy_policy(Q).tolist() == [0, 0, 0]
    # Ties within atol go to the current action if it is tied, else to the lowest index.
    tied = np.array([[1.0, 1.0 + 1e-12], [0.0, 1.0]])
    assert greedy_policy(tied).tolist() == [0, 1]
    assert greedy_policy(tied, current=np.array([1, 0])).tolist() == [1, 1]


def test_sparse_model_from_successor_tables_matches_the_dense_model():
    env = make("FrozenLake8x8")
    dense, sparse = env.unwrapped.mdp, exact_model(env)
    assert isinstance(sparse, SparseMDP)
    np.testing.assert_allclose(sparse.T.toarray().reshape(dense.P.shape), dense.P)
    np.testing.assert_allclose(sparse.R, dense.R)
    np.testing.assert_allclose(value_iteration(sparse, 0.99).V, value_iteration(dense, 0.99).V, atol=1e-12)


def test_exact_success_probability_matches_monte_carlo_on_frozen_lake():
    # The registered env truncates after 200 steps, so the rollouts measure "goal within 200 steps" and
    # the exact figure uses the same horizon; without the limit it is higher (slow-but-safe detours).
    env = make("FrozenLake8x8")
    mdp, goal = env.unwrapped.mdp, goal_mask(env)
    policy = value_iteration(mdp, 0.99).policy
    exact_200 = success_probability(mdp, policy, goal, horizon=200)
    exact_unlimited = success_probability(mdp, policy, goal)
    assert exact_200 < exact_unlimited

    episodes = 10_000
    vec = gym.make_vec("mdparcade/FrozenLake8x8-v0", num_envs=episodes,
                       vectorization_mode="vector_entry_point")
    obs, _ = vec.reset(seed=123)
    finished = np.zeros(episodes, dtype=bool)
    reached = np.zeros(episodes, dtype=bool)
    while not finished.all():
        obs, reward, terminated, truncated, _ = vec.step(policy[obs])
        reached |= ~finished & (reward > 0)
        finished |= terminated | truncated
    assert abs(reached.mean() - exact_200) < 0.01


def test_reach_probabilities_on_a_chain():
    mdp = chain_mdp()
    goal = np.array([False, False, True])
    assert reach_probabilities(mdp, np.array([0, 0, 0]), goal).tolist() == [1.0, 1.0, 1.0]
    assert reach_probabilities(mdp, np.array([0, 0, 0]), goal, horizon=1).tolist() == [0.0, 1.0, 1.0]
    # Staying put forever never reaches the goal (the linear system alone would be singular here), and
    # with gamma = 1 it is still worth exactly 0 because staying earns nothing.
    assert reach_probabilities(mdp, np.array([1, 1, 0]), goal).tolist() == [0.0, 0.0, 1.0]
    assert policy_evaluation(mdp, np.array([1, 1, 0]), 1.0).tolist() == [0.0, 0.0, 0.0]
    assert policy_evaluation(mdp, np.array([0, 1, 0]), 1.0).tolist() == [1.0, 0.0, 0.0]
    # Half the time move on: from 0 the goal is still reached with probability 1.
    half = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(reach_probabilities(mdp, half, goal), [1.0, 1.0, 1.0])
    assert success_probability(mdp, half, goal, horizon=2) == pytest.approx(0.25)


def test_bad_inputs_raise_clear_value_errors():
    mdp = chain_mdp()
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(mdp, 1.5)
    with pytest.raises(ValueError, match=r"policy\[1\] = 7"):
        policy_evaluation(mdp, np.array([0, 7, 0]), 0.9)
    with pytest.raises(ValueError, match="shape"):
        policy_evaluation(mdp, np.zeros(5, dtype=int), 0.9)
    with pytest.raises(ValueError, match="not a terminal state"):
        success_probability(mdp, np.zeros(3, dtype=int), np.array([True, False, False]))
    with pytest.raises(ValueError, match="method"):
        policy_evaluation(mdp, np.zeros(3, dtype=int), 0.9, method="magic")


def test_policy_iteration_with_gamma_one_needs_a_proper_start():
    mdp = make("CliffWalking").unwrapped.mdp
    with pytest.raises(ValueError, match="never reaches a terminal state"):
        policy_iteration(mdp, 1.0)  # "always left" never leaves the start column
    vi = value_iteration(mdp, 1.0)
    pi = policy_iteration(mdp, 1.0, initial_policy=vi.policy)
    assert mdp.start @ pi.V == pytest.approx(-13.0)  # S&B Example 6.6: the 13-step path along the cliff


def test_optimal_success_within_a_horizon_equals_the_best_time_dependent_policy_by_brute_force():
    import itertools

    rng = np.random.default_rng(0)
    S, A, H = 4, 2, 3  # states 0, 1 live; 2 goal; 3 hole
    P = np.zeros((S, A, S))
    P[:2] = rng.dirichlet(np.ones(S), size=(2, A))
    P[2:, :, :] = np.eye(S)[2:, None, :]
    mdp = TabularMDP(P=P, R=np.zeros((S, A)), terminal=np.array([False, False, True, True]),
                     start=np.array([1.0, 0.0, 0.0, 0.0]))
    goal = np.array([False, False, True, False])

    def success(plan):  # plan[t][s]: the action at time t in live state s
        dist, reached = mdp.start.copy(), 0.0
        for t in range(H):
            nxt = np.zeros(S)
            for s in (0, 1):
                nxt += dist[s] * P[s, plan[t][s]]
            reached += nxt[2]
            dist = nxt * np.array([1, 1, 0, 0])
        return reached

    plans = itertools.product(itertools.product(range(A), repeat=2), repeat=H)
    best = max(success(plan) for plan in plans)
    assert optimal_success_probability(mdp, goal, horizon=H) == pytest.approx(best, abs=1e-12)
    # Every stationary policy does at most as well, and the unlimited optimum at least as well.
    for policy in itertools.product(range(A), repeat=S):
        assert success_probability(mdp, np.array(policy), goal, horizon=H) <= best + 1e-12
    assert optimal_success_probability(mdp, goal) >= best


def test_frozenlake_optimal_success_within_its_step_limit():
    env = gym.make("mdparcade/FrozenLake8x8-v0")
    best = optimal_success_probability(env.unwrapped.mdp, goal_mask(env), horizon=200)
    assert best == pytest.approx(0.9132, abs=1e-4)

"""Exact planning on a TabularMDP: value iteration, policy iteration, policy evaluation, success probability.

Every sweep is one sparse matrix-vector product over all (state, action) pairs; no Python loop over states.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from envs.tabular_mdp import TabularMDP

# Gridworld models are very sparse (a handful of successors per state-action pair), so one sweep is a
# sparse matrix-vector product with T = P reshaped to (S*A, S'): a 100x100 maze has ~4e4 non-zeros where a
# dense tensordot would touch 4e8 entries.


@dataclass(frozen=True)
class PlanningResult:
    """V: (S,) state values; Q: (S, A) action values; policy: (S,) greedy action per state (int64);
    iterations: sweeps (value iteration) or improvement steps (policy iteration); residual: the last
    sup-norm Bellman residual; wall_time: seconds."""

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    iterations: int
    residual: float
    wall_time: float


@dataclass(frozen=True)
class SparseMDP:
    """A TabularMDP whose P is stored sparse, for models too big for a dense P[S, A, S'] (a 100x100 maze).

    T: (S*A, S') sparse, row s*A + a holds P[s, a, :]; R: (S, A); terminal: (S,) bool; start: (S,).
    Every planner here accepts a SparseMDP wherever it accepts a TabularMDP.
    """

    T: sp.csr_array
    R: np.ndarray
    terminal: np.ndarray
    start: np.ndarray

    def __post_init__(self):
        S, A = np.shape(self.R)
        if self.T.shape != (S * A, S):
            raise ValueError(f"T must have shape (S*A, S) = {(S * A, S)} for R of shape {(S, A)}, "
                             f"got {self.T.shape}")
        row_sums = np.asarray(self.T.sum(axis=1)).ravel()
        bad = np.flatnonzero(~np.isclose(row_sums, 1.0, atol=1e-9))
        if len(bad):
            s, a = divmod(int(bad[0]), A)
            raise ValueError(f"P[{s}, {a}, :] is not a probability distribution (sum {row_sums[bad[0]]:.6g})")
        if np.shape(self.terminal) != (S,) or np.shape(self.start) != (S,):
            raise ValueError(f"terminal and start must have shape ({S},)")

    @property
    def num_states(self) -> int:
        return self.T.shape[1]

    @property
    def num_actions(self) -> int:
        return self.T.shape[0] // self.T.shape[1]

    @classmethod
    def from_successors(cls, next_states: np.ndarray, probabilities: np.ndarray, rewards: np.ndarray,
                        terminal: np.ndarray, start: np.ndarray) -> SparseMDP:
        """From padded successor tables, each (S*A, B): entry k of row s*A + a is a next state, its
        probability (0 for padding) and the reward of that transition."""
        next_states, probabilities = np.asarray(next_states), np.asarray(probabilities, dtype=np.float64)
        rows, width = next_states.shape
        S = len(terminal)
        row_index = np.repeat(np.arange(rows), width)
        T = sp.csr_array((probabilities.ravel(), (row_index, next_states.ravel())), shape=(rows, S))
        T.eliminate_zeros()  # duplicates were summed by the constructor; padding holds zeros
        R = (probabilities * np.asarray(rewards, dtype=np.float64)).sum(axis=1).reshape(S, rows // S)
        return cls(T, R, np.asarray(terminal, dtype=bool), np.asarray(start, dtype=np.float64))


#: Any model the planners accept.
Model = TabularMDP | SparseMDP
#: P as an action-major (A*S, S') matrix, dense or sparse: both support `T @ V` and row indexing.
Transitions = np.ndarray | sp.csr_array
# Up to this many entries of P (8 MB) a dense matrix-vector product beats scipy's per-call overhead.
DENSE_ENTRIES = 1 << 20


def transition_matrix(mdp: Model) -> Transitions:
    """P as an (A*S, S') matrix, row a*S + s holding P[s, a, :]: dense for small models, sparse for big.

    Action-major, so that a sweep's Q comes out as (A, S) and its max over actions runs along contiguous
    rows: numpy's max over the short last axis of an (S, A) array is some 30 times slower.
    """
    S, A = mdp.num_states, mdp.num_actions
    small = S * A * S <= DENSE_ENTRIES
    if isinstance(mdp, SparseMDP):
        by_action = np.arange(S * A).reshape(S, A).T.ravel()  # row a*S + s <- row s*A + a
        T = mdp.T[by_action]
        return T.toarray() if small else T
    P = np.ascontiguousarray(mdp.P.transpose(1, 0, 2)).reshape(A * S, S)
    return P if small else sp.csr_array(P)


def _check_gamma(gamma: float) -> float:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    return float(gamma)


def q_from_v(mdp: Model, V: np.ndarray, gamma: float, T: Transitions | None = None) -> np.ndarray:
    """Q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] V[s'], with Q = 0 in terminal states.

    V: (S,); returns (S, A). Pass `T = transition_matrix(mdp)` to reuse it across calls.
    """
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (mdp.num_states,):
        raise ValueError(f"V must have shape ({mdp.num_states},), got {V.shape}")
    T = transition_matrix(mdp) if T is None else T
    return _Backup(mdp, T, _check_gamma(gamma))(V).T.copy()


class _Backup:
    """The inner step of every sweep, its constants prepared once: V (S,) -> Q by action (A, S)."""

    def __init__(self, mdp: Model, T: Transitions, gamma: float):
        self.T, self.gamma = T, gamma
        self.shape = (mdp.num_actions, mdp.num_states)
        self.R = np.ascontiguousarray(mdp.R.T)
        self.live = (~mdp.terminal).astype(np.float64)  # zeroes terminal states' Q

    def __call__(self, V: np.ndarray) -> np.ndarray:
        Q = self.gamma * (self.T @ V).reshape(self.shape)
        Q += self.R
        Q *= self.live
        return Q


def greedy_policy(Q: np.ndarray, current: np.ndarray | None = None, atol: float = 1e-9) -> np.ndarray:
    """argmax_a Q[s, a] per state (Q: (S, A) -> (S,) int64). Actions within `atol` of the best count as
    tied: the lowest tied index wins, or `current[s]` if it is among the tied ones (so policy iteration
    never flips between equally good actions)."""
    Q = np.asarray(Q, dtype=np.float64)
    tied = Q >= Q.max(axis=1, keepdims=True) - atol
    policy = np.argmax(tied, axis=1)
    if current is not None:
        keep = tied[np.arange(len(Q)), current]
        policy = np.where(keep, current, policy)
    return policy.astype(np.int64)


def value_iteration(mdp: Model, gamma: float, tol: float = 1e-8,
                    max_iterations: int = 100_000) -> PlanningResult:
    """Sweep V <- max_a (R + gamma P V) until the sup-norm change of a sweep is below `tol`.

    With gamma < 1 the returned V is within gamma * tol / (1 - gamma) of V*. Terminal states have V = 0.
    """
    gamma = _check_gamma(gamma)
    started = time.perf_counter()
    T = transition_matrix(mdp)
    backup = _Backup(mdp, T, gamma)
    V = np.zeros(mdp.num_states)
    residual, iterations = np.inf, 0
    while residual >= tol and iterations < max_iterations:
        V_new = backup(V).max(axis=0)
        residual = float(np.abs(V_new - V).max())
        V, iterations = V_new, iterations + 1
    if residual >= tol:
        warnings.warn(f"value iteration stopped after {iterations} sweeps with residual {residual:.3g} >= "
                      f"tol {tol:.3g}", RuntimeWarning, stacklevel=2)
    Q = q_from_v(mdp, V, gamma, T)
    return PlanningResult(V, Q, greedy_policy(Q), iterations, residual, time.perf_counter() - started)


def policy_iteration(mdp: Model, gamma: float, tol: float = 1e-8, max_iterations: int = 10_000,
                     initial_policy: np.ndarray | None = None, evaluation: str = "exact") -> PlanningResult:
    """Alternate exact policy evaluation and greedy improvement until the policy is stable.

    Also stops when the values of two successive policies differ by less than `tol` (ties that
    floating-point noise would otherwise flip forever). With gamma = 1 every policy met on the way must reach
    a terminal state; pass a proper `initial_policy` (e.g. from value iteration) or use gamma < 1.
    """
    gamma = _check_gamma(gamma)
    started = time.perf_counter()
    T = transition_matrix(mdp)
    policy = np.zeros(mdp.num_states, np.int64)
    if initial_policy is not None:
        policy = _check_policy(mdp, initial_policy)
        if policy.ndim != 1:
            raise ValueError("initial_policy must be deterministic: one action per state, shape (S,)")
    V_previous, iterations = None, 0
    while True:
        V = policy_evaluation(mdp, policy, gamma, method=evaluation, T=T)
        Q = q_from_v(mdp, V, gamma, T)
        improved = greedy_policy(Q, current=policy)
        iterations += 1
        values_settled = V_previous is not None and np.abs(V - V_previous).max() < tol
        if np.array_equal(improved, policy) or values_settled:
            break
        if iterations >= max_iterations:
            warnings.warn(f"policy iteration stopped after {iterations} improvements with the policy still "
                          "changing", RuntimeWarning, stacklevel=2)
            break
        policy, V_previous = improved, V
    residual = float(np.abs(Q.max(axis=1) - V).max())
    return PlanningResult(V, Q, policy, iterations, residual, time.perf_counter() - started)


def _check_policy(mdp: Model, policy: np.ndarray) -> np.ndarray:
    """A deterministic (S,) int policy or a stochastic (S, A) one, validated."""
    policy = np.asarray(policy)
    S, A = mdp.num_states, mdp.num_actions
    if policy.shape == (S,):
        if not np.issubdtype(policy.dtype, np.integer):
            raise ValueError(f"a deterministic policy must hold integer actions, got dtype {policy.dtype}")
        bad = np.flatnonzero((policy < 0) | (policy >= A))
        if len(bad):
            raise ValueError(f"policy[{bad[0]}] = {policy[bad[0]]} is not an action in [0, {A})")
        return policy.astype(np.int64)
    if policy.shape == (S, A):
        policy = policy.astype(np.float64)
        bad = np.flatnonzero((policy < 0).any(axis=1) | ~np.isclose(policy.sum(axis=1), 1.0))
        if len(bad):
            raise ValueError(f"policy[{bad[0]}] is not a distribution over actions: {policy[bad[0]]}")
        return policy
    raise ValueError(f"policy must have shape ({S},) (actions) or ({S}, {A}) (probabilities), "
                     f"got {policy.shape}")


def policy_model(mdp: Model, policy: np.ndarray,
                 T: Transitions | None = None) -> tuple[Transitions, np.ndarray]:
    """The Markov chain a policy induces: P_pi (S, S), dense or sparse like T, and r_pi (S,)."""
    policy = _check_policy(mdp, policy)
    S, A = mdp.num_states, mdp.num_actions
    T = transition_matrix(mdp) if T is None else T
    states = np.arange(S)
    if policy.ndim == 1:
        return T[policy * S + states], mdp.R[states, policy]
    columns = (np.arange(A)[None, :] * S + states[:, None]).ravel()  # (s, a) -> row a*S + s of T
    weights = sp.csr_array((policy.ravel(), (np.repeat(states, A), columns)), shape=(S, S * A))
    P_pi = weights @ T  # sparse @ dense gives dense, sparse @ sparse sparse
    return (sp.csr_array(P_pi) if sp.issparse(P_pi) else P_pi), (policy * mdp.R).sum(axis=1)


def policy_evaluation(mdp: Model, policy: np.ndarray, gamma: float, method: str = "exact",
                      tol: float = 1e-10, max_iterations: int = 100_000,
                      T: Transitions | None = None) -> np.ndarray:
    """V_pi: (S,), for a deterministic (S,) or stochastic (S, A) policy; terminal states' values are 0.

    method "exact" solves (I - gamma P_pi) V = r_pi over the non-terminal states; "iterative" sweeps
    V <- r_pi + gamma P_pi V until the sup-norm change is below `tol`.
    """
    gamma = _check_gamma(gamma)
    P_pi, r_pi = policy_model(mdp, policy, T)
    live = ~mdp.terminal
    if method == "iterative":
        V = np.zeros(mdp.num_states)
        for _ in range(max_iterations):
            V_new = np.where(live, r_pi + gamma * (P_pi @ V), 0.0)
            if np.abs(V_new - V).max() < tol:
                return V_new
            V = V_new
        raise ValueError(f"iterative policy evaluation did not converge in {max_iterations} sweeps "
                         f"(gamma {gamma}); the policy may never reach a terminal state")
    if method != "exact":
        raise ValueError(f"method must be 'exact' or 'iterative', got {method!r}")
    solvable = live
    if gamma == 1.0:
        # A closed class of non-terminal states is never left: its values are finite only if it earns
        # nothing (then they are 0). Without those classes every state is transient and the system solvable.
        trapped = live & _closed_classes(P_pi)
        paying = np.flatnonzero(trapped & (r_pi != 0))
        if len(paying):
            raise ValueError(f"with gamma = 1 the policy's values are unbounded: state {paying[0]} (and "
                             f"{len(paying) - 1} more) never reaches a terminal state but keeps collecting "
                             "reward; use gamma < 1 or a policy that ends episodes")
        solvable = live & ~trapped
    V = np.zeros(mdp.num_states)
    V[solvable] = _solve_live(P_pi, r_pi, solvable, gamma)
    return V


def _solve_live(P_pi: Transitions, b: np.ndarray, live: np.ndarray, gamma: float) -> np.ndarray:
    """Solve (I - gamma P_pi[live, live]) x = b[live]."""
    index = np.flatnonzero(live)
    if len(index) == 0:
        return np.zeros(0)
    block = P_pi[index][:, index] if sp.issparse(P_pi) else P_pi[np.ix_(index, index)]
    # Gridworld chains have a few non-zeros per row: a sparse LU is far cheaper than a dense one there.
    if not sp.issparse(block) and np.count_nonzero(block) > 0.2 * block.size:
        return np.linalg.solve(np.eye(len(index)) - gamma * block, b[index])
    A = sp.identity(len(index), format="csc") - gamma * sp.csc_array(block)
    return np.atleast_1d(spla.spsolve(A, b[index]))


def _closed_classes(P_pi: Transitions) -> np.ndarray:
    """(S,) bool: states in a closed communicating class (a strongly connected set the chain never leaves)."""
    graph = sp.csr_array(P_pi)
    _, labels = csgraph.connected_components(graph, directed=True, connection="strong")
    edges = sp.coo_array(graph)
    leaving = (edges.data > 0) & (labels[edges.row] != labels[edges.col])
    leaky = np.zeros(labels.max() + 1, dtype=bool)
    leaky[labels[edges.row[leaving]]] = True
    return ~leaky[labels]


def _can_reach(P_pi: Transitions, targets: np.ndarray) -> np.ndarray:
    """(S,) bool: from which states the chain reaches a `targets` state with positive probability."""
    S = P_pi.shape[0]
    # Breadth-first search backwards from an extra node S that every target points to.
    edges = sp.coo_array(P_pi)
    keep = edges.data > 0
    target_index = np.flatnonzero(targets)
    rows = np.concatenate([edges.col[keep], np.full(len(target_index), S)])
    cols = np.concatenate([edges.row[keep], target_index])
    reverse = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(S + 1, S + 1))
    reached = csgraph.breadth_first_order(reverse, S, directed=True, return_predecessors=False)
    mask = np.zeros(S + 1, dtype=bool)
    mask[reached] = True
    return mask[:S]


def reach_probabilities(mdp: Model, policy: np.ndarray, goal: np.ndarray,
                        horizon: int | None = None) -> np.ndarray:
    """(S,): probability, from each state, of ever entering a `goal` state (undiscounted) under `policy`.

    goal: (S,) bool, a subset of the terminal states. Other terminal states count as failure. With
    `horizon`, only goals entered within that many steps count (an env's step limit). Without it, states
    that cannot reach a goal get 0 and the rest solve one linear system (which is then non-singular).
    """
    goal = np.asarray(goal, dtype=bool)
    if goal.shape != (mdp.num_states,):
        raise ValueError(f"goal must be a bool mask of shape ({mdp.num_states},), got {goal.shape}")
    if (goal & ~mdp.terminal).any():
        raise ValueError(f"goal state {np.flatnonzero(goal & ~mdp.terminal)[0]} is not a terminal state")
    P_pi, _ = policy_model(mdp, policy)
    live = ~mdp.terminal
    if horizon is not None:
        if horizon < 0:
            raise ValueError(f"horizon must be >= 0, got {horizon}")
        probability = goal.astype(np.float64)
        for _ in range(horizon):
            probability = np.where(live, P_pi @ probability, probability)
        return probability
    unsure = live & _can_reach(P_pi, goal)
    probability = goal.astype(np.float64)
    probability[unsure] = _solve_live(P_pi, P_pi @ probability, unsure, 1.0)
    return np.clip(probability, 0.0, 1.0)


def success_probability(mdp: Model, policy: np.ndarray, goal: np.ndarray,
                        horizon: int | None = None) -> float:
    """Probability that an episode started from `mdp.start` enters a goal state (see reach_probabilities)."""
    return float(mdp.start @ reach_probabilities(mdp, policy, goal, horizon))


def optimal_success_probability(mdp: Model, goal: np.ndarray, horizon: int | None = None,
                                tol: float = 1e-12, max_iterations: int = 1_000_000) -> float:
    """The highest probability, over all (time-dependent) policies, of entering a goal within `horizon` steps
    from `mdp.start`, by backward induction: p_0 = [goal], p_{k+1}(s) = max_a sum_s' P(s, a, s') p_k(s') on
    non-terminal states. Without `horizon`, the sweeps run until they change by less than `tol`."""
    goal = np.asarray(goal, dtype=bool)
    if goal.shape != (mdp.num_states,):
        raise ValueError(f"goal must be a bool mask of shape ({mdp.num_states},), got {goal.shape}")
    if horizon is not None and horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    T = transition_matrix(mdp)
    live = ~np.asarray(mdp.terminal, dtype=bool)
    probability = goal.astype(np.float64)
    sweeps = horizon if horizon is not None else max_iterations
    for _ in range(sweeps):
        backed_up = np.asarray(T @ probability).reshape(mdp.num_actions, mdp.num_states).max(axis=0)
        updated = np.where(live, backed_up, probability)
        change = np.abs(updated - probability).max()
        probability = updated
        if horizon is None and change < tol:
            break
    return float(mdp.start @ probability)


def optimal_return(mdp: Model, horizon: int) -> float:
    """The highest expected undiscounted return within `horizon` steps from `mdp.start`, over all
    (time-dependent) policies, by backward induction: V_0 = 0, V_{k+1} = max_a R + P V_k (0 in terminal
    states). What an evaluator that sums rewards until the step limit can see of the best policy."""
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    T = transition_matrix(mdp)
    backup = _Backup(mdp, T, 1.0)
    V = np.zeros(mdp.num_states)
    for _ in range(horizon):
        V = backup(V).max(axis=0)
    return float(mdp.start @ V)

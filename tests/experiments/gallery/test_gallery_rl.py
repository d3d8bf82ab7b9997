"""The concept gallery's reinforcement-learning scripts (evolution vs gradient descent, the MDP as a state
machine, the agent-environment loop, when not to use ML): each claim checked on the numbers main() returns,
against a computation made here (Russell & Norvig's published utilities, transitions written out by hand, a
dense value iteration, exact linear solves, a random walk worked out by dynamic programming)."""

from __future__ import annotations

import importlib
import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from gallery_listing import listed_names

import envs  # noqa: F401  (registers the mdparcade/... ids)
from agents.evaluation import EVAL_SEED

RL_SCRIPTS = ("evolution_vs_gradient_descent", "mdp_state_machine", "agent_env_loop", "when_not_to_use_ml")


def module(name: str):
    return importlib.import_module(f"experiments.gallery.{name}")


def test_rl_scripts_are_listed_with_concept_and_claim(capsys):
    assert len(listed_names(RL_SCRIPTS, capsys)) >= 41


# ----------------------------------------------------------------------------------- evolution vs gradient descent


def mlp_weights(hidden: tuple[int, ...], inputs: int = 4, outputs: int = 2) -> int:
    widths = (inputs, *hidden, outputs)
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


def test_population_evaluates_each_weight_vector_like_its_own_net():
    evo = module("evolution_vs_gradient_descent")
    torch.manual_seed(0)
    net = evo.policy_net((8, 8))
    population = evo.Population(net)
    assert population.size == mlp_weights((8, 8)) == evo.count_parameters(net)
    flat = torch.randn(3, population.size)
    x = torch.randn(3, 5, 4)
    together = population.outputs(flat, x)
    for i in range(3):
        torch.nn.utils.vector_to_parameters(flat[i], net.parameters())
        with torch.no_grad():
            torch.testing.assert_close(together[i], net(x[i]))


def test_population_episodes_match_single_envs_from_the_same_start():
    evo = module("evolution_vs_gradient_descent")
    torch.manual_seed(1)
    net = evo.policy_net((4, 4))
    population = evo.Population(net)
    copies = 8
    weights = np.random.default_rng(1).normal(size=(copies, population.size))
    vec = gym.make_vec("CartPole-v1", copies, vectorization_mode="vector_entry_point")
    lengths = evo.play_population(population, weights, vec, seed=7)
    assert lengths.max() > 50 and len(set(lengths.tolist())) > 3  # episodes of different lengths
    vec.reset(seed=7)
    starts = np.array(vec.unwrapped.state).reshape(4, copies).T  # (4, N) in the vector env
    for i in range(copies):
        torch.nn.utils.vector_to_parameters(torch.as_tensor(weights[i], dtype=torch.float32), net.parameters())
        env = gym.make("CartPole-v1")
        env.reset(seed=0)  # then start from copy i's state instead
        env.unwrapped.state = starts[i].copy()
        obs, length, done = np.array(starts[i], dtype=np.float32), 0, False
        while not done:
            with torch.no_grad():
                action = int(net(torch.as_tensor(obs)).argmax())
            obs, _, terminated, truncated, _ = env.step(action)
            length += 1
            done = terminated or truncated
        assert lengths[i] == length, i


def test_evolution_gradient_estimate_aim_fades_as_one_over_sqrt_n():
    evo = module("evolution_vs_gradient_descent")
    config = evo.EvolutionConfig()
    cosines = []
    for hidden in config.hidden_sizes:
        a = evo.gradient_alignment(hidden, config)
        n, m = mlp_weights(hidden), config.alignment_pairs
        assert a["parameters"] == n
        # E||g||^2 = ||grad||^2 (m + n + 1) / m for the antithetic Gaussian estimate of a (locally linear) loss.
        assert a["cosine_mean"] == pytest.approx(math.sqrt(m / (m + n + 1)), rel=0.15), hidden
        cosines.append(a["cosine_mean"])
    assert cosines[0] > 0.5 and cosines[-1] < 0.12 and cosines == sorted(cosines, reverse=True)


def test_evolution_pipeline_small_budget():
    evo = module("evolution_vs_gradient_descent")
    config = evo.EvolutionConfig(hidden_sizes=((4, 4),), max_generations=2, ppo_max_steps=2048, alignment_draws=2)
    r = evo.run(config)["sizes"]["4x4"]
    assert r["cem"]["parameters"] == r["ppo"]["parameters"] == r["alignment"]["parameters"] == 50
    cem = r["cem"]
    assert len(cem["curve"]) == cem["generations"] <= 2
    assert cem["curve"][-1][0] == cem["env_steps"] <= 2 * config.population * 500
    assert cem["env_steps"] >= 2 * config.population * 8 or cem["solved"]  # a CartPole episode lasts >= 8 steps
    assert r["ppo"]["env_steps"] == 2048 and len(r["ppo"]["curve"]) == 2


@pytest.mark.slow
def test_evolution_solves_cartpole_in_more_steps_than_ppo(tmp_path):
    evo = module("evolution_vs_gradient_descent")
    r = evo.main(plot_dir=str(tmp_path))
    rows = r["sizes"]
    assert [row["cem"]["parameters"] for row in rows.values()] == [50, 386, 4610]
    for row in rows.values():
        cem, ppo = row["cem"], row["ppo"]
        assert cem["solved"] and cem["curve"][-1][1] >= 475 and cem["generations"] < 60
        assert all(score < 475 for _, score in cem["curve"][:-1])
        assert cem["parameters"] == ppo["parameters"]
        if ppo["solved"]:
            assert ppo["curve"][-1][1] >= 475 and cem["env_steps"] > 2 * ppo["env_steps"]
    assert rows["16x16"]["ppo"]["solved"] and rows["64x64"]["ppo"]["solved"]
    assert (tmp_path / "evolution_vs_gradient_descent.png").stat().st_size > 1000


# ------------------------------------------------------------------------------------------- the MDP state machine

# Russell & Norvig, AIMA 3rd ed., Figure 17.3: utilities of the 4x3 world with R(s) = -0.04 and gamma = 1,
# by our (row from the top, column) cells; and Figure 17.2's optimal policy.
AIMA_UTILITIES = {(0, 0): 0.812, (0, 1): 0.868, (0, 2): 0.918, (1, 0): 0.762, (1, 2): 0.660,
                  (2, 0): 0.705, (2, 1): 0.655, (2, 2): 0.611, (2, 3): 0.388}
AIMA_POLICY = {(0, 0): "right", (0, 1): "right", (0, 2): "right", (1, 0): "up", (1, 2): "up",
               (2, 0): "up", (2, 1): "left", (2, 2): "left", (2, 3): "left"}
MOVES = {"left": (0, -1), "down": (1, 0), "right": (0, 1), "up": (-1, 0)}
PERPENDICULAR = {"left": ("up", "down"), "right": ("up", "down"), "up": ("left", "right"), "down": ("left", "right")}


def hand_transitions() -> dict:
    """{(cell, action): {next cell: probability}} from R&N's rules: 0.8 as intended, 0.1 to each side, and a
    move into the wall (1, 1) or off the 3 x 4 board stays put."""
    def move(cell, name):
        r, c = cell[0] + MOVES[name][0], cell[1] + MOVES[name][1]
        return cell if (r, c) == (1, 1) or not (0 <= r < 3 and 0 <= c < 4) else (r, c)

    table = {}
    for cell in AIMA_UTILITIES:
        for name in MOVES:
            out: dict = {}
            for direction, p in ((name, 0.8), *((side, 0.1) for side in PERPENDICULAR[name])):
                out[move(cell, direction)] = out.get(move(cell, direction), 0.0) + p
            table[(cell, name)] = out
    return table


def test_mdp_state_machine_matches_russell_norvig(tmp_path):
    r = module("mdp_state_machine").main(plot_dir=str(tmp_path))
    assert r["num_states"] == 12 and r["num_actions"] == 4 and r["acting_states"] == 9
    assert r["walls"] == [[1, 1]] and sorted(r["terminal"]) == [[0, 3], [1, 3]]
    assert r["row_sums_max_error"] < 1e-12
    drawn: dict = {}
    for e in r["arrows"]:
        drawn.setdefault((tuple(e["from"]), e["action"]), {})[tuple(e["to"])] = e["p"]
    expected = hand_transitions()
    assert drawn.keys() == expected.keys()
    for key, out in expected.items():
        assert drawn[key] == pytest.approx(out, abs=1e-12), key
    assert len(r["arrows"]) == sum(len(out) for out in expected.values())
    assert r["successors_per_action"] == {"min": 2, "max": 3}
    for cell, utility in AIMA_UTILITIES.items():
        assert r["utilities"][str(cell)] == pytest.approx(utility, abs=5e-4), cell
    assert r["policy"] == {str(cell): name for cell, name in AIMA_POLICY.items()}
    # P(reach +1 from the start) under that policy: solve the absorbing chain built from the hand table.
    cells = list(AIMA_UTILITIES)
    A, b = np.eye(len(cells)), np.zeros(len(cells))
    for i, cell in enumerate(cells):
        for nxt, p in expected[(cell, AIMA_POLICY[cell])].items():
            if nxt == (0, 3):
                b[i] += p
            elif nxt != (1, 3):
                A[i, cells.index(nxt)] -= p
    assert r["reach_goal_from_start"] == pytest.approx(np.linalg.solve(A, b)[cells.index((2, 0))], abs=1e-10)
    assert (tmp_path / "mdp_state_machine.png").stat().st_size > 1000


# ------------------------------------------------------------------------------------ the agent-environment loop


def paddle_distribution(moves: int, columns: int = 5, start: int = 2) -> np.ndarray:
    """Where a paddle doing uniformly random LEFT/STAY/RIGHT moves (stopped by the walls) is after `moves`."""
    p = np.eye(columns)[start]
    for _ in range(moves):
        nxt = np.zeros(columns)
        for col in range(columns):
            for step in (-1, 0, 1):
                nxt[min(max(col + step, 0), columns - 1)] += p[col] / 3
        p = nxt
    return p


def test_agent_env_loop_random_baseline_learning_curve_and_same_episodes_as_evaluate(tmp_path):
    loop = module("agent_env_loop")
    r = loop.main(plot_dir=str(tmp_path))
    # Random agent: the chance the paddle ends under the ball, for the balls these seeds actually drop.
    random_returns = np.array(r["random_returns"])
    env = gym.make("mdparcade/Catch-v0")
    ball_columns = [loop.positions(env.reset(seed=EVAL_SEED + i)[0])[1] for i in range(len(random_returns))]
    catch = paddle_distribution(9)[ball_columns]
    expected, standard_error = (2 * catch - 1).mean(), random_returns.std() / np.sqrt(len(random_returns))
    assert abs(random_returns.mean() - expected) < 3 * standard_error
    assert abs(random_returns.mean() + 0.6) < 4 * standard_error and set(random_returns) <= {-1.0, 1.0}
    # One episode: 9 steps, the ball falls straight down one row per step, reward only on landing.
    for trace in (r["random_trace"], r["trained_trace"]):
        assert len(trace) == 9 and [s["ball"][0] for s in trace] == list(range(9))
        assert len({s["ball"][1] for s in trace}) == 1
        assert all(s["reward"] == 0 for s in trace[:-1]) and trace[-1]["reward"] in (-1.0, 1.0)
    last = r["trained_trace"][-1]
    landed = min(max(last["paddle"] + {"LEFT": -1, "STAY": 0, "RIGHT": 1}[last["action"]], 0), 4)
    assert last["reward"] == (1.0 if landed == last["ball"][1] else -1.0)
    # Learning: from about the random level to >= 0.9 well within the 40k steps.
    curve = r["curve"]
    assert curve[0]["greedy_return"] < 0 and curve[0]["training_return"] < 0
    assert r["steps_to_target"] is not None and r["steps_to_target"] <= 35_000
    assert curve[-1]["greedy_return"] >= 0.9 and curve[-1]["training_return"] >= 0.8
    assert [row["steps"] for row in curve] == list(range(1024, r["train_steps"] + 1, 1024))
    # The hand-written loop and evaluate() play the very same episodes.
    assert r["trained_returns"] == r["evaluate_returns"] and np.mean(r["trained_returns"]) >= 0.9
    assert (tmp_path / "agent_env_loop.png").stat().st_size > 1000


# ------------------------------------------------------------------------------------------- when not to use ML


def dense_value_iteration(P: np.ndarray, R: np.ndarray, terminal: np.ndarray, gamma: float) -> np.ndarray:
    V = np.zeros(P.shape[0])
    for _ in range(10_000):
        V_new = np.where(terminal, 0.0, np.max(R + gamma * np.einsum("sat,t->sa", P, V), axis=1))
        if np.abs(V_new - V).max() < 1e-12:
            return V_new
        V = V_new
    raise AssertionError("value iteration did not converge")


@pytest.mark.parametrize("seeds", [(0,), pytest.param(None, marks=pytest.mark.slow)])
def test_when_not_to_use_ml_planning_exact_learning_slow(tmp_path, monkeypatch, seeds):
    script = module("when_not_to_use_ml")
    if seeds is not None:  # the default run learns one seed; the slow one runs the script's own three
        monkeypatch.setattr(script, "SEEDS", seeds)
    r = script.main(plot_dir=str(tmp_path))
    assert sorted(r["q_learning"]) == sorted(str(seed) for seed in seeds or script.SEEDS)
    mdp = gym.make("mdparcade/FrozenLake8x8-v0").unwrapped.mdp
    P, R, terminal, gamma = np.asarray(mdp.P), np.asarray(mdp.R), np.asarray(mdp.terminal), r["gamma"]
    start = int(np.argmax(mdp.start))
    V = dense_value_iteration(P, R, terminal, gamma)
    vi = r["value_iteration"]
    assert vi["V_start"] == pytest.approx(V[start], abs=1e-6) and vi["residual"] < 1e-7

    def exact_value(policy) -> float:  # (I - gamma P_pi) V = r_pi on the live states
        states = np.arange(len(policy))
        P_pi, r_pi = P[states, policy], R[states, policy]
        live = ~terminal
        V_pi = np.zeros(len(policy))
        V_pi[live] = np.linalg.solve(np.eye(live.sum()) - gamma * P_pi[np.ix_(live, live)], r_pi[live])
        return V_pi[start]

    assert exact_value(np.array(vi["policy"])) == pytest.approx(V[start], abs=1e-6)
    for seed, run in r["q_learning"].items():
        # The script divides by value iteration's V*(start), within gamma tol / (1 - gamma) = 1e-6 of the exact one.
        assert run["fractions"][-1] == pytest.approx(exact_value(np.array(run["final_policy"])) / V[start],
                                                     abs=1e-5), seed
        assert run["steps"] == list(range(5_000, r["budget"] + 1, 5_000))
        assert run["steps_to_target"] is not None and 50_000 <= run["steps_to_target"] <= 250_000, seed
        assert all(f < r["target"] for s, f in zip(run["steps"], run["fractions"]) if s < run["steps_to_target"])
        assert max(run["fractions"]) < 1.0 - 1e-6  # never exactly optimal at the start state
    assert (tmp_path / "when_not_to_use_ml.png").stat().st_size > 1000

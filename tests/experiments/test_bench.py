"""Smoke tests of the benchmark scripts: they run and print the tables with every row (no timing asserted)."""

from experiments.bench import gridworld, nets, vector_envs


def test_vector_env_table_has_a_row_per_env_and_size_and_the_reference():
    text = vector_envs.vector_env_table(
        ids=["mdparcade/Catch-v0", "mdparcade/FrozenLake8x8-v0"], sizes=(1, 8), time_budget=0.01)
    rows = [line for line in text.splitlines() if line.startswith("| mdparcade/")]
    assert [row.split("|")[1:3] for row in rows] == [
        [" mdparcade/Catch-v0 ", " 1 "], [" mdparcade/Catch-v0 ", " 8 "],
        [" mdparcade/FrozenLake8x8-v0 ", " 1 "], [" mdparcade/FrozenLake8x8-v0 ", " 8 "]]
    assert "CartPole-v1 (Gymnasium's CartPoleVectorEnv, reference) | 4096" in text


def test_gridworld_tables_compare_with_gymnasium_and_a_python_loop():
    (text,) = gridworld.gridworld_tables(quick=True)
    assert "FrozenLake8x8 single env, steps/s" in text
    assert "value iteration, 30x30 maze" in text  # quick mode; the loop baseline is checked against ours inside


def test_nets_benchmark_runs_ours_and_the_plain_loop():
    table = nets.run(epochs=1, batch_size=64, num_samples=256)
    for name in nets.CASES:
        assert f"{name}" in table
    assert table.count(" cpu ") == len(nets.CASES)

"""A run folder someone hands you cannot run code on your machine: a pickle payload planted in each file a folder
can hold (model.zip's pickled data and its tensors, model.pt, checkpoint.pt, policy.json, config.json,
metrics.csv, and the pickle files of earlier releases: vecnormalize.pkl, checkpoint.zip, checkpoint_replay.pkl)
never runs, through every command that reads folders: watch, report, train (resume and --from) and compare."""

from __future__ import annotations

import base64
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from experiments.cli import main
from experiments.runs import Run, RunSpec
from experiments.runs import run as run_module

TINY = {
    "ppo": RunSpec("PPO", "Catch", steps=256, eval_every=256, eval_episodes=2,
                   overrides=dict(num_envs=4, num_steps=64, batch_size=128, n_epochs=1)),
    "sb3": RunSpec("sb3:PPO", "CartPole-v1", steps=128, eval_every=128, eval_episodes=2,
                   overrides=dict(n_envs=2, n_steps=64, batch_size=64, n_epochs=1)),
    "sb3norm": RunSpec("sb3:PPO", "Acrobot-v1", steps=128, eval_every=128, eval_episodes=1,
                       overrides=dict(n_envs=2, n_steps=64, batch_size=64, n_epochs=1)),
    "qlearning": RunSpec("QLearning", "CliffWalking", steps=500, eval_every=500, eval_episodes=1),
    "vi": RunSpec("ValueIteration", "CliffWalking", steps=0, eval_episodes=1),
}
UNFINISHED = {
    "ppo": RunSpec("PPO", "Catch", steps=1024, eval_every=256, eval_episodes=2,
                   overrides=dict(num_envs=4, num_steps=64, batch_size=128, n_epochs=1)),
    # SB3's learner reports every 1000 steps: the first resume point comes at 1000
    "sb3dqn": RunSpec("sb3:DQN", "CartPole-v1", steps=2500, eval_every=1000, eval_episodes=1,
                      overrides=dict(learning_starts=50, train_freq=50, gradient_steps=1, buffer_size=1000)),
}


class Payload:
    """Unpickling this writes the marker file: proof that a file's pickle ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


def interrupted(spec: RunSpec, out: Path, monkeypatch) -> None:
    """Train `spec` into `out` and stop it after its first resume point, as a killed run would."""
    original = run_module.Evaluator.__call__

    def stop(self, info):
        result = original(self, info)
        if self.run.folder.checkpoint_path.exists():
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(run_module.Evaluator, "__call__", stop)
    with pytest.raises(KeyboardInterrupt):
        Run(spec, out, progress=False).run()
    monkeypatch.setattr(run_module.Evaluator, "__call__", original)
    assert (out / "checkpoint.pt").is_file()


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """Finished and unfinished run folders of every learner family, made once; tests work on copies."""
    root = tmp_path_factory.mktemp("clean")
    for name, spec in TINY.items():
        Run(spec, root / "finished" / name, progress=False).run()
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, spec in UNFINISHED.items():
            interrupted(spec, root / "unfinished" / name, monkeypatch)
    return root


@pytest.fixture
def folders(clean, tmp_path):
    shutil.copytree(clean, tmp_path / "runs")
    return tmp_path / "runs"


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PAYLOAD_RAN"
    yield path
    assert not path.exists(), "a planted payload ran"


def torch_payload(path: Path, marker: Path, **fields) -> None:
    torch.save({**fields, "evil": Payload(marker)}, path)


def replace_in_zip(path: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {member: archive.read(member) for member in archive.namelist()}
    members[name] = data
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)


def poison_sb3_data(path: Path, marker: Path) -> None:
    """Every cloudpickled entry of model.zip's `data` (what SB3's load would unpickle) becomes the payload."""
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    serialized = base64.b64encode(pickle.dumps(Payload(marker))).decode()
    poisoned = 0
    for value in data.values():
        if isinstance(value, dict) and ":serialized:" in value:
            value[":serialized:"] = serialized
            poisoned += 1
    assert poisoned >= 3  # policy_class, observation_space, action_space, schedules ...
    replace_in_zip(path, "data", json.dumps(data).encode())


def watch(folder: Path, tmp_path: Path) -> int:
    # the window mode under SDL's dummy driver, as fast as it goes: what is read matters here, not the pictures
    return main(["watch", str(folder), "--episodes", "1", "--fps", "1000"])


# watch ------------------------------------------------------------------------------------------------------
def test_sb3_models_pickled_data_never_runs_and_the_agent_still_plays(folders, marker, tmp_path, capsys):
    for name in ("sb3", "sb3norm"):
        poison_sb3_data(folders / "finished" / name / "model.zip", marker)
        assert watch(folders / "finished" / name, tmp_path) == 0
    assert "mean return" in capsys.readouterr().out


def test_a_payload_in_sb3_models_tensors_is_refused(folders, marker, tmp_path, capsys):
    buffer = __import__("io").BytesIO()
    torch.save({"evil": Payload(marker)}, buffer)
    replace_in_zip(folders / "finished" / "sb3" / "model.zip", "policy.pth", buffer.getvalue())
    assert watch(folders / "finished" / "sb3", tmp_path) == 2
    assert "model.zip is not a stable-baselines3 model of this run" in capsys.readouterr().err


def test_old_pickle_files_beside_a_model_are_never_read(folders, marker, tmp_path):
    for name in ("vecnormalize.pkl", "checkpoint_vecnormalize.pkl", "checkpoint_replay.pkl"):
        (folders / "finished" / "sb3norm" / name).write_bytes(pickle.dumps(Payload(marker)))
    assert watch(folders / "finished" / "sb3norm", tmp_path) == 0


def test_a_payload_in_model_pt_is_refused(folders, marker, tmp_path, capsys):
    for name in ("ppo", "qlearning"):
        torch_payload(folders / "finished" / name / "model.pt", marker, format="mdparcade-agent")
        assert watch(folders / "finished" / name, tmp_path) == 2
        assert "was refused: it holds objects other than tensors" in capsys.readouterr().err


def test_policy_json_and_config_json_hold_data_only(folders, marker, tmp_path, capsys):
    vi = folders / "finished" / "vi"
    (vi / "policy.json").write_text(json.dumps({"policy": f"__import__('os').system('touch {marker}')"}))
    assert watch(vi, tmp_path) == 2
    assert "is not a value-iteration policy file" in capsys.readouterr().err
    (vi / "policy.json").write_text(json.dumps({"policy": [0] * 5}))  # too short for CliffWalking's 48 states
    assert watch(vi, tmp_path) == 2
    assert "does not fit mdparcade/CliffWalking-v0" in capsys.readouterr().err
    sb3 = folders / "finished" / "sb3"
    config = json.loads((sb3 / "config.json").read_text())
    config["overrides"]["policy_kwargs"] = f"dict(features_extractor_class=__import__('os').system('touch {marker}'))"
    (sb3 / "config.json").write_text(json.dumps(config))
    assert watch(sb3, tmp_path) == 2
    assert "policy_kwargs" in capsys.readouterr().err


# train: resume and --from -------------------------------------------------------------------------------------
def resume(folder: Path) -> int:
    config = json.loads((folder / "config.json").read_text())
    argv = ["train", config["algo"], config["env_id"], "--steps", str(config["steps"]), "--eval-every",
            str(config["eval_every"]), "--eval-episodes", str(config["eval_episodes"]), "--out", str(folder),
            "--quiet"]
    for key, value in config["overrides"].items():
        argv += ["--set", f"{key}={value}"]
    return main(argv)


@pytest.mark.parametrize("name", ["ppo", "sb3dqn"])
def test_a_payload_in_a_resume_point_is_refused(folders, marker, capsys, name):
    folder = folders / "unfinished" / name
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "checkpoint.pt"}
    torch_payload(folder / "checkpoint.pt", marker, format="whatever", parameters={}, num_timesteps=0)
    assert resume(folder) == 2
    assert "was refused: it holds objects other than tensors" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "checkpoint.pt"} == before


def test_an_sb3_checkpoint_of_an_earlier_release_is_never_unpickled(folders, marker, capsys):
    folder = folders / "unfinished" / "sb3dqn"
    (folder / "checkpoint.pt").unlink()
    with zipfile.ZipFile(folder / "checkpoint.zip", "w") as archive:
        archive.writestr("data", json.dumps({"policy_class": {
            ":serialized:": base64.b64encode(pickle.dumps(Payload(marker))).decode()}}))
    (folder / "checkpoint_replay.pkl").write_bytes(pickle.dumps(Payload(marker)))
    assert resume(folder) == 0  # no resume point of this release: the run starts over, reading neither file
    assert (folder / "summary.json").is_file()


def test_train_from_a_config_with_code_in_it_is_refused(folders, marker, tmp_path, capsys):
    config = json.loads((folders / "finished" / "sb3" / "config.json").read_text())
    config["overrides"]["learning_rate"] = f"__import__('os').system('touch {marker}')"
    (tmp_path / "cfg.json").write_text(json.dumps(config))
    assert main(["train", "--from", str(tmp_path / "cfg.json"), "--out", str(tmp_path / "again")]) == 2
    assert "learning_rate" in capsys.readouterr().err and not (tmp_path / "again").exists()


# report and compare -------------------------------------------------------------------------------------------
def test_report_reads_json_and_csv_only(folders, marker, capsys):
    for name in ("ppo", "sb3"):
        torch_payload(folders / "finished" / name / "model.pt", marker)
        (folders / "finished" / name / "vecnormalize.pkl").write_bytes(pickle.dumps(Payload(marker)))
    (folders / "finished" / "qlearning" / "metrics.csv").write_text(f"=cmd|'/c touch {marker}'!A1\n1,2\n")
    assert main(["report", str(folders / "finished"), "--reps", "50"]) == 0
    report = (folders / "finished" / "report.md").read_text()
    assert "qlearning" in report and "unreadable" in report  # the damaged metrics file is named, not obeyed


def test_compare_resuming_a_poisoned_run_records_it_as_failed(tmp_path, marker, capsys, monkeypatch):
    suite = tmp_path / "s.toml"
    suite.write_text('seeds = 1\neval_every = 256\neval_episodes = 2\n[[runs]]\nenv = "Catch"\nsteps = 1024\n'
                     'algos = ["PPO"]\n'
                     'set = { PPO = { num_envs = 4, num_steps = 64, batch_size = 128, n_epochs = 1 } }\n')
    out = tmp_path / "out"
    from experiments.compare.suites import load_suite

    (run,) = load_suite(suite).runs()
    interrupted(run.spec, out / run.folder, monkeypatch)
    torch_payload(out / run.folder / "checkpoint.pt", marker)
    assert main(["compare", str(suite), "--out", str(out), "--workers", "1", "--reps", "50"]) == 1
    failure = json.loads((out / run.folder / "failed.json").read_text())
    assert "was refused" in failure["error"]

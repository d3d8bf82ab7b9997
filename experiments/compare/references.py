"""What a comparison's scores are measured against, per env: a uniformly random policy (0) and the best return
(1): the exact optimum within the step limit where the env has a model (backward induction), else the env's
known maximum, else the best final score in the comparison. Also each env's success rule
(experiments/runs/success.py)."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from agents.env_models import model_info
from agents.evaluation import EVAL_SEED, evaluate
from agents.planning import optimal_return
from experiments.compare import stats
from experiments.compare.records import RunRecord
from experiments.runs.folder import FINISHED
from experiments.runs.success import is_success, success_rule

RANDOM_EPISODES = 100
#: The best return of envs without a model, and where it comes from.
KNOWN_BEST = {
    "CartPole-v1": (500.0, "the 500-step limit"),
    "Acrobot-v1": (-100.0, "its solved threshold (no known maximum; the best runs exceed 1)"),
    "mdparcade/Catch-v0": (1.0, "every ball caught"),
}


@dataclass
class Reference:
    """One env's scale: the random policy's mean return, the best return and where it comes from."""

    random: float | None
    best: float | None
    best_source: str
    reward_threshold: float | None
    has_model: bool

    @property
    def rule(self) -> str:
        return success_rule(self.has_model, self.reward_threshold)

    def as_dict(self) -> dict:
        return {"random": self.random, "best": self.best, "best_source": self.best_source,
                "reward_threshold": self.reward_threshold, "has_model": self.has_model, "success": self.rule}


def reference(env_id: str, env_kwargs: dict) -> Reference:
    env = gym.make(env_id, **env_kwargs)
    try:
        space = env.action_space
        threshold = env.spec.reward_threshold if env.spec is not None else None
    finally:
        env.close()
    info = model_info(env_id, env_kwargs)
    if info.has_model:
        best, source = optimal_return(info.model, info.horizon), f"the exact optimum within {info.horizon} steps"
    else:
        best, source = KNOWN_BEST.get(env_id, (None, ""))
    rng = np.random.default_rng(0)
    random_policy = (lambda obs: rng.integers(space.n, size=len(obs))) if hasattr(space, "n") else \
        (lambda obs: np.stack([space.sample() for _ in range(len(obs))]))
    random = evaluate(random_policy, env_id, RANDOM_EPISODES, EVAL_SEED, env_kwargs).mean
    return Reference(float(random), None if best is None else float(best), source, threshold, info.has_model)


def references(records: list[RunRecord]) -> dict[str, Reference]:
    """Per env label (env id and kwargs): its Reference."""
    refs: dict[str, Reference] = {}
    for record in records:
        if not record.env_id or record.env in refs:
            continue
        try:
            refs[record.env] = reference(record.env_id, record.env_kwargs)
        except Exception as err:  # noqa: BLE001  (an env that cannot be built failed its runs too)
            refs[record.env] = Reference(None, None, f"unavailable ({err})", None, False)
    for env, ref in refs.items():
        # no model and no known maximum: the best final score any run reached
        if ref.best is None and ref.random is not None:
            scores = [r.score for r in records if r.env == env and r.score is not None]
            ref.best = max(scores) if scores else None
            ref.best_source = "the best final score in this comparison (no known maximum)"
    return refs


def score_records(records: list[RunRecord], refs: dict[str, Reference]) -> None:
    """Set `normalized` and `success` of each finished record."""
    for record in records:
        record.normalized, record.success = None, None
        if record.status != FINISHED:
            continue
        ref = refs[record.env]
        if ref.best is not None and ref.random is not None and ref.best != ref.random:
            record.normalized = float(stats.normalize(record.score, ref.random, ref.best))
        record.success = is_success(record.score, record.value_ratio if ref.has_model else None,
                                    ref.reward_threshold, record.normalized)

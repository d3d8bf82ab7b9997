"""The contract every arcade game's rules meet: one batched numpy core that steps N copies at once.

The single env is the N = 1 case of the same core; the vector env is the N > 1 case (see envs/arcade.py).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from numbers import Real
from operator import attrgetter

import numpy as np

from envs import autoreset

# The envs.rng stream of the sticky-action draw (`BatchedGame.act`); the games' own draws use streams below it.
STICKY_ACTION_STREAM = 1000
# Names of the action that does nothing; a copy's sticky last action starts as it.
NOOP_ACTION_NAMES = ("NOOP", "STAY", "STRAIGHT")


def noop_action(action_meanings: tuple[str, ...]) -> int | None:
    """The action that does nothing (named NOOP, STAY or STRAIGHT), or None if the game has none."""
    for action, name in enumerate(action_meanings):
        if name in NOOP_ACTION_NAMES:
            return action
    return None


def describe_actions(action_meanings: tuple[str, ...]) -> str:
    return ", ".join(f"{action}={name}" for action, name in enumerate(action_meanings))


def check_sticky_action_prob(sticky_action_prob: float) -> float:
    """The probability as a float; ValueError unless it is a real number in [0, 1]."""
    if isinstance(sticky_action_prob, bool) or not isinstance(sticky_action_prob, Real) or not (
            0.0 <= sticky_action_prob <= 1.0):
        raise ValueError(f"sticky_action_prob must be a number in [0, 1], got {sticky_action_prob!r}")
    return float(sticky_action_prob)


def check_difficulty_ramping(difficulty_ramping: bool) -> bool:
    """The flag as a bool; ValueError unless it is one (an int or a string would hide a typo)."""
    if not isinstance(difficulty_ramping, (bool, np.bool_)):
        raise ValueError(f"difficulty_ramping must be True or False, got {difficulty_ramping!r}")
    return bool(difficulty_ramping)


def move_paddle_(paddle: np.ndarray, actions: np.ndarray, width: int) -> np.ndarray:
    """Move paddles (int64 (N,), in place) by actions 0 LEFT, 1 STAY, 2 RIGHT; they stop at the walls."""
    paddle += actions
    paddle -= 1
    np.maximum(paddle, 0, out=paddle)  # np.clip costs more per call than these two
    np.minimum(paddle, width - 1, out=paddle)
    return paddle


class BatchedGame(ABC):
    """Rules of one game for N copies. Every state array has a leading axis of length N.

    Randomness: copy i draws only from `envs.rng` with key `self.keys[i]` and counter `self.counters[i]`
    (use distinct `stream=` numbers for the several draws of one call). Each call of `reset` advances the
    counters of the copies it resets by exactly 1, each call of `step` advances every copy's counter by
    exactly 1. So copy i's draws depend only on its key and its own history, and N copies stepped together
    give bit-for-bit what N single envs give.

    `score[i]` is copy i's score in its current episode, as the game counts points (shown when rendering and
    returned in info["score"]); `reset` zeroes it for the copies it resets and `step` updates it.

    `step` must be total: well defined (no exception, no out-of-range index) for every copy, even one that
    has just terminated; the vector env discards such a copy's results and resets it.

    Sticky actions (MinAtar's `sticky_action_prob`): the wrappers call `act` (not `step`) and `restart` (not
    `reset`); the vector env calls `vector_step`, which calls both (or does what they do). `act` draws one
    uniform per copy from stream STICKY_ACTION_STREAM at the copy's current counter, and where it is below
    `sticky_action_prob` the copy plays its previous action instead of the one given, as MinAtar's
    `Environment.act` does. Unlike MinAtar, which keeps the last action across episodes,
    `restart` sets it back to the no-op action (action 0 if the game has none), so that `reset(seed=...)`
    alone determines an episode, as Gymnasium expects.

    State lives in public numpy arrays with a leading axis of length N (`keys`, `counters`, `score` and the
    game's own, or those of the objects `state_holders` names); arrays derived from N alone (offsets into the
    observation) and the kernels' scratch are private (leading underscore).
    `state_dict` saves exactly the public per-copy arrays, so a checkpoint can continue every copy's episode.
    """

    #: Names of the Discrete actions, in action-index order.
    action_meanings: tuple[str, ...] = ()
    #: Names of the observation channels (C of the C x H x W uint8 grid).
    channel_names: tuple[str, ...] = ()
    #: RGB colour of each channel when drawn as pixel art (later channels paint over earlier ones).
    channel_colors: tuple[tuple[int, int, int], ...] = ()
    #: Largest value an observation cell takes (the Box high); 1 for 0/1 planes.
    observation_high: int = 1
    #: Steps per second when a person plays it (the env's metadata["render_fps"]).
    render_fps: int = 10
    #: Whether the game's rules are numba-compiled: then the sticky actions and the vector env's bookkeeping
    #: are too (envs/autoreset_jit.py); a numpy game keeps numba unloaded (envs/autoreset.py).
    compiled: bool = False
    #: Attributes holding more per-copy state arrays (objects whose public ndarray attributes have N rows).
    state_holders: tuple[str, ...] = ()

    def __init__(self, num_envs: int, height: int, width: int, sticky_action_prob: float = 0.0):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = int(num_envs)
        self.height = int(height)
        self.width = int(width)
        self.sticky_action_prob = check_sticky_action_prob(sticky_action_prob)
        self.keys = np.zeros(self.num_envs, dtype=np.uint64)
        self.counters = np.zeros(self.num_envs, dtype=np.uint64)
        self.score = np.zeros(self.num_envs, dtype=np.int64)
        noop = noop_action(self.action_meanings)
        self.noop = 0 if noop is None else noop
        #: Each copy's action of its previous step (int64 (N,)), the one a sticky action repeats.
        self.last_action = np.full(self.num_envs, self.noop, dtype=np.int64)
        # uniform < p  <=>  64 random bits < ceil(p * 2**53) * 2**11 (uniform is the top 53 bits over 2**53):
        # comparing the bits skips a float conversion per copy per step.
        self._sticky_below = min(math.ceil(self.sticky_action_prob * 2**53) << 11, 2**64)

    @property
    def obs_shape(self) -> tuple[int, int, int]:
        return (len(self.channel_names), self.height, self.width)

    @property
    def num_actions(self) -> int:
        return len(self.action_meanings)

    def _per_copy(self, values: np.ndarray, dtype, what: str) -> np.ndarray:
        """`values` as a contiguous (N,) array of `dtype`; ValueError naming `what` for another shape. A compiled
        core checks its inputs with it: its kernels index the state by the inputs' copies, without bounds checks."""
        values = np.ascontiguousarray(values, dtype=dtype)
        if values.shape != (self.num_envs,):
            raise ValueError(f"{what} must have shape ({self.num_envs},), got {values.shape}")
        return values

    def _in_place(self, values: np.ndarray, dtype, what: str) -> np.ndarray:
        """`values` itself, an array a compiled core edits in place: ValueError naming `what` unless it is a
        C-contiguous (N,) ndarray of `dtype` (a converted copy would not carry the edits back)."""
        if not (isinstance(values, np.ndarray) and values.dtype == dtype and values.shape == (self.num_envs,)
                and values.flags.c_contiguous):
            raise ValueError(f"{what} must be a contiguous {np.dtype(dtype)} array of shape ({self.num_envs},), got "
                             f"{type(values).__name__} {getattr(values, 'dtype', '')} {np.shape(values)}")
        return values

    def seed(self, mask: np.ndarray, keys: np.ndarray) -> None:
        """Give the copies where `mask` (bool, (N,)) new keys (uint64, (mask.sum(),)); zero their counters."""
        self.keys[mask] = keys
        self.counters[mask] = 0

    def restart(self, mask: np.ndarray) -> None:
        """`reset` the copies where `mask` (bool, (N,)), and set their last action back to the no-op."""
        self.reset(mask)
        np.copyto(self.last_action, self.noop, where=mask)

    def act(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`step` with sticky actions: each copy repeats its last action with probability sticky_action_prob.

        actions: int64 (N,) already range-checked (not modified). The draw is
        `rng.uniform(keys, counters, STICKY_ACTION_STREAM) < sticky_action_prob`, at the counters before the
        step; none is made when the probability is 0. Returns what `step` returns.
        """
        if self._sticky_below:
            actions = self._sticky_actions(actions)
        else:
            np.copyto(self.last_action, actions)
        return self.step(actions)

    def _sticky_actions(self, actions: np.ndarray) -> np.ndarray:
        """The actions played where sticky_action_prob > 0 (see `act`); last_action becomes them."""
        return autoreset.for_game(self).sticky_actions(
            actions, self.last_action, self.keys, self.counters, STICKY_ACTION_STREAM,
            np.uint64(min(self._sticky_below, 2**64 - 1)), self._sticky_below >= 2**64)

    def check_action_range(self, actions: np.ndarray) -> None:
        """ValueError naming the first copy whose action (int64 (N,)) is not one of the game's."""
        num_actions = self.num_actions
        if actions.view(np.uint64).max() >= num_actions:  # one reduction: negative actions read as huge ones
            copy = int(np.flatnonzero((actions < 0) | (actions >= num_actions))[0])
            raise ValueError(
                f"action {actions[copy]} of copy {copy} is out of range: valid actions are "
                f"0..{num_actions - 1} ({describe_actions(self.action_meanings)})"
            )

    def vector_step(self, actions: np.ndarray, needs_reset: np.ndarray, episode_steps: np.ndarray,
                    max_episode_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One step of the vector env (`GameVectorEnv.step`, next-step autoreset), from int64 (N,) actions whose
        range it checks first (`check_action_range`: a bad action changes nothing): `act`; then the copies in
        `needs_reset` (bool (N,): those that ended on the previous step) restart instead, their counters rewound
        first, so that each draws what a single env's reset() draws; then envs.autoreset's `finish_step`
        (`max_episode_steps` 0: no truncation); then `observe`. needs_reset and episode_steps (int64 (N,)) are
        edited in place. Returns (obs, reward, terminated, truncated).

        A compiled game may do all of it in one kernel call (SeaquestGame does), with exactly these results."""
        self.check_action_range(actions)
        reward, terminated = self.act(actions)
        bookkeeping = autoreset.for_game(self)
        if needs_reset.any():
            bookkeeping.rewind_counters(needs_reset, self.counters)
            self.restart(needs_reset)
        truncated = np.empty(self.num_envs, dtype=bool)
        bookkeeping.finish_step(needs_reset, reward, terminated, truncated, episode_steps, max_episode_steps)
        return self.observe(), reward, terminated, truncated

    def state_arrays(self) -> list[str]:
        """Names of the per-copy state arrays: public ndarray attributes with a leading axis of length N, and
        those of the objects named in `state_holders`, as "holder.name" (e.g. Seaquest's "movers.col")."""
        def per_copy(owner, prefix: str) -> list[str]:
            return [prefix + name for name, value in vars(owner).items() if not name.startswith("_")
                    and isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == self.num_envs]

        names = per_copy(self, "")
        for holder in self.state_holders:
            names += per_copy(getattr(self, holder), holder + ".")
        return sorted(names)

    def state_dict(self, copies=None) -> dict[str, np.ndarray]:
        """Copies of the state arrays, all copies or the rows `copies` (index array or list)."""
        rows = slice(None) if copies is None else np.asarray(copies, dtype=np.int64)
        return {name: attrgetter(name)(self)[rows].copy() for name in self.state_arrays()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Set every state array from `state_dict()` output of the same game with the same N."""
        names = self.state_arrays()
        if sorted(state) != names:
            raise ValueError(f"game state holds {sorted(state)}, this game has {names}")
        for name in names:
            value = np.asarray(state[name])
            target = attrgetter(name)(self)
            if value.shape != target.shape:
                raise ValueError(f"game state {name} has shape {value.shape}, expected {target.shape}")
            target[...] = value

    @abstractmethod
    def reset(self, mask: np.ndarray) -> None:
        """Start a new episode in the copies where `mask` (bool, (N,)); advance their counters by 1."""

    @abstractmethod
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every copy by one move. actions: int64 (N,) already range-checked.

        Returns (reward float32 (N,), terminated bool (N,)) as new arrays (the vector env edits them in place
        for copies it resets); advances every counter by 1.
        """

    @abstractmethod
    def observe(self) -> np.ndarray:
        """The observation of every copy: uint8 (N, C, H, W) with values 0..observation_high.

        Returns a new array the caller owns (not a buffer reused by the next call): wrappers hand it to users
        who keep observations, e.g. in a replay buffer.
        """

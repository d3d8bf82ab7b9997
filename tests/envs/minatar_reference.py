"""Step our MinAtar cores against the `minatar` package (the reference) with the same random draws.

MinAtar's game classes (`minatar.environments.<game>.Env`) draw from `self.random`, a numpy RandomState. We
replace it with a `ReplayedRandom` that answers each call with the draw our core makes from `envs.rng` for
the same copy: same key, same counter (the copy's counter before our `reset` or `step`), and the stream the
game's table gives the call site. So both sides see the same randomness and must agree exactly.

Call sites and streams. A call site is (the calling function's name, its source line stripped), e.g.
("_spawn_entity", "lr = self.random.rand() < 1/2"); the source line and not the line number names it, so a
line moved by an edit still matches, and two functions with the same line (Seaquest's spawns) do not clash.
Each game's test file maps its sites to the stream constants its core module defines. A call returning n
values (n = 1 for a scalar, e.g. `randint(1, 6, 8)` has n = 8) that is the k-th call at its site within one
reset or step takes streams base + k * n + j, j < n; our core draws value j of occurrence k from that stream.
Conversions, one float u = rng.uniform_scalar(key, counter, stream) per value:
    rand()               -> u
    randint(high)        -> int(u * high)                (our rng.integers(keys, counters, high, stream))
    randint(low, high)   -> low + int(u * (high - low))
Anything else MinAtar asks of its RandomState fails the test, naming the call.

`MinAtarComparison` drives N copies of our core and N reference games side by side, restarting episodes as
they end, and asserts equal observations (after every reset and step), rewards and terminations.
`lookahead_policy` plays long-lived games for it: it tries each action on a clone of the reference game, whose
replayed draws are the real future ones, and keeps one that survives.
"""

from __future__ import annotations

import copy
import importlib
import linecache
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from envs import rng
from envs.batched_game import BatchedGame

# MinAtar's action letters (its Env.action_map) by our action names.
MINATAR_LETTER = {"NOOP": "n", "LEFT": "l", "UP": "u", "RIGHT": "r", "DOWN": "d", "FIRE": "f"}

Site = tuple[str, str]


class ReplayedRandom:
    """Stands in for a MinAtar game's `random`: every draw is our core's draw for one copy (see module doc).

    streams: call site -> base stream. `begin(key, counter)` before each reference reset or act.
    """

    def __init__(self, streams: dict[Site, int]):
        self.streams = dict(streams)
        bases = sorted(set(self.streams.values()))
        # A site's streams must stay below the next site's base, or two calls would share a draw.
        self._limit = {base: (bases[i + 1] if i + 1 < len(bases) else base + 10_000) for i, base in enumerate(bases)}
        self.key, self.counter = 0, 0
        self._hits: dict[Site, int] = {}
        self.calls = 0

    def begin(self, key: int, counter: int) -> None:
        self.key, self.counter = int(key), int(counter)
        self._hits = {}

    def _uniforms(self, size: int | None) -> list[float]:
        frame = sys._getframe(2)  # the MinAtar function that called rand() or randint()
        site = (frame.f_code.co_name, linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip())
        if site not in self.streams:
            raise AssertionError(f"MinAtar drew at {site}, which has no stream in the table {self.streams}")
        count = 1 if size is None else int(size)
        occurrence = self._hits.get(site, 0)
        self._hits[site] = occurrence + 1
        base = self.streams[site]
        first = base + occurrence * count
        if first + count > self._limit[base]:
            raise AssertionError(f"call {occurrence} at {site} runs into the next site's streams")
        self.calls += 1
        return [rng.uniform_scalar(self.key, self.counter, first + j) for j in range(count)]

    def rand(self, *size: int):
        if len(size) > 1:
            raise AssertionError(f"rand{size}: only rand() and rand(n) are replayed")
        values = self._uniforms(size[0] if size else None)
        return np.array(values) if size else values[0]

    def randint(self, low: int, high: int | None = None, size: int | None = None):
        if high is None:
            low, high = 0, low
        values = [int(low) + int(u * (int(high) - int(low))) for u in self._uniforms(size)]
        return values[0] if size is None else np.array(values, dtype=np.int64)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy.deepcopy and pickle probe for optional hooks
            raise AttributeError(name)
        raise AssertionError(f"MinAtar called random.{name}, which the harness does not replay")


def make_reference(game_name: str, streams: dict[Site, int], ramping: bool = True) -> Any:
    """MinAtar's game class for `game_name` ("breakout", "space_invaders", ...), drawing from ReplayedRandom.

    It is the bare game (`minatar.environments.<game>.Env`), not `minatar.Environment`, so it makes no sticky
    draw. Its constructor's reset used its own RandomState: call `reset` (through the comparison) before use.
    """
    module = importlib.import_module(f"minatar.environments.{game_name}")
    reference = module.Env(ramping=ramping)
    reference.random = ReplayedRandom(streams)
    return reference


def reference_observation(reference: Any) -> np.ndarray:
    """MinAtar's state() (H, W, C bool) as our observation layout (C, H, W uint8)."""
    return np.ascontiguousarray(reference.state().transpose(2, 0, 1)).astype(np.uint8)


Policy = Callable[[list[Any], BatchedGame], np.ndarray]


class MinAtarComparison:
    """N copies of our core and N MinAtar games, stepped with the same actions and asserted equal.

    game: our core (N copies, sticky actions off: the references are bare games), with its difficulty ramping
    set as `ramping` where it has one. Copy i is keyed rng.seed_to_key(seed + i). counts: copy-steps,
    episodes started, terminations, and reward total.
    """

    def __init__(self, game: BatchedGame, game_name: str, streams: dict[Site, int], seed: int,
                 ramping: bool = True):
        if game.sticky_action_prob != 0.0:
            raise ValueError("compare a core with sticky_action_prob=0: MinAtar's bare games have no sticky draw")
        self.game = game
        self.references = [make_reference(game_name, streams, ramping) for _ in range(game.num_envs)]
        letters = [MINATAR_LETTER[name] for name in game.action_meanings]
        self.minatar_action = [self.references[0].action_map.index(letter) for letter in letters]
        everyone = np.ones(game.num_envs, dtype=bool)
        game.seed(everyone, rng.seed_to_keys(seed, game.num_envs))
        self.counts = {"steps": 0, "episodes": 0, "terminations": 0, "reward": 0.0}
        self.num_steps = 0
        self.reset(everyone)

    def reset(self, mask: np.ndarray) -> None:
        """Start new episodes in the copies where `mask`, on both sides, and compare their observations."""
        copies = np.flatnonzero(mask)
        for i in copies:
            self.references[i].random.begin(self.game.keys[i], self.game.counters[i])
            self.references[i].reset()
        self.game.reset(mask)
        observations = self.game.observe()
        for i in copies:
            self._assert_same_observation(observations, i, "after reset")
        self.counts["episodes"] += len(copies)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Step every copy with our `actions` (int (N,)); assert equal results. Returns (reward, terminated)."""
        game = self.game
        for i, reference in enumerate(self.references):
            reference.random.begin(game.keys[i], game.counters[i])
        reward, terminated = game.step(np.asarray(actions, dtype=np.int64))
        observations = game.observe()
        for i, reference in enumerate(self.references):
            expected_reward, expected_terminal = reference.act(self.minatar_action[int(actions[i])])
            if (float(reward[i]), bool(terminated[i])) != (float(expected_reward), bool(expected_terminal)):
                raise AssertionError(
                    f"step {self.num_steps}, copy {i}, action {game.action_meanings[int(actions[i])]}: "
                    f"(reward, terminated) ({float(reward[i])}, {bool(terminated[i])}), MinAtar "
                    f"({expected_reward}, {expected_terminal})")
            self._assert_same_observation(observations, i, f"step {self.num_steps}")
        self.num_steps += 1
        self.counts["steps"] += game.num_envs
        self.counts["terminations"] += int(terminated.sum())
        self.counts["reward"] += float(reward.sum())
        return reward, terminated

    def run(self, policy: Policy, num_copy_steps: int) -> dict[str, float]:
        """Step with `policy(references, game) -> actions` until `num_copy_steps` copy-steps; episodes that end
        start again on both sides. Returns the counts."""
        while self.counts["steps"] < num_copy_steps:
            _, terminated = self.step(policy(self.references, self.game))
            if terminated.any():
                self.reset(terminated)
        return self.counts

    def _assert_same_observation(self, observations: np.ndarray, i: int, when: str) -> None:
        expected = reference_observation(self.references[i])
        if np.array_equal(observations[i], expected):
            return
        channels = [self.game.channel_names[c] for c in range(len(expected))
                    if not np.array_equal(observations[i, c], expected[c])]
        cells = {name: (np.argwhere(observations[i, c]).tolist(), np.argwhere(expected[c]).tolist())
                 for c, name in enumerate(self.game.channel_names) if name in channels}
        raise AssertionError(f"{when}, copy {i}: channels {channels} differ from MinAtar's; "
                             f"(ours, MinAtar's) cells: {cells}")


def lookahead(reference: Any, key: int, counter: int, action: int, steps: int, then: Callable[[Any], int],
              clone: Callable[[Any], Any] = copy.deepcopy) -> tuple[bool, float, Any]:
    """On `clone(reference)`, play MinAtar action `action`, then `steps` more chosen by `then(the clone)`.

    key, counter: the copy's key and its counter before the next step. Returns (still alive, reward, the
    clone after those steps). The clone draws what the real game will draw on those steps (the replayed
    random is counter-based, so looking ahead changes nothing in the real game): a policy that looks ahead
    sees the future exactly. `clone` must copy what `act` changes (a per-game copy beats deepcopy).
    """
    future = clone(reference)
    total = 0.0
    for t in range(steps + 1):
        future.random.begin(key, counter + t)
        reward, terminal = future.act(action if t == 0 else then(future))
        total += reward
        if terminal:
            return False, total, future
    return True, total, future


def lookahead_policy(depth: int, noise: float, seed: int, clone: Callable[[Any], Any] = copy.deepcopy,
                     then: Callable[[Any], int] = lambda future: 0, value: Callable[[Any], float] | None = None,
                     watch: Callable[[Any], None] | None = None) -> Policy:
    """A policy that lives long: each copy plays the action that survives `depth` further steps of `then`
    (MinAtar's no-op by default) with the most reward, then the highest value(the game after those steps),
    ties broken at random; with probability `noise`, a random action instead (so episodes still end).
    watch(reference) sees every reference before each step (to record how far the games got)."""
    noise_rng = np.random.default_rng(seed)

    def policy(references: list[Any], game: BatchedGame) -> np.ndarray:
        minatar_action = [references[0].action_map.index(MINATAR_LETTER[name]) for name in game.action_meanings]
        actions = np.empty(game.num_envs, dtype=np.int64)
        for i, reference in enumerate(references):
            if watch is not None:
                watch(reference)
            if noise_rng.random() < noise:
                actions[i] = noise_rng.integers(game.num_actions)
                continue
            best = None
            for action in noise_rng.permutation(game.num_actions):
                alive, reward, future = lookahead(reference, int(game.keys[i]), int(game.counters[i]),
                                                  minatar_action[action], depth, then, clone)
                outcome = (alive, reward, 0.0 if value is None else value(future))
                if best is None or outcome > best[0]:
                    best = (outcome, action)
            actions[i] = best[1]
        return actions

    return policy

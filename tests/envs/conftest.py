"""Fixtures shared by the env tests."""

from __future__ import annotations

import pygame
import pytest


class _NoWaitClock:
    """Stands in for pygame.time.Clock so "human" rendering does not sleep to keep render_fps in tests."""

    def tick(self, fps: float = 0) -> int:
        return 0


@pytest.fixture(autouse=True)
def no_frame_wait(monkeypatch):
    """Every env test: a "human" window draws its frames without waiting 1/render_fps between them."""
    monkeypatch.setattr(pygame.time, "Clock", _NoWaitClock)

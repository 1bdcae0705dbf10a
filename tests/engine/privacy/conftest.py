"""Keys held by a test never leak into the next one."""

from __future__ import annotations

import pytest

from engine.store import keys


@pytest.fixture(autouse=True)
def no_keys_left():
    yield
    keys._keys.clear()

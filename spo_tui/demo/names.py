"""The people's names: the shipped list ``data/demo_names.toml`` (first names by sex, and surnames)."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass

from spo_tui.config import data_dir


@dataclass(frozen=True)
class _Names:
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]


@functools.cache
def demo_names() -> _Names:
    """The shipped name list (``data/demo_names.toml``): first names by sex, and surnames."""
    with open(data_dir() / "demo_names.toml", "rb") as f:
        raw = tomllib.load(f)
    return _Names(female=tuple(raw["female"]), male=tuple(raw["male"]), surnames=tuple(raw["surnames"]))

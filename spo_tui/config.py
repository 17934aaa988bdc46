"""Where things live on this machine, and reading the rules file.

Nothing here runs at import time: each function looks when it is called.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

from spo_tui.domain.errors import ValidationError
from spo_tui.domain.rules import Rules, merge_config

APP_NAME = "spo-tui"


def data_dir() -> Path:
    """The shipped ``data/`` folder (inside the installed package, or beside it in a checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data", here.parent / "data"):
        if (candidate / "rules.toml").is_file():
            return candidate
    raise FileNotFoundError("the shipped data folder with rules.toml is missing from this installation")


def default_db_path() -> Path:
    """``SPO_TUI_DB`` if set, else ``spo.db`` in the user data directory."""
    env = os.environ.get("SPO_TUI_DB")
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir(APP_NAME, appauthor=False)) / "spo.db"


def default_demo_path() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False)) / "demo.db"


def user_rules_path() -> Path:
    """``SPO_TUI_RULES`` if set, else ``rules.toml`` in the user config directory."""
    env = os.environ.get("SPO_TUI_RULES")
    if env:
        return Path(env).expanduser()
    return Path(user_config_dir(APP_NAME, appauthor=False)) / "rules.toml"


def load_rules(override: Path | None = None) -> Rules:
    """The shipped rules with the user's file (if any) merged over them, key by key."""
    with open(data_dir() / "rules.toml", "rb") as f:
        config = tomllib.load(f)
    path = override or user_rules_path()
    if path.is_file():
        try:
            with open(path, "rb") as f:
                config = merge_config(config, tomllib.load(f))
        except tomllib.TOMLDecodeError as error:
            raise ValidationError(f"rules file {path} is not valid TOML: {error}") from None
    return Rules.from_dict(config)


def signing_key_path() -> Path:
    """This user's device key (Ed25519, private, 0600) that signs the oversight record: in the user
    config folder, made on first use."""
    return Path(user_config_dir(APP_NAME, appauthor=False)) / "record-key.pem"


def anchors_dir() -> Path:
    """Where the chain head is recorded at each export, backup and verify (one file per store), in
    the user data folder: outside any database, so a database cannot rewrite its own history."""
    return Path(user_data_dir(APP_NAME, appauthor=False)) / "anchors"

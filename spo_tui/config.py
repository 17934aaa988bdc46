"""Where things live on this machine, who is logged in to it, and reading the rules and config files.

Nothing here runs at import time: each function looks when it is called.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_data_dir, user_state_dir

from spo_tui.domain.errors import ValidationError
from spo_tui.domain.rules import Rules, merge_config, unknown_name

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
    """The shipped rules with the user's file (if any) merged over them, key by key.

    The user's file may only hold sections and keys the shipped file has: a typo (``[touch_point]``,
    ``first_within_day``) is refused, naming the line and the nearest known name, rather than being
    ignored while the shipped value silently applies.
    """
    with open(data_dir() / "rules.toml", "rb") as f:
        config = tomllib.load(f)
    path = override or user_rules_path()
    if path.is_file():
        try:
            text = path.read_bytes().decode("utf-8")
            mine = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ValidationError(f"rules file {path} is not valid TOML: {error}") from None
        unknown = unknown_name(config, mine)
        if unknown is not None:
            raise ValidationError(f"{path}{_at_line(text, unknown.path)}: {unknown.message}")
        config = merge_config(config, mine)
    return Rules.from_dict(config)


_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def _dotted(name: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in name.split("."))


def _at_line(text: str, path: tuple[str, ...]) -> str:
    """`` line N`` for the first line of a TOML file that defines ``path`` (a table header or a
    key, dotted or under its table), or "" when no line plainly does (an inline table, say)."""
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1))
            where = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            where = (*table, *_dotted(key.group(1)))
        if where[: len(path)] == path:
            return f" line {number}"
    return ""


def user_config_path() -> Path:
    """``SPO_TUI_CONFIG`` if set, else ``config.toml`` in the user config directory (beside ``rules.toml``).

    It holds the user's own settings, not the team's rules; today one table, ``[keymap]``: binding id
    (each command's ``id`` in ``spo_tui.commands``) = key, e.g. ``decide = "D"``.
    """
    env = os.environ.get("SPO_TUI_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


#: The tables a config file may hold.
CONFIG_SECTIONS = ("keymap",)


def load_keymap(known_ids: Callable[[], Collection[str]], path: Path | None = None) -> dict[str, str]:
    """The ``[keymap]`` table of the user's config file (binding id -> key), or {} without one.

    An unknown table, an id no binding has (``known_ids()``, asked only when the table has keys: the
    app passes ``spo_tui.app.known_binding_ids``) or a key that is not text is refused with one
    line naming the file, the line and the nearest known name.
    """
    path = path or user_config_path()
    if not path.is_file():
        return {}
    try:
        text = path.read_bytes().decode("utf-8")
        config: dict[str, Any] = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValidationError(f"config file {path} is not valid TOML: {error}") from None
    for name, value in config.items():
        where = f"{path}{_at_line(text, (name,))}"
        if not isinstance(value, dict):
            if name in CONFIG_SECTIONS:
                raise ValidationError(f"{where}: [{name}] must be a table (a line [{name}], then id = key lines)")
            raise ValidationError(f"{where}: {name} is outside any table: put it under [keymap]")
        if name not in CONFIG_SECTIONS:
            near = difflib.get_close_matches(name, CONFIG_SECTIONS, n=1)
            hint = f"; did you mean [{near[0]}]?" if near else f"; it may hold only [{'], ['.join(CONFIG_SECTIONS)}]"
            raise ValidationError(f"{where}: unknown section [{name}]{hint}")
    keymap = config.get("keymap", {})
    if not keymap:
        return {}
    known = known_ids()
    for binding_id, key in keymap.items():
        where = f"{path}{_at_line(text, ('keymap', binding_id))}"
        if binding_id not in known:
            near = difflib.get_close_matches(binding_id, sorted(known), n=1)
            hint = f"; did you mean {near[0]}?" if near else "; every id is in spo_tui/commands.py"
            raise ValidationError(f"{where}: [keymap] {binding_id}: no key has that id{hint}")
        if not isinstance(key, str) or not key.strip():
            raise ValidationError(
                f'{where}: [keymap] {binding_id} must be a key in quotes, e.g. {binding_id} = "D", not {key!r}'
            )
    return {binding_id: key.strip() for binding_id, key in keymap.items()}


def current_os_user() -> str:
    """The operating-system account running spo-tui: who is acting, before any ``--as``.

    On Linux and macOS it is the name of the process's *real* user id, looked up in the user
    database. Not ``getpass.getuser()``, which believes ``$LOGNAME`` and ``$USER`` first: anyone can
    set those (``USER=sam spo-tui``). An id with no name (some containers) is ``uid-1234``. On
    Windows it is the account the process runs under (``GetUserNameW`` through ``os.getlogin``),
    again not ``%USERNAME%``. Looked up on every call, so nothing is cached between users.
    """
    if os.name == "posix":
        import pwd

        uid = os.getuid()
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return f"uid-{uid}"
    try:  # pragma: no cover - Windows
        return os.getlogin()
    except OSError:  # pragma: no cover - Windows without a console session
        import getpass

        return getpass.getuser()


def remembered_actors_path() -> Path:
    """The file, in this OS user's state folder, that remembers who they last acted as on each database."""
    return Path(user_state_dir(APP_NAME, appauthor=False)) / "acting-as.json"


def _database_key(db_path: str | Path) -> str:
    """A database as the remembered-actor file knows it: its absolute path, links resolved."""
    return os.path.realpath(Path(db_path).expanduser())


def _read_remembered() -> dict[str, str]:
    try:
        with open(remembered_actors_path(), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):  # missing, unreadable or damaged: nothing is remembered
        return {}
    databases = data.get("databases") if isinstance(data, dict) else None
    if not isinstance(databases, dict):
        return {}
    return {k: v for k, v in databases.items() if isinstance(k, str) and isinstance(v, str)}


def remembered_actor(db_path: str | Path) -> str | None:
    """The staff name this OS user last chose with ``--as`` on the database at ``db_path``, if any.

    Kept in this user's own state folder, never in the shared database, so two people sharing a
    file each keep their own. It is only a preference: ``services.identity.who_is_acting`` still
    checks that this OS user may act as that person.
    """
    return _read_remembered().get(_database_key(db_path))


def remember_actor(db_path: str | Path, name: str) -> None:
    """Remember ``name`` as who this OS user acts as on ``db_path`` when no ``--as`` is given.

    The file is replaced whole (written beside it, then renamed), readable by this user only. A
    state folder that cannot be written is not an error: the choice is just not remembered.
    """
    path = remembered_actors_path()
    databases = _read_remembered()
    key = _database_key(db_path)
    if databases.get(key) == name:
        return
    databases.pop(key, None)
    databases[key] = name
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".acting-as-", suffix=".tmp", dir=path.parent)  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": 1, "databases": databases}, f, indent=1, sort_keys=False)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def signing_key_path() -> Path:
    """This user's device key (Ed25519, private, 0600) that signs the oversight record: in the user
    config folder, made on first use."""
    return Path(user_config_dir(APP_NAME, appauthor=False)) / "record-key.pem"


def anchors_dir() -> Path:
    """Where the chain head is recorded at each export, backup and verify (one file per store), in
    the user data folder: outside any database, so a database cannot rewrite its own history."""
    return Path(user_data_dir(APP_NAME, appauthor=False)) / "anchors"

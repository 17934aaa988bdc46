"""Keeping the record safe: ``verify`` the signed oversight record, ``backup`` and ``restore`` the
database, ``encrypt`` it and ``unlock`` it on another login."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from spo_tui.cli.common import _context, _db_path, _fail, _is_database_error, _uk_stamp, database_message
from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import visible


def cmd_verify(args: argparse.Namespace) -> int:
    from spo_tui.cli.sync import EXIT_OFFLINE
    from spo_tui.services.device_verify import check_here, check_hub
    from spo_tui.services.integrity import anchor, check_record, export_anchor, link_summary
    from spo_tui.services.sync import hub_url
    from spo_tui.store.db import open_db
    from spo_tui.store.hub_client import HubUnreachable

    path = _db_path(args)
    try:
        db = open_db(path, create=False)
        at_hub = None
        if args.hub or args.hub_url:
            try:
                at_hub = check_hub(db, args.hub_url or hub_url(db))
            except HubUnreachable as error:
                return _fail(f"{error}: the hub's copy of the record was not checked", EXIT_OFFLINE)
        against = [export_anchor(Path(f).expanduser()) for f in args.against]
        check = check_record(db, trust=tuple(args.trust), after_restore=args.after_restore, against=against)
        here = check_here(db)
    except SpoError as error:
        return _fail(str(error))
    except Exception as error:
        if not _is_database_error(error):
            raise
        return _fail(f"{visible(path, lines=False)} cannot be checked: {database_message(error)}")
    messages = [p.message for p in check.problems]
    for chains in (here, at_hub):
        messages += chains.messages if chains else []
    if messages:
        lines = "".join(f"- {visible(m, lines=False)}.\n" for m in messages)
        sys.stderr.write(f"The oversight record has been tampered with:\n{lines}")
        return 1
    signers = ", ".join(
        f"device key {k[:8]} ({check.walk.keys.get(k, {}).get('label', '?')}{', yours' if k == check.own_key else ''})"
        for k in check.walk.signers
    )
    print(f"The oversight record is intact: {check.entries} entries, every link holds.")
    print(f"{link_summary(check)}, head {check.walk.head[:16]}, signed by {signers or 'no key'}.")
    if here is not None:
        held = (
            "every device's whole" if here.reads_all else "yours whole, the others' as far as your team's changes show"
        )
        print(
            f"The changes exchanged with the hub hold: {_changes(here.changes, here.devices)}, each device's signed "
            f"chain intact ({held})."
        )
    if at_hub is not None:
        print(
            f"The hub's copy holds: {_changes(at_hub.changes, at_hub.devices)} you may read, each device's chain "
            "signed, matching its checkpoints and this store's copy."
        )
    for note in dict.fromkeys([*(here.notes if here else []), *(at_hub.notes if at_hub else [])]):
        print(f"Note: {note}.")
    last = check.last_anchor
    if args.after_restore:
        print(
            "Restored copy accepted: later checks compare with this copy, not with the checks made before the restore."
        )
    elif check.first_check:
        if last is not None:
            print(f"It carries on from your last {last.event} ({_uk_stamp(last.at)}, {last.count} links).")
        print("This is your first check of this store: its keys are now the ones you trust for it.")
    else:
        assert last is not None  # an earlier check decided the keys, so it left an anchor
        print(f"It carries on from your last {last.event} ({_uk_stamp(last.at)}, {last.count} links).")
    warning = anchor(db, "restore" if args.after_restore else "verify", trusted=check.trusted, db_path=str(path))
    if warning:
        print(f"spo-tui: warning: {warning}", file=sys.stderr)
    return 0


def _changes(count: int, devices: int) -> str:
    return f"{count:,} change{'s' if count != 1 else ''} of {devices} device{'s' if devices != 1 else ''}"


def cmd_backup(args: argparse.Namespace) -> int:
    from spo_tui.store.backup import backup, daily_backup

    path = _db_path(args)
    target = Path(args.to).expanduser() if args.to else None
    if args.daily:
        if target is not None:
            return _fail("--daily backs up into the backups folder beside the database: leave out --to")
        try:
            daily = daily_backup(path)
        except SpoError as error:
            return _fail(str(error))
        except OSError as error:
            return _fail(f"cannot back up {path}: {error.strerror or error}")
        print(f"Backed up to {visible(daily, lines=False)}" if daily else "A backup from today is there already")
        return 0
    try:
        made = backup(path, target)
    except SpoError as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(f"cannot back up to {target or error.filename or 'the backups folder'}: {error.strerror or error}")
    except Exception as error:
        if not _is_database_error(error):
            raise
        return _fail(f"cannot back up {path}: {database_message(error)}")
    print(f"Backed up to {visible(made, lines=False)}")
    _anchor_backup(made, path)
    return 0


def _anchor_backup(made: Path, path: Path) -> None:
    """Record the backed-up chain head in the user's anchors (a warning if that cannot be done)."""
    from spo_tui.services.integrity import anchor_file

    warning = anchor_file(Path(made), "backup", fallback=path)
    if warning:
        print(f"spo-tui: warning: {warning}", file=sys.stderr)


def cmd_restore(args: argparse.Namespace) -> int:
    from spo_tui.store.backup import restore

    path = _db_path(args)
    try:
        previous = restore(path, Path(args.file))
    except SpoError as error:
        return _fail(str(error))
    kept = f"; the database it replaced is kept as {previous}" if previous else ""
    print(f"Restored {path} from {args.file}{kept}")
    return 0


def _passphrase(args: argparse.Namespace, *, twice: bool) -> str:
    """The passphrase from --passphrase-file (a file's first line, or standard input), else asked for
    without echo. Never an argument's value: other users can read those in the process list."""
    import getpass

    if args.passphrase_file:
        if args.passphrase_file == "-":
            line = sys.stdin.readline()
        else:
            try:
                with open(os.path.expanduser(args.passphrase_file), encoding="utf-8") as f:
                    line = f.readline()
            except OSError as error:
                raise SpoError(f"cannot read {args.passphrase_file}: {error.strerror}") from None
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise SpoError("no terminal to ask for the passphrase: give --passphrase-file FILE (or - for standard input)")
    first = getpass.getpass("Recovery passphrase: ")
    if twice and getpass.getpass("The same again: ") != first:
        raise SpoError("the two passphrases differ: nothing was changed")
    return first


def cmd_encrypt(args: argparse.Namespace) -> int:
    from spo_tui.services.encryption import may_encrypt, record_encryption
    from spo_tui.store.db import is_empty, open_db
    from spo_tui.store.encrypt import encrypt_store

    path = _db_path(args)
    has_team = False
    if path.exists() and path.stat().st_size > 0:
        from spo_tui.store.db import is_encrypted

        if is_encrypted(path):
            return _fail(f"{path} is already encrypted: nothing was changed")
        db = open_db(path, create=False)
        try:
            has_team = not is_empty(db)
            if has_team:
                may_encrypt(_context(args, db))
        finally:
            db.close()
    passphrase = _passphrase(args, twice=True)
    recovery = encrypt_store(path, passphrase)
    if has_team:
        db = open_db(path, create=False)
        try:
            record_encryption(_context(args, db))
        finally:
            db.close()
    print(f"{path} is encrypted; its key is in this login's keyring.")
    print(f"The key's recovery copy, locked with your passphrase, is {recovery}: keep a copy off this computer.")
    print("Backups made before now are not encrypted: delete them once you have checked this store opens.")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    from spo_tui.store.encrypt import unlock

    passphrase = _passphrase(args, twice=False)
    unlock(Path(args.recovery).expanduser(), passphrase, _db_path(args))
    print("The database key is in this login's keyring: spo-tui opens the encrypted store.")
    return 0

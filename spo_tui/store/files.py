"""Writing a file so that a crash, a full disk or a kill never leaves half of it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_durably(dest: Path, text: str) -> None:
    """Write ``text`` to ``dest`` so that, whatever happens, ``dest`` is either as it was or the whole
    new file: write to a private (0600) temporary file in the same folder, flush it to disk, rename it
    over ``dest``, and flush the folder so the rename itself survives a power cut. Raises OSError."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if os.name != "nt":
        folder = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

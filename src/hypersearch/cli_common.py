"""What every ``hypersearch`` subcommand needs: where the storage is, passwords kept out of
what it prints, and the command as the user can type it again.

Both CLIs (``hypersearch.cli`` and ``hypersearch.experiment.cli``) import from here, so
neither imports the other's helpers.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path
from urllib.parse import unquote

from hypersearch.storage.engine import url_userinfo

__all__ = [
    "DEFAULT_STORAGE",
    "ENV_STORAGE",
    "program_name",
    "scrub",
    "storage_url",
]

ENV_STORAGE = "HYPERSEARCH_STORAGE"
DEFAULT_STORAGE = "sqlite:///hypersearch.db"


def storage_url(given: str | None) -> str:
    """``--storage``, else ``$HYPERSEARCH_STORAGE``, else ``sqlite:///hypersearch.db``."""
    return given or os.environ.get(ENV_STORAGE) or DEFAULT_STORAGE


def _secrets(url: str) -> list[str]:
    """The password in ``url`` (as written and decoded), to scrub from any message."""
    userinfo = url_userinfo(url)
    if userinfo is None or ":" not in userinfo:
        return []
    password = userinfo.split(":", 1)[1]
    return [s for s in {password, unquote(password)} if s]


def scrub(message: str, url: str) -> str:
    """``message`` with the password of ``url`` (if any) replaced by ``***``."""
    for secret in sorted(_secrets(url), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


def program_name(argv0: str | None = None) -> str:
    """The ``hypersearch`` command as the user can type it here: ``hypersearch`` when that is
    on the PATH, else the installed script's path (``.venv/bin/hypersearch`` after the README's
    set-up, relative to the current folder when below it), else ``python -m hypersearch.cli``.
    ``argv0`` (``sys.argv[0]``) names the script that is running, when it is one."""
    exe = "hypersearch.exe" if os.name == "nt" else "hypersearch"
    script: Path | None = None
    if argv0 and Path(argv0).name == exe and Path(argv0).is_file():
        script = Path(argv0)
    elif (Path(sysconfig.get_path("scripts")) / exe).is_file():
        script = Path(sysconfig.get_path("scripts")) / exe
    if script is None:
        return f"{shlex.quote(_typed_path(Path(sys.executable)))} -m hypersearch.cli"
    found = shutil.which("hypersearch")
    if found and Path(found).resolve() == script.resolve():
        return "hypersearch"
    return shlex.quote(_typed_path(script))


def _typed_path(path: Path) -> str:
    """``path`` relative to the current folder when it lies below it, else absolute."""
    absolute = Path(os.path.abspath(path))  # not resolve(): a venv's python is a symlink
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return str(absolute)
    return str(relative) if len(relative.parts) > 1 else os.path.join(".", relative)

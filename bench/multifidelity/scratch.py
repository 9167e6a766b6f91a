"""Checkpoints of the simulated objectives on a RAM disk, and no folder left behind.

``use_ram_disk(prefix)`` points ``$HYPERSEARCH_ARTIFACTS`` at a new folder in ``/dev/shm``
(when there is one and the variable is not set) named after this process, removes it at exit,
and first removes the folders of earlier runs whose process is gone: a run killed with SIGKILL
(the OOM killer, ``kill -9``) never reaches its exit handler, and a RAM disk keeps what it holds
until the machine restarts (two such folders once held 23 GB).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["use_ram_disk"]

RAM_DISK = Path("/dev/shm")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def sweep(prefix: str, root: Path = RAM_DISK) -> list[Path]:
    """Remove ``root/<prefix>-<pid>-*`` folders whose process no longer runs; return them.
    The dash after the prefix keeps one prefix from matching another that extends it (a sweep
    for ``diag`` once removed a live run's ``diag1339-...`` folder, reading pid 339)."""
    gone = []
    for folder in root.glob(f"{prefix}-*-*"):
        pid = folder.name[len(prefix) + 1 :].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder)
    return gone


def use_ram_disk(prefix: str, root: Path = RAM_DISK) -> Path | None:
    """A fresh RAM-disk folder for this run's checkpoints (None: no RAM disk, or
    ``$HYPERSEARCH_ARTIFACTS`` is already set)."""
    if "HYPERSEARCH_ARTIFACTS" in os.environ or not root.is_dir():
        return None
    sweep(prefix, root)
    scratch = Path(tempfile.mkdtemp(dir=root, prefix=f"{prefix}-{os.getpid()}-"))
    os.environ["HYPERSEARCH_ARTIFACTS"] = str(scratch)
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return scratch

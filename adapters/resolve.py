"""Where a model named on the command line lives: an existing folder or a Hugging Face hub id.

``-m X`` resolves in one order (see ``adapters.registry.load_model``): registry name, then an
existing local folder, then ``org/name[@revision]`` through huggingface_hub's normal cache. The
hub is contacted only when the user allowed it (``--pull`` or ``HF_HUB_OFFLINE=0``); otherwise a
model missing from the cache is one line naming the id, never a download and never a traceback.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

# org/name with an optional @revision (branch, tag or commit), as the hub spells repository ids.
_HUB_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<rev>[\w./-]+))?$")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ModelSource:
    """A model's files on disk and, when it came from the hub, its id and commit."""

    text: str  # what the user typed
    folder: Path
    hub_id: str | None = None
    commit: str | None = None  # the snapshot's commit sha (hub models only)

    @property
    def display_name(self) -> str:
        """The model's name in metadata: the hub id, or the folder's name for a local path."""
        return self.hub_id or self.folder.name


def hub_offline() -> bool:
    """True unless the user turned the hub on (HF_HUB_OFFLINE=0 or ``--pull``)."""
    return any(os.environ.get(v, "").strip().lower() in _TRUE
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_cache_dir() -> Path:
    """huggingface_hub's cache folder, read from the environment at call time (not import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface")
    return Path(home) / "hub"


def parse_hub_id(text: str) -> tuple[str, str | None] | None:
    match = _HUB_ID.match(text.strip())
    if not match:
        return None
    return match["repo"], match["rev"]


def locate(text: str, known: list[str] | None = None) -> ModelSource:
    """An existing folder, else a hub id from the cache (or the hub, when allowed).

    ``known`` (the registry names) feeds the "did you mean" hint of an unknown name."""
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise HarnessError(f"{path}: a model must be a folder (got a file)")
        return ModelSource(text, path.resolve())
    parsed = parse_hub_id(text)
    if parsed is None or text.startswith((".", "/", "~")):
        import difflib

        close = difflib.get_close_matches(text, known or [], n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise HarnessError(
            f"unknown model '{text}': not a registry name (see `harness ls models`), not an "
            f"existing folder, and not a hub id of the form org/name[@revision].{hint}")
    repo, revision = parsed
    folder = _snapshot(repo, revision)
    return ModelSource(text, folder, hub_id=repo, commit=folder.name)


def _snapshot(repo: str, revision: str | None) -> Path:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    offline = hub_offline()
    cache = hub_cache_dir()
    label = f"{repo}@{revision}" if revision else repo
    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = offline  # the library froze the variable when it was imported
    try:
        return Path(snapshot_download(repo, revision=revision, cache_dir=str(cache),
                                      local_files_only=offline))
    except LocalEntryNotFoundError:
        if offline:
            raise HarnessError(
                f"model '{label}' is not in the hub cache {cache} and HF_HUB_OFFLINE is set "
                "(no download); run with --pull and a network, or pass a local folder"
            ) from None
        raise HarnessError(f"model '{label}': the hub is unreachable and it is not in the "
                           f"cache {cache}") from None
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise HarnessError(f"model '{label}': {type(exc).__name__} on the hub") from None
    except HfHubHTTPError as exc:
        raise HarnessError(f"model '{label}': hub error {str(exc).splitlines()[0]}") from None
    finally:
        constants.HF_HUB_OFFLINE = saved

"""The one writer for folders toolforge fills (``export --out``, ``push --stage-dir``).

toolforge only ever replaces or deletes files that its own manifest says it wrote:

- a format writes into a private temporary folder inside the target (so a failed
  write leaves the previous output as it was);
- :meth:`OutputDir.commit` then refuses a file that would land on a path toolforge
  did not write (a user's own ``train.jsonl``), moves the new files into place,
  deletes the files the previous manifest listed that this run did not write again,
  and writes the new manifest listing exactly what is there now.

Files the manifest does not list are never touched. The manifest's own entries are
checked (relative, inside the folder, no ``..``), so a hand-edited or hostile manifest
cannot make toolforge delete anything outside it.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from toolforge.errors import InputError

log = logging.getLogger(__name__)

TMP_PREFIX = ".toolforge-tmp-"
WRITTEN_BY = "toolforge"


def _safe_rel(entry: Any) -> str | None:
    """A manifest entry as a clean relative POSIX path, or None when it could point outside."""
    if not isinstance(entry, str) or not entry or "\\" in entry or "\x00" in entry:
        return None
    p = PurePosixPath(entry)
    if p.is_absolute() or any(part in ("..", "", ".") for part in p.parts):
        return None
    return p.as_posix()


class OutputDir:
    """A folder that toolforge writes into and records in the manifest file ``manifest``."""

    def __init__(self, root: Path, manifest: str, *, what: str = "--out") -> None:
        self.root = Path(root)
        self.manifest_name = manifest
        self.what = what
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"{what} {self.root} exists and is not a folder")

    @property
    def manifest_path(self) -> Path:
        return self.root / self.manifest_name

    def _read_manifest(self) -> Any:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    @staticmethod
    def _is_ours(data: Any) -> bool:
        # manifests written before "written_by" existed carry format, run_id and files
        return isinstance(data, dict) and (data.get("written_by") == WRITTEN_BY
                                           or {"format", "run_id", "files"} <= set(data))

    def previous(self) -> dict[str, Any]:
        """The manifest of the previous write here (``{}`` when there is none or it is not toolforge's)."""
        data = self._read_manifest()
        return data if self._is_ours(data) else {}

    def owned(self) -> set[str]:
        """Relative paths of the files the previous manifest says toolforge wrote (checked entries only)."""
        files = self.previous().get("files")
        if not isinstance(files, list):
            return set()
        return {rel for rel in (_safe_rel(f) for f in files) if rel is not None}

    def foreign(self) -> list[str]:
        """Files in the folder that toolforge did not write (not in the manifest, not the manifest)."""
        if not self.root.is_dir():
            return []
        owned = self.owned()
        if self._is_ours(self._read_manifest()):
            owned.add(self.manifest_name)
        out = []
        for p in sorted(self.root.rglob("*")):
            rel = p.relative_to(self.root)
            if rel.parts and rel.parts[0].startswith(TMP_PREFIX):
                continue
            if (p.is_file() or p.is_symlink()) and rel.as_posix() not in owned:
                out.append(rel.as_posix())
        return out

    def refuse_foreign(self, *, force: bool = False, hint: str | None = None) -> list[str]:
        """Raise when the folder holds files toolforge did not write (unless ``force``); returns them."""
        foreign = self.foreign()
        if foreign and not force:
            more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
            raise InputError(f"{self.what} {self.root} holds files toolforge did not write: {foreign[0]}{more}",
                             hint=hint or "choose an empty or new folder, or move those files away")
        return foreign

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A temporary folder inside the target to write into; removed afterwards whatever happens."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f"{TMP_PREFIX}{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def check(self, tmp: Path, written: Sequence[Path], *, overwrite_foreign: bool = False) -> list[str]:
        """The relative paths ``written`` (under ``tmp``) will take; raises :class:`InputError` when one
        would replace a file toolforge did not write (unless ``overwrite_foreign``). Moves nothing."""
        if (self.manifest_path.exists() or self.manifest_path.is_symlink()) and not self._is_ours(self._read_manifest()):
            raise InputError(f"{self.manifest_path} exists and was not written by toolforge; nothing was written",
                             hint=f"move it away or choose another {self.what} folder")
        owned = self.owned()
        rels: list[str] = []
        for p in written:
            rel = _safe_rel(Path(p).relative_to(tmp).as_posix())
            if rel is None or rel == self.manifest_name:
                raise InputError(f"a format tried to write {p} outside its output folder")
            rels.append(rel)
        clash = [r for r in rels if r not in owned and (self.root / r).exists()]
        if clash and not overwrite_foreign:
            more = f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""
            raise InputError(f"{self.root / clash[0]} exists and was not written by toolforge{more}; nothing was written",
                             hint=f"move it away or choose another {self.what} folder")
        return rels

    def commit(self, tmp: Path, written: Sequence[Path], manifest: dict[str, Any], *,
               overwrite_foreign: bool = False) -> list[Path]:
        """Move ``written`` (paths under ``tmp``) into the folder and record them; see the module docstring.

        Returns the final paths. Runs :meth:`check` first, so nothing moves when a file
        would replace one that toolforge did not write.
        """
        rels = self.check(tmp, written, overwrite_foreign=overwrite_foreign)
        owned = self.owned()
        final: list[Path] = []
        for rel in rels:
            dest = self.root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.is_dir() and not dest.is_symlink():
                raise InputError(f"{dest} is a folder; toolforge will not replace it")
            (tmp / rel).replace(dest)
            final.append(dest)
        kept = set(rels)
        for rel in sorted(owned - kept):
            stale = self.root / rel
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
                log.info("removed %s, written by an earlier run and not by this one", stale)
                self._prune_empty(stale.parent)
        data = {"written_by": WRITTEN_BY, **manifest, "files": rels}
        tmp_manifest = self.root / f"{self.manifest_name}.tmp"
        tmp_manifest.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp_manifest.replace(self.manifest_path)
        return final

    def _prune_empty(self, folder: Path) -> None:
        """Remove folders left empty by a removal, up to (not including) the root."""
        root = self.root.resolve()
        while folder.resolve() != root and folder.resolve().is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

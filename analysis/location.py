"""Experiment folders in object storage (s3://, gs://, ...), read and written where they are.

`as_path` turns a local path into a `pathlib.Path` and a URI into a `RemotePath`: the few `Path`
operations hpsearch uses on an experiment folder (`/`, `name`, `glob`, `is_file`, `read_text`,
`write_bytes`, ...) over a pyarrow filesystem. Readers written against `Path` then read a bucket
directly, nothing copied down first. Credentials and endpoint come from the environment as pyarrow
reads them (for S3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION,
and AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3 for an S3-compatible server).
"""
from __future__ import annotations

import fnmatch
import io
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow.fs as pafs


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's filesystem for `uri`, and the path inside it (no scheme)."""
    fs, path = pafs.FileSystem.from_uri(uri)
    return fs, path.rstrip("/")


class RemotePath:
    """A file or folder in a pyarrow filesystem, with the subset of `pathlib.Path` that hpsearch uses."""

    def __init__(self, uri: str, fs: pafs.FileSystem | None = None) -> None:
        self.scheme, _, rest = uri.partition("://")
        self.key = posixpath.normpath(rest).strip("/")
        self.fs = fs if fs is not None else filesystem(uri)[0]

    def __str__(self) -> str:
        return f"{self.scheme}://{self.key}"

    def __repr__(self) -> str:
        return f"RemotePath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: RemotePath) -> bool:
        return str(self) < str(other)

    def __truediv__(self, other: str | Path) -> RemotePath:
        return RemotePath(f"{self.scheme}://{self.key}/{Path(other).as_posix()}", self.fs)

    @property
    def name(self) -> str:
        return posixpath.basename(self.key)

    @property
    def parent(self) -> RemotePath:
        return RemotePath(f"{self.scheme}://{posixpath.dirname(self.key)}", self.fs)

    def expanduser(self) -> RemotePath:
        return self

    def resolve(self) -> RemotePath:
        return self

    def _type(self) -> pafs.FileType:
        return self.fs.get_file_info(self.key).type

    def is_file(self) -> bool:
        return self._type() == pafs.FileType.File

    def is_dir(self) -> bool:
        return self._type() == pafs.FileType.Directory

    def exists(self) -> bool:
        return self._type() != pafs.FileType.NotFound

    def read_bytes(self) -> bytes:
        with self.fs.open_input_stream(self.key) as f:
            return f.read()

    def read_text(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self.read_bytes().decode(encoding, errors)

    def write_bytes(self, data: bytes) -> int:
        with self.fs.open_output_stream(self.key) as f:
            f.write(data)
        return len(data)

    def write_text(self, text: str, encoding: str = "utf-8") -> int:
        return self.write_bytes(text.encode(encoding))

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        self.fs.create_dir(self.key, recursive=parents)

    def open(self, mode: str = "r") -> IO[Any]:
        """Whole-file reads and writes (objects are not seekable streams in every store)."""
        if "r" in mode:
            data = io.BytesIO(self.read_bytes())
            return data if "b" in mode else io.TextIOWrapper(data)
        return _Upload(self, text="b" not in mode)

    def iterdir(self) -> Iterator[RemotePath]:
        for info in self.fs.get_file_info(pafs.FileSelector(self.key, allow_not_found=True)):
            yield RemotePath(f"{self.scheme}://{info.path}", self.fs)

    def glob(self, pattern: str) -> Iterator[RemotePath]:
        """Entries matching `pattern` (`*` and `?` within a part, parts split by "/"), one listing per level."""
        level = [self]
        for part in pattern.split("/"):
            if any(c in part for c in "*?["):
                level = [p for folder in level for p in folder.iterdir() if fnmatch.fnmatchcase(p.name, part)]
            else:
                candidates = [folder / part for folder in level]
                infos = self.fs.get_file_info([c.key for c in candidates]) if candidates else []
                level = [c for c, i in zip(candidates, infos) if i.type != pafs.FileType.NotFound]
        yield from sorted(level)


class _Upload(io.BytesIO):
    """A file opened for writing: uploaded whole when closed."""

    def __init__(self, target: RemotePath, text: bool) -> None:
        super().__init__()
        self.target, self.text = target, text

    def write(self, data: Any) -> int:  # text mode hands str
        return super().write(data.encode() if isinstance(data, str) else data)

    def close(self) -> None:
        if not self.closed:
            self.target.write_bytes(self.getvalue())
        super().close()


AnyPath = Path | RemotePath
Where = str | Path | RemotePath  # what a reader accepts: a path or URI string, or either kind of path


def glob(folder: AnyPath, pattern: str) -> list[AnyPath]:
    """`folder.glob(pattern)`, sorted by name, for a local folder or one in object storage."""
    found: list[AnyPath] = list(folder.glob(pattern))
    return sorted(found, key=str)


def output_folder(exp: AnyPath, out: str | Path | None, name: str) -> Path:
    """Where an analysis writes: `out`, else `<experiment>/<name>`; for an experiment in object storage,
    `./<experiment name>-<name>` here (figures and bundles are written by libraries that want local files)."""
    if out is not None:
        return Path(out)
    return exp / name if isinstance(exp, Path) else Path.cwd() / f"{exp.name}-{name}"


def as_path(path: Where) -> AnyPath:
    """A `RemotePath` for a URI (s3://bucket/exp), else a local `Path` (expanded, resolved)."""
    if isinstance(path, RemotePath):
        return path
    if "://" in str(path):
        return RemotePath(str(path))
    return Path(path).expanduser().resolve()

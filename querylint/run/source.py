"""Read a Python file into text, honouring a BOM and a PEP 263 coding cookie."""
from __future__ import annotations

import io
import tokenize
from pathlib import Path
from typing import Dict, Optional, Tuple


class SourceError(Exception):
    def __init__(self, kind: str, message: str, line=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line


def decode_source(raw: bytes) -> str:
    """Bytes → text. Raises :class:`SourceError` ("decode") with the reason."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise SourceError("decode", f"cannot determine the encoding: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = raw[: getattr(exc, "start", 0)].count(b"\n") + 1 if isinstance(exc, UnicodeDecodeError) else None
        raise SourceError("decode", f"cannot decode as {encoding}: {exc}", line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


# Unsaved editor buffers (the language server): resolved path -> text, read instead of the file.
OVERLAY: Dict[str, str] = {}


def overlay_text(path) -> Optional[str]:
    """The editor's text of a file when it has unsaved changes, else None."""
    if not OVERLAY:
        return None
    try:
        return OVERLAY.get(str(Path(path).resolve()))
    except OSError:
        return None


def read_source(path: Path) -> Tuple[bytes, str]:
    """(raw bytes, decoded text) of a file (or of its editor buffer, :data:`OVERLAY`). Raises
    :class:`SourceError` ("read" or "decode")."""
    text = overlay_text(path)
    if text is not None:
        return text.encode("utf-8"), text
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError("read", f"cannot read the file: {exc.strerror or exc}") from None
    return raw, decode_source(raw)

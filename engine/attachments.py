"""Photo attachments: stored on disk by content (sha256), typed by their magic bytes.

A stored photo is named by a reference ``att:<sha256>.<ext>`` that fits any ``photos`` field;
the same bytes uploaded twice give the same reference and one file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidInput, TooLarge

# extension → content type; the magic bytes decide, never the file name or the client's header.
TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
REF_PREFIX = "att:"  # a stored photo's reference; anything else in a photos field is a URL
REF = re.compile(r"^att:([0-9a-f]{64})\.(jpg|png|webp)$")


def sniff(head: bytes) -> str | None:
    """The extension for ``head``'s image type, or None if it is not JPEG, PNG or WebP."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class Attachment:
    ref: str
    sha256: str
    content_type: str
    size: int


class AttachmentStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root, self.max_bytes = Path(root), max_bytes

    def save(self, data: bytes, field: str = "file") -> Attachment:
        if len(data) > self.max_bytes:
            raise TooLarge(f"{field}: at most {self.max_bytes} bytes", {"limit": self.max_bytes})
        if not data:
            raise InvalidInput(field, "empty file")
        ext = sniff(data[:16])
        if ext is None:
            raise InvalidInput(field, "not a JPEG, PNG or WebP image")
        digest = hashlib.sha256(data).hexdigest()
        ref = f"att:{digest}.{ext}"
        path = self._path(digest, ext)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)  # atomic: readers never see half a photo
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return Attachment(ref, digest, TYPES[ext], len(data))

    def _path(self, digest: str, ext: str) -> Path:
        return self.root / digest[:2] / f"{digest}.{ext}"

    def locate(self, ref: str) -> tuple[Path, str] | None:
        """The file and content type of a stored reference, or None."""
        match = REF.match(ref)
        if match is None:
            return None
        path = self._path(match.group(1), match.group(2))
        return (path, TYPES[match.group(2)]) if path.is_file() else None

    def check_refs(self, field: str, refs: list[str]) -> None:
        """Every ``att:`` reference must be stored here; http(s) URLs pass as they are."""
        for index, ref in enumerate(refs):
            if ref.startswith(("http://", "https://")):
                continue
            if self.locate(ref) is None:
                reason = "not an uploaded photo (POST /api/v1/attachments) or an http(s) URL"
                raise InvalidInput(f"{field}[{index}]", reason)

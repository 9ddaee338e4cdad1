"""The audit trail's MAC keys: files ``keys/audit-<id>.key`` in the instance folder.

Key ids are 1, 2, 3…; the highest is the current key, used for every new event. Older keys
stay to verify the events they signed: rotating (``rotate``) writes the next one and never
removes a key. A process reads the current key once, so a rotation takes effect in a server
when it restarts; verification looks a key id up afresh when it does not know it yet.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from engine.keys import KEYS_DIR, ensure_key, read_key

PREFIX = "audit-"
_KEY_FILE = re.compile(r"^audit-([1-9][0-9]{0,8})\.key$")


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes

    @cached_property
    def tag_key(self) -> bytes:
        """A key of its own for the case-row field tags, derived from this one."""
        return hmac.new(self.secret, b"gridflow audit row fields", hashlib.sha256).digest()


class AuditKeys:
    """The keyring of one instance folder (read lazily: nothing is created until needed)."""

    def __init__(self, instance_dir: Path) -> None:
        self.instance_dir = Path(instance_dir)
        self._known: dict[str, AuditKey] = {}
        self._current: AuditKey | None = None
        self._lock = threading.Lock()

    def key_ids(self) -> list[str]:
        """The key ids present on disk, oldest first."""
        folder = self.instance_dir / KEYS_DIR
        if not folder.is_dir():
            return []
        found = (_KEY_FILE.match(path.name) for path in folder.iterdir())
        return sorted((m.group(1) for m in found if m), key=int)

    def current(self) -> AuditKey:
        """The key new events are signed with; the first is generated on first use."""
        found = self._current
        if found is None:
            with self._lock:
                if self._current is None:
                    ids = self.key_ids()
                    key_id = ids[-1] if ids else "1"
                    secret, _ = ensure_key(self.instance_dir, PREFIX + key_id)
                    self._current = self._remember(key_id, secret)
                found = self._current
        return found

    def get(self, key_id: str) -> AuditKey | None:
        """The key named ``key_id``, or None when this instance folder does not hold it."""
        found = self._known.get(key_id)
        if found is None and key_id.isdigit():
            secret = read_key(self.instance_dir, PREFIX + key_id)
            if secret is not None:
                found = self._remember(key_id, secret)
        return found

    def rotate(self) -> AuditKey:
        """Write the next key; it becomes the current key of processes started after."""
        with self._lock:
            ids = self.key_ids()
            key_id = str(int(ids[-1]) + 1 if ids else 1)
            # Should another rotation write this id first, its key is the new one.
            secret, _ = ensure_key(self.instance_dir, PREFIX + key_id)
            self._current = self._remember(key_id, secret)
            return self._current

    def _remember(self, key_id: str, secret: str) -> AuditKey:
        key = self._known[key_id] = AuditKey(key_id, secret.encode("ascii"))
        return key

"""The tamper-evident audit trail: keyed chains per case (chain), the audit keys (keyring),
the global sequence (sequence), signed checkpoints (checkpoints) and verification (verify)."""

from engine.audit.chain import LEGACY, ROW_FIELDS, NewEvent, event_mac, new_event, plain_hash
from engine.audit.checkpoints import Checkpoint, checkpoints_file, take_checkpoint
from engine.audit.keyring import AuditKey, AuditKeys
from engine.audit.verify import Finding, Progress, Tamper, verify_trail

__all__ = [
    "LEGACY",
    "ROW_FIELDS",
    "AuditKey",
    "AuditKeys",
    "Checkpoint",
    "Finding",
    "NewEvent",
    "Progress",
    "Tamper",
    "checkpoints_file",
    "event_mac",
    "new_event",
    "plain_hash",
    "take_checkpoint",
    "verify_trail",
]

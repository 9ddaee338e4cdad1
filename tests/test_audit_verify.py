"""The audit trail catches a database administrator's tampering, and names each finding."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from audit_support import (
    DISPATCHER,
    delete_case,
    findings,
    kinds,
    make_cases,
    rechain_plain,
    tamper,
    trail_of,
)

from engine.audit import AuditKey, AuditKeys, Tamper, event_mac, take_checkpoint
from engine.audit.chain import canonical


def edit_actor(ctx, case_id: int, seq: int) -> None:
    sql = "UPDATE case_event SET actor = 'mallory' WHERE case_id = :id AND seq = :seq"
    tamper(ctx, sql, id=case_id, seq=seq)


def checkpoint(ctx):
    return take_checkpoint(ctx.db, ctx.audit_keys, ctx.settings.instance_dir, ctx.clock.now())


def test_an_untouched_trail_verifies(ctx):
    make_cases(ctx)
    assert checkpoint(ctx).count == 9
    make_cases(ctx, 1)  # events after the last checkpoint
    assert findings(ctx) == []


def test_events_carry_a_key_id_a_global_number_and_row_tags(ctx):
    ids = make_cases(ctx, 2)
    events = trail_of(ctx, ids[0]) + trail_of(ctx, ids[1])
    assert [e.gseq for e in events] == list(range(1, 7))
    assert {e.key_id for e in events} == {"1"}
    assert all(e.row_digest for e in events)
    key = ctx.audit_keys.current()
    assert (ctx.settings.instance_dir / "keys" / "audit-1.key").stat().st_mode & 0o777 == 0o600
    assert all(e.hash == event_mac(key, e.prev_hash, e) for e in events)


def test_an_edited_event_is_named(ctx):
    ids = make_cases(ctx)
    tamper(
        ctx,
        "UPDATE case_event SET data = :data WHERE case_id = :id AND seq = 3",
        data='{"department": "CG-01", "co_handlers": []}',
        id=ids[1],
    )
    assert kinds(findings(ctx)) == {(Tamper.edited_event, ids[1], 3, None)}


def test_an_edit_hidden_by_recomputing_a_plain_sha_chain_is_named(ctx):
    ids = make_cases(ctx)
    edit_actor(ctx, ids[0], 2)
    rechain_plain(ctx, ids[0])
    found = kinds(findings(ctx))
    assert found == {(Tamper.plain_chain, ids[0], seq, None) for seq in (1, 2, 3)}


def test_an_edit_rechained_with_a_guessed_key_is_named(ctx):
    ids = make_cases(ctx)
    guess = AuditKey("1", b"not-the-key")
    edit_actor(ctx, ids[2], 3)
    (event,) = [e for e in trail_of(ctx, ids[2]) if e.seq == 3]
    forged = hmac.new(guess.secret, (event.prev_hash + canonical(event)).encode(), hashlib.sha256)
    tamper(ctx, "UPDATE case_event SET hash = :h WHERE id = :id", h=forged.hexdigest(), id=event.id)
    tamper(ctx, 'UPDATE "case" SET audit_head = :h WHERE id = :id', h=forged.hexdigest(), id=ids[2])
    assert kinds(findings(ctx)) == {(Tamper.edited_event, ids[2], 3, None)}


@pytest.mark.parametrize(
    ("column", "value"),
    [("state", "closed"), ("lead_department", "CG-01"), ("reporter_phone", "13911112222")],
)
def test_an_edited_case_row_is_named_by_field(ctx, column, value):
    ids = make_cases(ctx)
    tamper(ctx, f'UPDATE "case" SET {column} = :v WHERE id = :id', v=value, id=ids[1])
    assert kinds(findings(ctx)) == {(Tamper.case_row_changed, ids[1], 3, column)}


def test_a_deleted_case_leaves_a_gap_in_the_global_sequence(ctx):
    ids = make_cases(ctx)
    delete_case(ctx, ids[1])
    (found,) = findings(ctx)
    assert found.kind is Tamper.deleted_events
    assert "global numbers 4–6 are missing" in found.detail
    assert f"between case {ids[0]} event 3 and case {ids[2]} event 1" in found.detail


def test_a_deleted_case_renumbered_away_is_caught_by_the_checkpoint(ctx):
    ids = make_cases(ctx)
    checkpoint(ctx)
    delete_case(ctx, ids[1])
    tamper(ctx, "UPDATE case_event SET gseq = gseq - 3 WHERE gseq > 6")
    tamper(ctx, "UPDATE audit_sequence SET last = 6")
    cut, changed = findings(ctx)
    assert (cut.kind, changed.kind) == (Tamper.truncated_trail, Tamper.checkpoint_mismatch)
    assert "global numbers 1–9 hold 6 events" in changed.detail and "signed 9" in changed.detail


def test_truncated_tail_events_are_named(ctx):
    ids = make_cases(ctx)
    tamper(ctx, "DELETE FROM case_event WHERE case_id = :id AND seq >= 2", id=ids[2])
    found = findings(ctx)
    assert kinds(found) == {
        (Tamper.truncated_case, ids[2], None, None),
        (Tamper.case_row_changed, ids[2], 1, "version"),
        *((Tamper.case_row_changed, ids[2], 1, name) for name in _changed_by_dispatch(ctx)),
        (Tamper.truncated_trail, None, None, None),
    }
    (trail,) = [f for f in found if f.kind is Tamper.truncated_trail]
    assert "the last 2 events are missing" in trail.detail


def _changed_by_dispatch(ctx) -> set[str]:
    """The row fields the report's first event did not leave as they are now."""
    return {"state", "lead_department", "dispatch_source", "dispatch_queue"}


def test_a_checkpointed_tail_cut_away_with_its_traces_is_caught(ctx):
    """The newest case deleted, and the sequence counter wound back: only the checkpoint
    still knows the trail was longer."""
    ids = make_cases(ctx)
    checkpoint(ctx)
    delete_case(ctx, ids[2])
    tamper(ctx, "UPDATE audit_sequence SET last = 6")
    cut, changed = findings(ctx)
    assert (cut.kind, changed.kind) == (Tamper.truncated_trail, Tamper.checkpoint_mismatch)
    assert "the last 3 events are missing: checkpoint 1" in cut.detail


def test_a_downgrade_to_the_legacy_plain_chain_is_named(ctx):
    ids = make_cases(ctx)
    rechain_plain(ctx, ids[1], key_id="sha256")
    found = kinds(findings(ctx))
    assert found == {(Tamper.downgraded, ids[1], seq, None) for seq in (1, 2, 3)}


def test_legacy_events_numbered_first_still_verify(ctx):
    """As after the migration: plain SHA-256 chains with the key id "sha256"."""
    ids = make_cases(ctx)
    for case_id in ids:
        rechain_plain(ctx, case_id, key_id="sha256")
    tamper(ctx, "UPDATE case_event SET row_digest = NULL")
    ctx.cases.act(DISPATCHER, ids[0], "redispatch", {"department": "CG-01", "note": "错派"})
    assert findings(ctx) == []
    edit_actor(ctx, ids[1], 1)
    assert kinds(findings(ctx)) == {(Tamper.edited_event, ids[1], 1, None)}


def test_rotation_keeps_old_events_verifiable(ctx):
    ids = make_cases(ctx, 2)
    checkpoint(ctx)
    assert ctx.audit_keys.rotate().key_id == "2"
    ctx.cases.act(DISPATCHER, ids[0], "redispatch", {"department": "CG-01", "note": "错派"})
    make_cases(ctx, 1)
    checkpoint(ctx)
    assert {e.key_id for e in trail_of(ctx, ids[0])} == {"1", "2"}
    assert findings(ctx, AuditKeys(ctx.settings.instance_dir)) == []  # as a new process reads


def test_an_unknown_key_id_is_named(ctx, tmp_path):
    ids = make_cases(ctx, 1)
    elsewhere = AuditKeys(tmp_path / "another-instance")
    found = kinds(findings(ctx, elsewhere))
    assert {(Tamper.unknown_key, ids[0], seq, None) for seq in (1, 2, 3)} <= found


def test_an_edited_checkpoint_line_is_named(ctx):
    make_cases(ctx)
    checkpoint(ctx)
    path = ctx.settings.instance_dir / "audit" / "checkpoints.jsonl"
    path.write_text(path.read_text().replace('"count": 9', '"count": 6'))
    (found,) = findings(ctx)
    assert found.kind is Tamper.bad_checkpoint and "MAC does not match" in found.detail


@pytest.mark.parametrize("batch", [1, 2])
def test_small_batches_find_the_same(ctx, batch):
    ids = make_cases(ctx, 5)
    tamper(ctx, "UPDATE \"case\" SET urgency = 'urgent' WHERE id = :id", id=ids[3])
    delete_case(ctx, ids[1])
    found = findings(ctx, batch=batch)
    assert found == findings(ctx)
    assert {f.kind for f in found} == {Tamper.case_row_changed, Tamper.deleted_events}


def test_every_field_an_action_may_change_is_vouched_for_by_the_events() -> None:
    """A case column the write path updates but no event tags could be edited by a database
    administrator without `audit verify` noticing."""
    from engine.audit.chain import ROW_FIELDS
    from engine.cases.rows import MUTABLE

    assert set(MUTABLE) <= set(ROW_FIELDS)

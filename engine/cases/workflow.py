"""Load a workflow definition (TOML) into ONE shared ``transitions.Machine``.

The machine has no registered models: events fire on a throw-away subject carrying the
case's state, so the state lives in the database column and a case costs no memory here.

See docs/ARCHITECTURE.md#the-workflow.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transitions import Machine, MachineError

from engine.users.models import Role

FIELD_TYPES = {
    "text",
    "bool",
    "department",
    "departments",
    "case",
    "duration",
    "photos",
    "choice",
    "limits",
    "unit",
    "probability",  # a number from 0 to 1 (the text router's confidence)
    "ranked",  # a short list of {label, confidence} (the text router's top 3)
}
SLA_STAGES = ("dispatch", "accept", "handle", "verify")
# The audit event that files a case (into the workflow's initial state): not a transition.
REPORT = "report"


class WorkflowError(ValueError):
    """A broken workflow file; the message names the bad state, field or transition."""


@dataclass(frozen=True)
class StateSpec:
    name: str
    label: str
    label_en: str
    final: bool = False
    stage: str | None = None  # the SLA stage whose clock runs in this state
    paused: str | None = None  # the SLA stage whose clock is stopped in this state


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransitionSpec:
    action: str
    sources: tuple[str, ...]
    dest: str | None  # None: the state does not change
    roles: frozenset[Role]
    requires: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    rework: bool = False

    def matches(self, data: dict[str, Any]) -> bool:
        return all(data.get(name) in values for name, values in self.when)

    @property
    def fields(self) -> tuple[str, ...]:
        return self.requires + self.optional


@dataclass
class _Subject:
    """What the shared machine fires on: the case's state, and the transition that fired."""

    state: str
    fired: TransitionSpec | None = None


@dataclass
class Workflow:
    name: str
    initial: str
    states: dict[str, StateSpec]
    fields: dict[str, FieldSpec]
    transitions: list[TransitionSpec]
    machine: Machine = field(repr=False)
    # The workflow never changes once built: answers per state are worked out once.
    _triggers: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)
    _specs: dict[tuple[str, str], list[TransitionSpec]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def actions_in(self, state: str) -> list[str]:
        """Every action possible in ``state`` regardless of role, in definition order."""
        found = self._triggers.get(state)
        if found is None:
            found = self._triggers[state] = self.machine.get_triggers(state)
        return list(found)

    def actions_for(self, state: str, role: Role) -> list[str]:
        return [
            action
            for action in self.actions_in(state)
            if any(role in t.roles for t in self.specs(action, state))
        ]

    def specs(self, action: str, state: str) -> list[TransitionSpec]:
        found = self._specs.get((action, state))
        if found is None:
            found = [t for t in self.transitions if t.action == action and state in t.sources]
            self._specs[action, state] = found
        return list(found)

    def fire(self, state: str, action: str, data: dict[str, Any]) -> TransitionSpec:
        """Fire ``action`` from ``state``; return the transition taken.

        Raises ``MachineError`` when the action is not possible from that state, and
        ``LookupError`` when it is but no transition's ``when`` matches ``data``.
        """
        event = self.machine.events.get(action)
        if event is None:
            raise MachineError(f"unknown action {action!r}")
        subject = _Subject(state)
        if not event.trigger(subject, data=data) or subject.fired is None:
            raise LookupError(f"no '{action}' transition from '{state}' matches the given fields")
        return subject.fired

    def is_final(self, state: str) -> bool:
        return self.states[state].final


def load_workflow(path: Path) -> Workflow:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowError(f"{path.name}: not valid TOML: {exc}") from exc
    return build_workflow(raw, source=path.name)


def build_workflow(raw: dict[str, Any], source: str = "workflow") -> Workflow:
    states = _states(raw.get("states"), source)
    fields = _fields(raw.get("fields", {}), source)
    initial = raw.get("initial")
    if initial not in states:
        raise WorkflowError(f"{source}: initial state {initial!r} is not a declared state")
    specs = [
        _transition(i, t, states, fields, source) for i, t in enumerate(raw.get("transitions", []))
    ]
    if not specs:
        raise WorkflowError(f"{source}: no transitions")
    _check_ambiguity(specs, source)
    machine = Machine(
        model=None,
        states=list(states),
        initial=None,
        auto_transitions=False,
        send_event=True,
    )
    for spec in specs:
        machine.add_transition(
            spec.action,
            list(spec.sources),
            spec.dest,
            conditions=[lambda ev, spec=spec: spec.matches(ev.kwargs.get("data", {}))],
            after=[lambda ev, spec=spec: setattr(ev.model, "fired", spec)],
        )
    return Workflow(str(raw.get("name", source)), initial, states, fields, specs, machine)


def _states(raw: Any, source: str) -> dict[str, StateSpec]:
    if not isinstance(raw, dict) or not raw:
        raise WorkflowError(f"{source}: [states] is missing or empty")
    states: dict[str, StateSpec] = {}
    for name, spec in raw.items():
        where = f"{source}: state {name!r}"
        if not isinstance(spec, dict) or "label" not in spec:
            raise WorkflowError(f"{where}: needs a table with at least a label")
        for key in ("stage", "paused"):
            if spec.get(key) is not None and spec[key] not in SLA_STAGES:
                raise WorkflowError(f"{where}: {key} {spec[key]!r} is not one of {SLA_STAGES}")
        unknown = set(spec) - {"label", "label_en", "final", "stage", "paused"}
        if unknown:
            raise WorkflowError(f"{where}: unknown keys {sorted(unknown)}")
        states[name] = StateSpec(
            name,
            spec["label"],
            spec.get("label_en", name),
            bool(spec.get("final", False)),
            spec.get("stage"),
            spec.get("paused"),
        )
    return states


def _fields(raw: dict[str, Any], source: str) -> dict[str, FieldSpec]:
    fields = {}
    for name, spec in raw.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind not in FIELD_TYPES:
            raise WorkflowError(f"{source}: field {name!r} has unknown type {kind!r}")
        choices = tuple(spec.get("choices", ()))
        if kind == "choice" and not choices:
            raise WorkflowError(f"{source}: choice field {name!r} lists no choices")
        fields[name] = FieldSpec(name, kind, choices)
    return fields


def _transition(
    index: int,
    raw: dict[str, Any],
    states: dict[str, StateSpec],
    fields: dict[str, FieldSpec],
    source: str,
) -> TransitionSpec:
    action = raw.get("action")
    where = f"{source}: transition #{index + 1} ({action!r})"
    if not isinstance(action, str) or not action.isidentifier():
        raise WorkflowError(f"{where}: needs an action name")
    open_states = tuple(n for n, s in states.items() if not s.final)
    sources = open_states if raw.get("from") == "*" else tuple(raw.get("from") or ())
    if not sources:
        raise WorkflowError(f"{where}: needs 'from' states")
    for state in sources:
        if state not in states:
            raise WorkflowError(f"{where}: unknown source state {state!r}")
        if states[state].final:
            raise WorkflowError(f"{where}: source state {state!r} is final")
    dest = raw.get("to")
    if dest is not None and dest not in states:
        raise WorkflowError(f"{where}: unknown target state {dest!r}")
    try:
        roles = frozenset(Role(r) for r in raw.get("roles", ()))
    except ValueError as exc:
        raise WorkflowError(f"{where}: {exc}") from exc
    if not roles:
        raise WorkflowError(f"{where}: no roles may fire it")
    requires, optional = tuple(raw.get("requires", ())), tuple(raw.get("optional", ()))
    for name in requires + optional:
        if name not in fields:
            raise WorkflowError(f"{where}: unknown field {name!r}")
    when = []
    for name, values in raw.get("when", {}).items():
        if name not in requires:
            raise WorkflowError(f"{where}: 'when' field {name!r} must be required")
        when.append((name, tuple(values) if isinstance(values, list) else (values,)))
    unknown = set(raw) - {"action", "from", "to", "roles", "requires", "optional", "when", "rework"}
    if unknown:
        raise WorkflowError(f"{where}: unknown keys {sorted(unknown)}")
    return TransitionSpec(
        action,
        sources,
        dest,
        roles,
        requires,
        optional,
        tuple(when),
        bool(raw.get("rework", False)),
    )


def _check_ambiguity(specs: list[TransitionSpec], source: str) -> None:
    seen: dict[tuple[str, str], TransitionSpec] = {}
    for spec in specs:
        for state in spec.sources:
            other = seen.get((spec.action, state))
            if other is not None and (not other.when or not spec.when):
                raise WorkflowError(
                    f"{source}: action {spec.action!r} from {state!r} is defined twice; "
                    "give each a distinct 'when'"
                )
            seen[(spec.action, state)] = spec


_STANDARD: Workflow | None = None


def standard_workflow() -> Workflow:
    """The default workflow, built once per process and shared."""
    global _STANDARD
    if _STANDARD is None:
        from workflows import STANDARD

        _STANDARD = load_workflow(STANDARD)
    return _STANDARD

"""Action forms from the workflow: which fields each allowed action shows, and reading a
posted form (text, choices, departments, photos) into the action's data.

The workflow names every action's fields and their types, so one generic form serves every
action of every role; fields only the system fills (rule ids, timers …) are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from engine.attachments import AttachmentStore
from engine.cases.workflow import Workflow
from engine.db import MAX_ID
from engine.errors import InvalidInput

SYSTEM_FIELDS = {
    "rule", "rules_version", "queue_unit", "source", "timer", "alert_id", "snapshot",
    "limits", "stage", "queue", "unit", "card",
    "model_version", "router_target", "confidence", "threshold", "suggestions",
}  # fmt: skip
MAX_PHOTOS = 10
# Fields the workflow leaves optional that a person must give on a page: a decision
# against someone's request says why.
PAGE_REQUIRES = {"reject_suspension": ("reason",)}


@dataclass(frozen=True)
class FieldView:
    name: str
    type: str
    required: bool
    choices: tuple[str, ...] = ()


@dataclass
class ActionForm:
    action: str
    fields: list[FieldView] = field(default_factory=list)

    @property
    def multipart(self) -> bool:
        return any(f.type == "photos" for f in self.fields)


def action_form(workflow: Workflow, action: str, state: str) -> ActionForm:
    """The person-facing fields of ``action`` from ``state`` (required ones first)."""
    specs = workflow.specs(action, state)
    required = {name for spec in specs for name in spec.requires}
    required |= set(PAGE_REQUIRES.get(action, ()))
    names = list(dict.fromkeys(n for spec in specs for n in (*spec.requires, *spec.optional)))
    form = ActionForm(action)
    for name in sorted(names, key=lambda n: n not in required):
        if name in SYSTEM_FIELDS:
            continue
        spec = workflow.fields[name]
        form.fields.append(FieldView(name, spec.type, name in required, spec.choices))
    return form


def action_forms(workflow: Workflow, state: str, actions: list[str]) -> list[ActionForm]:
    return [action_form(workflow, action, state) for action in actions]


async def read_action_data(
    form: FormData, fields: list[FieldView], photos: AttachmentStore
) -> dict[str, object]:
    """The posted values of ``fields``; uploaded photos are stored and given as references."""
    data: dict[str, object] = {}
    for spec in fields:
        if spec.type == "photos":
            refs = await save_photos(form, spec.name, photos)
            if refs:
                data[spec.name] = refs
            continue
        if spec.type == "departments":
            values = [str(v) for v in form.getlist(spec.name) if str(v).strip()]
            if values:
                data[spec.name] = values
            continue
        raw = form.get(spec.name)
        if not isinstance(raw, str) or not raw.strip():
            continue
        data[spec.name] = _typed(spec, raw.strip())
    return data


def check_required(form: ActionForm, data: dict[str, object]) -> None:
    """Refuse a post without a field the page requires (the workflow checks its own)."""
    for name in PAGE_REQUIRES.get(form.action, ()):
        if name not in data:
            raise InvalidInput(name, "required")


def _typed(spec: FieldView, raw: str) -> object:
    if spec.type == "bool":
        if raw not in ("true", "false"):
            raise InvalidInput(spec.name, "choose pass or fail")
        return raw == "true"
    if spec.type == "case":
        digits = raw.lstrip("#")
        if not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) <= MAX_ID:
            raise InvalidInput(spec.name, "a case number")
        return int(digits)
    return raw


async def save_photos(form: FormData, name: str, store: AttachmentStore) -> list[str]:
    """Store each uploaded image of the ``name`` field; return their references."""
    files = [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_PHOTOS:
        raise InvalidInput(name, f"at most {MAX_PHOTOS} photos")
    refs = []
    for upload in files:
        data = await upload.read(store.max_bytes + 1)
        saved = await run_in_threadpool(store.save, data, name)
        refs.append(saved.ref)
    return refs

"""Open311 replies in the two formats GeoReport v2 defines: XML (the default, required by
the spec, what FixMyStreet reads) and JSON, one the mapping of the other (Spark convention:
a list is an element per item inside the list's own element)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from xml.etree import ElementTree as ET

from fastapi import Request
from fastapi.responses import JSONResponse, Response

Format = Literal["xml", "json"]
FORMATS: tuple[Format, ...] = ("xml", "json")
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

# Reply kind → (root element, item element); an item element None: the reply is one object.
ROOTS: dict[str, tuple[str, str | None]] = {
    "discovery": ("discovery", None),
    "services": ("services", "service"),
    "service_definition": ("service_definition", None),
    "requests": ("service_requests", "request"),
    "updates": ("service_requests_updates", "request_update"),
    "errors": ("errors", "error"),
}
# A list inside an object: the element of each of its items.
ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # no XML 1.0 for these


def format_of(request: Request) -> Format:
    """The format a URL asks for: ``.json`` is JSON, anything else XML (the spec's default)."""
    return "json" if request.url.path.endswith(".json") else "xml"


def split_format(name: str) -> tuple[str, Format | None]:
    """``"12.xml"`` → ``("12", "xml")``; no extension → XML; an unknown one → None."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return name, "xml"
    return stem, ext if ext in FORMATS else None  # type: ignore[return-value]


def reply(fmt: Format, kind: str, body: Any, status: int = 200) -> Response:
    if fmt == "json":
        return JSONResponse(body, status_code=status)
    return Response(to_xml(kind, body), status_code=status, media_type=XML_TYPE)


def to_xml(kind: str, body: Any) -> str:
    root_name, item_name = ROOTS[kind]
    root = ET.Element(root_name)
    if item_name is None:
        _fill(root, body)
    else:
        for item in body:
            _fill(ET.SubElement(root, item_name), item)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode")


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            if child is None:  # absent rather than empty: a number or date may not be ""
                continue
            sub = ET.SubElement(element, key)
            if isinstance(child, list):
                for item in child:
                    _fill(ET.SubElement(sub, ITEMS[key]), item)
            else:
                _fill(sub, child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = NOT_XML.sub("", str(value))


def spec_error(fmt: Format, status: int, description: str) -> Response:
    return reply(fmt, "errors", [{"code": status, "description": description}], status)

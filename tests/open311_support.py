"""Open311 test support (not a test module): the reply schemas in both formats, the spec's
XML-to-JSON mapping, and a client that behaves as FixMyStreet's Open311 sender does.

Every reply these helpers read is validated: XML against the XSDs of
tests/schemas/open311/xml (written from the GeoReport v2 spec's XML structure), JSON against
the JSON Schemas of tests/schemas/open311 (which hold at least the constraints of the
open311/schema-validation project's GeoReport v2 schemas, plus the spec's date format)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import xmlschema
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).parent / "schemas" / "open311"
BASE = "/open311/v2"
XML_TYPE = "text/xml; charset=utf-8"
# Reply kind → its root element in XML (the JSON Schema and the XSD share the kind's name).
ROOTS = {
    "discovery": "discovery",
    "services": "services",
    "service_definition": "service_definition",
    "requests": "service_requests",
    "post_response": "service_requests",
    "token": "service_requests",
    "updates": "service_requests_updates",
    "errors": "errors",
}
# XML list elements and their items (the Spark convention's arrays).
LISTS = {
    "services": "service",
    "service_requests": "request",
    "service_requests_updates": "request_update",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


@cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@cache
def _json_validator(kind: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


@cache
def _xsd(kind: str) -> xmlschema.XMLSchemaBase:
    path = SCHEMAS / "xml" / f"{kind}.xsd"
    return xmlschema.XMLSchema11(str(path))  # 1.1 for the post reply's id-or-token assert


def check_json(kind: str, body: Any) -> Any:
    _json_validator(kind).validate(body)
    return body


def check_xml(kind: str, text: str) -> ET.Element:
    """Validate an XML reply: declaration, root element and schema."""
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>'), text[:80]
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == ROOTS[kind], (root.tag, kind)
    _xsd(kind).validate(text)
    return root


def check(kind: str, response: httpx.Response) -> Any:
    """Validate a reply in the format its URL asked for; the JSON value of either."""
    if response.url.path.endswith(".json"):
        assert response.headers["content-type"].startswith("application/json")
        return check_json(kind, response.json())
    assert response.headers["content-type"] == XML_TYPE, response.headers["content-type"]
    return spark(check_xml(kind, response.text))


def spark(element: ET.Element) -> Any:
    """The JSON the spec maps an XML reply to: list elements become arrays; an element's
    text is a string (a JSON reply's numbers and booleans are compared as text)."""
    if element.tag in LISTS:
        return [spark(child) for child in element if child.tag == LISTS[element.tag]]
    if len(element):
        return {child.tag: spark(child) for child in element}
    return element.text or ""


def as_text(value: Any) -> Any:
    """A JSON reply as :func:`spark` sees its XML twin: scalars as text, nulls left out."""
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items() if v is not None}
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def simple(text: str) -> Any:
    """XML as Perl's XML::Simple reads it (FixMyStreet's parser): the root is dropped, an
    element with children is a hash, repeated elements an array, an empty element ``{}``."""

    def value(element: ET.Element) -> Any:
        if not len(element):
            return element.text if element.text else {}
        found: dict[str, Any] = {}
        for child in element:
            item = value(child)
            if child.tag in found:
                found[child.tag] = (
                    [*found[child.tag], item]
                    if isinstance(found[child.tag], list)
                    else [found[child.tag], item]
                )
            else:
                found[child.tag] = item
        return found

    return value(ET.fromstring(text.encode("utf-8")))


async def both(client: httpx.AsyncClient, kind: str, path: str, **params: str) -> Any:
    """GET ``path`` as .xml and as .json: both valid, and the same content (Spark mapping)."""
    as_xml = await client.get(f"{BASE}/{path}.xml", params=params)
    as_json = await client.get(f"{BASE}/{path}.json", params=params)
    assert as_xml.status_code == as_json.status_code, (as_xml.text, as_json.text)
    from_xml, from_json = check(kind, as_xml), check(kind, as_json)
    assert from_xml == as_text(from_json)
    return as_json


class FixMyStreetSender:
    """What FixMyStreet's perllib/Open311.pm does against an Open311 endpoint: the same URLs
    (services.xml, services/{code}.xml, requests.xml, tokens/{token}.xml,
    servicerequestupdates.xml), the same form fields, jurisdiction_id on every call, and
    XML::Simple's reading of the replies. Every reply is also checked against its schema."""

    def __init__(
        self, client: httpx.AsyncClient, endpoint: str, jurisdiction: str, api_key: str
    ) -> None:
        self.client, self.endpoint = client, endpoint.rstrip("/") + "/"
        self.jurisdiction, self.api_key = jurisdiction, api_key
        self.failures: list[str] = []

    async def _get(self, kind: str, path: str, params: dict[str, str] | None = None) -> Any:
        query = (params or {}) | {"jurisdiction_id": self.jurisdiction}
        response = await self.client.get(self.endpoint + path, params=query)
        return self._read(kind, response)

    async def _post(self, kind: str, path: str, fields: dict[str, str]) -> Any:
        form = {"jurisdiction_id": self.jurisdiction, "api_key": self.api_key} | fields
        response = await self.client.post(self.endpoint + path, data=form)
        return self._read(kind, response)

    def _read(self, kind: str, response: httpx.Response) -> Any:
        assert response.headers["content-type"] == XML_TYPE
        if response.is_success:
            check_xml(kind, response.text)
            return simple(response.text)
        check_xml("errors", response.text)
        errors = simple(response.text)["error"]
        for error in errors if isinstance(errors, list) else [errors]:
            self.failures.append(f"{error['code']}: {error['description']}")
        return None

    async def get_service_list(self) -> list[dict[str, Any]]:
        found = await self._get("services", "services.xml")
        services = found["service"]
        return services if isinstance(services, list) else [services]

    async def get_service_meta_info(self, service_code: str) -> dict[str, Any]:
        return await self._get("service_definition", f"services/{service_code}.xml")

    async def send_service_request(self, report: dict[str, Any], service_code: str) -> str | None:
        """The report's fields as FixMyStreet names them; the new request's id, or None."""
        first, _, last = report["name"].partition(" ")
        fields = {
            "lat": str(report["latitude"]),
            "long": str(report["longitude"]),
            "email": report["email"],
            "description": f"title: {report['title']}\n\ndetail: {report['detail']}\n\n"
            f"url: {report['url']}\n\nSubmitted via FixMyStreet\n",
            "service_code": service_code,
            "first_name": first,
            "last_name": last,
        }
        if report.get("phone"):
            fields["phone"] = report["phone"]
        if report.get("image_url"):
            fields["media_url"] = report["image_url"]
        if report.get("device_id"):
            fields["device_id"] = report["device_id"]
        for name, value in report.get("extra", {}).items():
            fields[f"attribute[{name}]"] = value
        found = await self._post("post_response", "requests.xml", fields)
        if not found:
            return None
        request = found["request"]
        if isinstance(request.get("service_request_id"), str):
            return request["service_request_id"]
        if isinstance(request.get("token"), str):
            return await self.get_service_request_id_from_token(request["token"])
        return None

    async def get_service_request_id_from_token(self, token: str) -> str | None:
        found = await self._get("token", f"tokens/{token}.xml")
        return found["request"]["service_request_id"] if found else None

    async def get_service_requests(self, ids: list[str]) -> list[dict[str, Any]]:
        found = await self._get("requests", "requests.xml", {"service_request_id": ",".join(ids)})
        requests = found.get("request", []) if isinstance(found, dict) else []
        return requests if isinstance(requests, list) else [requests]

    async def get_service_request_updates(self, start: str, end: str) -> list[dict[str, Any]]:
        params = {"start_date": start, "end_date": end, "api_key": self.api_key}
        found = await self._get("updates", "servicerequestupdates.xml", params)
        updates = found.get("request_update", []) if isinstance(found, dict) else []
        return updates if isinstance(updates, list) else [updates]

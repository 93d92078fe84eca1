# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stubs of two Adobe APIs the collection's playbooks call with an IMS token, for tests.

ims_emulator.py hands every request to answer() first; it answers the paths below and
returns False for any other, which the emulator then routes as before.

- Cloud Manager API (https://developer.adobe.com/experience-cloud/cloud-manager/reference/api/):
  ``GET /api/programs``, ``GET /api/program/{programId}/environments``,
  ``GET|PATCH /api/program/{programId}/environment/{environmentId}/variables``. Every call
  needs ``Authorization: Bearer <token>``, ``x-api-key: <client id>`` and
  ``x-gw-ims-org-id: <org>`` (the three required headers of every operation in that reference;
  the same list in Adobe's client, adobe/aio-lib-cloudmanager). Answers are HAL
  (``_embedded``/``_links``). A secretString variable is listed without its value, and a
  PATCH lists only the variables it sets; an empty value deletes one ("Environment
  Variables", https://experienceleague.adobe.com/en/docs/experience-manager-cloud-service/content/implementing/using-cloud-manager/environment-variables).
- AEM Forms Communications, synchronous Output API
  (https://developer.adobe.com/experience-manager-forms-cloud-service-developer-reference/api/output-sync/):
  ``POST /adobe/forms/doc/v1/generatePDFOutput``, multipart/form-data with a ``template`` (an
  XDP or PDF file, or the path of one under ``contentRoot``), an optional ``data`` (XML) and
  optional ``options`` (JSON); answers the PDF. It is called on the AEM host with a bearer
  token; ``x-api-key``, when sent, must be the token's client. Errors are problem details
  (RFC 9457), as that reference documents for its 400 and 500 answers.

Refusals look like the real ones: Adobe's API gateway (which fronts Cloud Manager) answers
a missing or unknown token with 401 and a missing or wrong API key with 403, as
``{"error_code": "...", "message": "..."}`` (e.g. ``{"error_code": "403003", "message": "Api Key
is invalid"}`` in AdobeDocs/adobeio-runtime#5). Adobe publishes no exact text for a missing
``x-gw-ims-org-id``: this stub answers 400 with a problem detail that names the header.

Tokens are checked with the emulator's own check_token: only a token it issued, unexpired
and not invalidated, passes; its ``org`` and ``client_id`` claims are the organization and
the API key it must be sent with. Data lives in memory per emulator and per organization
(each test integration has its own org), so tests never see each other's variables.
Nothing secret is logged; variable values are kept only in memory, and the admin view
(``GET /_emulator/adobe-apis``) shows a SHA-256 of secret ones, never the value.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import re
import threading
import weakref
from collections.abc import Callable, Mapping

JSON_TYPE = "application/json;charset=UTF-8"
HAL_TYPE = "application/hal+json;charset=UTF-8"
PROBLEM_TYPE = "application/problem+json;charset=UTF-8"

CLOUD_MANAGER_PREFIX = "/api/"
GENERATE_PDF_OUTPUT = "/adobe/forms/doc/v1/generatePDFOutput"
ADMIN_PATH = "/_emulator/adobe-apis"

# Adobe's API gateway, in front of Cloud Manager.
MSG_TOKEN_INVALID = "Oauth token is not valid"
MSG_API_KEY_REQUIRED = "Api Key is required"
MSG_API_KEY_INVALID = "Api Key is invalid"
# The emulator's own wording (Adobe publishes none), naming the header.
MSG_ORG_REQUIRED = "Missing required header: x-gw-ims-org-id (the IMS organization ID, ...@AdobeOrg)"
MSG_ORG_MISMATCH = "The IMS organization in x-gw-ims-org-id is not the organization of the access token"

VARIABLE_TYPES = ("string", "secretString")
VARIABLE_SERVICES = ("author", "publish", "preview")
# Limits from Cloud Manager's "Environment Variables" page: names of letters, digits and
# underscores that do not start with a digit, at most 100 characters; values of at most
# 2048 characters; at most 200 variables per environment.
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
MAX_VALUE_LENGTH = 2048
MAX_VARIABLES = 200

PROGRAM_ID = "100001"
ENVIRONMENTS = (("200001", "dev"), ("200002", "stage"), ("200003", "prod"))

Send = Callable[[int, bytes, str, dict], None]


class ApiData:
    """The programs, environments and variables of every organization, and a count of calls."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.variables: dict[tuple[str, str, str], dict[tuple[str, str], dict]] = {}
        self.calls: dict[str, int] = {}

    def count(self, what: str) -> None:
        with self.lock:
            self.calls[what] = self.calls.get(what, 0) + 1

    def snapshot(self) -> dict:
        """The admin view: calls, and each environment's variables (secret values as a SHA-256 only)."""
        with self.lock:
            environments = {}
            for (org, program, environment), variables in self.variables.items():
                shown = []
                for variable in variables.values():
                    entry = {key: value for key, value in variable.items() if key != "value"}
                    if variable["type"] == "secretString":
                        entry["value_sha256"] = hashlib.sha256(variable["value"].encode("utf-8")).hexdigest()
                    else:
                        entry["value"] = variable["value"]
                    shown.append(entry)
                environments["%s/%s/%s" % (org, program, environment)] = shown
            return {"calls": dict(self.calls), "variables": environments}


_DATA: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DATA_LOCK = threading.Lock()


def data_of(state) -> ApiData:
    """The stub data of one emulator (its EmulatorState), created on first use."""
    with _DATA_LOCK:
        found = _DATA.get(state)
        if found is None:
            found = _DATA[state] = ApiData()
        return found


def _json(send: Send, status: int, payload, content_type: str = JSON_TYPE) -> None:
    send(status, json.dumps(payload).encode("utf-8"), content_type, {})


def _gateway_error(send: Send, status: int, code: str, message: str) -> None:
    _json(send, status, {"error_code": code, "message": message})


def _problem(send: Send, status: int, title: str, detail: str) -> None:
    _json(send, status, {"type": "about:blank", "status": status, "title": title, "detail": detail}, PROBLEM_TYPE)


def _bearer_claims(state, headers: Mapping) -> dict | None:
    """The claims of the request's bearer token when this emulator issued it and still honours it."""
    auth = headers.get("Authorization") or ""
    if auth[:7].lower() != "bearer " or not auth[7:].strip():
        return None
    claims, valid = state.check_token(auth[7:].strip())
    return claims if valid and claims else None


def answer(state, method: str, path: str, headers: Mapping, body: bytes, send: Send) -> bool:
    """Answer a request for one of the stubbed APIs through send(status, body, content type, headers); False if not one."""
    if path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/"):
        _admin(state, method, path, send)
        return True
    if path.startswith(CLOUD_MANAGER_PREFIX):
        _cloud_manager(state, method, path, headers, body, send)
        return True
    if path == GENERATE_PDF_OUTPUT:
        _generate_pdf_output(state, method, headers, body, send)
        return True
    return False


def _admin(state, method: str, path: str, send: Send) -> None:
    if method == "GET" and path == ADMIN_PATH:
        _json(send, 200, data_of(state).snapshot())
    elif method == "POST" and path == ADMIN_PATH + "/reset":
        with _DATA_LOCK:
            _DATA[state] = ApiData()
        _json(send, 200, {"ok": True})
    else:
        _json(send, 404, {"error": "not_found", "error_description": "Not found"})


# -- Cloud Manager ---------------------------------------------------------------


def _cloud_manager(state, method: str, path: str, headers: Mapping, body: bytes, send: Send) -> None:
    data = data_of(state)
    # The gateway's checks come first, in this order: token, API key; then the service's: organization.
    claims = _bearer_claims(state, headers)
    if claims is None:
        data.count("cloudmanager 401")
        _gateway_error(send, 401, "401013", MSG_TOKEN_INVALID)
        return
    api_key = headers.get("x-api-key")
    if not api_key:
        data.count("cloudmanager 403")
        _gateway_error(send, 403, "403000", MSG_API_KEY_REQUIRED)
        return
    if api_key != claims.get("client_id"):
        data.count("cloudmanager 403")
        _gateway_error(send, 403, "403003", MSG_API_KEY_INVALID)
        return
    org = headers.get("x-gw-ims-org-id")
    if not org:
        data.count("cloudmanager 400")
        _problem(send, 400, "Bad Request", MSG_ORG_REQUIRED)
        return
    if org != claims.get("org"):
        data.count("cloudmanager 403")
        _problem(send, 403, "Forbidden", MSG_ORG_MISMATCH)
        return
    parts = path[len(CLOUD_MANAGER_PREFIX) :].split("/")
    if parts == ["programs"] and method == "GET":
        data.count("GET programs")
        program = {"id": PROGRAM_ID, "name": "aemops.ims test program", "enabled": True, "imsOrgId": org, "_links": _self("/api/program/" + PROGRAM_ID)}
        _json(send, 200, {"_totalNumberOfItems": 1, "_embedded": {"programs": [program]}, "_links": _self("/api/programs")}, HAL_TYPE)
        return
    if len(parts) == 3 and parts[0] == "program" and parts[2] == "environments" and method == "GET":
        if parts[1] != PROGRAM_ID:
            _problem(send, 404, "Not Found", "Program %s does not exist" % parts[1][:40])
            return
        data.count("GET environments")
        environments = [
            {"id": env_id, "programId": PROGRAM_ID, "name": "aemops-" + kind, "type": kind, "_links": _self("%s/environment/%s" % (path[:-13], env_id))}
            for env_id, kind in ENVIRONMENTS
        ]
        _json(send, 200, {"_totalNumberOfItems": len(environments), "_embedded": {"environments": environments}, "_links": _self(path)}, HAL_TYPE)
        return
    if len(parts) == 5 and parts[0] == "program" and parts[2] == "environment" and parts[4] == "variables" and method in ("GET", "PATCH"):
        if parts[1] != PROGRAM_ID or parts[3] not in dict(ENVIRONMENTS):
            _problem(send, 404, "Not Found", "Environment %s of program %s does not exist" % (parts[3][:40], parts[1][:40]))
            return
        key = (org, parts[1], parts[3])
        if method == "PATCH":
            _patch_variables(data, key, body, path, send)
        else:
            data.count("GET variables")
            _send_variables(data, key, path, send)
        return
    _problem(send, 404 if method in ("GET", "PATCH") else 405, "Not Found" if method in ("GET", "PATCH") else "Method Not Allowed", "No such operation")


def _self(href: str) -> dict:
    return {"self": {"href": href}}


def _listed(variable: dict) -> dict:
    """A variable as Cloud Manager lists it: a secretString without its value."""
    return {key: value for key, value in variable.items() if not (key == "value" and variable["type"] == "secretString")}


def _send_variables(data: ApiData, key: tuple, path: str, send: Send) -> None:
    with data.lock:
        variables = [_listed(variable) for variable in data.variables.get(key, {}).values()]
    _json(send, 200, {"_embedded": {"variables": variables}, "_links": _self(path)}, HAL_TYPE)


def _checked_variables(body: bytes) -> list[dict] | str:
    """The PATCH body as a list of variables, or the reason it is refused."""
    try:
        items = json.loads(body or b"null")
    except ValueError:
        return "The request body is not JSON"
    if not isinstance(items, list):
        return "The request body must be a JSON array of variables"
    checked = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            return "Variable %d is not an object" % index
        name, value, kind, service = item.get("name"), item.get("value", ""), item.get("type", "string"), item.get("service")
        if not isinstance(name, str) or not _VARIABLE_NAME.match(name):
            return "Variable %d: the name must be at most 100 letters, digits or underscores, not starting with a digit" % index
        if kind not in VARIABLE_TYPES:
            return "Variable %s: type must be one of %s" % (name, ", ".join(VARIABLE_TYPES))
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
            return "Variable %s: the value must be a string of at most %d characters" % (name, MAX_VALUE_LENGTH)
        if service is not None and service not in VARIABLE_SERVICES:
            return "Variable %s: service must be one of %s" % (name, ", ".join(VARIABLE_SERVICES))
        checked.append({"name": name, "value": value, "type": kind, "service": service})
    return checked


def _patch_variables(data: ApiData, key: tuple, body: bytes, path: str, send: Send) -> None:
    checked = _checked_variables(body)
    if isinstance(checked, str):
        data.count("cloudmanager 400")
        _problem(send, 400, "Bad Request", checked)
        return
    with data.lock:
        variables = dict(data.variables.get(key, {}))
        for item in checked:
            slot = (item["name"], item["service"] or "")
            if item["value"] == "":
                variables.pop(slot, None)
                continue
            variable = {"name": item["name"], "value": item["value"], "type": item["type"]}
            if item["service"]:
                variable["service"] = item["service"]
            variables[slot] = variable
        if len(variables) > MAX_VARIABLES:
            refused = True
        else:
            refused = False
            data.variables[key] = variables
    if refused:
        data.count("cloudmanager 400")
        _problem(send, 400, "Bad Request", "An environment holds at most %d variables" % MAX_VARIABLES)
        return
    data.count("PATCH variables")
    _send_variables(data, key, path, send)


# -- Forms Communications: generatePDFOutput ---------------------------------------


def _generate_pdf_output(state, method: str, headers: Mapping, body: bytes, send: Send) -> None:
    data = data_of(state)
    if method != "POST":
        _problem(send, 405, "Method Not Allowed", "Use POST")
        return
    claims = _bearer_claims(state, headers)
    if claims is None:
        data.count("forms 401")
        _problem(send, 401, "Unauthorized", "A valid bearer access token is required in the Authorization header")
        return
    api_key = headers.get("x-api-key")
    if api_key is not None and api_key != claims.get("client_id"):
        data.count("forms 403")
        _problem(send, 403, "Forbidden", "x-api-key is not the client ID of the access token")
        return
    parts = multipart_parts(headers.get("Content-Type") or "", body)
    if parts is None:
        data.count("forms 400")
        _problem(send, 400, "Bad Request", "The request body must be multipart/form-data")
        return
    template = parts.get("template")
    if template is None or not template[1].strip():
        data.count("forms 400")
        _problem(send, 400, "Bad Request", "The template part is required: an XDP or PDF file, or its path under contentRoot")
        return
    filename, content = template
    if filename is not None and not content.lstrip().startswith((b"<", b"%PDF")):
        data.count("forms 400")
        _problem(send, 400, "Bad Request", "The template is neither an XDP nor a PDF")
        return
    form_data = parts.get("data", (None, b""))[1]
    if form_data.strip() and not form_data.lstrip().startswith(b"<"):
        data.count("forms 400")
        _problem(send, 400, "Bad Request", "The data part must be XML")
        return
    options = parts.get("options", (None, b"{}"))[1]
    try:
        if not isinstance(json.loads(options or b"{}"), dict):
            raise ValueError
    except ValueError:
        data.count("forms 400")
        _problem(send, 400, "Bad Request", "The options part must be a JSON object")
        return
    data.count("POST generatePDFOutput")
    name = filename or content.decode("utf-8", "replace").strip()
    send(200, render_pdf(name, content, form_data), "application/pdf", {})


def multipart_parts(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]] | None:
    """{field name: (file name or None, bytes)} of a multipart/form-data body; None if it is not one."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        return None
    raw = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    if not message.is_multipart():
        return None
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name and str(name) not in parts:
            filename = part.get_param("filename", header="content-disposition")
            parts[str(name)] = (str(filename) if filename else None, part.get_payload(decode=True) or b"")
    return parts


def render_pdf(template_name: str, template: bytes, form_data: bytes) -> bytes:
    """A small valid one-page PDF that names the template and the data it merged; the same inputs give the same bytes."""
    digest = hashlib.sha256(template + b"\0" + form_data).hexdigest()[:16]
    text = "aemops.ims emulator: %s merged with %d bytes of data (%s)" % (template_name[-60:], len(form_data), digest)
    text = "".join(ch if 32 <= ord(ch) < 127 and ch not in "()\\" else "?" for ch in text)
    stream = ("BT /F1 10 Tf 36 800 Td (%s) Tj ET" % text).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)

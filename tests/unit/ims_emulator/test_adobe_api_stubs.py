# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the emulator's Cloud Manager and Forms Communications stubs (tests/ims_emulator/adobe_api_stubs.py).

Most call answer() directly with a stand-in for the emulator's state; the last ones go
through the real emulator process, which is how the playbooks reach the stubs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import urllib.parse
import uuid
from pathlib import Path

import pytest

EMULATOR_DIR = Path(__file__).resolve().parents[2] / "ims_emulator"


def _load(name, file_name):
    # Loaded by path: they are scripts next to the emulator, not packages of the collection.
    spec = importlib.util.spec_from_file_location(name, EMULATOR_DIR / file_name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stubs = _load("aemops_ims_adobe_api_stubs", "adobe_api_stubs.py")

ORG = "0123456789ABCDEF01234567@AdobeOrg"
OTHER_ORG = "76543210FEDCBA9876543210@AdobeOrg"
CLIENT = "0123456789abcdef0123456789abcdef"
VARIABLES = "/api/program/100001/environment/200001/variables"


class FakeState:
    """What the stubs use of the emulator's state: check_token -> (claims, valid)."""

    def __init__(self):
        self.tokens = {}

    def issue(self, org=ORG, client_id=CLIENT, valid=True):
        token = "token-%s" % uuid.uuid4().hex
        self.tokens[token] = ({"org": org, "client_id": client_id, "type": "access_token"}, valid)
        return token

    def check_token(self, token):
        return self.tokens.get(token, (None, False))


class Answer:
    def __init__(self):
        self.status = None

    def __call__(self, status, body, content_type, headers):
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers

    @property
    def json(self):
        return json.loads(self.body)


@pytest.fixture
def state():
    return FakeState()


def call(state, method, path, headers=None, body=b""):
    answer = Answer()
    handled = stubs.answer(state, method, path, headers or {}, body, answer)
    assert handled and answer.status is not None
    return answer


def cm_headers(state, token=None, **changes):
    headers = {"Authorization": "Bearer " + (token or state.issue()), "x-api-key": CLIENT, "x-gw-ims-org-id": ORG}
    headers.update(changes)
    return {name: value for name, value in headers.items() if value is not None}


def patch(state, headers, variables):
    return call(state, "PATCH", VARIABLES, headers, json.dumps(variables).encode("utf-8"))


def test_other_paths_are_left_to_the_emulator(state):
    for path in ("/ims/token/v3", "/libs/granite/security/currentuser.json", "/aem/x", "/_emulator/stats", "/apix"):
        assert stubs.answer(state, "GET", path, {}, b"", Answer()) is False


# -- Cloud Manager: the required headers ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "expected"),
    [
        ({"Authorization": None}, 401, {"error_code": "401013", "message": "Oauth token is not valid"}),
        ({"Authorization": "Bearer not-a-token-of-this-emulator"}, 401, {"error_code": "401013", "message": "Oauth token is not valid"}),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, {"error_code": "401013", "message": "Oauth token is not valid"}),
        ({"x-api-key": None}, 403, {"error_code": "403000", "message": "Api Key is required"}),
        ({"x-api-key": "someone-else"}, 403, {"error_code": "403003", "message": "Api Key is invalid"}),
    ],
)
def test_cloud_manager_gateway_refusals(state, change, status, expected):
    answer = call(state, "GET", "/api/programs", cm_headers(state, **change))
    assert (answer.status, answer.json) == (status, expected)
    assert answer.content_type.startswith("application/json")


def test_cloud_manager_refuses_a_token_it_no_longer_honours(state):
    token = state.issue(valid=False)
    assert call(state, "GET", "/api/programs", cm_headers(state, token)).status == 401


def test_cloud_manager_needs_the_org_header(state):
    answer = call(state, "GET", "/api/programs", cm_headers(state, **{"x-gw-ims-org-id": None}))
    assert answer.status == 400 and answer.content_type.startswith("application/problem+json")
    assert answer.json["detail"] == stubs.MSG_ORG_REQUIRED and "x-gw-ims-org-id" in answer.json["detail"]


def test_cloud_manager_refuses_an_org_that_is_not_the_tokens(state):
    answer = call(state, "GET", "/api/programs", cm_headers(state, **{"x-gw-ims-org-id": OTHER_ORG}))
    assert (answer.status, answer.json["detail"]) == (403, stubs.MSG_ORG_MISMATCH)


# -- Cloud Manager: programs, environments, variables -------------------------------------


def test_programs_and_environments_are_hal(state):
    headers = cm_headers(state)
    programs = call(state, "GET", "/api/programs", headers)
    assert programs.status == 200 and programs.content_type.startswith("application/hal+json")
    [program] = programs.json["_embedded"]["programs"]
    assert program["id"] == "100001" and program["_links"]["self"]["href"] == "/api/program/100001"
    environments = call(state, "GET", "/api/program/%s/environments" % program["id"], headers).json["_embedded"]["environments"]
    assert [(env["id"], env["type"]) for env in environments] == [("200001", "dev"), ("200002", "stage"), ("200003", "prod")]
    assert environments[0]["_links"]["self"]["href"] == "/api/program/100001/environment/200001"


def test_unknown_program_environment_or_operation(state):
    headers = cm_headers(state)
    assert call(state, "GET", "/api/program/999/environments", headers).status == 404
    assert call(state, "GET", "/api/program/100001/environment/999/variables", headers).status == 404
    assert call(state, "GET", "/api/pipelines", headers).status == 404
    assert call(state, "DELETE", VARIABLES, headers).status == 405


def test_variables_start_empty_and_a_patch_sets_them(state):
    headers = cm_headers(state)
    assert call(state, "GET", VARIABLES, headers).json["_embedded"]["variables"] == []
    answer = patch(
        state,
        headers,
        [
            {"name": "LOG_LEVEL", "value": "DEBUG", "type": "string"},
            {"name": "API_SECRET", "value": "s3cr3t-value", "type": "secretString"},
            {"name": "LOG_LEVEL", "value": "INFO", "type": "string", "service": "publish"},
        ],
    )
    assert answer.status == 200
    listed = call(state, "GET", VARIABLES, headers).json["_embedded"]["variables"]
    assert answer.json["_embedded"]["variables"] == listed
    assert listed == [
        {"name": "LOG_LEVEL", "value": "DEBUG", "type": "string"},
        {"name": "API_SECRET", "type": "secretString"},
        {"name": "LOG_LEVEL", "value": "INFO", "type": "string", "service": "publish"},
    ]
    assert b"s3cr3t-value" not in call(state, "GET", VARIABLES, headers).body


def test_a_patch_changes_only_what_it_lists_and_an_empty_value_deletes(state):
    headers = cm_headers(state)
    patch(state, headers, [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    patch(state, headers, [{"name": "A", "value": ""}, {"name": "B", "value": "3"}, {"name": "C", "value": ""}])
    assert call(state, "GET", VARIABLES, headers).json["_embedded"]["variables"] == [{"name": "B", "value": "3", "type": "string"}]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "not JSON"),
        (json.dumps({"name": "A", "value": "1"}).encode(), "JSON array"),
        (json.dumps(["A"]).encode(), "not an object"),
        (json.dumps([{"name": "1A", "value": "1"}]).encode(), "letters, digits or underscores"),
        (json.dumps([{"name": "A-B", "value": "1"}]).encode(), "letters, digits or underscores"),
        (json.dumps([{"name": "A", "value": "1", "type": "secret"}]).encode(), "type must be one of string, secretString"),
        (json.dumps([{"name": "A", "value": 1}]).encode(), "must be a string"),
        (json.dumps([{"name": "A", "value": "x" * 2049}]).encode(), "at most 2048"),
        (json.dumps([{"name": "A", "value": "1", "service": "dispatcher"}]).encode(), "service must be one of"),
    ],
)
def test_a_patch_is_validated(state, body, detail):
    headers = cm_headers(state)
    answer = call(state, "PATCH", VARIABLES, headers, body)
    assert answer.status == 400 and detail in answer.json["detail"]
    assert call(state, "GET", VARIABLES, headers).json["_embedded"]["variables"] == []


def test_at_most_200_variables(state):
    headers = cm_headers(state)
    assert patch(state, headers, [{"name": "V%d" % index, "value": "x"} for index in range(200)]).status == 200
    assert patch(state, headers, [{"name": "ONE_MORE", "value": "x"}]).status == 400
    assert len(call(state, "GET", VARIABLES, headers).json["_embedded"]["variables"]) == 200


def test_each_org_has_its_own_variables(state):
    mine, theirs = cm_headers(state), cm_headers(state, state.issue(org=OTHER_ORG), **{"x-gw-ims-org-id": OTHER_ORG})
    patch(state, mine, [{"name": "A", "value": "1"}])
    assert call(state, "GET", VARIABLES, theirs).json["_embedded"]["variables"] == []


def test_each_emulator_has_its_own_data():
    first, second = FakeState(), FakeState()
    patch(first, cm_headers(first), [{"name": "A", "value": "1"}])
    assert call(second, "GET", VARIABLES, cm_headers(second)).json["_embedded"]["variables"] == []


def test_admin_view_counts_calls_and_hides_secret_values(state):
    headers = cm_headers(state)
    patch(state, headers, [{"name": "PLAIN", "value": "shown"}, {"name": "HIDDEN", "value": "never-shown", "type": "secretString"}])
    call(state, "GET", VARIABLES, cm_headers(state, **{"x-api-key": None}))
    view = call(state, "GET", "/_emulator/adobe-apis")
    assert b"never-shown" not in view.body
    assert view.json["calls"] == {"PATCH variables": 1, "cloudmanager 403": 1}
    [variables] = view.json["variables"].values()
    assert variables == [
        {"name": "PLAIN", "type": "string", "value": "shown"},
        {"name": "HIDDEN", "type": "secretString", "value_sha256": hashlib.sha256(b"never-shown").hexdigest()},
    ]
    assert call(state, "POST", "/_emulator/adobe-apis/reset").status == 200
    assert call(state, "GET", "/_emulator/adobe-apis").json == {"calls": {}, "variables": {}}
    assert call(state, "GET", "/_emulator/adobe-apis/nothing").status == 404


# -- Forms Communications: generatePDFOutput -----------------------------------------------

TEMPLATE = b'<?xml version="1.0"?><xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template/></xdp:xdp>'
DATA = b"<form1><name>Ada</name></form1>"


def multipart(**fields):
    """(content type, body) of a multipart/form-data request; a (file name, bytes) value is a file part."""
    chunks = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            head = 'Content-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: application/octet-stream' % (name, value[0])
            content = value[1]
        else:
            head, content = 'Content-Disposition: form-data; name="%s"' % name, value.encode("utf-8")
        chunks.append(b"--aemops-boundary\r\n" + head.encode("ascii") + b"\r\n\r\n" + content + b"\r\n")
    return "multipart/form-data; boundary=aemops-boundary", b"".join(chunks) + b"--aemops-boundary--\r\n"


def render(state, headers=None, **fields):
    content_type, body = multipart(**fields)
    headers = dict({"Authorization": "Bearer " + state.issue(), "Content-Type": content_type}, **(headers or {}))
    return call(state, "POST", stubs.GENERATE_PDF_OUTPUT, {name: value for name, value in headers.items() if value is not None}, body)


def test_generate_pdf_output_renders_a_pdf(state):
    answer = render(state, template=("letter.xdp", TEMPLATE), data=("data.xml", DATA), options='{"embedFonts": true}')
    assert (answer.status, answer.content_type) == (200, "application/pdf")
    pdf = answer.body
    assert pdf.startswith(b"%PDF-1.7\n") and pdf.endswith(b"%%EOF\n") and b"letter.xdp merged with 31 bytes of data" in pdf
    # The cross-reference table points at each object.
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in pdf[xref:].split(b"\n")[3:8]]
    assert [pdf[offset:].split(b" ", 1)[0] for offset in offsets] == [b"1", b"2", b"3", b"4", b"5"]
    assert all(pdf[offset:].startswith(b"%d 0 obj" % number) for number, offset in enumerate(offsets, start=1))


def test_the_same_inputs_give_the_same_pdf_and_other_data_another(state):
    first = render(state, template=("letter.xdp", TEMPLATE), data=("data.xml", DATA)).body
    assert render(state, template=("letter.xdp", TEMPLATE), data=("data.xml", DATA)).body == first
    assert render(state, template=("letter.xdp", TEMPLATE), data=("data.xml", DATA.replace(b"Ada", b"Bob"))).body != first


def test_a_template_path_under_the_content_root(state):
    answer = render(state, template="crx:///content/dam/formsanddocuments/letter.xdp")
    assert answer.status == 200 and b"letter.xdp merged with 0 bytes" in answer.body


@pytest.mark.parametrize(
    ("headers", "fields", "status", "detail"),
    [
        ({"Authorization": None}, {"template": ("t.xdp", TEMPLATE)}, 401, "bearer access token"),
        ({"Authorization": "Bearer forged"}, {"template": ("t.xdp", TEMPLATE)}, 401, "bearer access token"),
        ({"x-api-key": "someone-else"}, {"template": ("t.xdp", TEMPLATE)}, 403, "x-api-key"),
        ({}, {"data": ("d.xml", DATA)}, 400, "template part is required"),
        ({}, {"template": ("t.docx", b"PK\x03\x04")}, 400, "neither an XDP nor a PDF"),
        ({}, {"template": ("t.xdp", TEMPLATE), "data": ("d.json", b'{"a": 1}')}, 400, "must be XML"),
        ({}, {"template": ("t.xdp", TEMPLATE), "options": "[1]"}, 400, "JSON object"),
        ({"Content-Type": "application/json"}, {"template": ("t.xdp", TEMPLATE)}, 400, "multipart/form-data"),
    ],
)
def test_generate_pdf_output_refusals(state, headers, fields, status, detail):
    answer = render(state, headers, **fields)
    assert answer.status == status and answer.content_type.startswith("application/problem+json")
    assert detail in answer.json["detail"] and answer.json["status"] == status


def test_generate_pdf_output_accepts_the_tokens_api_key_and_only_post(state):
    assert render(state, {"x-api-key": CLIENT}, template=("t.xdp", TEMPLATE)).status == 200
    assert call(state, "GET", stubs.GENERATE_PDF_OUTPUT).status == 405


# -- through the real emulator --------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    client = _load("aemops_ims_emulator_client_for_stubs", "client.py")
    state_dir = tmp_path_factory.mktemp("ims-emulator-stubs")
    proc, emu = client.start_emulator(str(state_dir))
    try:
        yield emu, state_dir / "emulator.log"
    finally:
        client.stop_emulator(proc)


def test_the_emulator_routes_to_the_stubs_with_its_own_tokens(emulator):
    requests = pytest.importorskip("requests")
    emu, log = emulator
    integration = emu.create_integration(kind="oauth")
    form = {"grant_type": "client_credentials", "client_id": integration["client_id"], "client_secret": integration["client_secrets"][0]}
    form["scope"] = ",".join(integration["scopes"])
    token = requests.post(emu.url("/ims/token/v3"), data=form, verify=emu.ca_path, timeout=30).json()["access_token"]
    headers = {"Authorization": "Bearer " + token, "x-api-key": integration["client_id"], "x-gw-ims-org-id": integration["org_id"]}
    url = emu.url("/api/program/100001/environment/200002/variables")
    answer = requests.patch(url, json=[{"name": "FROM_TEST", "value": "x", "type": "secretString"}], headers=headers, verify=emu.ca_path, timeout=30)
    assert answer.status_code == 200 and answer.json()["_embedded"]["variables"] == [{"name": "FROM_TEST", "type": "secretString"}]
    refused = requests.get(url, headers=dict(headers, **{"x-gw-ims-org-id": ""}), verify=emu.ca_path, timeout=30)
    assert (refused.status_code, refused.json()["detail"]) == (400, stubs.MSG_ORG_REQUIRED)
    # The IMS routes are untouched, and the log has one line per call, no token and no value.
    assert requests.get(emu.url("/ims/keys"), verify=emu.ca_path, timeout=30).status_code == 200
    text = log.read_text(encoding="utf-8")
    assert "PATCH /api/program/100001/environment/200002/variables 200" in text and token not in text
    assert urllib.parse.quote(token) not in text

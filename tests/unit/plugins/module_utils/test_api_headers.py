# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TokenRequest.api_headers: the headers of the result, x-gw-ims-org-id only when the organization is known."""

from __future__ import annotations

from ansible_collections.aemops.ims.plugins.module_utils._credential_shapes import METHOD_S2S
from ansible_collections.aemops.ims.plugins.module_utils._credentials import TokenRequest
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import CLIENT_ID, ORG_ID


def _request(org_id):
    return TokenRequest(METHOD_S2S, "https://ims-na1.adobelogin.com", CLIENT_ID, ["s3cret"], "options", "options", org_id=org_id)


def test_the_org_is_sent_when_known():
    assert _request(ORG_ID).api_headers("tok") == {"Authorization": "Bearer tok", "x-api-key": CLIENT_ID, "x-gw-ims-org-id": ORG_ID}


def test_no_org_header_without_an_org():
    # An empty header would make Cloud Manager answer about a wrong org instead of a missing one.
    for org_id in (None, ""):
        assert _request(org_id).api_headers("tok") == {"Authorization": "Bearer tok", "x-api-key": CLIENT_ID}

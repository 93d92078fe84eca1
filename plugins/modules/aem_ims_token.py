#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aem_ims_token
short_description: Get an Adobe IMS access token for AEM as a Cloud Service APIs
version_added: 0.1.0
description:
  - Trades Adobe credentials for an Adobe IMS access token, on the Ansible controller whatever the play's hosts are
    (it is an action plugin), so managed hosts need nothing installed.
  - B(Which credentials do I have?) An B(AEM technical account), from the AEM Developer Console (Integrations >
    Technical Accounts), is a JSON with an C(integration) object. It holds everything (client ID and secret,
    organization, technical account, private key, metascopes), so O(service_credentials_file) (or O(service_credentials)
    inline) is all it needs. The token comes from a JWT signed with its key and exchanged at C(/ims/exchange/jwt).
  - An B(OAuth Server-to-Server) credential, from the Adobe Developer Console, needs a client ID, a client secret
    and B(scopes). Its project JSON (or the flat OAuth Server-to-Server JSON) carries them all, so
    O(service_credentials_file) is all it needs; as single values, give O(client_id), O(client_secret) and O(scopes).
    The token comes from the C(client_credentials) grant at C(/ims/token/v3). O(auth_method) is picked from what the
    credentials hold; RV(credentials_format) says which shape was read. See the first examples.
  - Adobe has retired JWT (Service Account) credentials on the B(Adobe) Developer Console in favour of OAuth
    Server-to-Server. The service credentials of the B(AEM) Developer Console are not deprecated and keep using JWT
    (see the links below).
  - B(The result is hidden from output at every verbosity), C(log_path) included, while C(register) keeps the real
    values. A failure shows a one-line message that names the option, the credentials field or the IMS error code,
    and never a secret.
  - Tokens are cached (O(cache)), so that a play over many hosts and tasks makes one IMS request per credential.
  - With O(state=absent) it revokes the token of the credentials at IMS instead, and removes it from every cache.
author:
  - aemops.ims contributors (@aemops)
extends_documentation_fragment:
  - aemops.ims.aem_ims
options:
  fact_name:
    description:
      - B(Deprecated), removed in 1.0.0; use C(register), and M(ansible.builtin.set_fact) where a later play needs
        a variable. Returns the result as the fact C(ansible_facts[fact_name]), which fact caches keep in clear text.
    type: str
  state:
    description:
      - V(present) gets a token, from the cache or from IMS.
      - V(absent) revokes the token of these credentials at IMS (C(/ims/invalidate_token/v2)) and removes it from
        every cache, the run's and O(cache_dir)'s, whatever O(cache) says. It revokes O(access_token) when given,
        else the cached token, if any. C(changed) says whether a token was revoked (RV(revoked) how many); in check
        mode nothing is sent and nothing removed.
      - Revoking needs the credentials (client ID and secret) as obtaining does.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.2.0
  access_token:
    description:
      - With O(state=absent), the token to revoke, for example one registered by an earlier task. It must have been
        issued to the client of the credentials.
    type: str
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
    description: Getting a token changes nothing, so check mode gets a real token too.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  action:
    support: full
    description: Implemented as an action plugin that always runs on the controller.
  async:
    support: none
    description: Refused, because the status of an async job would bypass the hiding of the result.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller, for any target.
notes:
  - With O(state=present), the default, the module returns C(changed=false), as getting a token changes nothing.
  - With C(run_once) and C(register), every host of the play gets the registered token from a single task.
  - M(ansible.builtin.debug) of the registered variable prints the token; pass it on to M(ansible.builtin.uri)
    instead, with C(no_log) on that task.
  - E(ANSIBLE_DEBUG=1) prints internal data of every plugin; never use it with real credentials.
  - The result holds the token, so every output shows it censored, even without C(no_log); C(-v) shows its summary.
seealso:
  - plugin: aemops.ims.aem_ims_token
    plugin_type: lookup
  - name: Generating access tokens for server-side APIs (AEM as a Cloud Service)
    description: Where the service credentials of an AEM technical account come from.
    link: >-
      https://experienceleague.adobe.com/en/docs/experience-manager-cloud-service/content/implementing/developing/generating-access-tokens-for-server-side-apis
  - name: JWT credentials deprecation in Adobe Developer Console (AEM as a Cloud Service)
    description: Why the service credentials of the AEM Developer Console are not affected.
    link: >-
      https://experienceleague.adobe.com/en/docs/experience-manager-cloud-service/content/security/jwt-credentials-deprecation-in-adobe-developer-console
  - name: Migrating from JWT to OAuth Server-to-Server credentials
    description: Adobe Developer Console's timeline for retiring JWT (Service Account) credentials.
    link: https://developer.adobe.com/developer-console/docs/guides/authentication/ServerToServerAuthentication/migration/
  - name: OAuth Server-to-Server credential implementation guide
    description: Adobe's documentation of the client_credentials grant.
    link: https://developer.adobe.com/developer-console/docs/guides/authentication/ServerToServerAuthentication/implementation/
"""

EXAMPLES = r"""
- name: An AEM technical account (JWT) - the service credentials JSON as downloaded is all it needs
  aemops.ims.aem_ims_token:
    service_credentials_file: /etc/aem/service-credentials.json
  register: aem_token
  run_once: true

- name: An OAuth Server-to-Server credential - the Adobe Developer Console project JSON carries its scopes
  aemops.ims.aem_ims_token:
    service_credentials_file: /etc/adobe/project-workspace.json
  register: adobe_token

- name: An OAuth Server-to-Server credential from single values (client_secret from an ansible-vault encrypted vars file)
  aemops.ims.aem_ims_token:
    client_id: 0123456789abcdef0123456789abcdef
    client_secret: "{{ vault_adobe_client_secret }}"
    scopes: [openid, AdobeID, read_organizations]
  register: adobe_token

- name: Call an AEM API with the token
  ansible.builtin.uri:
    url: "https://author-p12345-e67890.adobeaemcloud.com/libs/granite/security/currentuser.json"
    headers: "{{ aem_token.headers }}"
  no_log: true

- name: Keep the headers as a variable for later plays (set_fact never reaches a fact cache unless cacheable)
  ansible.builtin.set_fact:
    aem_headers: "{{ aem_token.headers }}"
  no_log: true

- name: Credentials from an ansible-vault encrypted variable (defined in a vars file encrypted with ansible-vault)
  aemops.ims.aem_ims_token:
    service_credentials: "{{ vault_aem_service_credentials }}"
  register: aem_token

- name: Single fields of a technical account, with an encrypted private key (secrets from an ansible-vault encrypted vars file)
  aemops.ims.aem_ims_token:
    client_id: cm-p12345-e67890-integration
    client_secret: "{{ vault_aem_client_secret }}"
    org_id: 0123456789ABCDEF01234567@AdobeOrg
    technical_account_id: 89ABCDEF0123456789ABCDEF@techacct.adobe.com
    private_key_file: /etc/aem/private.key
    private_key_passphrase: "{{ vault_aem_key_passphrase }}"
    metascopes:
      - ent_aem_cloud_api
  register: aem_token

- name: Everything from AEM_IMS_* environment variables (AWX / AAP credential injection)
  aemops.ims.aem_ims_token:
  register: aem_token

- name: An Adobe Developer Console project JSON with several credentials, one of them JWT (its key ships separately)
  aemops.ims.aem_ims_token:
    service_credentials_file: /etc/adobe/project-workspace.json
    credential_name: aem-automation
    private_key_file: /etc/adobe/private.key
  register: adobe_token

- name: Reuse a valid token across runs (for CI jobs that run every few minutes), confirmed with IMS first
  aemops.ims.aem_ims_token:
    service_credentials_file: /etc/aem/service-credentials.json
    cache: persistent
    validate: true
  register: aem_token

- name: A CI job that revokes its token when it ends, whatever happened
  block:
    - name: Get the token
      aemops.ims.aem_ims_token:
        service_credentials_file: /etc/aem/service-credentials.json
      register: aem_token

    - name: Call AEM with it
      ansible.builtin.uri:
        url: "https://author-p12345-e67890.adobeaemcloud.com/libs/granite/security/currentuser.json"
        headers: "{{ aem_token.headers }}"
      no_log: true
  always:
    - name: Revoke the token
      aemops.ims.aem_ims_token:
        service_credentials_file: /etc/aem/service-credentials.json
        state: absent

- name: Set the options once for the whole play
  module_defaults:
    group/aemops.ims.aem_ims:
      service_credentials_file: /etc/aem/service-credentials.json
  block:
    - name: Get the token
      aemops.ims.aem_ims_token:
      register: aem_token
"""

RETURN = r"""
access_token:
  description: The IMS access token, to send as an C(Authorization) header with the C(Bearer) scheme.
  returned: success, with O(state=present)
  type: str
  sample: eyJhbGciOiJSUzI1NiIsIng1dSI6Imltc19uYTEta2V5LWF0LTEuY2VyIn0...
token_type:
  description: The token type IMS returned.
  returned: success, with O(state=present)
  type: str
  sample: bearer
expires_in:
  description:
    - Seconds until the token expires, from now. IMS answers the JWT exchange in milliseconds; this is always seconds.
  returned: success, with O(state=present)
  type: int
  sample: 86399
expires_at:
  description: When the token expires, ISO-8601 in UTC.
  returned: success, with O(state=present)
  type: str
  sample: "2026-11-27T10:15:00Z"
client_id:
  description: The client ID the token was issued to.
  returned: success
  type: str
  sample: cm-p12345-e67890-integration
ims_endpoint:
  description: The IMS origin that issued the token.
  returned: success
  type: str
  sample: https://ims-na1.adobelogin.com
auth_method:
  description: How the token was obtained.
  returned: success
  type: str
  sample: jwt
credentials_format:
  description:
    - The shape of credentials that was read. V(aem_service_credentials), V(developer_console_project),
      V(oauth_s2s_flat), V(aio_context), or V(options) when only single options were given.
  returned: success
  type: str
  sample: aem_service_credentials
cached:
  description: Whether the token came from the token cache rather than a new IMS request.
  returned: success, with O(state=present)
  type: bool
  sample: false
email:
  description: The technical account's email, which is the integration's login name in AEM.
  returned: when the credentials contain it
  type: str
  sample: 12345678-abcd-4ef0-9876-0123456789ab@techacct.adobe.com
metascopes:
  description: The metascopes claimed in the JWT.
  returned: when RV(auth_method=jwt)
  type: list
  elements: str
  sample: [ent_aem_cloud_api]
scopes:
  description: The scopes requested with OAuth Server-to-Server.
  returned: when RV(auth_method=oauth_server_to_server)
  type: list
  elements: str
  sample: [openid, AdobeID, read_organizations]
headers:
  description:
    - HTTP headers ready for M(ansible.builtin.uri), C(Authorization) with the bearer token, C(x-api-key) with the
      client ID and, whenever the organization is known, C(x-gw-ims-org-id) with the IMS organization ID (the
      C(org) of AEM service credentials, the org ID of an Adobe Developer Console or OAuth Server-to-Server JSON,
      or O(org_id)).
    - AEM's own endpoints on author and publish need only C(Authorization) and ignore the other two.
    - The AEM Forms Communications APIs need C(Authorization); with OAuth Server-to-Server credentials also
      C(x-api-key).
    - The Cloud Manager API needs all three; it refuses a call without C(x-gw-ims-org-id), so with credentials
      that do not name the organization set O(org_id).
  returned: success, with O(state=present)
  type: dict
  sample: {"Authorization": "Bearer eyJhbGciOi...", "x-api-key": "cm-p12345-e67890-integration", "x-gw-ims-org-id": "0123456789ABCDEF01234567@AdobeOrg"}
certificate_expires_at:
  description: When the certificate of the JWT credentials expires, ISO-8601 in UTC.
  returned: with O(state=present), when the credentials carry a certificate or its expiration date
  type: str
  sample: "2027-03-26T16:20:18Z"
validated:
  description:
    - With O(validate=true), whether the cached token returned is known good in this run, because IMS confirmed it
      or issued it earlier in the run. V(false) for a token this task has just obtained from IMS, which needs no
      confirmation.
  returned: success, with O(validate=true) and O(state=present)
  type: bool
  sample: true
  version_added: 0.2.0
replaced_invalid:
  description:
    - With O(validate=true), whether IMS called the cached token invalid, so that the token returned is a new one.
  returned: success, with O(validate=true) and O(state=present)
  type: bool
  sample: false
  version_added: 0.2.0
revoked:
  description:
    - With O(state=absent), how many tokens were revoked at IMS (in check mode, would be). V(0) when there was none.
  returned: success, with O(state=absent)
  type: int
  sample: 1
  version_added: 0.2.0
ansible_facts:
  description: The same result under the name O(fact_name), when set. Deprecated with O(fact_name).
  returned: when O(fact_name) is set
  type: dict
  sample: {"aem_token": {"access_token": "eyJhbGciOi...", "expires_at": "2026-11-27T10:15:00Z"}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aemops.ims.plugins.module_utils._settings import argument_spec


def main():
    # The work happens in the action plugin of the same name, on the controller. This entry
    # point exists for tooling that inspects the argument spec, and for anyone who copies
    # the module file elsewhere: it fails with an explanation instead of leaking a token.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(
        msg="aemops.ims.aem_ims_token runs on the controller through its action plugin; call it by its full name "
        "aemops.ims.aem_ims_token from a playbook of the installed collection"
    )


if __name__ == "__main__":
    main()

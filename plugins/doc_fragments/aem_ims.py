# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options and requirements of aemops.ims.aem_ims_token, shared by the module and the lookup.
    # plugins/module_utils/_options.py holds the option table (OPTIONS); a unit test keeps
    # names, types, defaults, choices and environment variables in step with it.
    DOCUMENTATION = r"""
requirements:
  - requests
  - PyJWT >= 2.4
  - cryptography
  - urllib3 >= 2.6
options:
  service_credentials_file:
    description:
      - Path to a credentials JSON as downloaded. The B(service credentials) of an AEM technical account (the JSON
        with an C(integration) object), an Adobe Developer Console project JSON (see O(credential_name)), the flat
        OAuth Server-to-Server JSON (C(CLIENT_ID), C(CLIENT_SECRETS), C(SCOPES), ...) or an aio-lib-ims context.
      - Mutually exclusive with O(service_credentials).
      - May be encrypted with C(ansible-vault), to be decrypted in memory with the vault password of the play. A relative
        path is looked for in the role's or playbook's C(files/) directory, then beside the playbook, as
        P(ansible.builtin.file#lookup) does; not in the current directory.
      - If not set, the environment variable E(AEM_IMS_SERVICE_CREDENTIALS_FILE) is used.
    type: path
  service_credentials:
    description:
      - The content of a credentials file, inline, as a dictionary or as a JSON string. Any of the shapes
        O(service_credentials_file) accepts.
      - Suited to an C(ansible-vault) encrypted variable or a secret injected by AWX or Ansible Automation Platform.
      - Mutually exclusive with O(service_credentials_file).
      - If not set, the environment variable E(AEM_IMS_SERVICE_CREDENTIALS) is used.
    type: raw
  credential_name:
    description:
      - For an Adobe Developer Console project JSON that holds several credentials, the C(name) of the one to use.
      - If not set, the environment variable E(AEM_IMS_CREDENTIAL_NAME) is used.
    type: str
  credential_id:
    description:
      - For an Adobe Developer Console project JSON that holds several credentials, the C(id) of the one to use.
      - If not set, the environment variable E(AEM_IMS_CREDENTIAL_ID) is used.
    type: str
  auth_method:
    description:
      - How to obtain the token.
      - V(jwt) signs a JWT with the private key and exchanges it at C(/ims/exchange/jwt), as AEM service credentials require.
      - V(oauth_server_to_server) uses the OAuth Server-to-Server (C(client_credentials)) grant at C(/ims/token/v3)
        with O(scopes), which Adobe recommends for new Adobe Developer Console integrations.
      - V(auto) picks V(jwt) when a private key is available, else V(oauth_server_to_server).
      - If not set, the environment variable E(AEM_IMS_AUTH_METHOD) is used.
    type: str
    choices: [auto, jwt, oauth_server_to_server]
    default: auto
  client_id:
    description:
      - The client ID (API key) of the integration. Overrides the one in the credentials.
      - If not set, the environment variable E(AEM_IMS_CLIENT_ID) is used.
    type: str
  client_secret:
    description:
      - The client secret of the integration. Overrides the one(s) in the credentials.
      - When the credentials hold several client secrets (rotation), they are tried in order, moving to the next
        only when IMS answers C(invalid_client) for the secret.
      - If not set, the environment variable E(AEM_IMS_CLIENT_SECRET) is used.
    type: str
  org_id:
    description:
      - The IMS organization ID, C(...@AdobeOrg), the JWT issuer. Overrides the one in the credentials.
      - If not set, the environment variable E(AEM_IMS_ORG_ID) is used.
    type: str
  technical_account_id:
    description:
      - The technical account ID, C(...@techacct.adobe.com), the JWT subject. Overrides the one in the credentials.
      - If not set, the environment variable E(AEM_IMS_TECHNICAL_ACCOUNT_ID) is used.
    type: str
  private_key:
    description:
      - The private key as PEM text (PKCS#1 or PKCS#8, encrypted or not). Overrides the one in the credentials.
      - Keys whose line breaks were escaped as C(\n), and base64 of the whole PEM, are accepted too.
      - Mutually exclusive with O(private_key_file).
      - If not set, the environment variable E(AEM_IMS_PRIVATE_KEY) is used.
    type: str
  private_key_file:
    description:
      - Path to the private key PEM file. An Adobe Developer Console project JSON never contains the key, so
        it comes from here (or O(private_key)).
      - Mutually exclusive with O(private_key).
      - May be encrypted with C(ansible-vault), and a relative path is found, as for O(service_credentials_file).
      - If not set, the environment variable E(AEM_IMS_PRIVATE_KEY_FILE) is used.
    type: path
  private_key_passphrase:
    description:
      - The passphrase of an encrypted private key. Ignored for a key that is not encrypted.
      - If not set, the environment variable E(AEM_IMS_PRIVATE_KEY_PASSPHRASE) is used.
    type: str
  metascopes:
    description:
      - The metascopes to claim in the JWT, such as V(ent_aem_cloud_api).
      - Given as names, as C(/s/name) or as full claim URLs; they are normalised and de-duplicated.
      - Defaults to the metascopes in the credentials, else V(ent_aem_cloud_api).
      - If not set, the environment variable E(AEM_IMS_METASCOPES) (comma-separated) is used.
    type: list
    elements: str
  scopes:
    description:
      - The scopes to request with O(auth_method=oauth_server_to_server), such as V(openid), V(AdobeID),
        V(read_organizations). Sent comma-separated as IMS expects.
      - Defaults to the scopes in the credentials.
      - If not set, the environment variable E(AEM_IMS_SCOPES) (comma-separated) is used.
    type: list
    elements: str
  ims_endpoint:
    description:
      - The IMS host, as a bare host such as V(ims-na1.adobelogin.com) (optionally with C(:port)), or an origin
        such as V(https://ims-na1.adobelogin.com). No path.
      - The JWT audience and metascope claims are built from it, so it must be the IMS environment of the integration
        (V(ims-na1-stg1.adobelogin.com) for stage).
      - Plain C(http://) is refused except for a loopback test server.
      - Defaults to C(imsEndpoint) of the credentials, else V(ims-na1.adobelogin.com).
      - An endpoint read from a credentials document gets only that document's own secret and key, unless it is an
        Adobe IMS host (C(*.adobelogin.com)); with a secret or key from elsewhere the task fails before any request.
        An explicit O(ims_endpoint) is always trusted.
      - If not set, the environment variable E(AEM_IMS_ENDPOINT) is used.
    type: str
  jwt_lifetime:
    description:
      - Seconds until the signed JWT expires (its C(exp) claim). The JWT is used once, right away; Adobe advises
        a lifetime of a few minutes. IMS allows 30 seconds of clock skew.
      - Between 10 and 86400.
      - If not set, the environment variable E(AEM_IMS_JWT_LIFETIME) is used.
    type: int
    default: 300
  validate_certs:
    description:
      - Whether to verify the TLS certificate of IMS. Only set to V(false) against a test server.
      - V(false) shows a warning naming the endpoint, once per task for the module and once per run for the lookup.
        With O(ca_path) set, the certificate is checked against it whatever this option says, and nothing is shown.
      - If not set, the environment variable E(AEM_IMS_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - Path to a PEM CA bundle to trust for IMS, for example the CA of a TLS-inspecting corporate proxy.
      - If not set, the environment variable E(AEM_IMS_CA_PATH) is used, else the system trust store
        (or E(REQUESTS_CA_BUNDLE)).
    type: path
  proxy_url:
    description:
      - An HTTP(S) proxy to reach IMS through, such as V(http://proxy.example.com:3128), optionally with
        C(user:password@). Its user and password are never printed.
      - When set, it is the proxy of every IMS request, whatever E(HTTPS_PROXY) and E(NO_PROXY) say.
      - C(socks5://) and C(socks5h://) proxies need the Python package C(PySocks) (C(pip install 'requests[socks]')),
        which the collection does not require.
      - If not set, the environment variable E(AEM_IMS_PROXY_URL) is used, else the standard E(HTTPS_PROXY) and
        E(NO_PROXY) variables are honoured.
      - Credentials in C(~/.netrc) are never sent to IMS.
    type: str
  timeout:
    description:
      - Seconds to wait for IMS on each attempt. Between 1 and 600.
      - The whole request, retries, waits and the reading of every answer included, ends within
        O(timeout) x (O(retries) + 1) + 10 x O(retries) seconds, however slowly a server sends its answer.
      - If not set, the environment variable E(AEM_IMS_TIMEOUT) is used.
    type: float
    default: 30
  retries:
    description:
      - How many times to retry after a connection error, a timeout, HTTP 429 or HTTP 5xx, with exponential
        backoff and jitter. C(Retry-After) is honoured up to 10 seconds. Other errors are never retried.
      - Between 0 and 10.
      - If not set, the environment variable E(AEM_IMS_RETRIES) is used.
    type: int
    default: 3
  cache:
    description:
      - Where to keep tokens for reuse, so that many hosts, tasks and forks share one IMS exchange per credential.
      - V(run) keeps them in a file in the run's local temporary directory, which every fork of one
        C(ansible-playbook) run shares and Ansible deletes when the run ends.
      - V(persistent) keeps them in O(cache_dir), so that later runs (a CI job every few minutes) reuse a
        still-valid token.
      - V(off) always asks IMS.
      - Cache files hold the access token only (never the client secret or the key), mode C(0600) in a C(0700)
        directory, named by a hash. A token is kept for its lifetime, never more than 48 hours; expired entries are
        removed after each exchange.
      - If not set, the environment variable E(AEM_IMS_CACHE) is used.
    type: str
    choices: [run, persistent, "off"]
    default: run
  cache_dir:
    description:
      - The directory for O(cache=persistent). Refused if another user owns it or others can write to it; made
        private (C(0700)) if others can only read it.
      - A symbolic link is accepted only if it belongs to you (or root).
      - If not set, the environment variable E(AEM_IMS_CACHE_DIR) is used, else C($XDG_CACHE_HOME/aemops.ims/tokens)
        (C(~/.cache/aemops.ims/tokens)).
    type: path
  refresh_margin:
    description:
      - A cached token is reused only while it has more than this many seconds left; IMS tokens live 24 hours.
      - If not set, the environment variable E(AEM_IMS_REFRESH_MARGIN) is used.
    type: int
    default: 600
  force_refresh:
    description:
      - Ask IMS for a new token even if a cached one is still valid (the new one replaces it in the cache).
      - If not set, the environment variable E(AEM_IMS_FORCE_REFRESH) is used.
    type: bool
    default: false
  validate:
    description:
      - Before a token from the cache is used, ask IMS whether it still honours it (C(/ims/validate_token/v1)).
        A token revoked in the Admin Console, or by O(aemops.ims.aem_ims_token#module:state=absent) in another
        run, is then replaced in the same call instead of failing the API calls that use it.
      - At most one validation per token per run; a token just obtained from IMS is not validated again. If IMS
        cannot be asked, the task fails rather than use a token that was not confirmed.
      - Most useful with O(cache=persistent), where a cached token may be up to a day old.
      - If not set, the environment variable E(AEM_IMS_VALIDATE) is used.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - Warns when the certificate of the credentials expires within 30 days (the lookup once per new token), and fails
    when it has expired.
  - Run with C(-v) for one non-secret line per token (client ID, endpoint, where the credentials came from, method,
    cached or not, time taken) and for each retry of a request to IMS.
  - Options are read strictly from every source. Booleans take only ansible-core's strict words (V(true), V(false),
    V(yes), V(no), V(on), V(off), V(1), V(0), ...); anything else in a boolean, an integer, a number or a choice fails
    before any request, naming the option and where the value came from.
  - An empty E(AEM_IMS_*) environment variable counts as unset (AWX and Ansible Automation Platform inject every field
    of a credential type, empty ones too), so the option's default applies.
"""

    # Only for plugins (the lookup): where ansible-core itself reads the options from, one option a row.
    # Precedence: keyword argument > variable > environment variable > ansible.cfg > default.
    # The lookup registers them with type raw instead (_options.plugin_option_definitions).
    PLUGINS = r"""
notes:
  - Behind an empty E(AEM_IMS_*) environment variable, C(ansible.cfg) is not read for that option (ansible-core takes
    the variable as set). Unset the variable for C(ansible.cfg) to apply.
options:
  service_credentials_file:
    env: [{name: AEM_IMS_SERVICE_CREDENTIALS_FILE}]
    ini: [{section: aem_ims, key: service_credentials_file}]
    vars: [{name: aem_ims_service_credentials_file}]
  service_credentials: {env: [{name: AEM_IMS_SERVICE_CREDENTIALS}], vars: [{name: aem_ims_service_credentials}]}
  credential_name: {env: [{name: AEM_IMS_CREDENTIAL_NAME}], ini: [{section: aem_ims, key: credential_name}], vars: [{name: aem_ims_credential_name}]}
  credential_id: {env: [{name: AEM_IMS_CREDENTIAL_ID}], ini: [{section: aem_ims, key: credential_id}], vars: [{name: aem_ims_credential_id}]}
  auth_method: {env: [{name: AEM_IMS_AUTH_METHOD}], ini: [{section: aem_ims, key: auth_method}], vars: [{name: aem_ims_auth_method}]}
  client_id: {env: [{name: AEM_IMS_CLIENT_ID}], ini: [{section: aem_ims, key: client_id}], vars: [{name: aem_ims_client_id}]}
  client_secret: {env: [{name: AEM_IMS_CLIENT_SECRET}], vars: [{name: aem_ims_client_secret}]}
  org_id: {env: [{name: AEM_IMS_ORG_ID}], ini: [{section: aem_ims, key: org_id}], vars: [{name: aem_ims_org_id}]}
  technical_account_id:
    {env: [{name: AEM_IMS_TECHNICAL_ACCOUNT_ID}], ini: [{section: aem_ims, key: technical_account_id}], vars: [{name: aem_ims_technical_account_id}]}
  private_key: {env: [{name: AEM_IMS_PRIVATE_KEY}], vars: [{name: aem_ims_private_key}]}
  private_key_file: {env: [{name: AEM_IMS_PRIVATE_KEY_FILE}], ini: [{section: aem_ims, key: private_key_file}], vars: [{name: aem_ims_private_key_file}]}
  private_key_passphrase: {env: [{name: AEM_IMS_PRIVATE_KEY_PASSPHRASE}], vars: [{name: aem_ims_private_key_passphrase}]}
  metascopes: {env: [{name: AEM_IMS_METASCOPES}], ini: [{section: aem_ims, key: metascopes}], vars: [{name: aem_ims_metascopes}]}
  scopes: {env: [{name: AEM_IMS_SCOPES}], ini: [{section: aem_ims, key: scopes}], vars: [{name: aem_ims_scopes}]}
  ims_endpoint: {env: [{name: AEM_IMS_ENDPOINT}], ini: [{section: aem_ims, key: ims_endpoint}], vars: [{name: aem_ims_ims_endpoint}]}
  jwt_lifetime: {env: [{name: AEM_IMS_JWT_LIFETIME}], ini: [{section: aem_ims, key: jwt_lifetime}], vars: [{name: aem_ims_jwt_lifetime}]}
  validate_certs: {env: [{name: AEM_IMS_VALIDATE_CERTS}], ini: [{section: aem_ims, key: validate_certs}], vars: [{name: aem_ims_validate_certs}]}
  ca_path: {env: [{name: AEM_IMS_CA_PATH}], ini: [{section: aem_ims, key: ca_path}], vars: [{name: aem_ims_ca_path}]}
  proxy_url: {env: [{name: AEM_IMS_PROXY_URL}], vars: [{name: aem_ims_proxy_url}]}
  timeout: {env: [{name: AEM_IMS_TIMEOUT}], ini: [{section: aem_ims, key: timeout}], vars: [{name: aem_ims_timeout}]}
  retries: {env: [{name: AEM_IMS_RETRIES}], ini: [{section: aem_ims, key: retries}], vars: [{name: aem_ims_retries}]}
  cache: {env: [{name: AEM_IMS_CACHE}], ini: [{section: aem_ims, key: cache}], vars: [{name: aem_ims_cache}]}
  cache_dir: {env: [{name: AEM_IMS_CACHE_DIR}], ini: [{section: aem_ims, key: cache_dir}], vars: [{name: aem_ims_cache_dir}]}
  refresh_margin: {env: [{name: AEM_IMS_REFRESH_MARGIN}], ini: [{section: aem_ims, key: refresh_margin}], vars: [{name: aem_ims_refresh_margin}]}
  force_refresh: {env: [{name: AEM_IMS_FORCE_REFRESH}], vars: [{name: aem_ims_force_refresh}]}
  validate: {env: [{name: AEM_IMS_VALIDATE}], ini: [{section: aem_ims, key: validate}], vars: [{name: aem_ims_validate}]}
"""

# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the aem_ims_token lookup: terms, option precedence, errors like the module's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from unittest.mock import MagicMock

import pytest

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import action_loader, lookup_loader
from ansible.template import Templar, trust_as_template

from ansible_collections.aemops.ims.plugins.module_utils import _token_service
from ansible_collections.aemops.ims.plugins.module_utils._errors import CredentialsError
from ansible_collections.aemops.ims.plugins.module_utils._options import OPTION_SPECS
from ansible_collections.aemops.ims.plugins.plugin_utils import _controller
from ansible_collections.aemops.ims.plugins.plugin_utils import _aem_ims_token_lookup_full, _lookup_code_cache
from ansible_collections.aemops.ims.tests.unit.plugins.conftest import CLIENT_ID, CLIENT_SECRET

NAME = "aemops.ims.aem_ims_token"


class Obtained:
    """obtain_token stand-in: one token per credentials file, every call recorded."""

    def __init__(self):
        self.calls = []
        self.failure = None

    def __call__(self, settings, credentials_file=None, run_cache_dir=None, **kwargs):
        self.calls.append(dict(kwargs, settings=settings, credentials_file=credentials_file, run_cache_dir=run_cache_dir))
        if self.failure is not None:
            raise self.failure
        token = "token-for-%s" % (credentials_file.rsplit("/", 1)[-1] if credentials_file else "options")
        return {"access_token": token, "cached": False}


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    directory = tmp_path / "ansible-local"
    directory.mkdir()
    monkeypatch.setattr(C, "DEFAULT_LOCAL_TMP", str(directory))
    return directory


@pytest.fixture
def obtained(monkeypatch, run_dir):
    fake = Obtained()
    monkeypatch.setattr(_token_service, "obtain_token", fake)
    return fake


@pytest.fixture
def ini(tmp_path, monkeypatch):
    """Point ansible-core's configuration at an ansible.cfg of the test's own."""

    def use(text, name="ansible.cfg"):
        path = tmp_path / name
        path.write_text(text)
        monkeypatch.setattr(C.config, "_config_file", str(path))
        monkeypatch.setattr(C.config, "_parsers", dict(C.config._parsers))
        return str(path)

    return use


def lookup(terms=None, variables=None, **kwargs):
    variables = variables or {}
    loader = DataLoader()
    plugin = lookup_loader.get(NAME, loader=loader, templar=Templar(loader=loader, variables=variables))
    return plugin.run(terms or [], variables, **kwargs)


def lookup_error(terms=None, variables=None, **kwargs):
    with pytest.raises(AnsibleLookupError) as info:
        lookup(terms, variables, **kwargs)
    message = str(info.value.message)
    assert "\n" not in message
    return message


def module_message(args):
    task = MagicMock(Task)
    task.args = dict(args)
    task.async_val = 0
    task.check_mode = False
    task.action = NAME
    action = action_loader.get(NAME, task=task, connection=MagicMock(), play_context=PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    result = action.run(task_vars={})
    assert result.get("failed") is True, result
    return result["msg"]


def write_credentials(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


# --- terms ------------------------------------------------------------------------------------


def test_the_lookup_is_found():
    plugin = lookup_loader.get(NAME)
    # The class lives in plugin_utils and the lookup file loads it (see the lookup's comment).
    assert type(plugin).__name__ == "LookupModule"
    assert type(plugin).__module__ == "ansible_collections.aemops.ims.plugins.plugin_utils._aem_ims_token_lookup"
    assert plugin._load_name in (NAME, "ansible_collections.aemops.ims.plugins.lookup.aem_ims_token")


def test_no_terms_gives_one_token_from_the_options(obtained, run_dir):
    assert lookup(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=["openid"]) == ["token-for-options"]
    (call,) = obtained.calls
    assert call["credentials_file"] is None
    assert call["run_cache_dir"] == str(run_dir)
    assert call["warn_on_cache_hit"] is False
    assert call["warn"] is _controller.warn
    assert (call["settings"].client_id, call["settings"].client_secret, call["settings"].scopes) == (CLIENT_ID, CLIENT_SECRET, ("openid",))


def test_each_term_gives_one_token(obtained, tmp_path, creds):
    first = write_credentials(tmp_path, "dev.json", creds.aem())
    second = write_credentials(tmp_path, "stage.json", creds.flat_s2s())
    assert lookup([first, " " + second + " "]) == ["token-for-dev.json", "token-for-stage.json"]
    assert [call["credentials_file"] for call in obtained.calls] == [first, second]


def test_relative_terms_are_looked_for_in_files(obtained, monkeypatch):
    searched = []

    def find(self, variables, subdir, needle, ignore_missing=False):
        searched.append((subdir, needle, ignore_missing))
        return "/playbook/files/" + needle if needle == "known.json" else None

    monkeypatch.setattr(type(lookup_loader.get(NAME)), "find_file_in_search_path", find)
    assert lookup(["known.json", "unknown.json"]) == ["token-for-known.json", "token-for-unknown.json"]
    assert [call["credentials_file"] for call in obtained.calls] == ["/playbook/files/known.json", "unknown.json"]
    assert searched == [("files", "known.json", True), ("files", "unknown.json", True)]


@pytest.mark.parametrize("term, kind", [("", "an empty string"), ("   ", "an empty string"), (5, "an int"), (["a"], "a list"), (None, "nothing")])
def test_bad_terms(obtained, term, kind):
    assert lookup_error([term]) == "each term must be the path of a credentials file, got %s" % kind
    assert obtained.calls == []


# --- precedence -------------------------------------------------------------------------------


def test_precedence_keyword_variable_environment_ini_default(obtained, monkeypatch, ini):
    cfg = ini("[aem_ims]\nclient_id = ini-client\ntimeout = 12\n")
    monkeypatch.setenv("AEM_IMS_CLIENT_ID", "env-client")
    variables = {"aem_ims_client_id": "var-client"}

    def settings_after(**kwargs):
        lookup(variables=variables, **kwargs)
        return obtained.calls[-1]["settings"]

    settings = settings_after(client_id="keyword-client")
    assert (settings.client_id, settings.where("client_id")) == ("keyword-client", "the client_id option")
    settings = settings_after()
    assert (settings.client_id, settings.where("client_id")) == ("var-client", "variable aem_ims_client_id")
    variables = {}
    settings = settings_after()
    assert (settings.client_id, settings.where("client_id")) == ("env-client", "environment variable AEM_IMS_CLIENT_ID")
    monkeypatch.delenv("AEM_IMS_CLIENT_ID")
    settings = settings_after()
    assert (settings.client_id, settings.where("client_id")) == ("ini-client", "client_id in %s" % cfg)
    assert settings.timeout == 12.0
    ini("[defaults]\n", "empty.cfg")
    settings = settings_after()
    assert (settings.client_id, settings.where("client_id")) == (None, "the client_id option or AEM_IMS_CLIENT_ID")
    assert (settings.timeout, settings.retries, settings.cache, settings.auth_method) == (30.0, 3, "run", "auto")


def test_secret_options_are_not_read_from_ansible_cfg(obtained, ini):
    ini("[aem_ims]\nclient_secret = from-ansible-cfg\nforce_refresh = true\n")
    lookup()
    settings = obtained.calls[-1]["settings"]
    assert (settings.client_secret, settings.force_refresh) == (None, False)


def test_empty_environment_variables_mean_unset(obtained, monkeypatch):
    # AWX and Automation Platform inject every field of a credential type, empty or not.
    for _name, (_spec, env) in OPTION_SPECS.items():
        monkeypatch.setenv(env, "")
    assert lookup(client_id=CLIENT_ID) == ["token-for-options"]
    settings = obtained.calls[-1]["settings"]
    assert (settings.timeout, settings.retries, settings.jwt_lifetime, settings.refresh_margin) == (30.0, 3, 300, 600)
    assert (settings.validate_certs, settings.force_refresh, settings.cache, settings.auth_method) == (True, False, "run", "auto")
    assert (settings.service_credentials_file, settings.ca_path, settings.client_secret, settings.metascopes) == (None, None, None, ())


def test_list_options_from_the_environment_and_variables(obtained, monkeypatch):
    monkeypatch.setenv("AEM_IMS_METASCOPES", "ent_aem_cloud_api, ent_cloudmgr_sdk")
    lookup(variables={"aem_ims_scopes": ["openid", "AdobeID,openid"]})
    settings = obtained.calls[-1]["settings"]
    assert settings.metascopes == ("ent_aem_cloud_api", "ent_cloudmgr_sdk")
    assert settings.scopes == ("openid", "AdobeID")


def test_option_variables_are_templated(obtained):
    variables = {"aem_ims_client_id": trust_as_template("{{ vault_client_id }}"), "vault_client_id": "templated-client", "unrelated": 1}
    lookup(variables=variables)
    settings = obtained.calls[-1]["settings"]
    assert (settings.client_id, settings.where("client_id")) == ("templated-client", "variable aem_ims_client_id")


def test_every_option_can_come_from_a_variable(obtained, tmp_path):
    variables = {"aem_ims_%s" % name: None for name in OPTION_SPECS}
    variables.update(aem_ims_client_id="v-client", aem_ims_retries=1, aem_ims_cache="off", aem_ims_ims_endpoint="ims-na1-stg1.adobelogin.com")
    lookup(variables={name: value for name, value in variables.items() if value is not None})
    settings = obtained.calls[-1]["settings"]
    assert (settings.client_id, settings.retries, settings.cache, settings.ims_endpoint) == ("v-client", 1, "off", "https://ims-na1-stg1.adobelogin.com")


# --- errors -----------------------------------------------------------------------------------


def test_core_errors_become_lookup_errors_with_the_same_message(obtained):
    obtained.failure = CredentialsError("client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID")
    assert lookup_error() == "client_id is missing: looked in the client_id option or AEM_IMS_CLIENT_ID"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"jwt_lifetime": 5},
        {"jwt_lifetime": "abc"},
        {"retries": 11},
        {"client_secret": ["x"]},
        {"metascopes": {"a": 1}},
        {"cache": "sometimes"},
        {"auth_method": "password"},
        {"ims_endpoint": "https://ims-na1.adobelogin.com/ims/token/v3"},
        {"proxy_url": "proxy:3128"},
        {"service_credentials": [1, 2]},
    ],
    ids="-".join,
)
def test_keyword_errors_match_the_module(obtained, kwargs):
    assert lookup_error(**kwargs) == module_message(kwargs)
    assert obtained.calls == []


def test_unknown_keyword_gives_the_module_message(obtained):
    message = lookup_error(client_id="x", bogus=1)
    assert message == "Unsupported option(s) for aemops.ims.aem_ims_token: bogus. Supported options: %s" % ", ".join(sorted(OPTION_SPECS))
    module = module_message({"client_id": "x", "bogus": 1})
    assert module.split(". Supported options: ", maxsplit=1)[0] == message.split(". Supported options: ", maxsplit=1)[0]


def test_fact_name_is_not_a_lookup_option(obtained):
    assert lookup_error(fact_name="x").startswith("Unsupported option(s) for aemops.ims.aem_ims_token: fact_name. ")


@pytest.mark.parametrize(
    "env, value", [("AEM_IMS_JWT_LIFETIME", "abc"), ("AEM_IMS_CACHE", "sometimes"), ("AEM_IMS_VALIDATE_CERTS", "maybe"), ("AEM_IMS_RETRIES", "99")]
)
def test_environment_errors_match_the_module(obtained, monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    assert lookup_error() == module_message({})


@pytest.mark.parametrize("value", ["ture", "maybe", "yes please"])
def test_a_mistyped_validate_certs_never_turns_tls_verification_off(obtained, monkeypatch, value):
    # ansible-core's lenient boolean makes any unknown word False; the module refuses such a value.
    monkeypatch.setenv("AEM_IMS_VALIDATE_CERTS", value)
    try:
        lookup()
    except AnsibleLookupError as error:
        assert "validate_certs" in str(error.message)
        return
    assert obtained.calls[-1]["settings"].validate_certs is True


@pytest.mark.parametrize(
    "variable, value",
    [
        ("aem_ims_client_secret", ["Var-Secret-Value-777"]),
        ("aem_ims_client_secret", {"nested": "Var-Secret-Value-777"}),
        ("aem_ims_private_key", ["-----BEGIN RSA PRIVATE KEY-----", "Var-Secret-Value-777", "-----END RSA PRIVATE KEY-----"]),
        ("aem_ims_private_key_passphrase", ["Var-Secret-Value-777"]),
        ("aem_ims_proxy_url", {"url": "http://u:Var-Secret-Value-777@proxy:3128"}),
    ],
)
def test_secret_variables_of_the_wrong_type_are_not_quoted(obtained, variable, value):
    message = lookup_error(variables={variable: value})
    assert "Var-Secret-Value-777" not in message
    assert variable[len("aem_ims_") :] in message


def test_secrets_from_keywords_and_variables_are_redacted(obtained):
    obtained.failure = CredentialsError("IMS said Var-Secret-Value-777 and Kw-Secret-Value-888")
    message = lookup_error(variables={"aem_ims_client_secret": "Var-Secret-Value-777"}, private_key_passphrase="Kw-Secret-Value-888")
    assert message == "IMS said ******** and ********"


def test_unexpected_errors_hide_their_text(obtained):
    obtained.failure = ValueError("odd " + CLIENT_SECRET)
    message = lookup_error(client_secret=CLIENT_SECRET)
    assert re.match(
        r"^unexpected internal error in aemops\.ims\.aem_ims_token \(ValueError at test_aem_ims_token\.py:\d+\); "
        r"please report it at https://github\.com/aemops/ims/issues$",
        message,
    ), message


# --- the real path, with a fake IMS -----------------------------------------------------------


def test_a_token_is_fetched_once_and_then_served_from_the_cache(creds, fake_ims, run_dir, tmp_path):
    path = write_credentials(tmp_path, "creds.json", creds.aem())
    fake_ims.token(expires_in=86399999, access_token="lookup-token")
    assert lookup([path]) == ["lookup-token"]
    assert lookup([path]) == ["lookup-token"]
    assert lookup(service_credentials_file=path) == ["lookup-token"]
    assert len(fake_ims.calls) == 1


def test_a_changed_credentials_file_is_not_served_a_stale_token(creds, fake_ims, run_dir, tmp_path):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    fake_ims.token(expires_in=86399, access_token="first").token(expires_in=86399, access_token="second")
    assert lookup([path]) == ["first"]
    write_credentials(tmp_path, "creds.json", creds.flat_s2s(SCOPES=["openid"]))
    assert lookup([path]) == ["second"]
    assert len(fake_ims.calls) == 2


def test_force_refresh_and_cache_off_always_ask_ims(creds, fake_ims, run_dir, tmp_path):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    for token in "abcde":
        fake_ims.token(expires_in=86399, access_token=token)
    assert lookup([path]) == ["a"]
    # Every forced call asks IMS, as the module does, and the new token is the cached one.
    assert lookup([path], force_refresh=True) == ["b"]
    assert lookup([path], force_refresh=True) == ["c"]
    assert lookup([path]) == ["c"]
    assert lookup([path], cache="off") == ["d"]
    assert len(fake_ims.calls) == 4


def test_an_ims_failure_through_the_lookup(creds, fake_ims, run_dir, tmp_path):
    path = write_credentials(tmp_path, "creds.json", creds.flat_s2s())
    fake_ims.error(400, "invalid_scope", "Invalid scope")
    message = lookup_error([path], retries=0)
    assert message == (
        "IMS rejected the OAuth Server-to-Server token request: HTTP 400 invalid_scope: Invalid scope. "
        "Hint: the metascopes or scopes do not match those of the integration; copy them from the credentials"
    )


# --- a cache hit imports none of the heavy packages --------------------------------------------

_LOOKUP_HIT = r"""
import json, os, sys, time
from ansible.plugins.loader import init_plugin_loader, lookup_loader
init_plugin_loader([sys.argv[1]])
from ansible import constants as C
lookup = lookup_loader.get("aemops.ims.aem_ims_token")
credentials, mode = sys.argv[2], sys.argv[3]
kwargs = {}
if mode == "run":
    # What an earlier fork of the same run left in the run's cache directory.
    from ansible_collections.aemops.ims.plugins.module_utils._options import settings_from_params, validate_params
    from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request
    from ansible_collections.aemops.ims.plugins.module_utils._cache import RUN_CACHE_SUBDIR, TokenCache
    request = build_token_request(settings_from_params(validate_params({"service_credentials_file": credentials}, with_env=False)))
    now = time.time()
    TokenCache.open(os.path.join(C.DEFAULT_LOCAL_TMP, RUN_CACHE_SUBDIR)).write(
        request.cache_key(), {"access_token": "cached-token", "issued_at": now, "expires_at": now + 3600, "certificate_not_after": "2999-01-01T00:00:00Z"}
    )
else:
    kwargs = {"cache": "persistent", "cache_dir": sys.argv[4]}
before = set(sys.modules)
tokens = lookup.run([credentials], {}, **kwargs) + lookup.run([credentials], {}, **kwargs)
heavy = ("requests", "jwt", "cryptography", "urllib3")
print(json.dumps({
    "tokens": tokens,
    "new": sorted(name for name in set(sys.modules) - before if name.split(".")[0] in heavy),
    "requests_or_jwt": sorted(name for name in sys.modules if name.split(".")[0] in ("requests", "jwt")),
    "signing": "ansible_collections.aemops.ims.plugins.module_utils._signing" in sys.modules,
}))
"""


def _collections_root():
    import ansible_collections.aemops.ims.plugins.module_utils._errors as anchor  # pylint: disable=import-outside-toplevel

    path = os.path.abspath(anchor.__file__)
    for _unused in range(6):
        path = os.path.dirname(path)
    return path


@pytest.mark.parametrize("mode", ["run", "persistent"])
def test_a_cache_hit_of_the_lookup_imports_no_heavy_package(creds, tmp_path, mode):
    from ansible_collections.aemops.ims.plugins.module_utils._cache import TokenCache  # pylint: disable=import-outside-toplevel
    from ansible_collections.aemops.ims.plugins.module_utils._credentials import build_token_request  # pylint: disable=import-outside-toplevel
    from ansible_collections.aemops.ims.tests.unit.plugins.conftest import build_settings  # pylint: disable=import-outside-toplevel

    credentials = write_credentials(tmp_path, "creds.json", creds.aem())
    cache_dir = str(tmp_path / "persistent")
    if mode == "persistent":
        request = build_token_request(build_settings(service_credentials_file=credentials))
        now = time.time()
        TokenCache.open(cache_dir).write(
            request.cache_key(), {"access_token": "cached-token", "issued_at": now, "expires_at": now + 3600, "certificate_not_after": "2999-01-01T00:00:00Z"}
        )
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), HOME=str(tmp_path))
    completed = subprocess.run(
        [sys.executable, "-c", _LOOKUP_HIT, _collections_root(), credentials, mode, cache_dir],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["tokens"] == ["cached-token", "cached-token"]
    assert outcome["new"] == []
    assert outcome["requests_or_jwt"] == []
    assert outcome["signing"] is False


@pytest.mark.parametrize(
    "raw, expected",
    [({}, 155.0), ({"timeout": 60, "retries": 5}, 415.0), ({"timeout": "junk"}, 155.0), ({"timeout": 1, "retries": 0}, 155.0)],
)
def test_forks_wait_for_a_whole_exchange_of_another_fork(raw, expected):
    # At least ansible-core's defaults: an ansible.cfg timeout is not known before the lock is taken.
    assert _aem_ims_token_lookup_full.lock_wait(raw) == expected


# --- the lookup's per-run code cache ----------------------------------------------------------

_LOAD_LOOKUP = r"""
import json, marshal, os, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
from ansible import constants as C
from ansible.plugins.loader import lookup_loader
from ansible_collections.aemops.ims.plugins.plugin_utils import _lookup_code_cache as code_cache
PACKAGE = "ansible_collections.aemops.ims.plugins."
IMPL = PACKAGE + "plugin_utils._aem_ims_token_lookup"
cached = os.path.join(C.DEFAULT_LOCAL_TMP, code_cache.CODE_CACHE_SUBDIR, code_cache.CODE_CACHE_FILE)

def load():
    # What a later forked worker does: the lookup and its hit path are not loaded yet.
    for name in [PACKAGE + "lookup.aem_ims_token"] + [PACKAGE + relative for relative in code_cache.HIT_PATH_MODULES]:
        sys.modules.pop(name, None)
    lookup_loader._module_cache.clear()
    plugin = lookup_loader.get("aemops.ims.aem_ims_token")
    return {"class": type(plugin).__module__, "from_copy": sys.modules[IMPL].__spec__ is None, "copy": os.path.exists(cached)}

report = {"first": load(), "later": load()}
with open(cached, "rb") as handle:
    installer, (sources, modules) = marshal.loads(handle.read())
report["installer"] = installer.co_name
report["modules"] = [name for name, _code in modules]
report["sources"] = [os.path.relpath(path, os.path.dirname(os.path.dirname(code_cache.__file__))) for path, _mtime in sources]
# A damaged copy is not trusted: the hit path is imported normally and the copy written again.
with open(cached, "wb") as handle:
    handle.write(b"\x00 not marshal data")
report["damaged"] = load()
with open(cached, "rb") as handle:
    report["rewritten"] = not handle.read().startswith(b"\x00 not")
report["after_rewrite"] = load()
# A source edited since the copy was compiled makes the copy stale.
os.utime(sources[0][0], ns=(sources[0][1] + 10**9, sources[0][1] + 10**9))
report["stale"] = load()
report["recompiled"] = load()
# A copy someone else owns is not used (nor rewritten: the run directory is not this user's then).
os.geteuid = lambda: os.getuid() + 4242
report["foreign"] = load()
print(json.dumps(report))
"""


def _load_lookup_in_a_fresh_process(tmp_path):
    # A copy of the collection: the test changes a source's modification time.
    root = tmp_path / "collections"
    shutil.copytree(_collections_root() + "/ansible_collections/aemops/ims/plugins", root / "ansible_collections/aemops/ims/plugins")
    completed = subprocess.run(
        [sys.executable, "-c", _LOAD_LOOKUP, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-temp")),
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_code_a_cache_hit_needs_is_compiled_once_per_run(tmp_path):
    loaded = _load_lookup_in_a_fresh_process(tmp_path)
    impl = "ansible_collections.aemops.ims.plugins.plugin_utils._aem_ims_token_lookup"
    # The first worker imports normally and leaves the copy; the later ones run the copy.
    assert loaded["first"] == {"class": impl, "from_copy": False, "copy": True}
    assert loaded["later"] == {"class": impl, "from_copy": True, "copy": True}
    assert loaded["installer"] == "install_hit_path"
    assert loaded["modules"] == ["ansible_collections.aemops.ims.plugins." + name for name in _lookup_code_cache.HIT_PATH_MODULES]
    assert loaded["sources"] == ["module_utils/_option_names.py", "module_utils/_cache_reader.py", "plugin_utils/_aem_ims_token_lookup.py"]
    assert loaded["damaged"]["from_copy"] is False and loaded["rewritten"] is True
    assert loaded["after_rewrite"]["from_copy"] is True
    assert loaded["stale"]["from_copy"] is False and loaded["recompiled"]["from_copy"] is True
    assert loaded["foreign"] == {"class": impl, "from_copy": False, "copy": True}


def test_the_hit_path_needs_none_of_the_full_path():
    # What the copy holds must not import the full path at load time, or every worker would compile it.
    for relative in _lookup_code_cache.HIT_PATH_MODULES:
        path = os.path.join(os.path.dirname(os.path.dirname(_lookup_code_cache.__file__)), *relative.split(".")) + ".py"
        with open(path, encoding="utf-8") as handle:
            top_level = [line for line in handle if line.startswith(("import ", "from "))]
        imported = {line.split()[1] for line in top_level if "ansible_collections" in line}
        allowed = {"ansible_collections.aemops.ims.plugins." + name for name in _lookup_code_cache.HIT_PATH_MODULES}
        assert imported <= allowed, (relative, imported - allowed)


def test_the_copy_is_only_written_to_a_private_directory(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o770)
    with pytest.raises(PermissionError):
        _lookup_code_cache.write_code_cache(str(shared))
    assert not (shared / _lookup_code_cache.CODE_CACHE_SUBDIR).exists()
    private = tmp_path / "private"
    private.mkdir()
    private.chmod(0o700)
    path = _lookup_code_cache.write_code_cache(str(private))
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"

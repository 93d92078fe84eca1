# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aemops.ims contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils is PRIVATE to the aemops.ims collection. It may change at any time.

"""The names of the options shared by the module and the lookup, and their environment variables.

Kept apart from their types and defaults (``_option_specs``) because the lookup's cache-hit
path needs the names only, and loads what it needs in every forked worker, where each
kilobyte of code costs time.
"""

from __future__ import annotations

PLUGIN_NAME = "aemops.ims.aem_ims_token"

# name: environment variable. The order is the order of the docs.
OPTION_ENVIRONMENT_VARIABLES = {
    "service_credentials_file": "AEM_IMS_SERVICE_CREDENTIALS_FILE",
    "service_credentials": "AEM_IMS_SERVICE_CREDENTIALS",
    "credential_name": "AEM_IMS_CREDENTIAL_NAME",
    "credential_id": "AEM_IMS_CREDENTIAL_ID",
    "auth_method": "AEM_IMS_AUTH_METHOD",
    "client_id": "AEM_IMS_CLIENT_ID",
    "client_secret": "AEM_IMS_CLIENT_SECRET",
    "org_id": "AEM_IMS_ORG_ID",
    "technical_account_id": "AEM_IMS_TECHNICAL_ACCOUNT_ID",
    "private_key": "AEM_IMS_PRIVATE_KEY",
    "private_key_file": "AEM_IMS_PRIVATE_KEY_FILE",
    "private_key_passphrase": "AEM_IMS_PRIVATE_KEY_PASSPHRASE",
    "metascopes": "AEM_IMS_METASCOPES",
    "scopes": "AEM_IMS_SCOPES",
    "ims_endpoint": "AEM_IMS_ENDPOINT",
    "jwt_lifetime": "AEM_IMS_JWT_LIFETIME",
    "validate_certs": "AEM_IMS_VALIDATE_CERTS",
    "ca_path": "AEM_IMS_CA_PATH",
    "proxy_url": "AEM_IMS_PROXY_URL",
    "timeout": "AEM_IMS_TIMEOUT",
    "retries": "AEM_IMS_RETRIES",
    "cache": "AEM_IMS_CACHE",
    "cache_dir": "AEM_IMS_CACHE_DIR",
    "refresh_margin": "AEM_IMS_REFRESH_MARGIN",
    "force_refresh": "AEM_IMS_FORCE_REFRESH",
}

#!/usr/bin/env bash
# make demo: see tests/utils/demo.py. Environment provided by the Makefile: PATH
# with the venv first, AEMOPS_IMS_PYTHON (the venv's python).
set -euo pipefail
exec "${AEMOPS_IMS_PYTHON:-python3}" "$(dirname "$0")/demo.py" "$@"

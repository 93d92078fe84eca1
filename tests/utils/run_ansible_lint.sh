#!/usr/bin/env bash
# make ansible-lint: ansible-lint --profile production (config: .ansible-lint) on
# playbooks/ and on the EXAMPLES of the module and the lookup.
#
# Environment: ROOT (the checkout), BUILD_ROOT (default ROOT/build), ansible-lint on
# PATH (the tools venv).
#
# Lints a private mirror of the checkout, BUILD_ROOT/lint/ansible_collections/aemops/ims
# (build_collection.py), which is also the collections path, so aemops.ims.* resolves to
# exactly the files being linted. tests/utils/extract_examples.py writes each plugin's
# EXAMPLES there as one play (extracted_examples/examples_<type>_<name>.yml); a finding
# in one of those is a finding in that plugin's EXAMPLES.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${ROOT:-$(cd "$here/../.." && pwd)}
build_root=${BUILD_ROOT:-$root/build}
lint_root=$build_root/lint
coll=$lint_root/ansible_collections/aemops/ims
python=${PYTHON:-python3}

"$python" "$here/build_collection.py" "$root" "$coll"
rm -rf "$coll/extracted_examples"
"$python" "$here/extract_examples.py" "$coll/extracted_examples" \
    "$coll/plugins/modules/aem_ims_token.py" "$coll/plugins/lookup/aem_ims_token.py"

cd "$coll"
echo "ansible-lint $(ansible-lint --nocolor --version 2>/dev/null | head -1 | awk '{print $2}'): playbooks/ and extracted_examples/ (profile production)"
ANSIBLE_COLLECTIONS_PATH="$lint_root" ANSIBLE_NOCOLOR=1 NO_COLOR=1 \
    ansible-lint --nocolor --profile production playbooks/ extracted_examples/

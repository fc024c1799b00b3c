#!/usr/bin/env bash
# `make sanity`: ansible-test sanity on the ddbguard.dr collection, as amazon.aws and
# community.aws run it on every change.
#
# ansible-test wants the collection at .../ansible_collections/ddbguard/dr with the
# collections it imports (amazon.aws, community.aws) in the same ansible_collections/
# tree. So the collection is copied to a temporary folder outside this git repository
# (ansible-test lists a collection's files with git, and would skip every file that
# .gitignore hides), beside links to the copies
# of amazon.aws and community.aws that the pinned `ansible` bundle installed. Each sanity
# test runs in a virtual environment of ansible-test's own (--venv) with its pinned
# requirements from the package index; tools/get_pip_standin.py replaces the pip
# bootstrap script it would otherwise download from a host we cannot reach.
#
#   tools/sanity.sh [sanity|units] [extra ansible-test arguments]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
PY_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
COMMAND="${1:-sanity}"
shift || true

SOURCE="$ROOT/collections/ansible_collections/ddbguard/dr"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ddbguard-ansible-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/ansible_collections"
BUNDLE="$("$PYTHON" -c 'import ansible_collections.amazon.aws as m; print(list(m.__path__)[0])')/../.."

mkdir -p "$STAGE/ddbguard" "$STAGE/amazon" "$STAGE/community"
cp -a "$SOURCE" "$STAGE/ddbguard/dr"
find "$STAGE/ddbguard/dr" \( -name __pycache__ -o -name .pytest_cache -o -name output \) -prune -exec rm -rf {} +
ln -s "$(cd "$BUNDLE/amazon/aws" && pwd)" "$STAGE/amazon/aws"
ln -s "$(cd "$BUNDLE/community/aws" && pwd)" "$STAGE/community/aws"

# ansible-test's pip bootstrap script, served from its cache (see get_pip_standin.py).
PIP_VERSION="$("$PYTHON" -c 'from ansible_test._internal.python_requirements import get_venv_packages
class P: version = None
print(get_venv_packages(P)["pip"])')"
CACHE="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
mkdir -p "$(dirname "$CACHE")"
cmp -s "$ROOT/tools/get_pip_standin.py" "$CACHE" 2>/dev/null || cp "$ROOT/tools/get_pip_standin.py" "$CACHE"

cd "$STAGE/ddbguard/dr"
export PATH="$(dirname "$PYTHON"):$PATH"
EXTRA=()
[ "$COMMAND" = units ] && EXTRA=(--requirements)
ansible-test "$COMMAND" --venv --python "$PY_VERSION" --color no "${EXTRA[@]}" "$@"

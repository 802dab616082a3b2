#!/usr/bin/env bash
# Write requirements.lock and requirements-test.lock pinned to the versions installed in .venv
# (the versions the suite just passed with), with every file's hash. `make lock` resolves to
# today's newest versions instead.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install --quiet uv==0.13.9
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
.venv/bin/python -m pip freeze --exclude-editable >"$constraints"
common=(--python-version 3.11 --generate-hashes --quiet --no-header --constraint "$constraints" --annotation-style line)
.venv/bin/uv pip compile pyproject.toml "${common[@]}" -o requirements.lock
.venv/bin/uv pip compile pyproject.toml --extra test "${common[@]}" -o requirements-test.lock
# The constraints file is a temporary; name it for what it is.
.venv/bin/python - requirements.lock requirements-test.lock <<'PY'
import re, sys
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    text = re.sub(r"-c [^\s,]+", "-c (versions installed when locked)", text)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
PY

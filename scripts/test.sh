#!/usr/bin/env bash
# The whole test suite: installs the AWS emulator the live tests use (moto's server, from PyPI,
# into .venv-moto/ once), then runs every cargo test. Same command locally and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv-moto/bin/moto_server ]; then
  echo "installing moto[server] into .venv-moto/ (once)" >&2
  python3 -m venv .venv-moto
  .venv-moto/bin/pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi
export LEVERAGE_DOCTOR_MOTO="$PWD/.venv-moto/bin/moto_server"

cargo test --locked "$@"

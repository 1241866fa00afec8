#!/usr/bin/env bash
# The whole test suite: installs the AWS emulator the live tests use (moto's server, from PyPI,
# into .venv-moto/ once), the AWS CLI v1 (.venv-awscli/) and the pinned Leverage CLI the
# differential tests run (into .venv-leverage/ once), gnome-keyring and dbus (Debian packages, for
# the Secret Service tests), then runs every cargo test. Same command locally and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv-moto/bin/moto_server ]; then
  echo "installing moto[server] into .venv-moto/ (once)" >&2
  python3 -m venv .venv-moto
  .venv-moto/bin/pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi
export LEVERAGE_DOCTOR_MOTO="$PWD/.venv-moto/bin/moto_server"

# The real AWS CLI (v1, from PyPI): tests/keep_alive.rs has it read
# `credential_process = leverage-doctor credential-process …` (the `aws` on PATH may be a shim).
if ! .venv-awscli/bin/aws --version >/dev/null 2>&1; then
  echo "installing awscli into .venv-awscli/ (once)" >&2
  rm -rf .venv-awscli
  python3 -m venv .venv-awscli
  .venv-awscli/bin/pip install --quiet --disable-pip-version-check 'awscli>=1.32,<2'
fi
export LEVERAGE_DOCTOR_AWSCLI_VENV="$PWD/.venv-awscli"

# The real Leverage CLI, the oracle of tests/oracle.rs (3.x runs Terraform on the host, so a stub
# TF_BINARY lets `leverage tf plan` run here without Docker). Pinned.
LEVERAGE_VERSION=3.1.0
if ! .venv-leverage/bin/leverage --version 2>/dev/null | grep -q "version $LEVERAGE_VERSION\$"; then
  echo "installing leverage==$LEVERAGE_VERSION into .venv-leverage/ (once)" >&2
  rm -rf .venv-leverage
  python3 -m venv .venv-leverage
  .venv-leverage/bin/pip install --quiet --disable-pip-version-check "leverage==$LEVERAGE_VERSION"
fi
export LEVERAGE_DOCTOR_LEVERAGE_VENV="$PWD/.venv-leverage"

# Leverage CLI 2.x runs Terraform in Docker (not here), but its credential naming is plain Python
# that tests/oracle.rs calls directly. Pinned.
LEVERAGE2_VERSION=2.1.1
if ! .venv-leverage2/bin/python -c "import leverage, sys; sys.exit(leverage.__version__ != '$LEVERAGE2_VERSION')" 2>/dev/null; then
  echo "installing leverage==$LEVERAGE2_VERSION into .venv-leverage2/ (once)" >&2
  rm -rf .venv-leverage2
  python3 -m venv .venv-leverage2
  .venv-leverage2/bin/pip install --quiet --disable-pip-version-check "leverage==$LEVERAGE2_VERSION"
fi
export LEVERAGE_DOCTOR_LEVERAGE2_VENV="$PWD/.venv-leverage2"

# The real Secret Service for the keyring path of `token-store` (tests/token_store.rs starts its
# own D-Bus session bus and gnome-keyring, and stops them): Debian's packages, installed once.
if ! command -v gnome-keyring-daemon >/dev/null || ! command -v dbus-daemon >/dev/null \
  || ! command -v dbus-send >/dev/null; then
  echo "installing gnome-keyring and dbus (once)" >&2
  if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    gnome-keyring dbus-daemon dbus-bin >/dev/null
fi

cargo test --locked "$@"

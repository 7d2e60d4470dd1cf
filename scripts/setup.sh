#!/usr/bin/env bash
# scripts/setup.sh (`npm run setup`, the quick start's first command after `npm ci`): the
# system packages of the torch engine (python3-torch and the OpenBLAS its CPU kernels
# need), with apt where this user may install them. Never fails the quick start: without
# apt or root it prints how to get them, and `par auto` runs on the TensorFlow.js runtime.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/apt-install.sh --optional python3-torch libopenblas0-pthread
exit 0

#!/usr/bin/env bash
# scripts/apt-install.sh [--optional] PACKAGE...: installs the Debian packages par uses with
# apt, but only those missing (idempotent: a package counts as present when dpkg has it
# installed, or, for the Python modules, when /usr/bin/python3 can import it; `apt-get
# update` runs only when something is to be installed).
#   default     CI: a package that cannot be installed is a failure (exit 1, saying which and why)
#   --optional  the quick start: without apt or root (or password-less sudo), print a
#               one-line hint and exit 0, so the caller goes on without the packages
set -uo pipefail

optional=0
if [ "${1:-}" = "--optional" ]; then optional=1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [--optional] PACKAGE..." >&2; exit 2; }

# The Python module a package provides, when it has one: import it to tell it is there
# (torch installed with pip counts too).
module_of() {
  case "$1" in
    python3-torch) echo torch ;;
    python3-torchvision) echo torchvision ;;
    python3-onnx) echo onnx ;;
    *) echo "" ;;
  esac
}

present() {
  if dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; then return 0; fi
  local module
  module="$(module_of "$1")"
  [ -n "$module" ] && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import $module" >/dev/null 2>&1
}

missing=()
for p in "$@"; do present "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "apt packages: all present ($*)"
  exit 0
fi

hint="to install them: apt-get install ${missing[*]} (as root)"
case " ${missing[*]} " in *" python3-torch "*) hint="$hint, or set PAR_PYTHON to a Python that can import torch" ;; esac
give_up() {
  if [ $optional -eq 1 ]; then
    echo "note: $1; par runs on its TensorFlow.js runtime meanwhile; $hint"
    exit 0
  fi
  echo "error: $1; $hint" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || give_up "${missing[*]} missing and there is no apt-get here"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  give_up "${missing[*]} missing and installing needs root (no password-less sudo)"
fi

export DEBIAN_FRONTEND=noninteractive
echo "apt packages: installing ${missing[*]}"
if ! "${as_root[@]}" apt-get update -qq; then give_up "apt-get update failed"; fi
if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then give_up "apt-get install ${missing[*]} failed"; fi
for p in "${missing[@]}"; do present "$p" || give_up "$p is still missing after apt-get install"; done
echo "apt packages: installed ${missing[*]}"

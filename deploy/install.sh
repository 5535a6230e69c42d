#!/usr/bin/env bash
# Install or upgrade Desborde on Debian 12, as root, from the source tree this script is in.
# Idempotent: re-running upgrades the venv, prompts and unit in place; config and data are kept.
#
# Usage: deploy/install.sh [--dry-run] [--root DIR] [--python PATH] [--extras LIST] [--pip-args ARGS]
#   --dry-run      print every step it would take and change nothing
#   --root DIR     lay the install out under DIR (no apt, no running systemd): for tests and images
#   --python PATH  interpreter for a new venv (default /usr/bin/python3)
#   --extras LIST  pip extras to install (default "all": postgres, odbc, soap, stt)
#   --pip-args A   extra pip arguments, e.g. "--no-index --find-links /srv/wheels" for offline sites
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APT_PACKAGES=(python3-venv sox libsox-fmt-base unixodbc)
USER_NAME=desborde
DRY_RUN=0
ROOT=""
PYTHON=/usr/bin/python3
EXTRAS=all
PIP_ARGS=""

die() { echo "install: $*" >&2; exit 1; }
step() { echo "==> $*"; }
note() { echo "    $*"; }

# Every change goes through run: printed, then executed unless --dry-run.
run() {
  local shown
  shown=$(printf '%q ' "$@")
  echo "+ ${shown% }"
  [ "$DRY_RUN" -eq 1 ] || "$@"
}

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) DRY_RUN=1; shift ;;
      --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$(realpath -m "$2"); shift 2 ;;
      --python) [ $# -ge 2 ] || die "--python needs a path"; PYTHON="$2"; shift 2 ;;
      --extras) [ $# -ge 2 ] || die "--extras needs a list"; EXTRAS="$2"; shift 2 ;;
      --pip-args) [ $# -ge 2 ] || die "--pip-args needs a value"; PIP_ARGS="$2"; shift 2 ;;
      -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
      *) die "unknown argument $1 (see --help)" ;;
    esac
  done
  OPT="$ROOT/opt/desborde"
  VENV="$OPT/venv"
  ETC="$ROOT/etc/desborde"
  STATE="$ROOT/var/lib/desborde"
  UNIT_DIR="$ROOT/etc/systemd/system"
}

check_privileges() {
  [ "$DRY_RUN" -eq 1 ] || [ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] || die "run as root (or with --dry-run)"
  [ -f "$SRC/pyproject.toml" ] || die "$SRC is not a Desborde source tree"
}

install_packages() {
  step "Debian packages: ${APT_PACKAGES[*]}"
  if [ -n "$ROOT" ]; then note "skipped with --root"; return; fi
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then note "all installed"; return; fi
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

user_exists() {
  if [ -n "$ROOT" ]; then
    grep -q "^$USER_NAME:" "$ROOT/etc/passwd" 2>/dev/null
  else
    getent passwd "$USER_NAME" >/dev/null
  fi
}

create_user() {
  step "System user $USER_NAME"
  if user_exists; then note "exists"; return; fi
  local prefix=()
  # --prefix edits DIR/etc/passwd and group without chrooting (DIR needs those files).
  [ -z "$ROOT" ] || prefix=(--prefix "$ROOT")
  run useradd "${prefix[@]}" --system --user-group --home-dir /var/lib/desborde \
    --no-create-home --shell /usr/sbin/nologin --comment "Desborde appliance" "$USER_NAME"
}

# "uid:gid" of the service user. With --root they are numbers read from DIR/etc/passwd: the
# host's NSS knows nothing of that tree. A dry run may name a user it has not created yet.
owner_ids() {
  local ids="$USER_NAME:$USER_NAME"
  if [ -n "$ROOT" ] && user_exists; then
    ids=$(awk -F: -v u="$USER_NAME" '$1 == u { print $3 ":" $4 }' "$ROOT/etc/passwd")
  elif [ "$DRY_RUN" -eq 0 ] && ! user_exists; then
    die "user $USER_NAME is missing"
  fi
  echo "$ids"
}

install_venv() {
  step "Virtual environment $VENV with the project [$EXTRAS]"
  if [ -x "$VENV/bin/python" ]; then
    note "exists: upgrading in place"
  else
    run install -d -m 0755 "$OPT"
    run "$PYTHON" -m venv "$VENV"
  fi
  # Build from a copy: pip builds in the source dir and would leave build/ and *.egg-info there.
  local stage=/tmp/desborde-src.XXXXXX
  if [ "$DRY_RUN" -eq 0 ]; then
    stage=$(mktemp -d /tmp/desborde-src.XXXXXX)
    # shellcheck disable=SC2064  # expand now: $stage is local to this function
    trap "rm -rf '$stage'" EXIT
  fi
  run tar -C "$SRC" --exclude=.git --exclude=.venv --exclude=var --exclude=build \
    --exclude='*.egg-info' --exclude=__pycache__ --exclude=test-artifacts -cf "$stage/src.tar" .
  run tar -C "$stage" -xf "$stage/src.tar"
  # --force-reinstall --no-deps: same version number, new code; then a normal pass for dependencies.
  # shellcheck disable=SC2086  # PIP_ARGS is a list of pip options on purpose
  run "$VENV/bin/python" -m pip install --quiet $PIP_ARGS --force-reinstall --no-deps "$stage"
  # shellcheck disable=SC2086
  run "$VENV/bin/python" -m pip install --quiet $PIP_ARGS "${stage}[$EXTRAS]"
  run rm -rf "$stage"
}

# Default prompts, replaced whole on upgrade (prompts an admin uploads live in the store).
install_sounds() {
  step "Default prompts in $OPT/sounds"
  run install -d -m 0755 "$OPT"
  run rm -rf "$OPT/sounds.new"
  run cp -r "$SRC/sounds" "$OPT/sounds.new"
  run rm -rf "$OPT/sounds"
  run mv "$OPT/sounds.new" "$OPT/sounds"
}

install_config() {
  step "Configuration $ETC/desborde.toml"
  local ids example="$SRC/deploy/desborde.example.toml"
  [ -f "$example" ] || die "missing $example"
  ids=$(owner_ids)
  # Readable by the service, writable by root only: it may name secret files or hold passwords.
  run install -d -m 0750 -o 0 -g "${ids#*:}" "$ETC"
  # The newest example sits beside the live file so an admin can diff after an upgrade.
  run install -m 0644 -o 0 -g 0 "$example" "$ETC/desborde.example.toml"
  if [ -e "$ETC/desborde.toml" ]; then
    note "exists: kept as it is"
  else
    run install -m 0640 -o 0 -g "${ids#*:}" "$example" "$ETC/desborde.toml"
  fi
}

install_state_dir() {
  step "Data directory $STATE"
  local ids
  ids=$(owner_ids)
  run install -d -m 0750 -o "${ids%:*}" -g "${ids#*:}" "$STATE"
}

systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

install_unit() {
  step "systemd unit $UNIT_DIR/desborde.service"
  run install -d -m 0755 "$UNIT_DIR"
  run install -m 0644 "$SRC/systemd/desborde.service" "$UNIT_DIR/desborde.service"
  if systemd_running; then run systemctl daemon-reload; fi
  if [ -n "$ROOT" ]; then
    run systemctl --root="$ROOT" enable desborde.service
  else
    run systemctl enable desborde.service
  fi
}

check_config() {
  step "Checking $ETC/desborde.toml"
  run "$VENV/bin/desborde" check-config "$ETC/desborde.toml"
}

restart_if_running() {
  step "Service"
  if systemd_running; then
    # try-restart: an upgrade restarts a running service; a fresh install waits for the admin.
    run systemctl try-restart desborde.service
    note "start it with: systemctl start desborde"
  else
    note "systemd is not running here: start skipped"
  fi
}

main() {
  parse_args "$@"
  check_privileges
  [ "$DRY_RUN" -eq 0 ] || echo "dry run: nothing will be changed"
  install_packages
  create_user
  install_venv
  install_sounds
  install_config
  install_state_dir
  install_unit
  check_config
  restart_if_running
  step "Done"
}

main "$@"

#!/usr/bin/env bash
# deploy/uninstall.sh [--destdir DIR] [--purge] [-y]
#
# Removes what deploy/install.sh installed (spec/11 §5): stops and disables the service, then
# removes what the manifest <prefix>/share/tokmesh/install-manifest.txt lists as `file`
# (binaries, unit, the manifest) and `dir` (directories it created, when empty), then
# `systemctl daemon-reload` and `reset-failed`. Configuration (/etc/tokmesh-server), data
# (/var/lib/tokmesh-server) and the user stay; --purge (confirmed again unless -y) removes them
# and the user and group too. Asks `Remove TokMesh? [y/N]` unless -y, and refuses without -y
# when stdin is not a terminal. Running it twice succeeds (`nothing to remove`).
#
#   --destdir DIR   a staged install (also DESTDIR=DIR): no root needed, no systemctl, no userdel
#   --prefix DIR    the --prefix given to install.sh (default /usr/local)
#   --purge         also remove configuration, data, user and group
#   -y, --yes       do not ask
set -euo pipefail

readonly SERVICE=tokmesh-server.service
readonly CONF_DIR=/etc/tokmesh-server
readonly DATA_DIR=/var/lib/tokmesh-server
readonly USER_NAME=tokmesh

usage() {
  sed -n '2p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}/usage: /' >&2
  exit 64
}
die() { echo "uninstall.sh: $*" >&2; exit "${2:-1}"; }
say() { echo "uninstall.sh: $*"; }
skip() { echo "uninstall.sh: skipped (destdir): $*"; }

destdir="${DESTDIR:-}"
prefix="/usr/local"
purge=false
yes=false
while (($#)); do
  case "$1" in
    --destdir) [[ $# -ge 2 ]] || usage; destdir="$2"; shift 2 ;;
    --destdir=*) destdir="${1#*=}"; shift ;;
    --prefix) [[ $# -ge 2 ]] || usage; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --purge) purge=true; shift ;;
    -y|--yes) yes=true; shift ;;
    -h|--help) usage ;;
    *) echo "uninstall.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
prefix="${prefix%/}"
staged=false
if [[ -n "$destdir" ]]; then
  [[ -d "$destdir" ]] || die "destdir $destdir does not exist" 66
  destdir="$(cd "$destdir" && pwd)"
  [[ "$destdir" != "/" ]] || destdir=""
fi
[[ -z "$destdir" ]] || staged=true

if ! $staged && [[ $EUID -ne 0 ]]; then
  die "must run as root (or give --destdir DIR)" 77
fi

confirm() {  # question
  if $yes; then
    return 0
  fi
  if [[ ! -t 0 ]]; then
    die "stdin is not a terminal; run with -y to confirm" 64
  fi
  local answer=""
  read -r -p "$1 [y/N] " answer || true
  [[ "$answer" == [yY] || "$answer" == [yY][eE][sS] ]]
}

readonly MANIFEST="$prefix/share/tokmesh/install-manifest.txt"
entries=()
if [[ -f "$destdir$MANIFEST" ]]; then
  mapfile -t entries <"$destdir$MANIFEST"
fi
purgeable=false
if $purge && { [[ -e "$destdir$CONF_DIR" ]] || [[ -e "$destdir$DATA_DIR" ]]; }; then
  purgeable=true
fi
if ((${#entries[@]} == 0)) && ! $purgeable; then
  say "nothing to remove"
  exit 0
fi

confirm "Remove TokMesh?" || { say "aborted"; exit 1; }
if $purge; then
  confirm "Also remove $CONF_DIR, $DATA_DIR (all data) and the user $USER_NAME?" || { say "aborted"; exit 1; }
fi

# --- the service -----------------------------------------------------------------------------

# A host without a running systemd (a container) has no service to stop, disable or reload.
systemd_running=false
if ! $staged && [[ -d /run/systemd/system ]]; then
  systemd_running=true
fi

if $staged; then
  skip "systemctl stop $SERVICE"
  skip "systemctl disable $SERVICE"
elif ! $systemd_running; then
  say "systemd is not running on this host: no service to stop or disable"
else
  if systemctl is-active --quiet "$SERVICE"; then
    systemctl stop "$SERVICE"
    say "stopped $SERVICE"
  fi
  if systemctl is-enabled --quiet "$SERVICE" 2>/dev/null; then
    systemctl disable "$SERVICE"
    say "disabled $SERVICE"
  fi
fi

# --- files, then (with --purge) configuration and data, then empty directories ---------------

for entry in "${entries[@]}"; do
  kind="${entry%% *}"
  path="${entry#* }"
  case "$kind" in
    file)
      if [[ "$path" == "$MANIFEST" ]]; then
        continue  # removed last
      fi
      if [[ -e "$destdir$path" || -L "$destdir$path" ]]; then
        rm -f "$destdir$path"
        say "removed $path"
      fi
      ;;
    config|data)
      if ! $purge; then
        say "kept $path"
      fi
      ;;
  esac
done

if $purge; then
  for d in "$CONF_DIR" "$DATA_DIR"; do
    if [[ -e "$destdir$d" ]]; then
      rm -rf "${destdir}${d:?}"
      say "purged $d"
    fi
  done
  if $staged; then
    skip "userdel $USER_NAME; groupdel $USER_NAME"
  else
    if id -u "$USER_NAME" >/dev/null 2>&1; then
      userdel "$USER_NAME"
      say "removed user $USER_NAME"
    fi
    if getent group "$USER_NAME" >/dev/null; then
      groupdel "$USER_NAME"
      say "removed group $USER_NAME"
    fi
  fi
fi

if [[ -e "$destdir$MANIFEST" ]]; then
  rm -f "$destdir$MANIFEST"
  say "removed $MANIFEST"
fi

# Directories in reverse order of creation, each only when empty.
for ((i = ${#entries[@]} - 1; i >= 0; i--)); do
  entry="${entries[i]}"
  [[ "${entry%% *}" == dir ]] || continue
  path="${entry#* }"
  [[ -d "$destdir$path" ]] || continue
  if rmdir "$destdir$path" 2>/dev/null; then
    say "removed directory $path"
  else
    say "kept directory $path (not empty)"
  fi
done

if $staged; then
  skip "systemctl daemon-reload"
  skip "systemctl reset-failed $SERVICE"
elif $systemd_running; then
  systemctl daemon-reload
  say "systemctl daemon-reload"
  systemctl reset-failed "$SERVICE" 2>/dev/null || true
  say "systemctl reset-failed $SERVICE"
fi
if ! $purge; then
  say "configuration ($CONF_DIR), data ($DATA_DIR) and the user $USER_NAME stay; --purge removes them"
fi
say "done"

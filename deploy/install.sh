#!/usr/bin/env bash
# deploy/install.sh [--bin-dir DIR] [--config FILE] [--prefix /usr/local] [--destdir DIR] [--start]
#
# Installs tokmesh-server and tokmesh-cli as a systemd service (spec/11 §4, §5). Idempotent:
# run it again to upgrade; every step prints what it did.
#
#   --bin-dir DIR   where tokmesh-server and tokmesh-cli are (default: ./bin of a release
#                   tarball, else the checkout's `swift build -c release --show-bin-path`)
#   --config FILE   the configuration to install (default: deploy/config/minimal.yaml); an
#                   existing /etc/tokmesh-server/config.yaml is never overwritten: a differing
#                   new one is written beside it as config.yaml.dist
#   --prefix DIR    where bin/ and share/tokmesh/ go (default /usr/local)
#   --destdir DIR   stage everything under DIR (also DESTDIR=DIR): no root needed, no user,
#                   no chown (modes are still set), no apt, no systemctl
#   --start         start the service after a first install (an upgrade restarts it only if
#                   it was running)
#
# The manifest <prefix>/share/tokmesh/install-manifest.txt lists every file and directory this
# script created (pre-existing ones excluded), one `<kind> <path>` per line: `file` and `dir`
# are removed by deploy/uninstall.sh, `config` and `data` stay unless it is given --purge.
set -euo pipefail

readonly SERVICE=tokmesh-server.service
readonly CONF_DIR=/etc/tokmesh-server
readonly DATA_DIR=/var/lib/tokmesh-server
readonly UNIT_DIR=/etc/systemd/system
readonly USER_NAME=tokmesh
readonly RUNTIME_LIBS=("libnghttp2.so.14:libnghttp2-14" "libargon2.so.1:libargon2-1" "libz.so.1:zlib1g" "libedit.so.2:libedit2")

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top_dir="$(cd "$script_dir/.." && pwd)"

usage() {
  sed -n '2,3p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}/usage: /' >&2
  exit 64
}
die() { echo "install.sh: $*" >&2; exit "${2:-1}"; }
say() { echo "install.sh: $*"; }
skip() { echo "install.sh: skipped (destdir): $*"; }

bin_dir=""
config_src=""
prefix="/usr/local"
destdir="${DESTDIR:-}"
start=false
while (($#)); do
  case "$1" in
    --bin-dir) [[ $# -ge 2 ]] || usage; bin_dir="$2"; shift 2 ;;
    --bin-dir=*) bin_dir="${1#*=}"; shift ;;
    --config) [[ $# -ge 2 ]] || usage; config_src="$2"; shift 2 ;;
    --config=*) config_src="${1#*=}"; shift ;;
    --prefix) [[ $# -ge 2 ]] || usage; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --destdir) [[ $# -ge 2 ]] || usage; destdir="$2"; shift 2 ;;
    --destdir=*) destdir="${1#*=}"; shift ;;
    --start) start=true; shift ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ "$prefix" == /* ]] || die "--prefix must be an absolute path: $prefix" 64
prefix="${prefix%/}"
if [[ -n "$destdir" ]]; then
  mkdir -p "$destdir"
  destdir="$(cd "$destdir" && pwd)"
  [[ "$destdir" != "/" ]] || destdir=""
fi
staged=false
[[ -z "$destdir" ]] || staged=true

# --- 1. root and binaries --------------------------------------------------------------------

if ! $staged && [[ $EUID -ne 0 ]]; then
  die "must run as root (or stage with --destdir DIR)" 77
fi

if [[ -z "$bin_dir" ]]; then
  if [[ -x "$top_dir/bin/tokmesh-server" ]]; then
    bin_dir="$top_dir/bin"
  elif [[ -f "$top_dir/Package.swift" ]] && command -v swift >/dev/null 2>&1; then
    bin_dir="$(cd "$top_dir" && swift build -c release --show-bin-path)"
  else
    die "no binaries: pass --bin-dir DIR (or run from a release tarball with bin/)" 66
  fi
fi
for b in tokmesh-server tokmesh-cli; do
  [[ -x "$bin_dir/$b" ]] || die "$bin_dir/$b is missing or not executable (build with: swift build -c release)" 66
done
bin_dir="$(cd "$bin_dir" && pwd)"
say "binaries from $bin_dir"

if [[ -z "$config_src" ]]; then
  config_src="$top_dir/deploy/config/minimal.yaml"
fi
[[ -f "$config_src" ]] || die "configuration $config_src does not exist" 66

# --- manifest ----------------------------------------------------------------------------------

readonly MANIFEST="$prefix/share/tokmesh/install-manifest.txt"
manifest_entries=()
if [[ -f "$destdir$MANIFEST" ]]; then
  mapfile -t manifest_entries <"$destdir$MANIFEST"
fi
record() {  # kind path (target path, without the destdir)
  local entry="$1 $2" e
  for e in "${manifest_entries[@]}"; do
    [[ "$e" == "$entry" ]] && return 0
  done
  manifest_entries+=("$entry")
}

# ensure_dir path mode owner:group kind — creates missing parents (recorded as `dir`), then
# the directory itself (recorded as kind), and sets mode (and owner unless staged) every run.
ensure_dir() {
  local path="$1" mode="$2" owner="$3" kind="$4" parent="" part rest
  rest="${path#/}"
  while [[ "$rest" == */* ]]; do
    part="${rest%%/*}"
    rest="${rest#*/}"
    parent="$parent/$part"
    if [[ ! -d "$destdir$parent" ]]; then
      mkdir "$destdir$parent"
      chmod 0755 "$destdir$parent"
      record dir "$parent"
      say "created directory $parent"
    fi
  done
  if [[ ! -d "$destdir$path" ]]; then
    mkdir "$destdir$path"
    record "$kind" "$path"
    say "created directory $path ($mode $owner)"
  fi
  chmod "$mode" "$destdir$path"
  set_owner "$owner" "$destdir$path"
}

set_owner() {  # owner:group path
  if $staged; then
    return 0
  fi
  chown "$1" "$2"
}

# put_file src dst mode owner:group kind — installs or updates a file and records it if new.
put_file() {
  local src="$1" dst="$2" mode="$3" owner="$4" kind="$5"
  if [[ -e "$destdir$dst" ]]; then
    if cmp -s "$src" "$destdir$dst"; then
      say "unchanged $dst"
    else
      install -m "$mode" "$src" "$destdir$dst.new"
      mv -f "$destdir$dst.new" "$destdir$dst"
      say "updated $dst"
    fi
  else
    install -m "$mode" "$src" "$destdir$dst"
    record "$kind" "$dst"
    say "installed $dst ($mode $owner)"
  fi
  chmod "$mode" "$destdir$dst"
  set_owner "$owner" "$destdir$dst"
}

write_manifest() {
  local tmp
  ensure_dir "$prefix/share/tokmesh" 0755 root:root dir
  record file "$MANIFEST"
  tmp="$(mktemp "$destdir$MANIFEST.XXXXXX")"
  printf '%s\n' "${manifest_entries[@]}" >"$tmp"
  chmod 0644 "$tmp"
  set_owner root:root "$tmp"
  mv -f "$tmp" "$destdir$MANIFEST"
  say "manifest $MANIFEST (${#manifest_entries[@]} entries)"
}

# --- 2. user, group and runtime libraries ----------------------------------------------------

if $staged; then
  skip "create group and user $USER_NAME (useradd --system --no-create-home --home-dir $DATA_DIR --shell /usr/sbin/nologin)"
  skip "install missing runtime libraries with apt (libnghttp2-14 libargon2-1 zlib1g libedit2)"
else
  if getent group "$USER_NAME" >/dev/null; then
    say "group $USER_NAME exists"
  else
    groupadd --system "$USER_NAME"
    say "created group $USER_NAME"
  fi
  if id -u "$USER_NAME" >/dev/null 2>&1; then
    say "user $USER_NAME exists"
  else
    useradd --system --no-create-home --home-dir "$DATA_DIR" --shell /usr/sbin/nologin \
      --gid "$USER_NAME" "$USER_NAME"
    say "created user $USER_NAME"
  fi
  missing=()
  libs="$(ldconfig -p)"
  for pair in "${RUNTIME_LIBS[@]}"; do
    if ! grep -qF "${pair%%:*} " <<<"$libs"; then
      missing+=("${pair#*:}")
    fi
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]} with apt"
    DEBIAN_FRONTEND=noninteractive apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    say "runtime libraries present"
  fi
fi

# --- 3. binaries, unit, directories and modes (spec/11 §4) -----------------------------------

ensure_dir "$prefix/bin" 0755 root:root dir
put_file "$bin_dir/tokmesh-server" "$prefix/bin/tokmesh-server" 0755 root:root file
put_file "$bin_dir/tokmesh-cli" "$prefix/bin/tokmesh-cli" 0755 root:root file

unit_tmp="$(mktemp)"
trap 'rm -f "$unit_tmp"' EXIT
sed "s#/usr/local/bin/#$prefix/bin/#g" "$script_dir/systemd/$SERVICE" >"$unit_tmp"
ensure_dir "$UNIT_DIR" 0755 root:root dir
put_file "$unit_tmp" "$UNIT_DIR/$SERVICE" 0644 root:root file

ensure_dir "$CONF_DIR" 0750 "root:$USER_NAME" config
ensure_dir "$CONF_DIR/certs" 0750 "root:$USER_NAME" config
for f in "$destdir$CONF_DIR"/certs/*.crt "$destdir$CONF_DIR"/certs/*.key; do
  [[ -f "$f" ]] || continue
  case "$f" in *.crt) chmod 0644 "$f" ;; *.key) chmod 0640 "$f" ;; esac
  set_owner "root:$USER_NAME" "$f"
done
if [[ -e "$destdir$CONF_DIR/config.yaml" ]]; then
  if cmp -s "$config_src" "$destdir$CONF_DIR/config.yaml"; then
    say "kept $CONF_DIR/config.yaml (identical to $config_src)"
  else
    put_file "$config_src" "$CONF_DIR/config.yaml.dist" 0640 "root:$USER_NAME" config
    say "kept $CONF_DIR/config.yaml (yours); the new one is $CONF_DIR/config.yaml.dist"
  fi
else
  put_file "$config_src" "$CONF_DIR/config.yaml" 0640 "root:$USER_NAME" config
fi
if [[ -e "$destdir$CONF_DIR/environment" ]]; then
  say "kept $CONF_DIR/environment"
else
  env_tmp="$(mktemp)"
  trap 'rm -f "$unit_tmp" "$env_tmp"' EXIT
  cat >"$env_tmp" <<'EOF'
# /etc/tokmesh-server/environment — optional TOKMESH_* overrides for tokmesh-server.service
# (EnvironmentFile=; one NAME=value per line). Every key of `tokmesh-server --config-reference`
# has one: TOKMESH_ + the key upper-cased with dots as underscores. Example, the storage
# encryption key (64 hex characters), kept out of config.yaml:
#TOKMESH_SECURITY_STORAGE_ENCRYPTION_KEY=
EOF
  put_file "$env_tmp" "$CONF_DIR/environment" 0640 "root:$USER_NAME" config
fi
chmod 0640 "$destdir$CONF_DIR/config.yaml" "$destdir$CONF_DIR/environment"

ensure_dir "$DATA_DIR" 0750 "$USER_NAME:$USER_NAME" data

# --- 4. manifest -----------------------------------------------------------------------------

write_manifest

# --- 5. check the configuration, then the service --------------------------------------------

if $staged; then
  say "checking $CONF_DIR/config.yaml (as $(id -un), with $destdir$prefix/bin/tokmesh-server and storage.data_dir=$destdir$DATA_DIR)"
  if ! TOKMESH_STORAGE_DATA_DIR="$destdir$DATA_DIR" \
      "$destdir$prefix/bin/tokmesh-server" --check-config "$destdir$CONF_DIR/config.yaml"; then
    die "configuration check failed; fix $destdir$CONF_DIR/config.yaml" 78
  fi
  skip "systemctl daemon-reload"
  skip "systemctl enable $SERVICE"
  skip "systemctl restart/start $SERVICE"
else
  say "checking $CONF_DIR/config.yaml as user $USER_NAME"
  if ! runuser -u "$USER_NAME" -- "$prefix/bin/tokmesh-server" --check-config "$CONF_DIR/config.yaml"; then
    die "configuration check failed; the service was not touched. Fix $CONF_DIR/config.yaml and run install.sh again" 78
  fi
  if [[ ! -d /run/systemd/system ]]; then
    # A container or a host booted without systemd: the files are in place, the service is not.
    say "systemd is not running on this host: skipped daemon-reload, enable and start of $SERVICE"
  else
    systemctl daemon-reload
    say "systemctl daemon-reload"
    systemctl enable "$SERVICE"
    say "enabled $SERVICE"
    if systemctl is-active --quiet "$SERVICE"; then
      systemctl restart "$SERVICE"
      say "restarted $SERVICE"
    elif $start; then
      systemctl start "$SERVICE"
      say "started $SERVICE"
    else
      say "$SERVICE is enabled but not started: review $CONF_DIR/config.yaml, then: systemctl start $SERVICE"
    fi
  fi
fi

say "done. The first admin key (as root or a member of group $USER_NAME, once the service runs):"
echo "  $prefix/bin/tokmesh-cli -t local apikey create-emergency"

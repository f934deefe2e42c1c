# Shared by scripts/publish and scripts/test: install what is missing with
# apt-get, then configure and build with CMake. Sourced, not run.

PUB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PUB_PACKAGES=(cmake gcc g++ make pkg-config liblua5.4-dev libyaml-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libmicrohttpd-dev libsource-highlight-dev libsass-dev libmimalloc-dev curl tzdata)

pub_say() { [ -n "${PUB_QUIET:-}" ] || echo "publish-setup: $*" >&2; }

pub_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages named in the arguments that are missing.
pub_ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    # Said even when quiet: installing takes a while, and asks for sudo.
    echo "publish-setup: installing ${#missing[@]} missing packages with apt-get: ${missing[*]}" >&2
    pub_as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive pub_as_root apt-get install -y -qq "${missing[@]}" >&2
  fi
}

# Configures (once) and builds the tree in $1 with the extra CMake flags given.
pub_ensure_build() {
  local dir="$1"; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    pub_say "configuring $dir"
    pub_run_logged cmake -S "$PUB_ROOT" -B "$dir" "$@"
  fi
  pub_run_logged cmake --build "$dir" -j "$(nproc)"
}

# Runs a command with its output on stderr, or, with PUB_QUIET, silently
# unless it fails (then its whole log is shown).
pub_run_logged() {
  if [ -z "${PUB_QUIET:-}" ]; then "$@" >&2; return; fi
  local log status=0; log="$(mktemp)"
  "$@" > "$log" 2>&1 || status=$?
  [ "$status" -eq 0 ] || cat "$log" >&2
  rm -f "$log"
  return "$status"
}

# Shared by scripts/publish and scripts/test: install what is missing with
# apt-get, then configure and build with CMake. Sourced, not run.

PUB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PUB_PACKAGES=(cmake gcc make pkg-config liblua5.4-dev libyaml-dev libcmark-dev libmicrohttpd-dev curl tzdata)

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
    pub_say "installing ${missing[*]}"
    pub_as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive pub_as_root apt-get install -y -qq "${missing[@]}" >&2
  fi
}

# Configures (once) and builds the tree in $1 with the extra CMake flags given.
pub_ensure_build() {
  local dir="$1"; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    pub_say "configuring $dir"
    cmake -S "$PUB_ROOT" -B "$dir" "$@" >&2
  fi
  if [ -n "${PUB_QUIET:-}" ]; then
    # Quiet unless it fails: then the whole build log is shown.
    local log; log="$(mktemp)"
    if ! cmake --build "$dir" -j "$(nproc)" > "$log" 2>&1; then
      cat "$log" >&2; rm -f "$log"; return 1
    fi
    rm -f "$log"
  else
    cmake --build "$dir" -j "$(nproc)" >&2
  fi
}

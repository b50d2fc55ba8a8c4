# Shared by scripts/test, scripts/bench, scripts/sanitize and scripts/fuzz: make sure the system
# dependencies are present. SLEEF comes from Debian/Ubuntu's libsleef-dev or Homebrew's sleef
# (found with pkg-config `sleef`); qemu-user is for scripts/test on x86-64 Linux only (it runs the
# suite on an emulated CPU without AVX).

# apt_install_unless WHAT "CHECK" PACKAGE...: returns at once when the shell command CHECK
# succeeds; otherwise installs the packages with apt-get when we are root, or prints the command
# to run and exits 1.
apt_install_unless() {
  local what="$1" check="$2"
  shift 2
  if eval "$check" >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing $* with apt-get ($what)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "$@" >/dev/null
  else
    echo "$what is missing. Install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $*" >&2
    exit 1
  fi
}

ensure_sleef() {
  if [ "$(uname -s)" = "Darwin" ]; then
    # macOS: Homebrew's formula (SwiftPM finds it through pkg-config, Homebrew's pkgconf).
    if pkg-config --exists sleef >/dev/null 2>&1; then return 0; fi
    echo "SLEEF is missing. Install it with:" >&2
    echo "  brew install sleef pkgconf" >&2
    exit 1
  fi
  apt_install_unless "SLEEF" "pkg-config --exists sleef" libsleef-dev pkg-config
}

# Succeeds on an x86-64 host, where the AVX2 and AVX-512 backends are built (Package.swift).
host_is_x86_64() { [ "$(uname -m)" = "x86_64" ]; }

ensure_qemu() {
  apt_install_unless "qemu-x86_64, which runs the tests on an emulated CPU without AVX" \
    "command -v qemu-x86_64" qemu-user
}

# Shared by scripts/test and scripts/bench: make sure the system dependencies are present.
# (qemu-user is for scripts/test only: it runs the suite on an emulated CPU without AVX.)
# SLEEF comes from Debian/Ubuntu's libsleef-dev (found with pkg-config `sleef`).

ensure_sleef() {
  if pkg-config --exists sleef 2>/dev/null; then
    return 0
  fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing libsleef-dev and pkg-config with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libsleef-dev pkg-config >/dev/null
  else
    echo "SLEEF is missing. Install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y libsleef-dev pkg-config" >&2
    exit 1
  fi
}

ensure_qemu() {
  if command -v qemu-x86_64 >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing qemu-user with apt-get (runs the tests on an emulated CPU without AVX)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq qemu-user >/dev/null
  else
    echo "qemu-x86_64 is missing. Install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y qemu-user" >&2
    exit 1
  fi
}

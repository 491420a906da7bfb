# Shared helpers for the top-level scripts.

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The Rust toolchain comes from rustup on the machine image (a registry cannot supply it);
# fail with a clear message rather than half-way through a build.
need_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
  for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
      rustup component add "$component" >/dev/null 2>&1 || { echo "missing rust component $component" >&2; exit 1; }
    fi
  done
}

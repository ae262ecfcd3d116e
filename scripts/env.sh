# Sourced by the other scripts: puts the pinned tools on PATH.
PLATEAU_TOOLS_DIR="${PLATEAU_TOOLS_DIR:-$HOME/.cache/plateau-tools}"
export PATH="$HOME/.cargo/bin:$PLATEAU_TOOLS_DIR/node_modules/.bin:$PATH"

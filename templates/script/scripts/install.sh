#!/bin/sh
# Run by setup.mjs on install. Environment: WAPT_TARGET_ROOT ('/' on a real install),
# WAPT_PACKAGE, WAPT_VERSION, WAPT_PACKAGE_DIR. Exit non-zero to fail the install.
set -eu
dest="${WAPT_TARGET_ROOT%/}/opt/$WAPT_PACKAGE"
mkdir -p "$dest"
echo "$WAPT_PACKAGE $WAPT_VERSION" > "$dest/installed-by-script.txt"
echo "installed $WAPT_PACKAGE into $dest"

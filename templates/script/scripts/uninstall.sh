#!/bin/sh
# Run by setup.mjs on uninstall (its text is stored at install time, so it still works
# once the package cache is gone). Same environment as install.sh.
set -eu
dest="${WAPT_TARGET_ROOT%/}/opt/$WAPT_PACKAGE"
rm -f "$dest/installed-by-script.txt"
rmdir "$dest" 2>/dev/null || true
echo "uninstalled $WAPT_PACKAGE from $dest"

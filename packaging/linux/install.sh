#!/bin/sh
# Install the unpacked PACS Console for the current user (no root, no internet):
#   ~/.local/opt/pacs-console/          the one-folder app
#   ~/.local/bin/pacs-console           a link to its executable (GUI and CLI)
#   ~/.local/share/applications/        the .desktop entry; icon in ~/.local/share/icons
# Run again to upgrade; `sh install.sh --uninstall` removes all three.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
app="$prefix/opt/pacs-console"
if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$app" "$prefix/bin/pacs-console" "$prefix/share/applications/pacs-console.desktop" \
    "$prefix/share/icons/hicolor/256x256/apps/pacs-console.png"
  echo "PACS Console removed (your data in ~/.local/share/pacs-console is kept)"
  exit 0
fi
mkdir -p "$prefix/opt" "$prefix/bin" "$prefix/share/applications" \
  "$prefix/share/icons/hicolor/256x256/apps"
rm -rf "$app.new"
cp -a "$here/pacs-console" "$app.new"
rm -rf "$app"
mv "$app.new" "$app"
ln -sf "$app/pacs-console" "$prefix/bin/pacs-console"
sed "s|^Exec=pacs-console|Exec=$app/pacs-console|; s|^TryExec=pacs-console|TryExec=$app/pacs-console|" \
  "$here/pacs-console.desktop" > "$prefix/share/applications/pacs-console.desktop"
cp "$here/pacs-console.png" "$prefix/share/icons/hicolor/256x256/apps/pacs-console.png"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/share/applications" || true
echo "PACS Console installed in $app"
"$app/pacs-console" --self-check || echo "(see the FAIL lines above; the keyring line is explained in README.txt)"

# Sourced by .ci/run: yaml-language-server for the live editor-support test (tests/test_schema_docs.py).
# Only the server (a few MB), not the screenshot tools of tools/editor/package.json. Best effort: if npm or
# its registry is not there, the test skips and says why; CI itself never fails here.
if command -v npm >/dev/null 2>&1 && [ ! -d tools/editor/node_modules/yaml-language-server ]; then
  _lsp_tmp="$(mktemp -d)"
  if (cd "$_lsp_tmp" && npm init -y >/dev/null 2>&1 \
      && timeout 240 npm install --no-audit --no-fund --loglevel=error yaml-language-server@1.25.0 >/dev/null 2>&1); then
    mkdir -p tools/editor/node_modules && cp -r "$_lsp_tmp/node_modules/." tools/editor/node_modules/
    echo "start-editor: yaml-language-server $(node -p 'require("./tools/editor/node_modules/yaml-language-server/package.json").version' 2>/dev/null) installed"
  else
    echo "start-editor: could not install yaml-language-server; the live editor check will skip"
  fi
  rm -rf "$_lsp_tmp"
  unset _lsp_tmp
fi
true

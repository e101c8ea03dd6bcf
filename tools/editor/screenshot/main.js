// Monaco editor + monaco-yaml (the yaml-language-server compiled for the browser), showing
// policies/pinggu_2020.yaml as an officer's editor would. No schema is configured here: the
// file's own first line `# yaml-language-server: $schema=../schemas/policy.schema.json`
// binds it. The model is file:///policies/pinggu_2020.yaml (the repository as the workspace
// root, as in VS Code); yaml.worker.js serves file:/// reads from this page's server.
import 'monaco-editor/esm/vs/editor/editor.all.js'
import * as monaco from 'monaco-editor/esm/vs/editor/editor.api.js'
import 'monaco-editor/esm/vs/basic-languages/yaml/yaml.contribution.js'
import { configureMonacoYaml } from 'monaco-yaml'

globalThis.MonacoEnvironment = {
  getWorker(moduleId, label) {
    if (label === 'yaml') return new Worker('/build/yaml.worker.js')
    return new Worker('/build/editor.worker.js')
  }
}

configureMonacoYaml(monaco, { enableSchemaRequest: true, hover: true, completion: true, validate: true, format: false })

async function open (path) {
  const text = await (await fetch(path)).text()
  const model = monaco.editor.createModel(text, 'yaml', monaco.Uri.parse('file://' + path))
  const editor = monaco.editor.create(document.getElementById('editor'), {
    model,
    theme: 'vs',
    fontSize: 14,
    lineHeight: 20,
    minimap: { enabled: false },
    stickyScroll: { enabled: false },
    automaticLayout: true,
    scrollBeyondLastLine: false,
    hover: { enabled: true, delay: 100 },
    suggest: { showStatusBar: false, preview: false },
    fixedOverflowWidgets: true
  })
  globalThis.editor = editor
  globalThis.monaco = monaco
  return editor
}

globalThis.ready = open(new URLSearchParams(location.search).get('file') || '/policies/pinggu_2020.yaml')

// Screenshots of a real editor completing and documenting a policy file.
//
// Bundles Monaco + monaco-yaml (build.mjs), serves the bundle, policies/ and schemas/ on
// 127.0.0.1, opens policies/pinggu_2020.yaml in headless Chromium (playwright-core), and
//   1. types a new rule `- id: new-rule` and asks for completion on its next line, with the
//      details pane open  -> docs/images/editor-completion.png
//   2. hovers the `max:` key of a cap                               -> docs/images/editor-hover.png
// Usage (repository root):  node tools/editor/screenshot/make_screenshot.mjs
// Chromium: $CHROMIUM, else /usr/bin/chromium (see .ci/start-chromium.sh).
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { bundle } from './build.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..', '..')
const outDir = path.join(root, 'docs', 'images')
const builtDir = await bundle()

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.yaml': 'text/yaml; charset=utf-8', '.ttf': 'font/ttf' }
const ROUTES = [['/build/', builtDir], ['/policies/', path.join(root, 'policies')], ['/schemas/', path.join(root, 'schemas')]]

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x')
  let file = url.pathname === '/' ? path.join(here, 'index.html') : null
  for (const [prefix, dir] of ROUTES) {
    if (url.pathname.startsWith(prefix)) {
      const candidate = path.resolve(dir, decodeURIComponent(url.pathname.slice(prefix.length)))
      if (candidate.startsWith(dir + path.sep)) file = candidate
    }
  }
  if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404).end('not found')
    return
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' })
  fs.createReadStream(file).pipe(res)
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${server.address().port}`

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']
})
const failures = []
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 })
  page.on('pageerror', (e) => console.error('page error:', e.message))
  await page.goto(base + '/')
  await page.evaluate(() => globalThis.ready)

  // Wait until the YAML worker has the schema: a misspelt key in a scratch copy gets a marker.
  const bound = await page.evaluate(async () => {
    const { monaco } = globalThis
    const text = globalThis.editor.getModel().getValue().replace('\n    caps:\n', '\n    capps:\n')
    const scratch = monaco.editor.createModel(text, 'yaml', monaco.Uri.parse('file:///policies/scratch.yaml'))
    for (let i = 0; i < 100; i++) {
      const markers = monaco.editor.getModelMarkers({ resource: scratch.uri })
      if (markers.length) { scratch.dispose(); return markers.map((m) => `${m.startLineNumber}: ${m.message}`) }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    scratch.dispose()
    return []
  })
  console.log('markers on a copy with `capps:` ->', bound)
  if (!bound.some((m) => m.includes('capps'))) failures.push('the schema was not bound: no marker for capps')

  // 1. Completion on the empty line of a new rule, details pane open.
  const line = await page.evaluate(() => {
    const { editor } = globalThis
    const model = editor.getModel()
    const at = model.getLinesContent().findIndex((l) => l.startsWith('  - id: patent-insurance')) + 1
    editor.executeEdits('screenshot', [{ range: { startLineNumber: at, startColumn: 1, endLineNumber: at, endColumn: 1 }, text: '  - id: new-rule\n    \n\n' }])
    editor.setPosition({ lineNumber: at + 1, column: 5 })
    editor.revealLineInCenter(at + 1)
    editor.focus()
    return at + 1
  })
  await page.evaluate(() => globalThis.editor.trigger('screenshot', 'editor.action.triggerSuggest', {}))
  await page.waitForSelector('.suggest-widget.visible .monaco-list-row', { timeout: 15000 }).catch(async (e) => {
    await page.screenshot({ path: path.join(builtDir, 'debug.png') })
    throw e
  })
  await page.waitForTimeout(300)
  await page.evaluate(() => globalThis.editor.trigger('screenshot', 'toggleSuggestionDetails', {}))
  await page.waitForTimeout(300)
  await page.keyboard.press('ArrowDown') // amount
  await page.keyboard.press('ArrowDown') // caps: the details pane shows its title and description
  await page.waitForTimeout(800)
  const labels = await page.$$eval('.suggest-widget .monaco-list-row .label-name', (els) => els.map((e) => e.textContent))
  const details = await page.$eval('.suggest-details', (e) => e.textContent).catch(() => '')
  console.log(`completion at line ${line}:`, labels.join(', '))
  console.log('details pane:', details.replace(/\s+/g, ' ').trim())
  if (!labels.includes('cites')) failures.push('no `cites` in the completion list')
  await page.screenshot({ path: path.join(outDir, 'editor-completion.png') })

  // 2. Hover on `max:` of the pledge cap (after undoing the edit).
  await page.keyboard.press('Escape')
  await page.evaluate(() => {
    const { editor } = globalThis
    editor.getModel().setValue(editor.getModel().getValue().replace('  - id: new-rule\n    \n\n', ''))
  })
  const target = await page.evaluate(() => {
    const { editor } = globalThis
    const lines = editor.getModel().getLinesContent()
    const rule = lines.findIndex((l) => l.startsWith('  - id: pledge-loan-interest'))
    const at = lines.findIndex((l, i) => i > rule && /^\s+max:/.test(l)) + 1
    editor.revealLineInCenter(at)
    editor.setPosition({ lineNumber: at, column: lines[at - 1].indexOf('max') + 2 })
    editor.focus()
    editor.trigger('screenshot', 'editor.action.showHover', {})
    return { at }
  })
  await page.waitForFunction(() => [...document.querySelectorAll('.monaco-hover')].some((e) => e.textContent.includes('最高金额')), null, { timeout: 15000 })
  await page.waitForTimeout(500)
  const hover = await page.evaluate(() => [...document.querySelectorAll('.monaco-hover')].map((e) => e.textContent).join(' '))
  console.log(`hover on max (line ${target.at}):`, hover.replace(/\s+/g, ' ').trim())
  if (!/最高金额/.test(hover)) failures.push('the hover does not show the cap maximum title')
  await page.screenshot({ path: path.join(outDir, 'editor-hover.png') })
} finally {
  await browser.close()
  server.close()
}
if (failures.length) {
  console.error('FAILED:\n  ' + failures.join('\n  '))
  process.exit(1)
}
console.log(`wrote ${path.join(outDir, 'editor-completion.png')} and editor-hover.png`)

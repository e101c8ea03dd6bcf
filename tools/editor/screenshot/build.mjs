// Bundles main.js and the two web workers with esbuild into tools/editor/build/.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
const editorDir = path.dirname(here)
const outdir = path.join(editorDir, 'build')

export async function bundle () {
  const common = { bundle: true, outdir, logLevel: 'warning', absWorkingDir: editorDir, minify: true, define: { 'process.env.NODE_ENV': '"production"' } }
  await build({ ...common, entryPoints: { main: path.join(here, 'main.js') }, format: 'iife', loader: { '.ttf': 'file' } })
  await build({
    ...common,
    entryPoints: {
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'yaml.worker': path.join(here, 'yaml.worker.js')
    },
    format: 'iife'
  })
  return outdir
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle()
  console.log(`built into ${outdir}`)
}

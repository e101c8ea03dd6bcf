// The monaco-yaml worker, with one shim: the modeline `$schema=../schemas/policy.schema.json`
// is resolved by yaml-language-server's own code against the model's file:///policies/...
// URI (as in VS Code), giving file:///schemas/policy.schema.json; a browser cannot read
// file: URLs, so this worker reads file:///X from the page's server at /X instead.
import 'monaco-yaml/yaml.worker.js'

const realFetch = globalThis.fetch.bind(globalThis)
globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input.url
  if (url.startsWith('file:///')) return realFetch(self.location.origin + '/' + url.slice('file:///'.length), init)
  return realFetch(input, init)
}

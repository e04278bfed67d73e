import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The Shoal package root, found from this file whether it runs from src/ (tsx) or dist/src/. */
export function packageRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'shoal') return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the shoal package root')
    dir = parent
  }
}

/** The `shoal` executable script; run it with `process.execPath`. */
export function shoalBin (): string {
  return join(packageRoot(), 'bin', 'shoal.js')
}

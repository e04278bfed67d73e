import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The version `/version` reports: the Shoal package's, read from its package.json. */
export const CPU_RUNNER_VERSION: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'shoal' && typeof pkg.version === 'string') return `shoal-cpu-runner/${pkg.version}`
    } catch {}
    dir = dirname(dir)
  }
  return 'shoal-cpu-runner/unknown'
})()

import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** How to start `shoal runner`: an executable and its arguments (the runner reads the rest from env). */
export interface RunnerCommand {
  execPath: string
  args: string[]
}

/**
 * `node bin/shoal.js runner` when running compiled (`dist/`); from TypeScript sources
 * (tests, dev), `node --import tsx src/cli/run.ts runner`, which needs no build.
 */
export function defaultRunnerCommand (): RunnerCommand {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) {
    const root = resolve(dirname(here), '../../..')
    return {
      execPath: process.execPath,
      args: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, '--import', pathToFileURL(join(root, 'src/p2p/polyfill.ts')).href, join(root, 'src/cli/run.ts'), 'runner']
    }
  }
  const root = resolve(dirname(here), '../../../..')
  return { execPath: process.execPath, args: [join(root, 'bin/shoal.js'), 'runner'] }
}

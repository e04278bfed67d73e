/**
 * Where the CPU runner finds what is not part of the default install: the optional
 * npm packages of `extras/` (installed by `npm run install:extras`, i.e.
 * `npm ci --prefix extras`) and system binaries (`espeak-ng`, `ffmpeg`). Models that
 * need one that is missing are refused at startup with the command that installs it.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The command that installs the optional npm packages (the root `npm ci` runs it too). */
export const INSTALL_EXTRAS_HINT = 'run `npm run install:extras` in the shoal package (the root `npm ci` does, unless SHOAL_SKIP_EXTRAS=1)'

/** The Debian command that installs a system binary. */
export function aptInstallHint (pkg: string): string {
  return `install it with \`apt-get install -y ${pkg}\``
}

let cachedExtrasDir: string | null = null

/**
 * The extras package's folder: `SHOAL_EXTRAS_DIR`, else `extras/` in the shoal package
 * root (found by walking up from this file, from src/ under tsx or dist/src/ built).
 */
export function extrasDir (env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.SHOAL_EXTRAS_DIR
  if (configured !== undefined && configured !== '') return configured
  if (cachedExtrasDir !== null) return cachedExtrasDir
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'shoal') break
    const parent = dirname(dir)
    if (parent === dir) { dir = process.cwd(); break }
    dir = parent
  }
  cachedExtrasDir = join(dir, 'extras')
  return cachedExtrasDir
}

/** The folder of an installed extras package, or null when it is not installed there. */
export function extraPackageDir (name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = join(extrasDir(env), 'node_modules', ...name.split('/'))
  return existsSync(join(dir, 'package.json')) ? dir : null
}

/** The extras packages (of `names`) that are not installed. */
export function missingExtras (names: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return names.filter((name) => extraPackageDir(name, env) === null)
}

/** `require` as seen from the extras package (CommonJS packages, or to resolve entry points). */
export function extrasRequire (env: NodeJS.ProcessEnv = process.env): NodeJS.Require {
  return createRequire(join(extrasDir(env), 'package.json'))
}

/** Imports an extras package (ESM or CommonJS) by name, resolved from the extras folder only. */
export async function importExtra<T> (name: string, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  if (extraPackageDir(name, env) === null) throw new Error(`the optional package ${name} is not installed: ${INSTALL_EXTRAS_HINT}`)
  const entry = extrasRequire(env).resolve(name)
  return await import(pathToFileURL(entry).href) as T
}

/**
 * The absolute path of an executable: `name` itself when it is a path, else the first
 * match on PATH. Null when none is found.
 */
export function findBinary (name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const executable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK)
      return true
    } catch {
      return false
    }
  }
  if (isAbsolute(name) || name.includes('/')) return executable(name) ? name : null
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, name)
    if (executable(candidate)) return candidate
  }
  return null
}

/**
 * Programs the extras package ships, for machines without the Debian package: a static
 * ffmpeg (`@ffmpeg-installer/linux-x64`, with libx264) and eSpeak NG's WASM build behind
 * `extras/bin/espeak-ng.mjs`, which takes the same arguments as the binary.
 */
const BUNDLED_PROGRAMS: Record<string, { pkg: string, path: (pkgDir: string, env: NodeJS.ProcessEnv) => string }> = {
  ffmpeg: { pkg: '@ffmpeg-installer/linux-x64', path: (pkgDir) => join(pkgDir, 'ffmpeg') },
  'espeak-ng': { pkg: 'espeak-ng', path: (_pkgDir, env) => join(extrasDir(env), 'bin', 'espeak-ng.mjs') }
}

/**
 * A program the runner spawns: the system's (Debian's package, on PATH) first, else the
 * one the extras package ships. Null when neither is installed.
 */
export function findProgram (name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const system = findBinary(name, env)
  if (system !== null) return system
  const bundled = BUNDLED_PROGRAMS[name]
  if (bundled === undefined) return null
  const pkgDir = extraPackageDir(bundled.pkg, env)
  return pkgDir === null ? null : findBinary(bundled.path(pkgDir, env), env)
}

/** What to do when `findProgram(name)` finds nothing: either install works. */
export function programMissingHint (name: string, debianPackage: string): string {
  return `${name} is not installed: ${INSTALL_EXTRAS_HINT} (it ships one), or ${aptInstallHint(debianPackage)}`
}

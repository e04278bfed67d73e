import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { packageRoot } from '../../src/testnet/package-root.js'

const run = promisify(execFile)

/**
 * scripts/install-extras.js, the root package's postinstall: the README's `npm ci` brings
 * the optional pipelines' models in through it. Here on a copy of the script and of
 * extras/'s manifests, so nothing real is reinstalled.
 */
describe('scripts/install-extras.js: the optional models come with the root npm ci', function () {
  this.timeout(60_000)
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'shoal-install-extras-'))
    await mkdir(join(root, 'scripts'))
    await cp(join(packageRoot(), 'scripts', 'install-extras.js'), join(root, 'scripts', 'install-extras.js'))
    await mkdir(join(root, 'extras'))
    await writeFile(join(root, 'package.json'), '{"type":"module"}')
    await cp(join(packageRoot(), 'extras', 'package-lock.json'), join(root, 'extras', 'package-lock.json'))
  })
  afterEach(async () => { await rm(root, { recursive: true, force: true }) })

  it('is the postinstall of the root package', async () => {
    const manifest = JSON.parse(await (await import('node:fs/promises')).readFile(join(packageRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(manifest.scripts.postinstall).to.contain('node scripts/install-extras.js')
  })

  it('SHOAL_SKIP_EXTRAS=1 skips it, saying what that leaves out', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'scripts', 'install-extras.js')], { env: { ...process.env, SHOAL_SKIP_EXTRAS: '1' } })
    expect(stdout).to.equal('shoal extras: skipped (SHOAL_SKIP_EXTRAS=1): only upscale runs on CPU; `npm run install:extras` adds the others\n')
  })

  it('an install matching the lock file is not redone; a changed lock file is, with progress lines, and a failure does not fail npm ci', async () => {
    // a stamp with the lock's hash: up to date
    const { createHash } = await import('node:crypto')
    const { readFile } = await import('node:fs/promises')
    const hash = createHash('sha256').update(await readFile(join(root, 'extras', 'package-lock.json'))).digest('hex')
    await mkdir(join(root, 'extras', 'node_modules'))
    await writeFile(join(root, 'extras', 'node_modules', '.shoal-extras-stamp'), `${hash}\n`)
    const env = { ...process.env, SHOAL_SKIP_EXTRAS: '' }
    const upToDate = await run(process.execPath, [join(root, 'scripts', 'install-extras.js')], { env })
    expect(upToDate.stdout).to.equal('shoal extras: up to date (extras/node_modules)\n')
    // a stale stamp: it installs; with a manifest npm refuses (no package.json), it fails fast and says so, exit 0
    await writeFile(join(root, 'extras', 'node_modules', '.shoal-extras-stamp'), 'stale\n')
    const failed = await run(process.execPath, [join(root, 'scripts', 'install-extras.js')], { env })
    expect(failed.stdout).to.match(/^shoal extras: installing the CPU models of the optional pipelines into extras\//)
    expect(failed.stdout).to.match(/shoal extras: the install failed \(npm exited with \d+ after \d+ s\): upscale still works;\n/)
  })
})

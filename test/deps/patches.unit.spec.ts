import { expect } from 'chai'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createShoalNode } from '../../src/p2p/node.js'

/**
 * patches/ changes compiled code of dependencies (patches/README.md says why). Nothing
 * else notices when one stops applying (a version bump, an install without the
 * postinstall script): the code runs unpatched and only bench/overhead gets worse.
 * This reads every patch and checks that each line it adds is in the file Node loads.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const patchesDir = join(root, 'patches')

/** The directory of the installed package `name`, looked up as Node does: node_modules here, then in each parent (hoisted). */
function packageDir (name: string): string {
  for (let dir = root; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) throw new Error(`${name} is not installed`)
  }
}

interface FilePatch { path: string, added: string[] }

/** The files a patch-package patch changes (`node_modules/<pkg>/...`) and the lines it adds. */
function parsePatch (text: string): FilePatch[] {
  const files: FilePatch[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('+++ b/')) files.push({ path: line.slice('+++ b/'.length), added: [] })
    else if (line.startsWith('+') && !line.startsWith('+++') && line.slice(1).trim() !== '') files.at(-1)?.added.push(line.slice(1).trim())
  }
  return files
}

/** Where Node finds `node_modules/<pkg>/<rest>` from this package. */
function installedPath (patchPath: string): string {
  const inside = patchPath.replace(/^node_modules\//, '')
  const parts = inside.split('/')
  const pkg = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  const rest = parts.slice(pkg.split('/').length).join('/')
  return join(packageDir(pkg), rest)
}

describe('patches: dependency patches are applied', () => {
  const patches = readdirSync(patchesDir).filter(name => name.endsWith('.patch'))

  it('ships the patches it documents', () => {
    expect(patches).to.have.members(['@chainsafe+libp2p-yamux+8.0.1.patch', '@libp2p+tcp+11.0.28.patch', 'libp2p+3.3.11.patch'])
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[], scripts: Record<string, string> }
    expect(pkg.files, 'package.json files: patches must ship with the package').to.include('patches')
    expect(pkg.scripts.postinstall).to.match(/^node scripts\/postinstall\.js( &&|$)/)
    expect(pkg.files).to.include('scripts/postinstall.js')
  })

  for (const name of readdirSync(patchesDir).filter(n => n.endsWith('.patch'))) {
    it(`${name}: every added line is in the installed file`, () => {
      const [pkgName, version] = name.replace(/\.patch$/, '').replace(/^@/, '@').split('+').reduce<string[]>((acc, part, i, all) => {
        // "@scope+name+version" or "name+version"
        if (i === all.length - 1) return [acc.join('/'), part]
        return [...acc, part]
      }, [])
      const installed = JSON.parse(readFileSync(join(packageDir(pkgName), 'package.json'), 'utf8')) as { version: string }
      expect(installed.version, `${pkgName} version the patch was made for`).to.equal(version)
      const files = parsePatch(readFileSync(join(patchesDir, name), 'utf8'))
      expect(files).to.not.have.length(0)
      for (const file of files) {
        const code = readFileSync(installedPath(file.path), 'utf8')
        const lines = new Set(code.split('\n').map(l => l.trim()))
        for (const line of file.added) expect(lines.has(line), `${file.path} lacks the patched line: ${line}`).to.equal(true)
      }
    })
  }

  it('the TCP patch corks the socket around a multi-part write (one writev)', async () => {
    // the class is not exported: check the code Node loaded, not a copy of it
    const file = installedPath('node_modules/@libp2p/tcp/dist/src/socket-to-conn.js')
    const code = readFileSync(file, 'utf8')
    const sendData = code.slice(code.indexOf('sendData(data) {'), code.indexOf('return {', code.indexOf('sendData(data) {')))
    expect(sendData.indexOf('this.socket.cork()')).to.be.greaterThan(-1)
    expect(sendData.indexOf('this.socket.cork()')).to.be.lessThan(sendData.indexOf('for (const buf of data)'))
    expect(sendData.indexOf('this.socket.uncork()')).to.be.greaterThan(sendData.indexOf('for (const buf of data)'))
  })

  it('the libp2p patch records a stream protocol in the peer store once per connection, not per stream', async () => {
    const local = await createShoalNode({ role: 'gateway', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/patch-${process.pid}-l`] })
    const remote = await createShoalNode({ role: 'orchestrator', privateKey: await generateKeyPair('Ed25519'), listen: [`/memory/patch-${process.pid}-r`] })
    try {
      await Promise.all([local.start(), remote.start()])
      const protocol = '/shoal/test-record/1.0.0'
      await remote.handle(protocol, (stream) => { void stream.close() })
      const conn = await local.dial(remote.getMultiaddrs()[0])
      const recorded: string[] = []
      for (const node of [local, remote]) {
        const merge = node.peerStore.merge.bind(node.peerStore)
        node.peerStore.merge = async (peer, data, options) => {
          for (const p of data.protocols ?? []) if (p === protocol) recorded.push(node === local ? 'outbound' : 'inbound')
          return await merge(peer, data, options)
        }
      }
      for (let i = 0; i < 5; i++) {
        const stream = await conn.newStream(protocol)
        await stream.close()
      }
      // once on each side for the first stream; nothing for the next four
      expect(recorded.sort()).to.deep.equal(['inbound', 'outbound'])
    } finally {
      await Promise.all([local.stop(), remote.stop()])
    }
  })
})

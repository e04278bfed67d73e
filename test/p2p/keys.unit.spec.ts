import { expect } from 'chai'
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keyPaths, loadNodeKeys, loadOrCreateNodeKeys } from '../../src/p2p/keys.js'

describe('p2p/keys', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'shoal-keys-')) })

  it('creates both keys with mode 0600 and reuses them on every load', async () => {
    const first = await loadOrCreateNodeKeys(dir)
    expect(first.created).to.have.length(2)
    const paths = keyPaths(dir)
    expect((await stat(paths.libp2p)).mode & 0o777).to.equal(0o600)
    expect((await stat(paths.ethereum)).mode & 0o777).to.equal(0o600)
    const second = await loadOrCreateNodeKeys(dir)
    expect(second.created).to.have.length(0)
    expect(second.peerId.toString()).to.equal(first.peerId.toString())
    expect(second.ethereum.address).to.equal(first.ethereum.address)
    expect(first.peerId.type).to.equal('Ed25519')
  })

  it('refuses to load missing keys with KEY_ERROR_MISSING', async () => {
    const err = await loadNodeKeys(dir).catch(e => e)
    expect(err).to.have.property('name', 'KeyFileError')
    expect(err).to.have.property('code', 'KEY_ERROR_MISSING')
  })

  it('refuses a world- or group-readable key file', async () => {
    await loadOrCreateNodeKeys(dir)
    await chmod(keyPaths(dir).libp2p, 0o644)
    const err = await loadNodeKeys(dir).catch(e => e)
    expect(err).to.have.property('code', 'KEY_ERROR_INSECURE_PERMISSIONS')
    expect(err.message).to.contain('chmod 600')
  })

  it('refuses a corrupt libp2p key and a corrupt Ethereum key', async () => {
    await loadOrCreateNodeKeys(dir)
    const paths = keyPaths(dir)
    const original = await readFile(paths.libp2p)
    await writeFile(paths.libp2p, Buffer.from('not protobuf at all'))
    expect(await loadNodeKeys(dir).catch(e => e)).to.have.property('code', 'KEY_ERROR_CORRUPT')
    await writeFile(paths.libp2p, original)
    await writeFile(paths.ethereum, '0x1234\n')
    expect(await loadNodeKeys(dir).catch(e => e)).to.have.property('code', 'KEY_ERROR_CORRUPT')
  })

  it('refuses an unreadable key path', async () => {
    await loadOrCreateNodeKeys(dir)
    const paths = keyPaths(dir)
    // a directory where the file should be cannot be read as a key
    const other = await mkdtemp(join(tmpdir(), 'shoal-keys-'))
    await loadOrCreateNodeKeys(other)
    await chmod(keyPaths(other).dir, 0o700)
    const { rm, mkdir } = await import('node:fs/promises')
    await rm(paths.ethereum)
    await mkdir(paths.ethereum, { mode: 0o700 })
    expect(await loadNodeKeys(dir).catch(e => e)).to.have.property('code', 'KEY_ERROR_UNREADABLE')
  })
})

import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { getAddress } from 'ethers'
import { addressFromPrivateKey, generateEthereumPrivateKey, isEthereumPrivateKey } from '../identity/ethereum.js'
import { KeyFileError } from './errors.js'

/** Where a node keeps its keys, relative to its data dir. */
export const KEYS_DIR = 'keys'
export const LIBP2P_KEY_FILE = 'libp2p.key'
export const ETHEREUM_KEY_FILE = 'ethereum.key'

/** Group and other permission bits: a key file with any of them set is refused, like ssh does. */
const INSECURE_MODE_BITS = 0o077

export interface NodeKeys {
  /** Ed25519 libp2p identity; the peer id never changes across restarts */
  libp2p: PrivateKey
  peerId: PeerId
  ethereum: {
    /** 0x-prefixed 32-byte secp256k1 private key */
    privateKey: string
    /** checksummed address */
    address: string
  }
}

export function keyPaths (dataDir: string): { dir: string, libp2p: string, ethereum: string } {
  const dir = join(dataDir, KEYS_DIR)
  return { dir, libp2p: join(dir, LIBP2P_KEY_FILE), ethereum: join(dir, ETHEREUM_KEY_FILE) }
}

async function readSecureFile (path: string): Promise<Buffer | undefined> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new KeyFileError('KEY_ERROR_UNREADABLE', `cannot read key file ${path}: ${(err as Error).message}`, { path })
  }
  if (!info.isFile()) {
    throw new KeyFileError('KEY_ERROR_UNREADABLE', `key file ${path} is not a regular file`, { path })
  }
  if ((info.mode & INSECURE_MODE_BITS) !== 0) {
    throw new KeyFileError('KEY_ERROR_INSECURE_PERMISSIONS',
      `key file ${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${path}\` if it is yours, or replace it`,
      { path, mode: info.mode & 0o777 })
  }
  try {
    return await readFile(path)
  } catch (err) {
    throw new KeyFileError('KEY_ERROR_UNREADABLE', `cannot read key file ${path}: ${(err as Error).message}`, { path })
  }
}

/** Writes a new file with mode 0600, failing if it already exists (never overwrites a key). */
async function writeNewSecureFile (path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'wx', 0o600)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  // the umask may have narrowed the mode further, never widened it; make it exact
  await chmod(path, 0o600)
}

function decodeLibp2pKey (path: string, bytes: Uint8Array): PrivateKey {
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileError('KEY_ERROR_CORRUPT', `libp2p key file ${path} is corrupt: ${(err as Error).message}`, { path })
  }
  if (key.type !== 'Ed25519') {
    throw new KeyFileError('KEY_ERROR_CORRUPT', `libp2p key file ${path} holds a ${key.type} key; Shoal uses Ed25519`, { path })
  }
  return key
}

function decodeEthereumKey (path: string, text: string): NodeKeys['ethereum'] {
  const hex = text.trim()
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new KeyFileError('KEY_ERROR_CORRUPT', `Ethereum key file ${path} is corrupt: expected 0x followed by 64 hex digits`, { path })
  }
  if (!isEthereumPrivateKey(hex)) {
    throw new KeyFileError('KEY_ERROR_CORRUPT', `Ethereum key file ${path} is not a valid secp256k1 key (zero or not below the group order)`, { path })
  }
  return { privateKey: hex.toLowerCase(), address: getAddress(addressFromPrivateKey(hex)) }
}

async function assemble (libp2p: PrivateKey, ethereum: NodeKeys['ethereum']): Promise<NodeKeys> {
  return { libp2p, peerId: peerIdFromPrivateKey(libp2p), ethereum }
}

/**
 * Loads the node's keys. Throws `KeyFileError` with code `KEY_ERROR_MISSING` when they
 * have not been created (`shoal keys init`), and refuses unreadable, corrupt or
 * group/world-readable files.
 */
export async function loadNodeKeys (dataDir: string): Promise<NodeKeys> {
  const paths = keyPaths(dataDir)
  const [libp2pBytes, ethereumBytes] = [await readSecureFile(paths.libp2p), await readSecureFile(paths.ethereum)]
  if (libp2pBytes === undefined || ethereumBytes === undefined) {
    const missing = libp2pBytes === undefined ? paths.libp2p : paths.ethereum
    throw new KeyFileError('KEY_ERROR_MISSING', `no key at ${missing}; run \`shoal keys init --data-dir ${dataDir}\``, { path: missing })
  }
  return await assemble(decodeLibp2pKey(paths.libp2p, libp2pBytes), decodeEthereumKey(paths.ethereum, ethereumBytes.toString('utf8')))
}

/**
 * Creates whichever keys are missing (0600 files in `<dataDir>/keys`, dir 0700) and
 * loads them. Existing keys are reused as they are, so the peer id is stable.
 */
export async function loadOrCreateNodeKeys (dataDir: string): Promise<NodeKeys & { created: string[] }> {
  const paths = keyPaths(dataDir)
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
  const created: string[] = []
  if (await readSecureFile(paths.libp2p) === undefined) {
    const key = await generateKeyPair('Ed25519')
    await writeNewSecureFile(paths.libp2p, privateKeyToProtobuf(key))
    created.push(paths.libp2p)
  }
  if (await readSecureFile(paths.ethereum) === undefined) {
    await writeNewSecureFile(paths.ethereum, `${generateEthereumPrivateKey()}\n`)
    created.push(paths.ethereum)
  }
  return { ...(await loadNodeKeys(dataDir)), created }
}

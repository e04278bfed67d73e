import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

/** A bare libp2p node on 127.0.0.1 (TCP, noise, yamux): all the worker protocol needs. */
export async function createNode (options: { privateKey?: PrivateKey, listen?: string } = {}): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: options.privateKey ?? await generateKeyPair('Ed25519'),
    addresses: { listen: [options.listen ?? '/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

/** The node's first TCP address with its /p2p/ id, as a worker is told to dial it. */
export function dialAddress (node: Libp2p): string {
  const address = node.getMultiaddrs().find(a => a.toString().includes('/tcp/'))
  if (address === undefined) throw new Error('node has no TCP address')
  const text = address.toString()
  return text.includes('/p2p/') ? text : `${text}/p2p/${node.peerId.toString()}`
}

export async function until (what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

export async function readAll (body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of body) parts.push(part)
  return Buffer.concat(parts)
}

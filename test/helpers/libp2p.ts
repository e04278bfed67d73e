import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

/** A bare libp2p node on 127.0.0.1 (TCP, noise, yamux): all a protocol test needs. */
export async function createNode (options: { privateKey?: PrivateKey, listen?: string } = {}): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: options.privateKey ?? await generateKeyPair('Ed25519'),
    addresses: { listen: [options.listen ?? '/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

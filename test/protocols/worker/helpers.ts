import type { Libp2p } from '@libp2p/interface'
import { waitFor } from '../../helpers/wait-for.js'

/** The node's first TCP address with its /p2p/ id, as a worker is told to dial it. */
export function dialAddress (node: Libp2p): string {
  const address = node.getMultiaddrs().find(a => a.toString().includes('/tcp/'))
  if (address === undefined) throw new Error('node has no TCP address')
  const text = address.toString()
  return text.includes('/p2p/') ? text : `${text}/p2p/${node.peerId.toString()}`
}

export { createNode } from '../../helpers/libp2p.js'
export { readAll } from '../../helpers/streams.js'

export async function until (what: string, check: () => boolean, ms = 5_000): Promise<void> { await waitFor(check, ms, what, 10) }

import { keccak_256 } from '@noble/hashes/sha3.js'
import { getAddress, getBytes, hexlify } from 'ethers'
import { createSignatureVerifier, createTicketSigner } from './ethereum.js'

/**
 * The binding between a node's two keys: its Ethereum key signs its libp2p peer id, so a
 * peer that sees an announcement (signed by the libp2p key) knows which Ethereum address
 * pays or is paid for that peer.
 */
export interface EthBinding {
  /** checksummed address */
  ethAddress: string
  /** 65-byte EIP-191 signature by the Ethereum key over `bindingMessage(peerId, ethAddress)`, 0x-hex */
  ethBinding: string
}

const encoder = new TextEncoder()

/** The message the Ethereum key signs, binding it to the libp2p peer id. */
export function bindingMessage (peerId: string, ethAddress: string): string {
  return `Shoal: bind Ethereum address ${ethAddress.toLowerCase()} to libp2p peer ${peerId}`
}

/** What is signed: keccak256 of the binding message, with the EIP-191 prefix (ethers' `signMessage(getBytes(hash))`). */
function bindingHash (peerId: string, ethAddress: string): Uint8Array {
  return keccak_256(encoder.encode(bindingMessage(peerId, ethAddress)))
}

// libsecp256k1 (WASM): verifying a binding is on the hot path of every first announcement
const bindingVerifier = createSignatureVerifier()

export async function createEthBinding (peerId: string, ethPrivateKey: string): Promise<EthBinding> {
  const signer = createTicketSigner(ethPrivateKey)
  const ethAddress = getAddress(signer.address)
  return { ethAddress, ethBinding: hexlify(signer.sign(bindingHash(peerId, ethAddress))) }
}

export function verifyEthBinding (peerId: string, ethAddress: string, ethBinding: string): boolean {
  try {
    return bindingVerifier.verify(ethAddress.toLowerCase(), bindingHash(peerId, ethAddress), getBytes(ethBinding))
  } catch {
    return false
  }
}

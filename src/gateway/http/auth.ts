import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Checks `Authorization: Bearer <key>` against the configured keys in constant time
 * (keys are compared as SHA-256 digests, so their lengths do not leak either).
 */
export function createApiKeyCheck (keys: string[]): (authorization: string | undefined) => boolean {
  const digests = keys.filter(k => k !== '').map(k => createHash('sha256').update(k).digest())
  return (authorization) => {
    if (authorization === undefined) return false
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match?.[1] === undefined) return false
    const given = createHash('sha256').update(match[1]).digest()
    let ok = false
    for (const d of digests) ok = timingSafeEqual(d, given) || ok
    return ok
  }
}

/**
 * One line naming why a command failed, from whatever it threw: the cause a user can act
 * on (a port in use, a file that cannot be read) rather than a stack trace.
 */
export function describeStartupError (err: unknown): string {
  const e = err as { code?: unknown, message?: unknown, address?: unknown, port?: unknown, syscall?: unknown, path?: unknown, cause?: unknown }
  if (e === null || typeof e !== 'object') return String(err)
  const message = typeof e.message === 'string' ? e.message : String(err)
  if (e.code === 'EADDRINUSE' || /EADDRINUSE/.test(message)) {
    const where = typeof e.port === 'number' ? `${typeof e.address === 'string' ? e.address : ''}:${e.port}` : (/(\d+\.\d+\.\d+\.\d+:\d+|:::\d+)/.exec(message)?.[1] ?? 'a port')
    // libp2p wraps the listen error of a --listen address in a message of its own
    const flag = /failed to be listened on/.test(message) ? ' in --listen' : ''
    return `${where} is already in use (another shoal node or testnet?): stop it or choose another port${flag}`
  }
  if (e.code === 'EACCES' && e.syscall === 'listen') return `no permission to listen on ${String(e.address ?? '')}:${String(e.port ?? '')}: choose a port above 1023`
  if ((e.code === 'ENOENT' || e.code === 'EACCES') && typeof e.path === 'string') return `cannot read ${e.path}: ${message}`
  // an error that wraps the real one names both
  const cause = e.cause as { message?: unknown } | undefined
  if (cause !== undefined && cause !== null && typeof cause.message === 'string' && !message.includes(cause.message)) return `${message}: ${cause.message}`
  return message.split('\n')[0] ?? message
}

/**
 * Runs a system binary (espeak-ng, ffmpeg) for one job: input on stdin, bounded
 * output from stdout, killed at once when the job is aborted.
 */
import { spawn } from 'node:child_process'

export interface RunBinaryOptions {
  signal: AbortSignal
  /** written to the child's stdin, which is then closed */
  input?: Buffer | string
  /** most bytes read from stdout; more fails the run. @default 64 MiB */
  maxOutputBytes?: number
  /** kill the child after this long. @default 120000 */
  timeoutMs?: number
}

export interface RunBinaryResult {
  stdout: Buffer
  stderr: string
}

const STDERR_TAIL = 2048

/** The failure of a binary: its exit status and the end of its stderr. */
export class BinaryFailedError extends Error {
  constructor (readonly binary: string, readonly exitCode: number | null, readonly stderr: string) {
    super(`${binary} failed (${exitCode === null ? 'killed' : `exit code ${exitCode}`}): ${stderr.trim().slice(-500)}`)
    this.name = 'BinaryFailedError'
  }
}

export async function runBinary (file: string, args: readonly string[], options: RunBinaryOptions): Promise<RunBinaryResult> {
  const { signal, input, maxOutputBytes = 64 * 1024 * 1024, timeoutMs = 120_000 } = options
  signal.throwIfAborted()
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  return await new Promise<RunBinaryResult>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let stderr = ''
    let failure: Error | null = null
    const kill = (err: Error): void => {
      failure ??= err
      child.kill('SIGKILL')
    }
    const onAbort = (): void => { kill(signal.reason instanceof Error ? signal.reason : new Error('aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(() => { kill(new Error(`${file} ran longer than ${timeoutMs} ms`)) }, timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxOutputBytes) { kill(new Error(`${file} wrote more than ${maxOutputBytes} bytes`)); return }
      chunks.push(chunk)
    })
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL) })
    // a child that exits before reading all its input closes the pipe: not our failure
    child.stdin.on('error', () => {})
    let settled = false
    const settle = (code: number | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      if (failure !== null) reject(failure)
      else if (code !== 0) reject(new BinaryFailedError(file, code, stderr))
      else resolve({ stdout: Buffer.concat(chunks), stderr })
    }
    // could not be spawned (ENOENT, EACCES): 'close' may not follow
    child.once('error', (err) => { failure ??= err; settle(null) })
    child.once('close', (code) => { settle(code) })
    child.stdin.end(input)
  })
}

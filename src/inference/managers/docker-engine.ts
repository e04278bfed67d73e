/**
 * The Docker Engine calls the Docker runner manager makes, each one small and
 * tolerant of containers that are already gone: remove, stop, list by owner, read a
 * log tail, make sure an image is there (pulling it when allowed), pick a host port.
 */
import { createServer } from 'node:net'
import type Dockerode from 'dockerode'
import { LABEL_MANAGED } from './docker-spec.js'

/** The HTTP status of a failed Engine API call (dockerode sets `statusCode`), or null. */
export function engineStatus (err: unknown): number | null {
  const code = (err as { statusCode?: unknown } | null)?.statusCode
  return typeof code === 'number' ? code : null
}

/** `docker rm -f`: 404 (already gone) and 409 (removal already in progress) are fine. */
export async function removeContainer (docker: Dockerode, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true })
  } catch (err) {
    const status = engineStatus(err)
    if (status !== 404 && status !== 409) throw err
  }
}

/** `docker stop -t` then `docker rm -f`: SIGTERM first so the runner can finish cleanly. */
export async function stopAndRemoveContainer (docker: Dockerode, id: string, timeoutS: number): Promise<void> {
  try {
    await docker.getContainer(id).stop({ t: timeoutS })
  } catch (err) {
    // 304: not running; 404: gone; anything else: the removal below forces it
    if (engineStatus(err) === 404) return
  }
  await removeContainer(docker, id)
}

/** Ids of the containers labelled `shoal.managed=<owner>`, running or not. */
export async function listOwnedContainers (docker: Dockerode, owner: string): Promise<Array<{ id: string, name: string }>> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=${owner}`] } })
  return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, '') }))
}

/** Whether the image is present on the engine. */
export async function imagePresent (docker: Dockerode, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect()
    return true
  } catch (err) {
    if (engineStatus(err) === 404) return false
    throw err
  }
}

/** Pulls an image, resolving when the pull is complete; rejects with the registry's error. */
export async function pullImage (docker: Dockerode, image: string, signal?: AbortSignal): Promise<void> {
  const stream = await docker.pull(image, signal === undefined ? {} : { abortSignal: signal })
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
      const failed = events?.find((e) => typeof e.error === 'string')
      if (err !== null) reject(err)
      else if (failed !== undefined) reject(new Error(failed.error))
      else resolve()
    })
  })
}

/** The last lines a container wrote (stdout and stderr, demultiplexed), for error messages. */
export async function containerLogTail (docker: Dockerode, id: string, lines = 10): Promise<string> {
  try {
    const raw = await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })
    return demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).trim()
  } catch {
    return ''
  }
}

/**
 * Docker's log stream of a container without a TTY: frames of an 8-byte header
 * (stream, 0, 0, 0, big-endian length) and the payload. Anything else is returned as text.
 */
export function demuxLogs (buf: Buffer): string {
  const parts: Buffer[] = []
  let offset = 0
  while (offset + 8 <= buf.length) {
    const stream = buf[offset]
    if ((stream !== 0 && stream !== 1 && stream !== 2) || buf[offset + 1] !== 0 || buf[offset + 2] !== 0 || buf[offset + 3] !== 0) return buf.toString('utf8')
    const length = buf.readUInt32BE(offset + 4)
    parts.push(buf.subarray(offset + 8, offset + 8 + length))
    offset += 8 + length
  }
  if (offset !== buf.length) return buf.toString('utf8')
  return Buffer.concat(parts).toString('utf8')
}

/** A port free on `host` now (the kernel's pick); it may be taken before Docker binds it, so callers retry. */
export async function freePort (host: string): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => { resolve() })
  })
  const address = server.address()
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  if (address === null || typeof address === 'string') throw new Error(`no port on ${host}`)
  return address.port
}

/** A container start that failed because its host port was taken meanwhile. */
export function isPortConflict (err: unknown): boolean {
  const message = (err as Error | null)?.message ?? ''
  return /port is already allocated|address already in use/i.test(message)
}

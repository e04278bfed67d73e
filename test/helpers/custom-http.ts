import { request } from 'node:http'

/** The reference's `Livepeer` header: base64 of its JSON. */
export function livepeerHeader (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64')
}

/** A POST whose answer is read chunk by chunk, with the arrival time of each chunk and the trailers. */
export async function post (url: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, body: Buffer, arrivals: Array<{ at: number, text: string }>, trailers: Record<string, string | undefined> }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const parts: Buffer[] = []
      const arrivals: Array<{ at: number, text: string }> = []
      res.on('data', (chunk: Buffer) => { parts.push(chunk); arrivals.push({ at: Date.now(), text: chunk.toString('utf8') }) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), arrivals, trailers: res.trailers }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A POST with a declared length whose body goes out in two parts: `between` runs after the first. */
export async function postInTwo (url: string, first: Buffer, rest: Buffer, between: () => Promise<void>): Promise<{ status: number, body: Buffer }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(first.byteLength + rest.byteLength) } }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.write(first)
    between().then(() => { req.end(rest) }, (err: unknown) => { req.destroy(err as Error); reject(err) })
  })
}

const OPEN_OBJECT = 0x7b // {
const CLOSE_OBJECT = 0x7d // }
const OPEN_ARRAY = 0x5b // [
const CLOSE_ARRAY = 0x5d // ]
const QUOTE = 0x22
/** deeper results are treated as text: the stack stays small */
const MAX_DEPTH = 1_000
const BACKSLASH = 0x5c

function isSpace (b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
}

/**
 * A streaming check that a body is one JSON object or array: brackets balanced and
 * matched outside strings, nothing but whitespace around it. It does not check every
 * token inside; it guarantees that the body, written as a value inside another JSON
 * document, cannot end that value early or add keys next to it (what an orchestrator
 * could otherwise inject into `GET /jobs/<id>`), and it runs in constant memory per
 * byte whatever the size (a result spilled to disk is never parsed whole).
 */
export function createJsonScan () {
  const stack: number[] = []
  let inString = false
  let escaped = false
  let started = false
  let closed = false
  let ok = true

  return {
    push (chunk: Uint8Array): void {
      for (let i = 0; i < chunk.length && ok; i++) {
        const b = chunk[i] as number
        if (inString) {
          if (escaped) escaped = false
          else if (b === BACKSLASH) escaped = true
          else if (b === QUOTE) inString = false
          continue
        }
        if (stack.length === 0) {
          if (isSpace(b)) continue
          if (closed || (b !== OPEN_OBJECT && b !== OPEN_ARRAY)) { ok = false; break }
          started = true
          stack.push(b)
          continue
        }
        if (b === QUOTE) inString = true
        else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
          if (stack.length >= MAX_DEPTH) { ok = false; break }
          stack.push(b)
        } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
          if (stack.pop() !== (b === CLOSE_OBJECT ? OPEN_OBJECT : OPEN_ARRAY)) { ok = false; break }
          if (stack.length === 0) closed = true
        }
      }
    },
    /** true when everything pushed was one complete object or array */
    valid (): boolean {
      return ok && started && closed && stack.length === 0 && !inString
    }
  }
}

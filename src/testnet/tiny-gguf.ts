/**
 * Writes a tiny but complete llama-architecture GGUF file (format v3): a SentencePiece
 * vocabulary of byte tokens plus a few words, and one transformer block with small
 * random F32 weights. llama.cpp (node-llama-cpp) loads it and generates real tokens
 * with it; the text is gibberish, but every step of the runner's LLM path is real.
 */
import { writeFile } from 'node:fs/promises'
import { seededRandom } from '../cpu-runner/models/seeded-random.js'

const GGUF_MAGIC = 0x46554747 // "GGUF" little-endian
const GGUF_VERSION = 3
const ALIGNMENT = 32

enum ValueType { UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9 }
const GGML_TYPE_F32 = 0

type Value =
  | { type: 'u32', value: number }
  | { type: 'f32', value: number }
  | { type: 'bool', value: boolean }
  | { type: 'str', value: string }
  | { type: 'str[]', value: string[] }
  | { type: 'f32[]', value: number[] }
  | { type: 'i32[]', value: number[] }

class Writer {
  private readonly chunks: Buffer[] = []
  length = 0
  private push (buf: Buffer): void { this.chunks.push(buf); this.length += buf.length }
  u32 (n: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(n); this.push(b) }
  i32 (n: number): void { const b = Buffer.alloc(4); b.writeInt32LE(n); this.push(b) }
  u64 (n: number | bigint): void { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); this.push(b) }
  f32 (n: number): void { const b = Buffer.alloc(4); b.writeFloatLE(n); this.push(b) }
  bytes (buf: Buffer): void { this.push(buf) }
  str (s: string): void { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.push(b) }
  pad (alignment: number): void { const rest = this.length % alignment; if (rest !== 0) this.push(Buffer.alloc(alignment - rest)) }
  value (v: Value): void {
    switch (v.type) {
      case 'u32': this.u32(ValueType.UINT32); this.u32(v.value); break
      case 'f32': this.u32(ValueType.FLOAT32); this.f32(v.value); break
      case 'bool': this.u32(ValueType.BOOL); this.push(Buffer.from([v.value ? 1 : 0])); break
      case 'str': this.u32(ValueType.STRING); this.str(v.value); break
      case 'str[]': this.u32(ValueType.ARRAY); this.u32(ValueType.STRING); this.u64(v.value.length); for (const s of v.value) this.str(s); break
      case 'f32[]': this.u32(ValueType.ARRAY); this.u32(ValueType.FLOAT32); this.u64(v.value.length); for (const n of v.value) this.f32(n); break
      case 'i32[]': this.u32(ValueType.ARRAY); this.u32(ValueType.INT32); this.u64(v.value.length); for (const n of v.value) this.i32(n); break
    }
  }

  concat (): Buffer { return Buffer.concat(this.chunks) }
}

export interface TinyGgufOptions {
  /** @default 64 */
  embedding?: number
  /** @default 4 */
  heads?: number
  /** @default 1 */
  layers?: number
  /** @default 128 */
  feedForward?: number
  /** @default 512 */
  contextLength?: number
  /** @default 1 */
  seed?: number
}

/** The GGUF file's bytes. */
export function tinyLlamaGguf (options: TinyGgufOptions = {}): Buffer {
  const nEmbd = options.embedding ?? 64
  const nHead = options.heads ?? 4
  const nLayer = options.layers ?? 1
  const nFf = options.feedForward ?? 128
  const nCtx = options.contextLength ?? 512
  const rand = seededRandom(options.seed ?? 1)

  // SentencePiece vocabulary: <unk>, <s>, </s>, the 256 byte-fallback tokens, then the
  // word boundary and printable ASCII characters (SPM merges only through pieces in the
  // vocabulary, so single characters keep tokenization simple and lossless)
  const words = ['▁', ...Array.from({ length: 126 - 33 + 1 }, (_, i) => String.fromCharCode(33 + i))]
  const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`), ...words]
  // token types: 1 normal, 2 unknown, 3 control, 6 byte
  const types = [2, 3, 3, ...Array<number>(256).fill(6), ...Array<number>(words.length).fill(1)]
  const scores = tokens.map((_, i) => (i < 259 ? 0 : -i))
  const nVocab = tokens.length

  const kv: Array<[string, Value]> = [
    ['general.architecture', { type: 'str', value: 'llama' }],
    ['general.name', { type: 'str', value: 'shoal-tiny-random-llama' }],
    ['general.alignment', { type: 'u32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'u32', value: nCtx }],
    ['llama.embedding_length', { type: 'u32', value: nEmbd }],
    ['llama.block_count', { type: 'u32', value: nLayer }],
    ['llama.feed_forward_length', { type: 'u32', value: nFf }],
    ['llama.attention.head_count', { type: 'u32', value: nHead }],
    ['llama.attention.head_count_kv', { type: 'u32', value: nHead }],
    ['llama.rope.dimension_count', { type: 'u32', value: nEmbd / nHead }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['tokenizer.ggml.model', { type: 'str', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'str[]', value: tokens }],
    ['tokenizer.ggml.scores', { type: 'f32[]', value: scores }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }]
  ]

  // ggml dims: ne0 is the row length (the input side of a matmul)
  const tensors: Array<{ name: string, dims: number[] }> = [
    { name: 'token_embd.weight', dims: [nEmbd, nVocab] },
    { name: 'output_norm.weight', dims: [nEmbd] },
    { name: 'output.weight', dims: [nEmbd, nVocab] }
  ]
  for (let l = 0; l < nLayer; l++) {
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [nEmbd] },
      { name: `blk.${l}.attn_q.weight`, dims: [nEmbd, nEmbd] },
      { name: `blk.${l}.attn_k.weight`, dims: [nEmbd, nEmbd] },
      { name: `blk.${l}.attn_v.weight`, dims: [nEmbd, nEmbd] },
      { name: `blk.${l}.attn_output.weight`, dims: [nEmbd, nEmbd] },
      { name: `blk.${l}.ffn_norm.weight`, dims: [nEmbd] },
      { name: `blk.${l}.ffn_gate.weight`, dims: [nEmbd, nFf] },
      { name: `blk.${l}.ffn_up.weight`, dims: [nEmbd, nFf] },
      { name: `blk.${l}.ffn_down.weight`, dims: [nFf, nEmbd] }
    )
  }

  const header = new Writer()
  header.u32(GGUF_MAGIC)
  header.u32(GGUF_VERSION)
  header.u64(tensors.length)
  header.u64(kv.length)
  for (const [key, value] of kv) { header.str(key); header.value(value) }

  const data = new Writer()
  const infos: Array<{ name: string, dims: number[], offset: number }> = []
  for (const t of tensors) {
    data.pad(ALIGNMENT)
    infos.push({ ...t, offset: data.length })
    const count = t.dims.reduce((a, b) => a * b, 1)
    const buf = Buffer.alloc(count * 4)
    // norms at 1, weights small and random (scaled like a real init)
    const isNorm = t.name.endsWith('norm.weight')
    const scale = isNorm ? 0 : 1 / Math.sqrt(t.dims[0])
    for (let i = 0; i < count; i++) buf.writeFloatLE(isNorm ? 1 : (rand() * 2 - 1) * scale * 2, i * 4)
    // the control tokens' output rows stay zero: their logit is always 0 while the best of
    // the other ~350 random logits is almost surely above it, so greedy decoding never
    // ends early and `max_tokens` tokens are always produced
    if (t.name === 'output.weight') buf.fill(0, 0, 3 * nEmbd * 4)
    data.bytes(buf)
  }
  for (const info of infos) {
    header.str(info.name)
    header.u32(info.dims.length)
    for (const d of info.dims) header.u64(d)
    header.u32(GGML_TYPE_F32)
    header.u64(info.offset)
  }
  header.pad(ALIGNMENT)
  return Buffer.concat([header.concat(), data.concat()])
}

/** Writes the tiny model to `path` and returns the path. */
export async function writeTinyLlamaGguf (path: string, options?: TinyGgufOptions): Promise<string> {
  await writeFile(path, tinyLlamaGguf(options))
  return path
}

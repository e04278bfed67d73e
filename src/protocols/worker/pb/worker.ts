import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum RefusalCode {
  UNSPECIFIED = 'UNSPECIFIED',
  NOT_ALLOWED = 'NOT_ALLOWED',
  INVALID = 'INVALID',
  VERSION = 'VERSION',
  SHUTTING_DOWN = 'SHUTTING_DOWN'
}

enum __RefusalCodeValues {
  UNSPECIFIED = 0,
  NOT_ALLOWED = 1,
  INVALID = 2,
  VERSION = 3,
  SHUTTING_DOWN = 4
}

export namespace RefusalCode {
  export const codec = (): Codec<RefusalCode> => {
    return enumeration<RefusalCode>(__RefusalCodeValues)
  }
}

export interface WorkerRunner {
  pipeline: string
  modelId: string
  capacity: number
  warm: boolean
  runnerVersion?: string
}

export namespace WorkerRunner {
  let _codec: Codec<WorkerRunner>

  export const codec = (): Codec<WorkerRunner> => {
    if (_codec == null) {
      _codec = message<WorkerRunner>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.pipeline != null && obj.pipeline !== '')) {
          w.uint32(10)
          w.string(obj.pipeline)
        }

        if ((obj.modelId != null && obj.modelId !== '')) {
          w.uint32(18)
          w.string(obj.modelId)
        }

        if ((obj.capacity != null && obj.capacity !== 0)) {
          w.uint32(24)
          w.uint32(obj.capacity)
        }

        if ((obj.warm != null && obj.warm !== false)) {
          w.uint32(32)
          w.bool(obj.warm)
        }

        if (obj.runnerVersion != null) {
          w.uint32(42)
          w.string(obj.runnerVersion)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pipeline: '',
          modelId: '',
          capacity: 0,
          warm: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.pipeline = reader.string()
              break
            }
            case 2: {
              obj.modelId = reader.string()
              break
            }
            case 3: {
              obj.capacity = reader.uint32()
              break
            }
            case 4: {
              obj.warm = reader.bool()
              break
            }
            case 5: {
              obj.runnerVersion = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.pipeline`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.modelId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.capacity`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.warm`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.runnerVersion`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WorkerRunnerPipelineFieldEvent {
    field: '$.pipeline'
    value: string
  }

  export interface WorkerRunnerModelIdFieldEvent {
    field: '$.modelId'
    value: string
  }

  export interface WorkerRunnerCapacityFieldEvent {
    field: '$.capacity'
    value: number
  }

  export interface WorkerRunnerWarmFieldEvent {
    field: '$.warm'
    value: boolean
  }

  export interface WorkerRunnerRunnerVersionFieldEvent {
    field: '$.runnerVersion'
    value: string
  }

  export function encode (obj: Partial<WorkerRunner>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WorkerRunner.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkerRunner>): WorkerRunner {
    return decodeMessage(buf, WorkerRunner.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkerRunner>): Generator<WorkerRunnerPipelineFieldEvent | WorkerRunnerModelIdFieldEvent | WorkerRunnerCapacityFieldEvent | WorkerRunnerWarmFieldEvent | WorkerRunnerRunnerVersionFieldEvent> {
    return streamMessage(buf, WorkerRunner.codec(), opts)
  }
}

export interface Register {
  version: number
  runners: WorkerRunner[]
}

export namespace Register {
  let _codec: Codec<Register>

  export const codec = (): Codec<Register> => {
    if (_codec == null) {
      _codec = message<Register>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.runners != null && obj.runners.length > 0) {
          for (const value of obj.runners) {
            w.uint32(18)
            WorkerRunner.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          runners: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              if (opts.limits?.runners != null && obj.runners.length === opts.limits.runners) {
                throw new MaxLengthError('Decode error - repeated field "runners" had too many elements')
              }

              if (obj.runners.length === 256) {
                throw new MaxLengthError('Decode error - repeated field "runners" had too many elements')
              }

              obj.runners.push(WorkerRunner.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.runners$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          runners: 256
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              if (opts.limits?.runners != null && obj.runners === opts.limits.runners) {
                throw new MaxLengthError('Streaming decode error - repeated field "runners" had too many elements')
              }

              if (obj.runners === 256) {
                throw new MaxLengthError('Streaming decode error - repeated field "runners" had too many elements')
              }

              for (const evt of WorkerRunner.codec().stream(reader, reader.uint32(), `${prefix}.runners[]`, {
                limits: opts.limits?.runners$
              })) {
                yield {
                  ...evt,
                  index: obj.runners
                }
              }

              obj.runners++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RegisterVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface RegisterRunnersPipelineFieldEvent {
    field: '$.runners[].pipeline'
    value: string
    index: number
  }

  export interface RegisterRunnersModelIdFieldEvent {
    field: '$.runners[].modelId'
    value: string
    index: number
  }

  export interface RegisterRunnersCapacityFieldEvent {
    field: '$.runners[].capacity'
    value: number
    index: number
  }

  export interface RegisterRunnersWarmFieldEvent {
    field: '$.runners[].warm'
    value: boolean
    index: number
  }

  export interface RegisterRunnersRunnerVersionFieldEvent {
    field: '$.runners[].runnerVersion'
    value: string
    index: number
  }

  export function encode (obj: Partial<Register>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Register.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Register>): Register {
    return decodeMessage(buf, Register.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Register>): Generator<RegisterVersionFieldEvent | RegisterRunnersPipelineFieldEvent | RegisterRunnersModelIdFieldEvent | RegisterRunnersCapacityFieldEvent | RegisterRunnersWarmFieldEvent | RegisterRunnersRunnerVersionFieldEvent> {
    return streamMessage(buf, Register.codec(), opts)
  }
}

export interface Registered {
  version: number
  heartbeatIntervalMs: number
  heartbeatTimeoutMs: number
}

export namespace Registered {
  let _codec: Codec<Registered>

  export const codec = (): Codec<Registered> => {
    if (_codec == null) {
      _codec = message<Registered>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.heartbeatIntervalMs != null && obj.heartbeatIntervalMs !== 0)) {
          w.uint32(16)
          w.uint32(obj.heartbeatIntervalMs)
        }

        if ((obj.heartbeatTimeoutMs != null && obj.heartbeatTimeoutMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.heartbeatTimeoutMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          heartbeatIntervalMs: 0,
          heartbeatTimeoutMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.heartbeatIntervalMs = reader.uint32()
              break
            }
            case 3: {
              obj.heartbeatTimeoutMs = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.heartbeatIntervalMs`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.heartbeatTimeoutMs`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RegisteredVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface RegisteredHeartbeatIntervalMsFieldEvent {
    field: '$.heartbeatIntervalMs'
    value: number
  }

  export interface RegisteredHeartbeatTimeoutMsFieldEvent {
    field: '$.heartbeatTimeoutMs'
    value: number
  }

  export function encode (obj: Partial<Registered>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Registered.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Registered>): Registered {
    return decodeMessage(buf, Registered.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Registered>): Generator<RegisteredVersionFieldEvent | RegisteredHeartbeatIntervalMsFieldEvent | RegisteredHeartbeatTimeoutMsFieldEvent> {
    return streamMessage(buf, Registered.codec(), opts)
  }
}

export interface Refused {
  code: RefusalCode
  message: string
}

export namespace Refused {
  let _codec: Codec<Refused>

  export const codec = (): Codec<Refused> => {
    if (_codec == null) {
      _codec = message<Refused>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __RefusalCodeValues[obj.code] !== 0) {
          w.uint32(8)
          RefusalCode.codec().encode(obj.code, w)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: RefusalCode.UNSPECIFIED,
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = RefusalCode.codec().decode(reader)
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: RefusalCode.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RefusedCodeFieldEvent {
    field: '$.code'
    value: RefusalCode
  }

  export interface RefusedMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<Refused>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Refused.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Refused>): Refused {
    return decodeMessage(buf, Refused.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Refused>): Generator<RefusedCodeFieldEvent | RefusedMessageFieldEvent> {
    return streamMessage(buf, Refused.codec(), opts)
  }
}

export interface Update {
  runners: WorkerRunner[]
}

export namespace Update {
  let _codec: Codec<Update>

  export const codec = (): Codec<Update> => {
    if (_codec == null) {
      _codec = message<Update>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.runners != null && obj.runners.length > 0) {
          for (const value of obj.runners) {
            w.uint32(10)
            WorkerRunner.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          runners: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.runners != null && obj.runners.length === opts.limits.runners) {
                throw new MaxLengthError('Decode error - repeated field "runners" had too many elements')
              }

              if (obj.runners.length === 256) {
                throw new MaxLengthError('Decode error - repeated field "runners" had too many elements')
              }

              obj.runners.push(WorkerRunner.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.runners$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          runners: 256
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.runners != null && obj.runners === opts.limits.runners) {
                throw new MaxLengthError('Streaming decode error - repeated field "runners" had too many elements')
              }

              if (obj.runners === 256) {
                throw new MaxLengthError('Streaming decode error - repeated field "runners" had too many elements')
              }

              for (const evt of WorkerRunner.codec().stream(reader, reader.uint32(), `${prefix}.runners[]`, {
                limits: opts.limits?.runners$
              })) {
                yield {
                  ...evt,
                  index: obj.runners
                }
              }

              obj.runners++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface UpdateRunnersPipelineFieldEvent {
    field: '$.runners[].pipeline'
    value: string
    index: number
  }

  export interface UpdateRunnersModelIdFieldEvent {
    field: '$.runners[].modelId'
    value: string
    index: number
  }

  export interface UpdateRunnersCapacityFieldEvent {
    field: '$.runners[].capacity'
    value: number
    index: number
  }

  export interface UpdateRunnersWarmFieldEvent {
    field: '$.runners[].warm'
    value: boolean
    index: number
  }

  export interface UpdateRunnersRunnerVersionFieldEvent {
    field: '$.runners[].runnerVersion'
    value: string
    index: number
  }

  export function encode (obj: Partial<Update>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Update.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Update>): Update {
    return decodeMessage(buf, Update.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Update>): Generator<UpdateRunnersPipelineFieldEvent | UpdateRunnersModelIdFieldEvent | UpdateRunnersCapacityFieldEvent | UpdateRunnersWarmFieldEvent | UpdateRunnersRunnerVersionFieldEvent> {
    return streamMessage(buf, Update.codec(), opts)
  }
}

export interface Ping {
  seq: number
}

export namespace Ping {
  let _codec: Codec<Ping>

  export const codec = (): Codec<Ping> => {
    if (_codec == null) {
      _codec = message<Ping>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.seq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          seq: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.seq = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PingSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export function encode (obj: Partial<Ping>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Ping.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ping>): Ping {
    return decodeMessage(buf, Ping.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ping>): Generator<PingSeqFieldEvent> {
    return streamMessage(buf, Ping.codec(), opts)
  }
}

export interface Pong {
  seq: number
}

export namespace Pong {
  let _codec: Codec<Pong>

  export const codec = (): Codec<Pong> => {
    if (_codec == null) {
      _codec = message<Pong>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.seq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          seq: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.seq = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PongSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export function encode (obj: Partial<Pong>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Pong.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Pong>): Pong {
    return decodeMessage(buf, Pong.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Pong>): Generator<PongSeqFieldEvent> {
    return streamMessage(buf, Pong.codec(), opts)
  }
}

export interface WorkerMessage {
  register?: Register
  registered?: Registered
  refused?: Refused
  update?: Update
  ping?: Ping
  pong?: Pong
}

export namespace WorkerMessage {
  let _codec: Codec<WorkerMessage>

  export const codec = (): Codec<WorkerMessage> => {
    if (_codec == null) {
      _codec = message<WorkerMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.register != null) {
          w.uint32(10)
          Register.codec().encode(obj.register, w)
        }

        if (obj.registered != null) {
          w.uint32(18)
          Registered.codec().encode(obj.registered, w)
        }

        if (obj.refused != null) {
          w.uint32(26)
          Refused.codec().encode(obj.refused, w)
        }

        if (obj.update != null) {
          w.uint32(34)
          Update.codec().encode(obj.update, w)
        }

        if (obj.ping != null) {
          w.uint32(42)
          Ping.codec().encode(obj.ping, w)
        }

        if (obj.pong != null) {
          w.uint32(50)
          Pong.codec().encode(obj.pong, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.register = Register.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.register
              })
              break
            }
            case 2: {
              obj.registered = Registered.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.registered
              })
              break
            }
            case 3: {
              obj.refused = Refused.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.refused
              })
              break
            }
            case 4: {
              obj.update = Update.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.update
              })
              break
            }
            case 5: {
              obj.ping = Ping.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ping
              })
              break
            }
            case 6: {
              obj.pong = Pong.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.pong
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Register.codec().stream(reader, reader.uint32(), `${prefix}.register`, {
                limits: opts.limits?.register
              })

              break
            }
            case 2: {
              yield * Registered.codec().stream(reader, reader.uint32(), `${prefix}.registered`, {
                limits: opts.limits?.registered
              })

              break
            }
            case 3: {
              yield * Refused.codec().stream(reader, reader.uint32(), `${prefix}.refused`, {
                limits: opts.limits?.refused
              })

              break
            }
            case 4: {
              yield * Update.codec().stream(reader, reader.uint32(), `${prefix}.update`, {
                limits: opts.limits?.update
              })

              break
            }
            case 5: {
              yield * Ping.codec().stream(reader, reader.uint32(), `${prefix}.ping`, {
                limits: opts.limits?.ping
              })

              break
            }
            case 6: {
              yield * Pong.codec().stream(reader, reader.uint32(), `${prefix}.pong`, {
                limits: opts.limits?.pong
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WorkerMessageRegisterVersionFieldEvent {
    field: '$.register.version'
    value: number
  }

  export interface WorkerMessageRegisterRunnersPipelineFieldEvent {
    field: '$.register.runners[].pipeline'
    value: string
    index: number
  }

  export interface WorkerMessageRegisterRunnersModelIdFieldEvent {
    field: '$.register.runners[].modelId'
    value: string
    index: number
  }

  export interface WorkerMessageRegisterRunnersCapacityFieldEvent {
    field: '$.register.runners[].capacity'
    value: number
    index: number
  }

  export interface WorkerMessageRegisterRunnersWarmFieldEvent {
    field: '$.register.runners[].warm'
    value: boolean
    index: number
  }

  export interface WorkerMessageRegisterRunnersRunnerVersionFieldEvent {
    field: '$.register.runners[].runnerVersion'
    value: string
    index: number
  }

  export interface WorkerMessageRegisteredVersionFieldEvent {
    field: '$.registered.version'
    value: number
  }

  export interface WorkerMessageRegisteredHeartbeatIntervalMsFieldEvent {
    field: '$.registered.heartbeatIntervalMs'
    value: number
  }

  export interface WorkerMessageRegisteredHeartbeatTimeoutMsFieldEvent {
    field: '$.registered.heartbeatTimeoutMs'
    value: number
  }

  export interface WorkerMessageRefusedCodeFieldEvent {
    field: '$.refused.code'
    value: RefusalCode
  }

  export interface WorkerMessageRefusedMessageFieldEvent {
    field: '$.refused.message'
    value: string
  }

  export interface WorkerMessageUpdateRunnersPipelineFieldEvent {
    field: '$.update.runners[].pipeline'
    value: string
    index: number
  }

  export interface WorkerMessageUpdateRunnersModelIdFieldEvent {
    field: '$.update.runners[].modelId'
    value: string
    index: number
  }

  export interface WorkerMessageUpdateRunnersCapacityFieldEvent {
    field: '$.update.runners[].capacity'
    value: number
    index: number
  }

  export interface WorkerMessageUpdateRunnersWarmFieldEvent {
    field: '$.update.runners[].warm'
    value: boolean
    index: number
  }

  export interface WorkerMessageUpdateRunnersRunnerVersionFieldEvent {
    field: '$.update.runners[].runnerVersion'
    value: string
    index: number
  }

  export interface WorkerMessagePingSeqFieldEvent {
    field: '$.ping.seq'
    value: number
  }

  export interface WorkerMessagePongSeqFieldEvent {
    field: '$.pong.seq'
    value: number
  }

  export function encode (obj: Partial<WorkerMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WorkerMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkerMessage>): WorkerMessage {
    return decodeMessage(buf, WorkerMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkerMessage>): Generator<WorkerMessageRegisterVersionFieldEvent | WorkerMessageRegisterRunnersPipelineFieldEvent | WorkerMessageRegisterRunnersModelIdFieldEvent | WorkerMessageRegisterRunnersCapacityFieldEvent | WorkerMessageRegisterRunnersWarmFieldEvent | WorkerMessageRegisterRunnersRunnerVersionFieldEvent | WorkerMessageRegisteredVersionFieldEvent | WorkerMessageRegisteredHeartbeatIntervalMsFieldEvent | WorkerMessageRegisteredHeartbeatTimeoutMsFieldEvent | WorkerMessageRefusedCodeFieldEvent | WorkerMessageRefusedMessageFieldEvent | WorkerMessageUpdateRunnersPipelineFieldEvent | WorkerMessageUpdateRunnersModelIdFieldEvent | WorkerMessageUpdateRunnersCapacityFieldEvent | WorkerMessageUpdateRunnersWarmFieldEvent | WorkerMessageUpdateRunnersRunnerVersionFieldEvent | WorkerMessagePingSeqFieldEvent | WorkerMessagePongSeqFieldEvent> {
    return streamMessage(buf, WorkerMessage.codec(), opts)
  }
}

import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface LiveStart {
  pipeline: string
  modelId: string
  params: string
  streamId: string
  requestId: string
  payment?: Uint8Array<ArrayBuffer>
}

export namespace LiveStart {
  let _codec: Codec<LiveStart>

  export const codec = (): Codec<LiveStart> => {
    if (_codec == null) {
      _codec = message<LiveStart>((obj, w, opts = {}) => {
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

        if ((obj.params != null && obj.params !== '')) {
          w.uint32(26)
          w.string(obj.params)
        }

        if ((obj.streamId != null && obj.streamId !== '')) {
          w.uint32(34)
          w.string(obj.streamId)
        }

        if ((obj.requestId != null && obj.requestId !== '')) {
          w.uint32(42)
          w.string(obj.requestId)
        }

        if (obj.payment != null) {
          w.uint32(50)
          w.bytes(obj.payment)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pipeline: '',
          modelId: '',
          params: '',
          streamId: '',
          requestId: ''
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
              obj.params = reader.string()
              break
            }
            case 4: {
              obj.streamId = reader.string()
              break
            }
            case 5: {
              obj.requestId = reader.string()
              break
            }
            case 6: {
              obj.payment = reader.bytes()
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
                field: `${prefix}.params`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.streamId`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.payment`,
                value: reader.bytes()
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

  export interface LiveStartPipelineFieldEvent {
    field: '$.pipeline'
    value: string
  }

  export interface LiveStartModelIdFieldEvent {
    field: '$.modelId'
    value: string
  }

  export interface LiveStartParamsFieldEvent {
    field: '$.params'
    value: string
  }

  export interface LiveStartStreamIdFieldEvent {
    field: '$.streamId'
    value: string
  }

  export interface LiveStartRequestIdFieldEvent {
    field: '$.requestId'
    value: string
  }

  export interface LiveStartPaymentFieldEvent {
    field: '$.payment'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<LiveStart>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LiveStart.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveStart>): LiveStart {
    return decodeMessage(buf, LiveStart.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveStart>): Generator<LiveStartPipelineFieldEvent | LiveStartModelIdFieldEvent | LiveStartParamsFieldEvent | LiveStartStreamIdFieldEvent | LiveStartRequestIdFieldEvent | LiveStartPaymentFieldEvent> {
    return streamMessage(buf, LiveStart.codec(), opts)
  }
}

export interface LiveStarted {
  pricePerUnit: string
  pixelsPerUnit: string
  paymentIntervalMs: number
  quote?: Uint8Array<ArrayBuffer>
}

export namespace LiveStarted {
  let _codec: Codec<LiveStarted>

  export const codec = (): Codec<LiveStarted> => {
    if (_codec == null) {
      _codec = message<LiveStarted>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.pricePerUnit != null && obj.pricePerUnit !== '')) {
          w.uint32(10)
          w.string(obj.pricePerUnit)
        }

        if ((obj.pixelsPerUnit != null && obj.pixelsPerUnit !== '')) {
          w.uint32(18)
          w.string(obj.pixelsPerUnit)
        }

        if ((obj.paymentIntervalMs != null && obj.paymentIntervalMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.paymentIntervalMs)
        }

        if (obj.quote != null) {
          w.uint32(34)
          w.bytes(obj.quote)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pricePerUnit: '',
          pixelsPerUnit: '',
          paymentIntervalMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.pricePerUnit = reader.string()
              break
            }
            case 2: {
              obj.pixelsPerUnit = reader.string()
              break
            }
            case 3: {
              obj.paymentIntervalMs = reader.uint32()
              break
            }
            case 4: {
              obj.quote = reader.bytes()
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
                field: `${prefix}.pricePerUnit`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.pixelsPerUnit`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.paymentIntervalMs`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.quote`,
                value: reader.bytes()
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

  export interface LiveStartedPricePerUnitFieldEvent {
    field: '$.pricePerUnit'
    value: string
  }

  export interface LiveStartedPixelsPerUnitFieldEvent {
    field: '$.pixelsPerUnit'
    value: string
  }

  export interface LiveStartedPaymentIntervalMsFieldEvent {
    field: '$.paymentIntervalMs'
    value: number
  }

  export interface LiveStartedQuoteFieldEvent {
    field: '$.quote'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<LiveStarted>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LiveStarted.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveStarted>): LiveStarted {
    return decodeMessage(buf, LiveStarted.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveStarted>): Generator<LiveStartedPricePerUnitFieldEvent | LiveStartedPixelsPerUnitFieldEvent | LiveStartedPaymentIntervalMsFieldEvent | LiveStartedQuoteFieldEvent> {
    return streamMessage(buf, LiveStarted.codec(), opts)
  }
}

export interface LiveSegment {
  seq: number
  data: Uint8Array<ArrayBuffer>
  width: number
  height: number
  frames: number
}

export namespace LiveSegment {
  let _codec: Codec<LiveSegment>

  export const codec = (): Codec<LiveSegment> => {
    if (_codec == null) {
      _codec = message<LiveSegment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.seq)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.data)
        }

        if ((obj.width != null && obj.width !== 0)) {
          w.uint32(24)
          w.uint32(obj.width)
        }

        if ((obj.height != null && obj.height !== 0)) {
          w.uint32(32)
          w.uint32(obj.height)
        }

        if ((obj.frames != null && obj.frames !== 0)) {
          w.uint32(40)
          w.uint32(obj.frames)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          seq: 0,
          data: uint8ArrayAlloc(0),
          width: 0,
          height: 0,
          frames: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.seq = reader.uint64Number()
              break
            }
            case 2: {
              obj.data = reader.bytes()
              break
            }
            case 3: {
              obj.width = reader.uint32()
              break
            }
            case 4: {
              obj.height = reader.uint32()
              break
            }
            case 5: {
              obj.frames = reader.uint32()
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
            case 2: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.width`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.height`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.frames`,
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

  export interface LiveSegmentSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface LiveSegmentDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LiveSegmentWidthFieldEvent {
    field: '$.width'
    value: number
  }

  export interface LiveSegmentHeightFieldEvent {
    field: '$.height'
    value: number
  }

  export interface LiveSegmentFramesFieldEvent {
    field: '$.frames'
    value: number
  }

  export function encode (obj: Partial<LiveSegment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LiveSegment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveSegment>): LiveSegment {
    return decodeMessage(buf, LiveSegment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveSegment>): Generator<LiveSegmentSeqFieldEvent | LiveSegmentDataFieldEvent | LiveSegmentWidthFieldEvent | LiveSegmentHeightFieldEvent | LiveSegmentFramesFieldEvent> {
    return streamMessage(buf, LiveSegment.codec(), opts)
  }
}

export interface LiveAck {
  seq: number
}

export namespace LiveAck {
  let _codec: Codec<LiveAck>

  export const codec = (): Codec<LiveAck> => {
    if (_codec == null) {
      _codec = message<LiveAck>((obj, w, opts = {}) => {
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

  export interface LiveAckSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export function encode (obj: Partial<LiveAck>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LiveAck.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveAck>): LiveAck {
    return decodeMessage(buf, LiveAck.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveAck>): Generator<LiveAckSeqFieldEvent> {
    return streamMessage(buf, LiveAck.codec(), opts)
  }
}

export interface LiveControl {
  params: string
}

export namespace LiveControl {
  let _codec: Codec<LiveControl>

  export const codec = (): Codec<LiveControl> => {
    if (_codec == null) {
      _codec = message<LiveControl>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.params != null && obj.params !== '')) {
          w.uint32(10)
          w.string(obj.params)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          params: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.params = reader.string()
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
                field: `${prefix}.params`,
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

  export interface LiveControlParamsFieldEvent {
    field: '$.params'
    value: string
  }

  export function encode (obj: Partial<LiveControl>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LiveControl.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveControl>): LiveControl {
    return decodeMessage(buf, LiveControl.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveControl>): Generator<LiveControlParamsFieldEvent> {
    return streamMessage(buf, LiveControl.codec(), opts)
  }
}

export interface LiveEvent {
  json: string
}

export namespace LiveEvent {
  let _codec: Codec<LiveEvent>

  export const codec = (): Codec<LiveEvent> => {
    if (_codec == null) {
      _codec = message<LiveEvent>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.json != null && obj.json !== '')) {
          w.uint32(10)
          w.string(obj.json)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          json: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.json = reader.string()
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
                field: `${prefix}.json`,
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

  export interface LiveEventJsonFieldEvent {
    field: '$.json'
    value: string
  }

  export function encode (obj: Partial<LiveEvent>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LiveEvent.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveEvent>): LiveEvent {
    return decodeMessage(buf, LiveEvent.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveEvent>): Generator<LiveEventJsonFieldEvent> {
    return streamMessage(buf, LiveEvent.codec(), opts)
  }
}

export interface LivePayment {
  payment?: Uint8Array<ArrayBuffer>
  quote?: Uint8Array<ArrayBuffer>
  balance: string
  pixels: number
}

export namespace LivePayment {
  let _codec: Codec<LivePayment>

  export const codec = (): Codec<LivePayment> => {
    if (_codec == null) {
      _codec = message<LivePayment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.payment != null) {
          w.uint32(10)
          w.bytes(obj.payment)
        }

        if (obj.quote != null) {
          w.uint32(18)
          w.bytes(obj.quote)
        }

        if ((obj.balance != null && obj.balance !== '')) {
          w.uint32(26)
          w.string(obj.balance)
        }

        if ((obj.pixels != null && obj.pixels !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.pixels)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          balance: '',
          pixels: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.payment = reader.bytes()
              break
            }
            case 2: {
              obj.quote = reader.bytes()
              break
            }
            case 3: {
              obj.balance = reader.string()
              break
            }
            case 4: {
              obj.pixels = reader.uint64Number()
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
                field: `${prefix}.payment`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.quote`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.balance`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.pixels`,
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

  export interface LivePaymentPaymentFieldEvent {
    field: '$.payment'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LivePaymentQuoteFieldEvent {
    field: '$.quote'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LivePaymentBalanceFieldEvent {
    field: '$.balance'
    value: string
  }

  export interface LivePaymentPixelsFieldEvent {
    field: '$.pixels'
    value: number
  }

  export function encode (obj: Partial<LivePayment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LivePayment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LivePayment>): LivePayment {
    return decodeMessage(buf, LivePayment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LivePayment>): Generator<LivePaymentPaymentFieldEvent | LivePaymentQuoteFieldEvent | LivePaymentBalanceFieldEvent | LivePaymentPixelsFieldEvent> {
    return streamMessage(buf, LivePayment.codec(), opts)
  }
}

export interface LiveClose {
  code: string
  message: string
}

export namespace LiveClose {
  let _codec: Codec<LiveClose>

  export const codec = (): Codec<LiveClose> => {
    if (_codec == null) {
      _codec = message<LiveClose>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
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
          code: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.string()
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
                value: reader.string()
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

  export interface LiveCloseCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface LiveCloseMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<LiveClose>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LiveClose.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveClose>): LiveClose {
    return decodeMessage(buf, LiveClose.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveClose>): Generator<LiveCloseCodeFieldEvent | LiveCloseMessageFieldEvent> {
    return streamMessage(buf, LiveClose.codec(), opts)
  }
}

export interface LiveFrame {
  start?: LiveStart
  started?: LiveStarted
  input?: LiveSegment
  output?: LiveSegment
  ack?: LiveAck
  control?: LiveControl
  event?: LiveEvent
  payment?: LivePayment
  close?: LiveClose
}

export namespace LiveFrame {
  let _codec: Codec<LiveFrame>

  export const codec = (): Codec<LiveFrame> => {
    if (_codec == null) {
      _codec = message<LiveFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.start != null) {
          w.uint32(10)
          LiveStart.codec().encode(obj.start, w)
        }

        if (obj.started != null) {
          w.uint32(18)
          LiveStarted.codec().encode(obj.started, w)
        }

        if (obj.input != null) {
          w.uint32(26)
          LiveSegment.codec().encode(obj.input, w)
        }

        if (obj.output != null) {
          w.uint32(34)
          LiveSegment.codec().encode(obj.output, w)
        }

        if (obj.ack != null) {
          w.uint32(42)
          LiveAck.codec().encode(obj.ack, w)
        }

        if (obj.control != null) {
          w.uint32(50)
          LiveControl.codec().encode(obj.control, w)
        }

        if (obj.event != null) {
          w.uint32(58)
          LiveEvent.codec().encode(obj.event, w)
        }

        if (obj.payment != null) {
          w.uint32(66)
          LivePayment.codec().encode(obj.payment, w)
        }

        if (obj.close != null) {
          w.uint32(74)
          LiveClose.codec().encode(obj.close, w)
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
              obj.start = LiveStart.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.start
              })
              break
            }
            case 2: {
              obj.started = LiveStarted.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.started
              })
              break
            }
            case 3: {
              obj.input = LiveSegment.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.input
              })
              break
            }
            case 4: {
              obj.output = LiveSegment.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.output
              })
              break
            }
            case 5: {
              obj.ack = LiveAck.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ack
              })
              break
            }
            case 6: {
              obj.control = LiveControl.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.control
              })
              break
            }
            case 7: {
              obj.event = LiveEvent.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.event
              })
              break
            }
            case 8: {
              obj.payment = LivePayment.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.payment
              })
              break
            }
            case 9: {
              obj.close = LiveClose.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.close
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
              yield * LiveStart.codec().stream(reader, reader.uint32(), `${prefix}.start`, {
                limits: opts.limits?.start
              })

              break
            }
            case 2: {
              yield * LiveStarted.codec().stream(reader, reader.uint32(), `${prefix}.started`, {
                limits: opts.limits?.started
              })

              break
            }
            case 3: {
              yield * LiveSegment.codec().stream(reader, reader.uint32(), `${prefix}.input`, {
                limits: opts.limits?.input
              })

              break
            }
            case 4: {
              yield * LiveSegment.codec().stream(reader, reader.uint32(), `${prefix}.output`, {
                limits: opts.limits?.output
              })

              break
            }
            case 5: {
              yield * LiveAck.codec().stream(reader, reader.uint32(), `${prefix}.ack`, {
                limits: opts.limits?.ack
              })

              break
            }
            case 6: {
              yield * LiveControl.codec().stream(reader, reader.uint32(), `${prefix}.control`, {
                limits: opts.limits?.control
              })

              break
            }
            case 7: {
              yield * LiveEvent.codec().stream(reader, reader.uint32(), `${prefix}.event`, {
                limits: opts.limits?.event
              })

              break
            }
            case 8: {
              yield * LivePayment.codec().stream(reader, reader.uint32(), `${prefix}.payment`, {
                limits: opts.limits?.payment
              })

              break
            }
            case 9: {
              yield * LiveClose.codec().stream(reader, reader.uint32(), `${prefix}.close`, {
                limits: opts.limits?.close
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

  export interface LiveFrameStartPipelineFieldEvent {
    field: '$.start.pipeline'
    value: string
  }

  export interface LiveFrameStartModelIdFieldEvent {
    field: '$.start.modelId'
    value: string
  }

  export interface LiveFrameStartParamsFieldEvent {
    field: '$.start.params'
    value: string
  }

  export interface LiveFrameStartStreamIdFieldEvent {
    field: '$.start.streamId'
    value: string
  }

  export interface LiveFrameStartRequestIdFieldEvent {
    field: '$.start.requestId'
    value: string
  }

  export interface LiveFrameStartPaymentFieldEvent {
    field: '$.start.payment'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LiveFrameStartedPricePerUnitFieldEvent {
    field: '$.started.pricePerUnit'
    value: string
  }

  export interface LiveFrameStartedPixelsPerUnitFieldEvent {
    field: '$.started.pixelsPerUnit'
    value: string
  }

  export interface LiveFrameStartedPaymentIntervalMsFieldEvent {
    field: '$.started.paymentIntervalMs'
    value: number
  }

  export interface LiveFrameStartedQuoteFieldEvent {
    field: '$.started.quote'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LiveFrameInputSeqFieldEvent {
    field: '$.input.seq'
    value: number
  }

  export interface LiveFrameInputDataFieldEvent {
    field: '$.input.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LiveFrameInputWidthFieldEvent {
    field: '$.input.width'
    value: number
  }

  export interface LiveFrameInputHeightFieldEvent {
    field: '$.input.height'
    value: number
  }

  export interface LiveFrameInputFramesFieldEvent {
    field: '$.input.frames'
    value: number
  }

  export interface LiveFrameOutputSeqFieldEvent {
    field: '$.output.seq'
    value: number
  }

  export interface LiveFrameOutputDataFieldEvent {
    field: '$.output.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LiveFrameOutputWidthFieldEvent {
    field: '$.output.width'
    value: number
  }

  export interface LiveFrameOutputHeightFieldEvent {
    field: '$.output.height'
    value: number
  }

  export interface LiveFrameOutputFramesFieldEvent {
    field: '$.output.frames'
    value: number
  }

  export interface LiveFrameAckSeqFieldEvent {
    field: '$.ack.seq'
    value: number
  }

  export interface LiveFrameControlParamsFieldEvent {
    field: '$.control.params'
    value: string
  }

  export interface LiveFrameEventJsonFieldEvent {
    field: '$.event.json'
    value: string
  }

  export interface LiveFramePaymentPaymentFieldEvent {
    field: '$.payment.payment'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LiveFramePaymentQuoteFieldEvent {
    field: '$.payment.quote'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LiveFramePaymentBalanceFieldEvent {
    field: '$.payment.balance'
    value: string
  }

  export interface LiveFramePaymentPixelsFieldEvent {
    field: '$.payment.pixels'
    value: number
  }

  export interface LiveFrameCloseCodeFieldEvent {
    field: '$.close.code'
    value: string
  }

  export interface LiveFrameCloseMessageFieldEvent {
    field: '$.close.message'
    value: string
  }

  export function encode (obj: Partial<LiveFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LiveFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveFrame>): LiveFrame {
    return decodeMessage(buf, LiveFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LiveFrame>): Generator<LiveFrameStartPipelineFieldEvent | LiveFrameStartModelIdFieldEvent | LiveFrameStartParamsFieldEvent | LiveFrameStartStreamIdFieldEvent | LiveFrameStartRequestIdFieldEvent | LiveFrameStartPaymentFieldEvent | LiveFrameStartedPricePerUnitFieldEvent | LiveFrameStartedPixelsPerUnitFieldEvent | LiveFrameStartedPaymentIntervalMsFieldEvent | LiveFrameStartedQuoteFieldEvent | LiveFrameInputSeqFieldEvent | LiveFrameInputDataFieldEvent | LiveFrameInputWidthFieldEvent | LiveFrameInputHeightFieldEvent | LiveFrameInputFramesFieldEvent | LiveFrameOutputSeqFieldEvent | LiveFrameOutputDataFieldEvent | LiveFrameOutputWidthFieldEvent | LiveFrameOutputHeightFieldEvent | LiveFrameOutputFramesFieldEvent | LiveFrameAckSeqFieldEvent | LiveFrameControlParamsFieldEvent | LiveFrameEventJsonFieldEvent | LiveFramePaymentPaymentFieldEvent | LiveFramePaymentQuoteFieldEvent | LiveFramePaymentBalanceFieldEvent | LiveFramePaymentPixelsFieldEvent | LiveFrameCloseCodeFieldEvent | LiveFrameCloseMessageFieldEvent> {
    return streamMessage(buf, LiveFrame.codec(), opts)
  }
}

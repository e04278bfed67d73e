import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum FinalCode {
  UNSPECIFIED = 'UNSPECIFIED',
  OK = 'OK',
  BAD_REQUEST = 'BAD_REQUEST',
  INSUFFICIENT_CAPACITY = 'INSUFFICIENT_CAPACITY',
  RUNNER_FAILURE = 'RUNNER_FAILURE',
  DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED',
  UNSUPPORTED = 'UNSUPPORTED',
  PAYMENT_REQUIRED = 'PAYMENT_REQUIRED',
  INTERNAL = 'INTERNAL',
  CANCELLED = 'CANCELLED'
}

enum __FinalCodeValues {
  UNSPECIFIED = 0,
  OK = 1,
  BAD_REQUEST = 2,
  INSUFFICIENT_CAPACITY = 3,
  RUNNER_FAILURE = 4,
  DEADLINE_EXCEEDED = 5,
  UNSUPPORTED = 6,
  PAYMENT_REQUIRED = 7,
  INTERNAL = 8,
  CANCELLED = 9
}

export namespace FinalCode {
  export const codec = (): Codec<FinalCode> => {
    return enumeration<FinalCode>(__FinalCodeValues)
  }
}

export interface Price {
  pipeline: string
  modelId: string
  pricePerUnit: string
  pixelsPerUnit: string
  pricePerRequest?: string
}

export namespace Price {
  let _codec: Codec<Price>

  export const codec = (): Codec<Price> => {
    if (_codec == null) {
      _codec = message<Price>((obj, w, opts = {}) => {
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

        if ((obj.pricePerUnit != null && obj.pricePerUnit !== '')) {
          w.uint32(26)
          w.string(obj.pricePerUnit)
        }

        if ((obj.pixelsPerUnit != null && obj.pixelsPerUnit !== '')) {
          w.uint32(34)
          w.string(obj.pixelsPerUnit)
        }

        if (obj.pricePerRequest != null) {
          w.uint32(42)
          w.string(obj.pricePerRequest)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pipeline: '',
          modelId: '',
          pricePerUnit: '',
          pixelsPerUnit: ''
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
              obj.pricePerUnit = reader.string()
              break
            }
            case 4: {
              obj.pixelsPerUnit = reader.string()
              break
            }
            case 5: {
              obj.pricePerRequest = reader.string()
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
                field: `${prefix}.pricePerUnit`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.pixelsPerUnit`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.pricePerRequest`,
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

  export interface PricePipelineFieldEvent {
    field: '$.pipeline'
    value: string
  }

  export interface PriceModelIdFieldEvent {
    field: '$.modelId'
    value: string
  }

  export interface PricePricePerUnitFieldEvent {
    field: '$.pricePerUnit'
    value: string
  }

  export interface PricePixelsPerUnitFieldEvent {
    field: '$.pixelsPerUnit'
    value: string
  }

  export interface PricePricePerRequestFieldEvent {
    field: '$.pricePerRequest'
    value: string
  }

  export function encode (obj: Partial<Price>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Price.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Price>): Price {
    return decodeMessage(buf, Price.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Price>): Generator<PricePipelineFieldEvent | PriceModelIdFieldEvent | PricePricePerUnitFieldEvent | PricePixelsPerUnitFieldEvent | PricePricePerRequestFieldEvent> {
    return streamMessage(buf, Price.codec(), opts)
  }
}

export interface ModelLoad {
  pipeline: string
  modelId: string
  capacity: number
  inUse: number
}

export namespace ModelLoad {
  let _codec: Codec<ModelLoad>

  export const codec = (): Codec<ModelLoad> => {
    if (_codec == null) {
      _codec = message<ModelLoad>((obj, w, opts = {}) => {
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

        if ((obj.inUse != null && obj.inUse !== 0)) {
          w.uint32(32)
          w.uint32(obj.inUse)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pipeline: '',
          modelId: '',
          capacity: 0,
          inUse: 0
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
              obj.inUse = reader.uint32()
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
                field: `${prefix}.inUse`,
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

  export interface ModelLoadPipelineFieldEvent {
    field: '$.pipeline'
    value: string
  }

  export interface ModelLoadModelIdFieldEvent {
    field: '$.modelId'
    value: string
  }

  export interface ModelLoadCapacityFieldEvent {
    field: '$.capacity'
    value: number
  }

  export interface ModelLoadInUseFieldEvent {
    field: '$.inUse'
    value: number
  }

  export function encode (obj: Partial<ModelLoad>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ModelLoad.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelLoad>): ModelLoad {
    return decodeMessage(buf, ModelLoad.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelLoad>): Generator<ModelLoadPipelineFieldEvent | ModelLoadModelIdFieldEvent | ModelLoadCapacityFieldEvent | ModelLoadInUseFieldEvent> {
    return streamMessage(buf, ModelLoad.codec(), opts)
  }
}

export interface Loads {
  entries: ModelLoad[]
}

export namespace Loads {
  let _codec: Codec<Loads>

  export const codec = (): Codec<Loads> => {
    if (_codec == null) {
      _codec = message<Loads>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.entries != null && obj.entries.length > 0) {
          for (const value of obj.entries) {
            w.uint32(10)
            ModelLoad.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          entries: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
              }

              if (obj.entries.length === 1024) {
                throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
              }

              obj.entries.push(ModelLoad.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.entries$
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
          entries: 1024
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.entries != null && obj.entries === opts.limits.entries) {
                throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
              }

              if (obj.entries === 1024) {
                throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
              }

              for (const evt of ModelLoad.codec().stream(reader, reader.uint32(), `${prefix}.entries[]`, {
                limits: opts.limits?.entries$
              })) {
                yield {
                  ...evt,
                  index: obj.entries
                }
              }

              obj.entries++

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

  export interface LoadsEntriesPipelineFieldEvent {
    field: '$.entries[].pipeline'
    value: string
    index: number
  }

  export interface LoadsEntriesModelIdFieldEvent {
    field: '$.entries[].modelId'
    value: string
    index: number
  }

  export interface LoadsEntriesCapacityFieldEvent {
    field: '$.entries[].capacity'
    value: number
    index: number
  }

  export interface LoadsEntriesInUseFieldEvent {
    field: '$.entries[].inUse'
    value: number
    index: number
  }

  export function encode (obj: Partial<Loads>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Loads.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Loads>): Loads {
    return decodeMessage(buf, Loads.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Loads>): Generator<LoadsEntriesPipelineFieldEvent | LoadsEntriesModelIdFieldEvent | LoadsEntriesCapacityFieldEvent | LoadsEntriesInUseFieldEvent> {
    return streamMessage(buf, Loads.codec(), opts)
  }
}

export interface Hello {
  version: number
  maxInputBytes: number
  prices: Price[]
  payment?: Uint8Array<ArrayBuffer>
  load?: Loads
}

export namespace Hello {
  let _codec: Codec<Hello>

  export const codec = (): Codec<Hello> => {
    if (_codec == null) {
      _codec = message<Hello>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.maxInputBytes != null && obj.maxInputBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.maxInputBytes)
        }

        if (obj.prices != null && obj.prices.length > 0) {
          for (const value of obj.prices) {
            w.uint32(26)
            Price.codec().encode(value, w)
          }
        }

        if (obj.payment != null) {
          w.uint32(34)
          w.bytes(obj.payment)
        }

        if (obj.load != null) {
          w.uint32(42)
          Loads.codec().encode(obj.load, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          maxInputBytes: 0,
          prices: []
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
              obj.maxInputBytes = reader.uint64Number()
              break
            }
            case 3: {
              if (opts.limits?.prices != null && obj.prices.length === opts.limits.prices) {
                throw new MaxLengthError('Decode error - repeated field "prices" had too many elements')
              }

              if (obj.prices.length === 1024) {
                throw new MaxLengthError('Decode error - repeated field "prices" had too many elements')
              }

              obj.prices.push(Price.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.prices$
              }))
              break
            }
            case 4: {
              obj.payment = reader.bytes()
              break
            }
            case 5: {
              obj.load = Loads.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.load
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
        const obj = {
          prices: 1024
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
              yield {
                field: `${prefix}.maxInputBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              if (opts.limits?.prices != null && obj.prices === opts.limits.prices) {
                throw new MaxLengthError('Streaming decode error - repeated field "prices" had too many elements')
              }

              if (obj.prices === 1024) {
                throw new MaxLengthError('Streaming decode error - repeated field "prices" had too many elements')
              }

              for (const evt of Price.codec().stream(reader, reader.uint32(), `${prefix}.prices[]`, {
                limits: opts.limits?.prices$
              })) {
                yield {
                  ...evt,
                  index: obj.prices
                }
              }

              obj.prices++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.payment`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield * Loads.codec().stream(reader, reader.uint32(), `${prefix}.load`, {
                limits: opts.limits?.load
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

  export interface HelloVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface HelloMaxInputBytesFieldEvent {
    field: '$.maxInputBytes'
    value: number
  }

  export interface HelloPricesPipelineFieldEvent {
    field: '$.prices[].pipeline'
    value: string
    index: number
  }

  export interface HelloPricesModelIdFieldEvent {
    field: '$.prices[].modelId'
    value: string
    index: number
  }

  export interface HelloPricesPricePerUnitFieldEvent {
    field: '$.prices[].pricePerUnit'
    value: string
    index: number
  }

  export interface HelloPricesPixelsPerUnitFieldEvent {
    field: '$.prices[].pixelsPerUnit'
    value: string
    index: number
  }

  export interface HelloPricesPricePerRequestFieldEvent {
    field: '$.prices[].pricePerRequest'
    value: string
    index: number
  }

  export interface HelloPaymentFieldEvent {
    field: '$.payment'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HelloLoadEntriesPipelineFieldEvent {
    field: '$.load.entries[].pipeline'
    value: string
    index: number
  }

  export interface HelloLoadEntriesModelIdFieldEvent {
    field: '$.load.entries[].modelId'
    value: string
    index: number
  }

  export interface HelloLoadEntriesCapacityFieldEvent {
    field: '$.load.entries[].capacity'
    value: number
    index: number
  }

  export interface HelloLoadEntriesInUseFieldEvent {
    field: '$.load.entries[].inUse'
    value: number
    index: number
  }

  export function encode (obj: Partial<Hello>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hello.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Hello {
    return decodeMessage(buf, Hello.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Generator<HelloVersionFieldEvent | HelloMaxInputBytesFieldEvent | HelloPricesPipelineFieldEvent | HelloPricesModelIdFieldEvent | HelloPricesPricePerUnitFieldEvent | HelloPricesPixelsPerUnitFieldEvent | HelloPricesPricePerRequestFieldEvent | HelloPaymentFieldEvent | HelloLoadEntriesPipelineFieldEvent | HelloLoadEntriesModelIdFieldEvent | HelloLoadEntriesCapacityFieldEvent | HelloLoadEntriesInUseFieldEvent> {
    return streamMessage(buf, Hello.codec(), opts)
  }
}

export interface QuoteRequest {
  payment?: Uint8Array<ArrayBuffer>
}

export namespace QuoteRequest {
  let _codec: Codec<QuoteRequest>

  export const codec = (): Codec<QuoteRequest> => {
    if (_codec == null) {
      _codec = message<QuoteRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.payment != null) {
          w.uint32(10)
          w.bytes(obj.payment)
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

  export interface QuoteRequestPaymentFieldEvent {
    field: '$.payment'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<QuoteRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, QuoteRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<QuoteRequest>): QuoteRequest {
    return decodeMessage(buf, QuoteRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<QuoteRequest>): Generator<QuoteRequestPaymentFieldEvent> {
    return streamMessage(buf, QuoteRequest.codec(), opts)
  }
}

export interface Quote {
  prices: Price[]
  payment?: Uint8Array<ArrayBuffer>
  load?: Loads
}

export namespace Quote {
  let _codec: Codec<Quote>

  export const codec = (): Codec<Quote> => {
    if (_codec == null) {
      _codec = message<Quote>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.prices != null && obj.prices.length > 0) {
          for (const value of obj.prices) {
            w.uint32(10)
            Price.codec().encode(value, w)
          }
        }

        if (obj.payment != null) {
          w.uint32(18)
          w.bytes(obj.payment)
        }

        if (obj.load != null) {
          w.uint32(26)
          Loads.codec().encode(obj.load, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          prices: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.prices != null && obj.prices.length === opts.limits.prices) {
                throw new MaxLengthError('Decode error - repeated field "prices" had too many elements')
              }

              if (obj.prices.length === 1024) {
                throw new MaxLengthError('Decode error - repeated field "prices" had too many elements')
              }

              obj.prices.push(Price.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.prices$
              }))
              break
            }
            case 2: {
              obj.payment = reader.bytes()
              break
            }
            case 3: {
              obj.load = Loads.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.load
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
        const obj = {
          prices: 1024
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.prices != null && obj.prices === opts.limits.prices) {
                throw new MaxLengthError('Streaming decode error - repeated field "prices" had too many elements')
              }

              if (obj.prices === 1024) {
                throw new MaxLengthError('Streaming decode error - repeated field "prices" had too many elements')
              }

              for (const evt of Price.codec().stream(reader, reader.uint32(), `${prefix}.prices[]`, {
                limits: opts.limits?.prices$
              })) {
                yield {
                  ...evt,
                  index: obj.prices
                }
              }

              obj.prices++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.payment`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield * Loads.codec().stream(reader, reader.uint32(), `${prefix}.load`, {
                limits: opts.limits?.load
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

  export interface QuotePricesPipelineFieldEvent {
    field: '$.prices[].pipeline'
    value: string
    index: number
  }

  export interface QuotePricesModelIdFieldEvent {
    field: '$.prices[].modelId'
    value: string
    index: number
  }

  export interface QuotePricesPricePerUnitFieldEvent {
    field: '$.prices[].pricePerUnit'
    value: string
    index: number
  }

  export interface QuotePricesPixelsPerUnitFieldEvent {
    field: '$.prices[].pixelsPerUnit'
    value: string
    index: number
  }

  export interface QuotePricesPricePerRequestFieldEvent {
    field: '$.prices[].pricePerRequest'
    value: string
    index: number
  }

  export interface QuotePaymentFieldEvent {
    field: '$.payment'
    value: Uint8Array<ArrayBuffer>
  }

  export interface QuoteLoadEntriesPipelineFieldEvent {
    field: '$.load.entries[].pipeline'
    value: string
    index: number
  }

  export interface QuoteLoadEntriesModelIdFieldEvent {
    field: '$.load.entries[].modelId'
    value: string
    index: number
  }

  export interface QuoteLoadEntriesCapacityFieldEvent {
    field: '$.load.entries[].capacity'
    value: number
    index: number
  }

  export interface QuoteLoadEntriesInUseFieldEvent {
    field: '$.load.entries[].inUse'
    value: number
    index: number
  }

  export function encode (obj: Partial<Quote>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Quote.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Quote>): Quote {
    return decodeMessage(buf, Quote.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Quote>): Generator<QuotePricesPipelineFieldEvent | QuotePricesModelIdFieldEvent | QuotePricesPricePerUnitFieldEvent | QuotePricesPixelsPerUnitFieldEvent | QuotePricesPricePerRequestFieldEvent | QuotePaymentFieldEvent | QuoteLoadEntriesPipelineFieldEvent | QuoteLoadEntriesModelIdFieldEvent | QuoteLoadEntriesCapacityFieldEvent | QuoteLoadEntriesInUseFieldEvent> {
    return streamMessage(buf, Quote.codec(), opts)
  }
}

export interface InputMeta {
  field: string
  filename: string
  contentType: string
  size: number
}

export namespace InputMeta {
  let _codec: Codec<InputMeta>

  export const codec = (): Codec<InputMeta> => {
    if (_codec == null) {
      _codec = message<InputMeta>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.field != null && obj.field !== '')) {
          w.uint32(10)
          w.string(obj.field)
        }

        if ((obj.filename != null && obj.filename !== '')) {
          w.uint32(18)
          w.string(obj.filename)
        }

        if ((obj.contentType != null && obj.contentType !== '')) {
          w.uint32(26)
          w.string(obj.contentType)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.size)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          field: '',
          filename: '',
          contentType: '',
          size: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.field = reader.string()
              break
            }
            case 2: {
              obj.filename = reader.string()
              break
            }
            case 3: {
              obj.contentType = reader.string()
              break
            }
            case 4: {
              obj.size = reader.uint64Number()
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
                field: `${prefix}.field`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.filename`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.contentType`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.size`,
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

  export interface InputMetaFieldFieldEvent {
    field: '$.field'
    value: string
  }

  export interface InputMetaFilenameFieldEvent {
    field: '$.filename'
    value: string
  }

  export interface InputMetaContentTypeFieldEvent {
    field: '$.contentType'
    value: string
  }

  export interface InputMetaSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export function encode (obj: Partial<InputMeta>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, InputMeta.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputMeta>): InputMeta {
    return decodeMessage(buf, InputMeta.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InputMeta>): Generator<InputMetaFieldFieldEvent | InputMetaFilenameFieldEvent | InputMetaContentTypeFieldEvent | InputMetaSizeFieldEvent> {
    return streamMessage(buf, InputMeta.codec(), opts)
  }
}

export interface JobHeader {
  requestId: string
  pipeline: string
  modelId: string
  params: Uint8Array<ArrayBuffer>
  deadlineMs: number
  inputs: InputMeta[]
  payment?: Uint8Array<ArrayBuffer>
}

export namespace JobHeader {
  let _codec: Codec<JobHeader>

  export const codec = (): Codec<JobHeader> => {
    if (_codec == null) {
      _codec = message<JobHeader>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== '')) {
          w.uint32(10)
          w.string(obj.requestId)
        }

        if ((obj.pipeline != null && obj.pipeline !== '')) {
          w.uint32(18)
          w.string(obj.pipeline)
        }

        if ((obj.modelId != null && obj.modelId !== '')) {
          w.uint32(26)
          w.string(obj.modelId)
        }

        if ((obj.params != null && obj.params.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.params)
        }

        if ((obj.deadlineMs != null && obj.deadlineMs !== 0)) {
          w.uint32(40)
          w.uint32(obj.deadlineMs)
        }

        if (obj.inputs != null && obj.inputs.length > 0) {
          for (const value of obj.inputs) {
            w.uint32(50)
            InputMeta.codec().encode(value, w)
          }
        }

        if (obj.payment != null) {
          w.uint32(58)
          w.bytes(obj.payment)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: '',
          pipeline: '',
          modelId: '',
          params: uint8ArrayAlloc(0),
          deadlineMs: 0,
          inputs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.string()
              break
            }
            case 2: {
              obj.pipeline = reader.string()
              break
            }
            case 3: {
              obj.modelId = reader.string()
              break
            }
            case 4: {
              obj.params = reader.bytes()
              break
            }
            case 5: {
              obj.deadlineMs = reader.uint32()
              break
            }
            case 6: {
              if (opts.limits?.inputs != null && obj.inputs.length === opts.limits.inputs) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              if (obj.inputs.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              obj.inputs.push(InputMeta.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.inputs$
              }))
              break
            }
            case 7: {
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
        const obj = {
          inputs: 16
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.pipeline`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.modelId`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.params`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.deadlineMs`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              if (opts.limits?.inputs != null && obj.inputs === opts.limits.inputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              if (obj.inputs === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              for (const evt of InputMeta.codec().stream(reader, reader.uint32(), `${prefix}.inputs[]`, {
                limits: opts.limits?.inputs$
              })) {
                yield {
                  ...evt,
                  index: obj.inputs
                }
              }

              obj.inputs++

              break
            }
            case 7: {
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

  export interface JobHeaderRequestIdFieldEvent {
    field: '$.requestId'
    value: string
  }

  export interface JobHeaderPipelineFieldEvent {
    field: '$.pipeline'
    value: string
  }

  export interface JobHeaderModelIdFieldEvent {
    field: '$.modelId'
    value: string
  }

  export interface JobHeaderParamsFieldEvent {
    field: '$.params'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobHeaderDeadlineMsFieldEvent {
    field: '$.deadlineMs'
    value: number
  }

  export interface JobHeaderInputsFieldFieldEvent {
    field: '$.inputs[].field'
    value: string
    index: number
  }

  export interface JobHeaderInputsFilenameFieldEvent {
    field: '$.inputs[].filename'
    value: string
    index: number
  }

  export interface JobHeaderInputsContentTypeFieldEvent {
    field: '$.inputs[].contentType'
    value: string
    index: number
  }

  export interface JobHeaderInputsSizeFieldEvent {
    field: '$.inputs[].size'
    value: number
    index: number
  }

  export interface JobHeaderPaymentFieldEvent {
    field: '$.payment'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<JobHeader>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobHeader.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobHeader>): JobHeader {
    return decodeMessage(buf, JobHeader.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobHeader>): Generator<JobHeaderRequestIdFieldEvent | JobHeaderPipelineFieldEvent | JobHeaderModelIdFieldEvent | JobHeaderParamsFieldEvent | JobHeaderDeadlineMsFieldEvent | JobHeaderInputsFieldFieldEvent | JobHeaderInputsFilenameFieldEvent | JobHeaderInputsContentTypeFieldEvent | JobHeaderInputsSizeFieldEvent | JobHeaderPaymentFieldEvent> {
    return streamMessage(buf, JobHeader.codec(), opts)
  }
}

export interface Progress {
  stage: string
  fraction?: number
}

export namespace Progress {
  let _codec: Codec<Progress>

  export const codec = (): Codec<Progress> => {
    if (_codec == null) {
      _codec = message<Progress>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.stage != null && obj.stage !== '')) {
          w.uint32(10)
          w.string(obj.stage)
        }

        if (obj.fraction != null) {
          w.uint32(17)
          w.double(obj.fraction)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          stage: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.stage = reader.string()
              break
            }
            case 2: {
              obj.fraction = reader.double()
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
                field: `${prefix}.stage`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.fraction`,
                value: reader.double()
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

  export interface ProgressStageFieldEvent {
    field: '$.stage'
    value: string
  }

  export interface ProgressFractionFieldEvent {
    field: '$.fraction'
    value: number
  }

  export function encode (obj: Partial<Progress>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Progress.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Progress>): Progress {
    return decodeMessage(buf, Progress.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Progress>): Generator<ProgressStageFieldEvent | ProgressFractionFieldEvent> {
    return streamMessage(buf, Progress.codec(), opts)
  }
}

export interface ResultHead {
  status: number
  contentType: string
}

export namespace ResultHead {
  let _codec: Codec<ResultHead>

  export const codec = (): Codec<ResultHead> => {
    if (_codec == null) {
      _codec = message<ResultHead>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.status != null && obj.status !== 0)) {
          w.uint32(8)
          w.uint32(obj.status)
        }

        if ((obj.contentType != null && obj.contentType !== '')) {
          w.uint32(18)
          w.string(obj.contentType)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: 0,
          contentType: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = reader.uint32()
              break
            }
            case 2: {
              obj.contentType = reader.string()
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
                field: `${prefix}.status`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.contentType`,
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

  export interface ResultHeadStatusFieldEvent {
    field: '$.status'
    value: number
  }

  export interface ResultHeadContentTypeFieldEvent {
    field: '$.contentType'
    value: string
  }

  export function encode (obj: Partial<ResultHead>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ResultHead.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultHead>): ResultHead {
    return decodeMessage(buf, ResultHead.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultHead>): Generator<ResultHeadStatusFieldEvent | ResultHeadContentTypeFieldEvent> {
    return streamMessage(buf, ResultHead.codec(), opts)
  }
}

export interface Final {
  code: FinalCode
  message?: string
  units?: number
  receipt?: Uint8Array<ArrayBuffer>
  load?: Loads
  signedReceipt?: Uint8Array<ArrayBuffer>
}

export namespace Final {
  let _codec: Codec<Final>

  export const codec = (): Codec<Final> => {
    if (_codec == null) {
      _codec = message<Final>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __FinalCodeValues[obj.code] !== 0) {
          w.uint32(8)
          FinalCode.codec().encode(obj.code, w)
        }

        if (obj.message != null) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (obj.units != null) {
          w.uint32(25)
          w.double(obj.units)
        }

        if (obj.receipt != null) {
          w.uint32(34)
          w.bytes(obj.receipt)
        }

        if (obj.load != null) {
          w.uint32(42)
          Loads.codec().encode(obj.load, w)
        }

        if (obj.signedReceipt != null) {
          w.uint32(242)
          w.bytes(obj.signedReceipt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: FinalCode.UNSPECIFIED
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = FinalCode.codec().decode(reader)
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            case 3: {
              obj.units = reader.double()
              break
            }
            case 4: {
              obj.receipt = reader.bytes()
              break
            }
            case 5: {
              obj.load = Loads.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.load
              })
              break
            }
            case 30: {
              obj.signedReceipt = reader.bytes()
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
                value: FinalCode.codec().decode(reader)
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
            case 3: {
              yield {
                field: `${prefix}.units`,
                value: reader.double()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.receipt`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield * Loads.codec().stream(reader, reader.uint32(), `${prefix}.load`, {
                limits: opts.limits?.load
              })

              break
            }
            case 30: {
              yield {
                field: `${prefix}.signedReceipt`,
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

  export interface FinalCodeFieldEvent {
    field: '$.code'
    value: FinalCode
  }

  export interface FinalMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export interface FinalUnitsFieldEvent {
    field: '$.units'
    value: number
  }

  export interface FinalReceiptFieldEvent {
    field: '$.receipt'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FinalLoadEntriesPipelineFieldEvent {
    field: '$.load.entries[].pipeline'
    value: string
    index: number
  }

  export interface FinalLoadEntriesModelIdFieldEvent {
    field: '$.load.entries[].modelId'
    value: string
    index: number
  }

  export interface FinalLoadEntriesCapacityFieldEvent {
    field: '$.load.entries[].capacity'
    value: number
    index: number
  }

  export interface FinalLoadEntriesInUseFieldEvent {
    field: '$.load.entries[].inUse'
    value: number
    index: number
  }

  export interface FinalSignedReceiptFieldEvent {
    field: '$.signedReceipt'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Final>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Final.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Final>): Final {
    return decodeMessage(buf, Final.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Final>): Generator<FinalCodeFieldEvent | FinalMessageFieldEvent | FinalUnitsFieldEvent | FinalReceiptFieldEvent | FinalLoadEntriesPipelineFieldEvent | FinalLoadEntriesModelIdFieldEvent | FinalLoadEntriesCapacityFieldEvent | FinalLoadEntriesInUseFieldEvent | FinalSignedReceiptFieldEvent> {
    return streamMessage(buf, Final.codec(), opts)
  }
}

import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ReceiptBody {
  version: number
  orchestrator: string
  gateway: string
  requestId: string
  pipeline: string
  modelId: string
  inputHash: Uint8Array<ArrayBuffer>
  resultHash: Uint8Array<ArrayBuffer>
  status: number
  contentType: string
  resultBytes: number
  units: number
  pricePerUnit: string
  pixelsPerUnit: string
  chargedWei: string
  startedAt: number
  finishedAt: number
}

export namespace ReceiptBody {
  let _codec: Codec<ReceiptBody>

  export const codec = (): Codec<ReceiptBody> => {
    if (_codec == null) {
      _codec = message<ReceiptBody>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.orchestrator != null && obj.orchestrator !== '')) {
          w.uint32(18)
          w.string(obj.orchestrator)
        }

        if ((obj.gateway != null && obj.gateway !== '')) {
          w.uint32(26)
          w.string(obj.gateway)
        }

        if ((obj.requestId != null && obj.requestId !== '')) {
          w.uint32(34)
          w.string(obj.requestId)
        }

        if ((obj.pipeline != null && obj.pipeline !== '')) {
          w.uint32(42)
          w.string(obj.pipeline)
        }

        if ((obj.modelId != null && obj.modelId !== '')) {
          w.uint32(50)
          w.string(obj.modelId)
        }

        if ((obj.inputHash != null && obj.inputHash.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.inputHash)
        }

        if ((obj.resultHash != null && obj.resultHash.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.resultHash)
        }

        if ((obj.status != null && obj.status !== 0)) {
          w.uint32(72)
          w.uint32(obj.status)
        }

        if ((obj.contentType != null && obj.contentType !== '')) {
          w.uint32(82)
          w.string(obj.contentType)
        }

        if ((obj.resultBytes != null && obj.resultBytes !== 0)) {
          w.uint32(88)
          w.uint64Number(obj.resultBytes)
        }

        if ((obj.units != null && obj.units !== 0)) {
          w.uint32(97)
          w.double(obj.units)
        }

        if ((obj.pricePerUnit != null && obj.pricePerUnit !== '')) {
          w.uint32(106)
          w.string(obj.pricePerUnit)
        }

        if ((obj.pixelsPerUnit != null && obj.pixelsPerUnit !== '')) {
          w.uint32(114)
          w.string(obj.pixelsPerUnit)
        }

        if ((obj.chargedWei != null && obj.chargedWei !== '')) {
          w.uint32(122)
          w.string(obj.chargedWei)
        }

        if ((obj.startedAt != null && obj.startedAt !== 0)) {
          w.uint32(128)
          w.uint64Number(obj.startedAt)
        }

        if ((obj.finishedAt != null && obj.finishedAt !== 0)) {
          w.uint32(136)
          w.uint64Number(obj.finishedAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          orchestrator: '',
          gateway: '',
          requestId: '',
          pipeline: '',
          modelId: '',
          inputHash: uint8ArrayAlloc(0),
          resultHash: uint8ArrayAlloc(0),
          status: 0,
          contentType: '',
          resultBytes: 0,
          units: 0,
          pricePerUnit: '',
          pixelsPerUnit: '',
          chargedWei: '',
          startedAt: 0,
          finishedAt: 0
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
              obj.orchestrator = reader.string()
              break
            }
            case 3: {
              obj.gateway = reader.string()
              break
            }
            case 4: {
              obj.requestId = reader.string()
              break
            }
            case 5: {
              obj.pipeline = reader.string()
              break
            }
            case 6: {
              obj.modelId = reader.string()
              break
            }
            case 7: {
              obj.inputHash = reader.bytes()
              break
            }
            case 8: {
              obj.resultHash = reader.bytes()
              break
            }
            case 9: {
              obj.status = reader.uint32()
              break
            }
            case 10: {
              obj.contentType = reader.string()
              break
            }
            case 11: {
              obj.resultBytes = reader.uint64Number()
              break
            }
            case 12: {
              obj.units = reader.double()
              break
            }
            case 13: {
              obj.pricePerUnit = reader.string()
              break
            }
            case 14: {
              obj.pixelsPerUnit = reader.string()
              break
            }
            case 15: {
              obj.chargedWei = reader.string()
              break
            }
            case 16: {
              obj.startedAt = reader.uint64Number()
              break
            }
            case 17: {
              obj.finishedAt = reader.uint64Number()
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
                field: `${prefix}.orchestrator`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.gateway`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.pipeline`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.modelId`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.inputHash`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.resultHash`,
                value: reader.bytes()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.status`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.contentType`,
                value: reader.string()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.resultBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.units`,
                value: reader.double()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.pricePerUnit`,
                value: reader.string()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.pixelsPerUnit`,
                value: reader.string()
              }
              break
            }
            case 15: {
              yield {
                field: `${prefix}.chargedWei`,
                value: reader.string()
              }
              break
            }
            case 16: {
              yield {
                field: `${prefix}.startedAt`,
                value: reader.uint64Number()
              }
              break
            }
            case 17: {
              yield {
                field: `${prefix}.finishedAt`,
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

  export interface ReceiptBodyVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface ReceiptBodyOrchestratorFieldEvent {
    field: '$.orchestrator'
    value: string
  }

  export interface ReceiptBodyGatewayFieldEvent {
    field: '$.gateway'
    value: string
  }

  export interface ReceiptBodyRequestIdFieldEvent {
    field: '$.requestId'
    value: string
  }

  export interface ReceiptBodyPipelineFieldEvent {
    field: '$.pipeline'
    value: string
  }

  export interface ReceiptBodyModelIdFieldEvent {
    field: '$.modelId'
    value: string
  }

  export interface ReceiptBodyInputHashFieldEvent {
    field: '$.inputHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptBodyResultHashFieldEvent {
    field: '$.resultHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptBodyStatusFieldEvent {
    field: '$.status'
    value: number
  }

  export interface ReceiptBodyContentTypeFieldEvent {
    field: '$.contentType'
    value: string
  }

  export interface ReceiptBodyResultBytesFieldEvent {
    field: '$.resultBytes'
    value: number
  }

  export interface ReceiptBodyUnitsFieldEvent {
    field: '$.units'
    value: number
  }

  export interface ReceiptBodyPricePerUnitFieldEvent {
    field: '$.pricePerUnit'
    value: string
  }

  export interface ReceiptBodyPixelsPerUnitFieldEvent {
    field: '$.pixelsPerUnit'
    value: string
  }

  export interface ReceiptBodyChargedWeiFieldEvent {
    field: '$.chargedWei'
    value: string
  }

  export interface ReceiptBodyStartedAtFieldEvent {
    field: '$.startedAt'
    value: number
  }

  export interface ReceiptBodyFinishedAtFieldEvent {
    field: '$.finishedAt'
    value: number
  }

  export function encode (obj: Partial<ReceiptBody>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReceiptBody.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReceiptBody>): ReceiptBody {
    return decodeMessage(buf, ReceiptBody.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReceiptBody>): Generator<ReceiptBodyVersionFieldEvent | ReceiptBodyOrchestratorFieldEvent | ReceiptBodyGatewayFieldEvent | ReceiptBodyRequestIdFieldEvent | ReceiptBodyPipelineFieldEvent | ReceiptBodyModelIdFieldEvent | ReceiptBodyInputHashFieldEvent | ReceiptBodyResultHashFieldEvent | ReceiptBodyStatusFieldEvent | ReceiptBodyContentTypeFieldEvent | ReceiptBodyResultBytesFieldEvent | ReceiptBodyUnitsFieldEvent | ReceiptBodyPricePerUnitFieldEvent | ReceiptBodyPixelsPerUnitFieldEvent | ReceiptBodyChargedWeiFieldEvent | ReceiptBodyStartedAtFieldEvent | ReceiptBodyFinishedAtFieldEvent> {
    return streamMessage(buf, ReceiptBody.codec(), opts)
  }
}

export interface SignedReceipt {
  body: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedReceipt {
  let _codec: Codec<SignedReceipt>

  export const codec = (): Codec<SignedReceipt> => {
    if (_codec == null) {
      _codec = message<SignedReceipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.body != null && obj.body.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.body)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          body: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.body = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.body`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
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

  export interface SignedReceiptBodyFieldEvent {
    field: '$.body'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedReceiptSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedReceipt>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedReceipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedReceipt>): SignedReceipt {
    return decodeMessage(buf, SignedReceipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedReceipt>): Generator<SignedReceiptBodyFieldEvent | SignedReceiptSignatureFieldEvent> {
    return streamMessage(buf, SignedReceipt.codec(), opts)
  }
}

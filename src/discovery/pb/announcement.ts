import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum OfferLoad {
  UNSPECIFIED = 'UNSPECIFIED',
  AVAILABLE = 'AVAILABLE',
  SATURATED = 'SATURATED'
}

enum __OfferLoadValues {
  UNSPECIFIED = 0,
  AVAILABLE = 1,
  SATURATED = 2
}

export namespace OfferLoad {
  export const codec = (): Codec<OfferLoad> => {
    return enumeration<OfferLoad>(__OfferLoadValues)
  }
}

export interface ModelOffer {
  pipeline: string
  modelId: string
  warm: boolean
  capacity: number
  load: OfferLoad
  pricePerUnit: string
  pixelsPerUnit: string
  unit: string
  runnerVersion: string
  description?: string
  pricePerRequest?: string
  streaming?: boolean
}

export namespace ModelOffer {
  let _codec: Codec<ModelOffer>

  export const codec = (): Codec<ModelOffer> => {
    if (_codec == null) {
      _codec = message<ModelOffer>((obj, w, opts = {}) => {
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

        if ((obj.warm != null && obj.warm !== false)) {
          w.uint32(24)
          w.bool(obj.warm)
        }

        if ((obj.capacity != null && obj.capacity !== 0)) {
          w.uint32(32)
          w.uint32(obj.capacity)
        }

        if (obj.load != null && __OfferLoadValues[obj.load] !== 0) {
          w.uint32(40)
          OfferLoad.codec().encode(obj.load, w)
        }

        if ((obj.pricePerUnit != null && obj.pricePerUnit !== '')) {
          w.uint32(50)
          w.string(obj.pricePerUnit)
        }

        if ((obj.pixelsPerUnit != null && obj.pixelsPerUnit !== '')) {
          w.uint32(58)
          w.string(obj.pixelsPerUnit)
        }

        if ((obj.unit != null && obj.unit !== '')) {
          w.uint32(66)
          w.string(obj.unit)
        }

        if ((obj.runnerVersion != null && obj.runnerVersion !== '')) {
          w.uint32(74)
          w.string(obj.runnerVersion)
        }

        if (obj.description != null) {
          w.uint32(162)
          w.string(obj.description)
        }

        if (obj.pricePerRequest != null) {
          w.uint32(170)
          w.string(obj.pricePerRequest)
        }

        if (obj.streaming != null) {
          w.uint32(176)
          w.bool(obj.streaming)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pipeline: '',
          modelId: '',
          warm: false,
          capacity: 0,
          load: OfferLoad.UNSPECIFIED,
          pricePerUnit: '',
          pixelsPerUnit: '',
          unit: '',
          runnerVersion: ''
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
              obj.warm = reader.bool()
              break
            }
            case 4: {
              obj.capacity = reader.uint32()
              break
            }
            case 5: {
              obj.load = OfferLoad.codec().decode(reader)
              break
            }
            case 6: {
              obj.pricePerUnit = reader.string()
              break
            }
            case 7: {
              obj.pixelsPerUnit = reader.string()
              break
            }
            case 8: {
              obj.unit = reader.string()
              break
            }
            case 9: {
              obj.runnerVersion = reader.string()
              break
            }
            case 20: {
              obj.description = reader.string()
              break
            }
            case 21: {
              obj.pricePerRequest = reader.string()
              break
            }
            case 22: {
              obj.streaming = reader.bool()
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
                field: `${prefix}.warm`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.capacity`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.load`,
                value: OfferLoad.codec().decode(reader)
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.pricePerUnit`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.pixelsPerUnit`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.unit`,
                value: reader.string()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.runnerVersion`,
                value: reader.string()
              }
              break
            }
            case 20: {
              yield {
                field: `${prefix}.description`,
                value: reader.string()
              }
              break
            }
            case 21: {
              yield {
                field: `${prefix}.pricePerRequest`,
                value: reader.string()
              }
              break
            }
            case 22: {
              yield {
                field: `${prefix}.streaming`,
                value: reader.bool()
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

  export interface ModelOfferPipelineFieldEvent {
    field: '$.pipeline'
    value: string
  }

  export interface ModelOfferModelIdFieldEvent {
    field: '$.modelId'
    value: string
  }

  export interface ModelOfferWarmFieldEvent {
    field: '$.warm'
    value: boolean
  }

  export interface ModelOfferCapacityFieldEvent {
    field: '$.capacity'
    value: number
  }

  export interface ModelOfferLoadFieldEvent {
    field: '$.load'
    value: OfferLoad
  }

  export interface ModelOfferPricePerUnitFieldEvent {
    field: '$.pricePerUnit'
    value: string
  }

  export interface ModelOfferPixelsPerUnitFieldEvent {
    field: '$.pixelsPerUnit'
    value: string
  }

  export interface ModelOfferUnitFieldEvent {
    field: '$.unit'
    value: string
  }

  export interface ModelOfferRunnerVersionFieldEvent {
    field: '$.runnerVersion'
    value: string
  }

  export interface ModelOfferDescriptionFieldEvent {
    field: '$.description'
    value: string
  }

  export interface ModelOfferPricePerRequestFieldEvent {
    field: '$.pricePerRequest'
    value: string
  }

  export interface ModelOfferStreamingFieldEvent {
    field: '$.streaming'
    value: boolean
  }

  export function encode (obj: Partial<ModelOffer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ModelOffer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelOffer>): ModelOffer {
    return decodeMessage(buf, ModelOffer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelOffer>): Generator<ModelOfferPipelineFieldEvent | ModelOfferModelIdFieldEvent | ModelOfferWarmFieldEvent | ModelOfferCapacityFieldEvent | ModelOfferLoadFieldEvent | ModelOfferPricePerUnitFieldEvent | ModelOfferPixelsPerUnitFieldEvent | ModelOfferUnitFieldEvent | ModelOfferRunnerVersionFieldEvent | ModelOfferDescriptionFieldEvent | ModelOfferPricePerRequestFieldEvent | ModelOfferStreamingFieldEvent> {
    return streamMessage(buf, ModelOffer.codec(), opts)
  }
}

export interface Gpu {
  name: string
  memoryBytes: number
}

export namespace Gpu {
  let _codec: Codec<Gpu>

  export const codec = (): Codec<Gpu> => {
    if (_codec == null) {
      _codec = message<Gpu>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.memoryBytes != null && obj.memoryBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.memoryBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          memoryBytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.memoryBytes = reader.uint64Number()
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
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.memoryBytes`,
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

  export interface GpuNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface GpuMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: number
  }

  export function encode (obj: Partial<Gpu>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Gpu.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Gpu>): Gpu {
    return decodeMessage(buf, Gpu.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Gpu>): Generator<GpuNameFieldEvent | GpuMemoryBytesFieldEvent> {
    return streamMessage(buf, Gpu.codec(), opts)
  }
}

export interface Hardware {
  cpus: number
  memoryBytes: number
  gpus: Gpu[]
}

export namespace Hardware {
  let _codec: Codec<Hardware>

  export const codec = (): Codec<Hardware> => {
    if (_codec == null) {
      _codec = message<Hardware>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.cpus != null && obj.cpus !== 0)) {
          w.uint32(8)
          w.uint32(obj.cpus)
        }

        if ((obj.memoryBytes != null && obj.memoryBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.memoryBytes)
        }

        if (obj.gpus != null && obj.gpus.length > 0) {
          for (const value of obj.gpus) {
            w.uint32(26)
            Gpu.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cpus: 0,
          memoryBytes: 0,
          gpus: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.cpus = reader.uint32()
              break
            }
            case 2: {
              obj.memoryBytes = reader.uint64Number()
              break
            }
            case 3: {
              if (opts.limits?.gpus != null && obj.gpus.length === opts.limits.gpus) {
                throw new MaxLengthError('Decode error - repeated field "gpus" had too many elements')
              }

              if (obj.gpus.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "gpus" had too many elements')
              }

              obj.gpus.push(Gpu.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.gpus$
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
          gpus: 16
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.cpus`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.memoryBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              if (opts.limits?.gpus != null && obj.gpus === opts.limits.gpus) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpus" had too many elements')
              }

              if (obj.gpus === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpus" had too many elements')
              }

              for (const evt of Gpu.codec().stream(reader, reader.uint32(), `${prefix}.gpus[]`, {
                limits: opts.limits?.gpus$
              })) {
                yield {
                  ...evt,
                  index: obj.gpus
                }
              }

              obj.gpus++

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

  export interface HardwareCpusFieldEvent {
    field: '$.cpus'
    value: number
  }

  export interface HardwareMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: number
  }

  export interface HardwareGpusNameFieldEvent {
    field: '$.gpus[].name'
    value: string
    index: number
  }

  export interface HardwareGpusMemoryBytesFieldEvent {
    field: '$.gpus[].memoryBytes'
    value: number
    index: number
  }

  export function encode (obj: Partial<Hardware>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hardware.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hardware>): Hardware {
    return decodeMessage(buf, Hardware.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hardware>): Generator<HardwareCpusFieldEvent | HardwareMemoryBytesFieldEvent | HardwareGpusNameFieldEvent | HardwareGpusMemoryBytesFieldEvent> {
    return streamMessage(buf, Hardware.codec(), opts)
  }
}

export interface Announcement {
  version: number
  peerId: string
  addresses: string[]
  ethAddress: Uint8Array<ArrayBuffer>
  ethBinding: Uint8Array<ArrayBuffer>
  seq: number
  timestamp: number
  expiresAt: number
  models: ModelOffer[]
  hardware?: Hardware
  withdrawn: boolean
  bondBroker?: Uint8Array<ArrayBuffer>
}

export namespace Announcement {
  let _codec: Codec<Announcement>

  export const codec = (): Codec<Announcement> => {
    if (_codec == null) {
      _codec = message<Announcement>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(18)
          w.string(obj.peerId)
        }

        if (obj.addresses != null && obj.addresses.length > 0) {
          for (const value of obj.addresses) {
            w.uint32(26)
            w.string(value)
          }
        }

        if ((obj.ethAddress != null && obj.ethAddress.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.ethAddress)
        }

        if ((obj.ethBinding != null && obj.ethBinding.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.ethBinding)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.seq)
        }

        if ((obj.timestamp != null && obj.timestamp !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.timestamp)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0)) {
          w.uint32(64)
          w.uint64Number(obj.expiresAt)
        }

        if (obj.models != null && obj.models.length > 0) {
          for (const value of obj.models) {
            w.uint32(74)
            ModelOffer.codec().encode(value, w)
          }
        }

        if (obj.hardware != null) {
          w.uint32(82)
          Hardware.codec().encode(obj.hardware, w)
        }

        if ((obj.withdrawn != null && obj.withdrawn !== false)) {
          w.uint32(88)
          w.bool(obj.withdrawn)
        }

        if (obj.bondBroker != null) {
          w.uint32(242)
          w.bytes(obj.bondBroker)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          peerId: '',
          addresses: [],
          ethAddress: uint8ArrayAlloc(0),
          ethBinding: uint8ArrayAlloc(0),
          seq: 0,
          timestamp: 0,
          expiresAt: 0,
          models: [],
          withdrawn: false
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
              obj.peerId = reader.string()
              break
            }
            case 3: {
              if (opts.limits?.addresses != null && obj.addresses.length === opts.limits.addresses) {
                throw new MaxLengthError('Decode error - repeated field "addresses" had too many elements')
              }

              if (obj.addresses.length === 16) {
                throw new MaxLengthError('Decode error - repeated field "addresses" had too many elements')
              }

              obj.addresses.push(reader.string())
              break
            }
            case 4: {
              obj.ethAddress = reader.bytes()
              break
            }
            case 5: {
              obj.ethBinding = reader.bytes()
              break
            }
            case 6: {
              obj.seq = reader.uint64Number()
              break
            }
            case 7: {
              obj.timestamp = reader.uint64Number()
              break
            }
            case 8: {
              obj.expiresAt = reader.uint64Number()
              break
            }
            case 9: {
              if (opts.limits?.models != null && obj.models.length === opts.limits.models) {
                throw new MaxLengthError('Decode error - repeated field "models" had too many elements')
              }

              if (obj.models.length === 64) {
                throw new MaxLengthError('Decode error - repeated field "models" had too many elements')
              }

              obj.models.push(ModelOffer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.models$
              }))
              break
            }
            case 10: {
              obj.hardware = Hardware.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hardware
              })
              break
            }
            case 11: {
              obj.withdrawn = reader.bool()
              break
            }
            case 30: {
              obj.bondBroker = reader.bytes()
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
          addresses: 16,
          models: 64
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
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              if (opts.limits?.addresses != null && obj.addresses === opts.limits.addresses) {
                throw new MaxLengthError('Streaming decode error - repeated field "addresses" had too many elements')
              }

              if (obj.addresses === 16) {
                throw new MaxLengthError('Streaming decode error - repeated field "addresses" had too many elements')
              }

              yield {
                field: `${prefix}.addresses[]`,
                index: obj.addresses,
                value: reader.string()
              }

              obj.addresses++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.ethAddress`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.ethBinding`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.timestamp`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.uint64Number()
              }
              break
            }
            case 9: {
              if (opts.limits?.models != null && obj.models === opts.limits.models) {
                throw new MaxLengthError('Streaming decode error - repeated field "models" had too many elements')
              }

              if (obj.models === 64) {
                throw new MaxLengthError('Streaming decode error - repeated field "models" had too many elements')
              }

              for (const evt of ModelOffer.codec().stream(reader, reader.uint32(), `${prefix}.models[]`, {
                limits: opts.limits?.models$
              })) {
                yield {
                  ...evt,
                  index: obj.models
                }
              }

              obj.models++

              break
            }
            case 10: {
              yield * Hardware.codec().stream(reader, reader.uint32(), `${prefix}.hardware`, {
                limits: opts.limits?.hardware
              })

              break
            }
            case 11: {
              yield {
                field: `${prefix}.withdrawn`,
                value: reader.bool()
              }
              break
            }
            case 30: {
              yield {
                field: `${prefix}.bondBroker`,
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

  export interface AnnouncementVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface AnnouncementPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface AnnouncementAddressesFieldEvent {
    field: '$.addresses[]'
    index: number
    value: string
  }

  export interface AnnouncementEthAddressFieldEvent {
    field: '$.ethAddress'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AnnouncementEthBindingFieldEvent {
    field: '$.ethBinding'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AnnouncementSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface AnnouncementTimestampFieldEvent {
    field: '$.timestamp'
    value: number
  }

  export interface AnnouncementExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: number
  }

  export interface AnnouncementModelsPipelineFieldEvent {
    field: '$.models[].pipeline'
    value: string
    index: number
  }

  export interface AnnouncementModelsModelIdFieldEvent {
    field: '$.models[].modelId'
    value: string
    index: number
  }

  export interface AnnouncementModelsWarmFieldEvent {
    field: '$.models[].warm'
    value: boolean
    index: number
  }

  export interface AnnouncementModelsCapacityFieldEvent {
    field: '$.models[].capacity'
    value: number
    index: number
  }

  export interface AnnouncementModelsLoadFieldEvent {
    field: '$.models[].load'
    value: OfferLoad
    index: number
  }

  export interface AnnouncementModelsPricePerUnitFieldEvent {
    field: '$.models[].pricePerUnit'
    value: string
    index: number
  }

  export interface AnnouncementModelsPixelsPerUnitFieldEvent {
    field: '$.models[].pixelsPerUnit'
    value: string
    index: number
  }

  export interface AnnouncementModelsUnitFieldEvent {
    field: '$.models[].unit'
    value: string
    index: number
  }

  export interface AnnouncementModelsRunnerVersionFieldEvent {
    field: '$.models[].runnerVersion'
    value: string
    index: number
  }

  export interface AnnouncementModelsDescriptionFieldEvent {
    field: '$.models[].description'
    value: string
    index: number
  }

  export interface AnnouncementModelsPricePerRequestFieldEvent {
    field: '$.models[].pricePerRequest'
    value: string
    index: number
  }

  export interface AnnouncementModelsStreamingFieldEvent {
    field: '$.models[].streaming'
    value: boolean
    index: number
  }

  export interface AnnouncementHardwareCpusFieldEvent {
    field: '$.hardware.cpus'
    value: number
  }

  export interface AnnouncementHardwareMemoryBytesFieldEvent {
    field: '$.hardware.memoryBytes'
    value: number
  }

  export interface AnnouncementHardwareGpusNameFieldEvent {
    field: '$.hardware.gpus[].name'
    value: string
    index: number
  }

  export interface AnnouncementHardwareGpusMemoryBytesFieldEvent {
    field: '$.hardware.gpus[].memoryBytes'
    value: number
    index: number
  }

  export interface AnnouncementWithdrawnFieldEvent {
    field: '$.withdrawn'
    value: boolean
  }

  export interface AnnouncementBondBrokerFieldEvent {
    field: '$.bondBroker'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Announcement>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Announcement.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announcement>): Announcement {
    return decodeMessage(buf, Announcement.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announcement>): Generator<AnnouncementVersionFieldEvent | AnnouncementPeerIdFieldEvent | AnnouncementAddressesFieldEvent | AnnouncementEthAddressFieldEvent | AnnouncementEthBindingFieldEvent | AnnouncementSeqFieldEvent | AnnouncementTimestampFieldEvent | AnnouncementExpiresAtFieldEvent | AnnouncementModelsPipelineFieldEvent | AnnouncementModelsModelIdFieldEvent | AnnouncementModelsWarmFieldEvent | AnnouncementModelsCapacityFieldEvent | AnnouncementModelsLoadFieldEvent | AnnouncementModelsPricePerUnitFieldEvent | AnnouncementModelsPixelsPerUnitFieldEvent | AnnouncementModelsUnitFieldEvent | AnnouncementModelsRunnerVersionFieldEvent | AnnouncementModelsDescriptionFieldEvent | AnnouncementModelsPricePerRequestFieldEvent | AnnouncementModelsStreamingFieldEvent | AnnouncementHardwareCpusFieldEvent | AnnouncementHardwareMemoryBytesFieldEvent | AnnouncementHardwareGpusNameFieldEvent | AnnouncementHardwareGpusMemoryBytesFieldEvent | AnnouncementWithdrawnFieldEvent | AnnouncementBondBrokerFieldEvent> {
    return streamMessage(buf, Announcement.codec(), opts)
  }
}

export interface SignedAnnouncement {
  body: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedAnnouncement {
  let _codec: Codec<SignedAnnouncement>

  export const codec = (): Codec<SignedAnnouncement> => {
    if (_codec == null) {
      _codec = message<SignedAnnouncement>((obj, w, opts = {}) => {
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

  export interface SignedAnnouncementBodyFieldEvent {
    field: '$.body'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAnnouncementSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedAnnouncement>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedAnnouncement.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedAnnouncement>): SignedAnnouncement {
    return decodeMessage(buf, SignedAnnouncement.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedAnnouncement>): Generator<SignedAnnouncementBodyFieldEvent | SignedAnnouncementSignatureFieldEvent> {
    return streamMessage(buf, SignedAnnouncement.codec(), opts)
  }
}

import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface TicketParams {
  recipient: Uint8Array<ArrayBuffer>
  faceValue: Uint8Array<ArrayBuffer>
  winProb: Uint8Array<ArrayBuffer>
  recipientRandHash: Uint8Array<ArrayBuffer>
  seed: Uint8Array<ArrayBuffer>
  expirationBlock: Uint8Array<ArrayBuffer>
  chainId: Uint8Array<ArrayBuffer>
  broker: Uint8Array<ArrayBuffer>
}

export namespace TicketParams {
  let _codec: Codec<TicketParams>

  export const codec = (): Codec<TicketParams> => {
    if (_codec == null) {
      _codec = message<TicketParams>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.recipient != null && obj.recipient.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.recipient)
        }

        if ((obj.faceValue != null && obj.faceValue.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.faceValue)
        }

        if ((obj.winProb != null && obj.winProb.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.winProb)
        }

        if ((obj.recipientRandHash != null && obj.recipientRandHash.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.recipientRandHash)
        }

        if ((obj.seed != null && obj.seed.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.seed)
        }

        if ((obj.expirationBlock != null && obj.expirationBlock.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.expirationBlock)
        }

        if ((obj.chainId != null && obj.chainId.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.chainId)
        }

        if ((obj.broker != null && obj.broker.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.broker)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          recipient: uint8ArrayAlloc(0),
          faceValue: uint8ArrayAlloc(0),
          winProb: uint8ArrayAlloc(0),
          recipientRandHash: uint8ArrayAlloc(0),
          seed: uint8ArrayAlloc(0),
          expirationBlock: uint8ArrayAlloc(0),
          chainId: uint8ArrayAlloc(0),
          broker: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.recipient = reader.bytes()
              break
            }
            case 2: {
              obj.faceValue = reader.bytes()
              break
            }
            case 3: {
              obj.winProb = reader.bytes()
              break
            }
            case 4: {
              obj.recipientRandHash = reader.bytes()
              break
            }
            case 5: {
              obj.seed = reader.bytes()
              break
            }
            case 6: {
              obj.expirationBlock = reader.bytes()
              break
            }
            case 7: {
              obj.chainId = reader.bytes()
              break
            }
            case 8: {
              obj.broker = reader.bytes()
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
                field: `${prefix}.recipient`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.faceValue`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.winProb`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.recipientRandHash`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.seed`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.expirationBlock`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.chainId`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.broker`,
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

  export interface TicketParamsRecipientFieldEvent {
    field: '$.recipient'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketParamsFaceValueFieldEvent {
    field: '$.faceValue'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketParamsWinProbFieldEvent {
    field: '$.winProb'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketParamsRecipientRandHashFieldEvent {
    field: '$.recipientRandHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketParamsSeedFieldEvent {
    field: '$.seed'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketParamsExpirationBlockFieldEvent {
    field: '$.expirationBlock'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketParamsChainIdFieldEvent {
    field: '$.chainId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketParamsBrokerFieldEvent {
    field: '$.broker'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<TicketParams>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TicketParams.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TicketParams>): TicketParams {
    return decodeMessage(buf, TicketParams.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TicketParams>): Generator<TicketParamsRecipientFieldEvent | TicketParamsFaceValueFieldEvent | TicketParamsWinProbFieldEvent | TicketParamsRecipientRandHashFieldEvent | TicketParamsSeedFieldEvent | TicketParamsExpirationBlockFieldEvent | TicketParamsChainIdFieldEvent | TicketParamsBrokerFieldEvent> {
    return streamMessage(buf, TicketParams.codec(), opts)
  }
}

export interface SignedTicket {
  senderNonce: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedTicket {
  let _codec: Codec<SignedTicket>

  export const codec = (): Codec<SignedTicket> => {
    if (_codec == null) {
      _codec = message<SignedTicket>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.senderNonce != null && obj.senderNonce.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.senderNonce)
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
          senderNonce: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.senderNonce = reader.bytes()
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
                field: `${prefix}.senderNonce`,
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

  export interface SignedTicketSenderNonceFieldEvent {
    field: '$.senderNonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedTicketSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedTicket>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedTicket.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedTicket>): SignedTicket {
    return decodeMessage(buf, SignedTicket.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedTicket>): Generator<SignedTicketSenderNonceFieldEvent | SignedTicketSignatureFieldEvent> {
    return streamMessage(buf, SignedTicket.codec(), opts)
  }
}

export interface TicketBatch {
  params?: TicketParams
  sender: Uint8Array<ArrayBuffer>
  tickets: SignedTicket[]
}

export namespace TicketBatch {
  let _codec: Codec<TicketBatch>

  export const codec = (): Codec<TicketBatch> => {
    if (_codec == null) {
      _codec = message<TicketBatch>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.params != null) {
          w.uint32(10)
          TicketParams.codec().encode(obj.params, w)
        }

        if ((obj.sender != null && obj.sender.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.sender)
        }

        if (obj.tickets != null && obj.tickets.length > 0) {
          for (const value of obj.tickets) {
            w.uint32(26)
            SignedTicket.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sender: uint8ArrayAlloc(0),
          tickets: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.params = TicketParams.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.params
              })
              break
            }
            case 2: {
              obj.sender = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.tickets != null && obj.tickets.length === opts.limits.tickets) {
                throw new MaxLengthError('Decode error - repeated field "tickets" had too many elements')
              }

              if (obj.tickets.length === 1000) {
                throw new MaxLengthError('Decode error - repeated field "tickets" had too many elements')
              }

              obj.tickets.push(SignedTicket.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tickets$
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
          tickets: 1000
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * TicketParams.codec().stream(reader, reader.uint32(), `${prefix}.params`, {
                limits: opts.limits?.params
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.sender`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.tickets != null && obj.tickets === opts.limits.tickets) {
                throw new MaxLengthError('Streaming decode error - repeated field "tickets" had too many elements')
              }

              if (obj.tickets === 1000) {
                throw new MaxLengthError('Streaming decode error - repeated field "tickets" had too many elements')
              }

              for (const evt of SignedTicket.codec().stream(reader, reader.uint32(), `${prefix}.tickets[]`, {
                limits: opts.limits?.tickets$
              })) {
                yield {
                  ...evt,
                  index: obj.tickets
                }
              }

              obj.tickets++

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

  export interface TicketBatchParamsRecipientFieldEvent {
    field: '$.params.recipient'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchParamsFaceValueFieldEvent {
    field: '$.params.faceValue'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchParamsWinProbFieldEvent {
    field: '$.params.winProb'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchParamsRecipientRandHashFieldEvent {
    field: '$.params.recipientRandHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchParamsSeedFieldEvent {
    field: '$.params.seed'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchParamsExpirationBlockFieldEvent {
    field: '$.params.expirationBlock'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchParamsChainIdFieldEvent {
    field: '$.params.chainId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchParamsBrokerFieldEvent {
    field: '$.params.broker'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchSenderFieldEvent {
    field: '$.sender'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TicketBatchTicketsSenderNonceFieldEvent {
    field: '$.tickets[].senderNonce'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface TicketBatchTicketsSignatureFieldEvent {
    field: '$.tickets[].signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<TicketBatch>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TicketBatch.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TicketBatch>): TicketBatch {
    return decodeMessage(buf, TicketBatch.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TicketBatch>): Generator<TicketBatchParamsRecipientFieldEvent | TicketBatchParamsFaceValueFieldEvent | TicketBatchParamsWinProbFieldEvent | TicketBatchParamsRecipientRandHashFieldEvent | TicketBatchParamsSeedFieldEvent | TicketBatchParamsExpirationBlockFieldEvent | TicketBatchParamsChainIdFieldEvent | TicketBatchParamsBrokerFieldEvent | TicketBatchSenderFieldEvent | TicketBatchTicketsSenderNonceFieldEvent | TicketBatchTicketsSignatureFieldEvent> {
    return streamMessage(buf, TicketBatch.codec(), opts)
  }
}

export interface QuotePayment {
  params?: TicketParams
}

export namespace QuotePayment {
  let _codec: Codec<QuotePayment>

  export const codec = (): Codec<QuotePayment> => {
    if (_codec == null) {
      _codec = message<QuotePayment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.params != null) {
          w.uint32(10)
          TicketParams.codec().encode(obj.params, w)
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
              obj.params = TicketParams.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.params
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
              yield * TicketParams.codec().stream(reader, reader.uint32(), `${prefix}.params`, {
                limits: opts.limits?.params
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

  export interface QuotePaymentParamsRecipientFieldEvent {
    field: '$.params.recipient'
    value: Uint8Array<ArrayBuffer>
  }

  export interface QuotePaymentParamsFaceValueFieldEvent {
    field: '$.params.faceValue'
    value: Uint8Array<ArrayBuffer>
  }

  export interface QuotePaymentParamsWinProbFieldEvent {
    field: '$.params.winProb'
    value: Uint8Array<ArrayBuffer>
  }

  export interface QuotePaymentParamsRecipientRandHashFieldEvent {
    field: '$.params.recipientRandHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface QuotePaymentParamsSeedFieldEvent {
    field: '$.params.seed'
    value: Uint8Array<ArrayBuffer>
  }

  export interface QuotePaymentParamsExpirationBlockFieldEvent {
    field: '$.params.expirationBlock'
    value: Uint8Array<ArrayBuffer>
  }

  export interface QuotePaymentParamsChainIdFieldEvent {
    field: '$.params.chainId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface QuotePaymentParamsBrokerFieldEvent {
    field: '$.params.broker'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<QuotePayment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, QuotePayment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<QuotePayment>): QuotePayment {
    return decodeMessage(buf, QuotePayment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<QuotePayment>): Generator<QuotePaymentParamsRecipientFieldEvent | QuotePaymentParamsFaceValueFieldEvent | QuotePaymentParamsWinProbFieldEvent | QuotePaymentParamsRecipientRandHashFieldEvent | QuotePaymentParamsSeedFieldEvent | QuotePaymentParamsExpirationBlockFieldEvent | QuotePaymentParamsChainIdFieldEvent | QuotePaymentParamsBrokerFieldEvent> {
    return streamMessage(buf, QuotePayment.codec(), opts)
  }
}

export interface JobPayment {
  sender: Uint8Array<ArrayBuffer>
  binding: Uint8Array<ArrayBuffer>
  tickets?: TicketBatch
}

export namespace JobPayment {
  let _codec: Codec<JobPayment>

  export const codec = (): Codec<JobPayment> => {
    if (_codec == null) {
      _codec = message<JobPayment>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.sender != null && obj.sender.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.sender)
        }

        if ((obj.binding != null && obj.binding.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.binding)
        }

        if (obj.tickets != null) {
          w.uint32(26)
          TicketBatch.codec().encode(obj.tickets, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sender: uint8ArrayAlloc(0),
          binding: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.sender = reader.bytes()
              break
            }
            case 2: {
              obj.binding = reader.bytes()
              break
            }
            case 3: {
              obj.tickets = TicketBatch.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tickets
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
              yield {
                field: `${prefix}.sender`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.binding`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield * TicketBatch.codec().stream(reader, reader.uint32(), `${prefix}.tickets`, {
                limits: opts.limits?.tickets
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

  export interface JobPaymentSenderFieldEvent {
    field: '$.sender'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentBindingFieldEvent {
    field: '$.binding'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsParamsRecipientFieldEvent {
    field: '$.tickets.params.recipient'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsParamsFaceValueFieldEvent {
    field: '$.tickets.params.faceValue'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsParamsWinProbFieldEvent {
    field: '$.tickets.params.winProb'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsParamsRecipientRandHashFieldEvent {
    field: '$.tickets.params.recipientRandHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsParamsSeedFieldEvent {
    field: '$.tickets.params.seed'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsParamsExpirationBlockFieldEvent {
    field: '$.tickets.params.expirationBlock'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsParamsChainIdFieldEvent {
    field: '$.tickets.params.chainId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsParamsBrokerFieldEvent {
    field: '$.tickets.params.broker'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsSenderFieldEvent {
    field: '$.tickets.sender'
    value: Uint8Array<ArrayBuffer>
  }

  export interface JobPaymentTicketsTicketsSenderNonceFieldEvent {
    field: '$.tickets.tickets[].senderNonce'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface JobPaymentTicketsTicketsSignatureFieldEvent {
    field: '$.tickets.tickets[].signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<JobPayment>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JobPayment.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobPayment>): JobPayment {
    return decodeMessage(buf, JobPayment.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobPayment>): Generator<JobPaymentSenderFieldEvent | JobPaymentBindingFieldEvent | JobPaymentTicketsParamsRecipientFieldEvent | JobPaymentTicketsParamsFaceValueFieldEvent | JobPaymentTicketsParamsWinProbFieldEvent | JobPaymentTicketsParamsRecipientRandHashFieldEvent | JobPaymentTicketsParamsSeedFieldEvent | JobPaymentTicketsParamsExpirationBlockFieldEvent | JobPaymentTicketsParamsChainIdFieldEvent | JobPaymentTicketsParamsBrokerFieldEvent | JobPaymentTicketsSenderFieldEvent | JobPaymentTicketsTicketsSenderNonceFieldEvent | JobPaymentTicketsTicketsSignatureFieldEvent> {
    return streamMessage(buf, JobPayment.codec(), opts)
  }
}

export interface Receipt {
  charged: Uint8Array<ArrayBuffer>
  balance: Uint8Array<ArrayBuffer>
  units?: number
  debt: Uint8Array<ArrayBuffer>
}

export namespace Receipt {
  let _codec: Codec<Receipt>

  export const codec = (): Codec<Receipt> => {
    if (_codec == null) {
      _codec = message<Receipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.charged != null && obj.charged.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.charged)
        }

        if ((obj.balance != null && obj.balance.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.balance)
        }

        if (obj.units != null) {
          w.uint32(24)
          w.uint64Number(obj.units)
        }

        if ((obj.debt != null && obj.debt.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.debt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          charged: uint8ArrayAlloc(0),
          balance: uint8ArrayAlloc(0),
          debt: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.charged = reader.bytes()
              break
            }
            case 2: {
              obj.balance = reader.bytes()
              break
            }
            case 3: {
              obj.units = reader.uint64Number()
              break
            }
            case 4: {
              obj.debt = reader.bytes()
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
                field: `${prefix}.charged`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.balance`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.units`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.debt`,
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

  export interface ReceiptChargedFieldEvent {
    field: '$.charged'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptBalanceFieldEvent {
    field: '$.balance'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptUnitsFieldEvent {
    field: '$.units'
    value: number
  }

  export interface ReceiptDebtFieldEvent {
    field: '$.debt'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Receipt>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Receipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Receipt {
    return decodeMessage(buf, Receipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Generator<ReceiptChargedFieldEvent | ReceiptBalanceFieldEvent | ReceiptUnitsFieldEvent | ReceiptDebtFieldEvent> {
    return streamMessage(buf, Receipt.codec(), opts)
  }
}

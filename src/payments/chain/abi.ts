import { Interface } from 'ethers'
import { ChainError } from '../errors.js'

const TICKET = 'tuple(address recipient, address sender, uint256 faceValue, uint256 winProb, uint256 senderNonce, bytes32 recipientRandHash, uint256 expirationBlock)'

/**
 * The TicketBroker ABI, written out so clients need no compiler at run time. A test pins
 * it against the ABI solc produces from contracts/TicketBroker.sol.
 */
export const TICKET_BROKER_ABI = [
  'constructor(uint256 unlockPeriod_, uint256 redeemWindow_)',
  'function fundDeposit() payable',
  'function fundReserve(uint32 maxRecipients) payable',
  'function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount, uint32 maxRecipients) payable',
  'function unlock()',
  'function cancelUnlock()',
  'function withdraw()',
  `function redeemWinningTicket(${TICKET} ticket, bytes sig, uint256 recipientRand)`,
  `function batchRedeemWinningTickets(${TICKET}[] tickets, bytes[] sigs, uint256[] recipientRands)`,
  `function getTicketHash(${TICKET} t) view returns (bytes32)`,
  'function getSenderInfo(address sender) view returns (uint256 deposit, uint256 withdrawBlock, uint256 reserveFunds, uint256 reserveAllocBase, uint32 maxRecipients, uint64 reserveEpoch, bool reserveFrozen)',
  'function claimedReserve(address sender, address recipient) view returns (uint256)',
  'function claimableReserve(address sender, address recipient) view returns (uint256)',
  'function usedTickets(bytes32) view returns (bool)',
  'function unlockPeriod() view returns (uint256)',
  'function redeemWindow() view returns (uint256)',
  'function bond() payable',
  'function unbond(uint256 amount)',
  'function withdrawBond()',
  'function bondOf(address orchestrator) view returns (uint256 bonded, uint256 unbonding, uint256 withdrawBlock)',
  'event DepositFunded(address indexed sender, uint256 amount)',
  'event ReserveFunded(address indexed sender, uint256 amount, uint32 maxRecipients, uint64 epoch)',
  'event WinningTicketRedeemed(bytes32 indexed ticketHash, address indexed sender, address indexed recipient, uint256 faceValue, uint256 fromDeposit, uint256 fromReserve)',
  'event TicketRedemptionFailed(uint256 index, bytes32 indexed ticketHash, bytes reason)',
  'event Unlock(address indexed sender, uint256 startBlock, uint256 withdrawBlock)',
  'event UnlockCancelled(address indexed sender)',
  'event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve)',
  'event Bonded(address indexed orchestrator, uint256 amount, uint256 bonded)',
  'event Unbonding(address indexed orchestrator, uint256 amount, uint256 bonded, uint256 withdrawBlock)',
  'event BondWithdrawn(address indexed orchestrator, uint256 amount)',
  'error ZeroValue()',
  'error ValueMismatch()',
  'error InvalidMaxRecipients()',
  'error MaxRecipientsIncrease(uint32 current, uint32 requested)',
  'error NoFunds()',
  'error AlreadyUnlocking()',
  'error NotUnlocking()',
  'error UnlockPeriodNotOver(uint256 withdrawBlock)',
  'error InvalidRecipient()',
  'error InvalidSender()',
  'error ZeroFaceValue()',
  'error TicketExpired()',
  'error TicketUsed()',
  'error InvalidRecipientRand()',
  'error InvalidSignature()',
  'error TicketNotWinning()',
  'error SenderUnfunded()',
  'error LengthMismatch()',
  'error TransferFailed()',
  'error Reentrancy()',
  'error InsufficientBond(uint256 bonded)'
] as const

export const ticketBrokerInterface = new Interface(TICKET_BROKER_ABI)

interface MaybeRevert {
  revert?: { name?: string } | null
  data?: unknown
  info?: { error?: { data?: unknown } }
  error?: { data?: unknown }
  code?: string
  shortMessage?: string
  message?: string
}

function findRevertData (err: MaybeRevert): string | undefined {
  for (const candidate of [err.data, err.info?.error?.data, err.error?.data]) {
    if (typeof candidate === 'string' && candidate.startsWith('0x') && candidate.length >= 10) return candidate
    if (candidate !== null && typeof candidate === 'object' && typeof (candidate as { data?: unknown }).data === 'string') {
      return (candidate as { data: string }).data
    }
  }
  return undefined
}

/** The contract's custom error name carried by an ethers error, if any. */
export function revertReason (err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined
  const e = err as MaybeRevert
  if (typeof e.revert?.name === 'string') return e.revert.name
  const data = findRevertData(e)
  if (data === undefined) return undefined
  try {
    return ticketBrokerInterface.parseError(data)?.name
  } catch {
    return undefined
  }
}

/** Turns an ethers failure into a ChainError: CHAIN_ERROR_REVERTED with `details.reason`, else CHAIN_ERROR_RPC. */
export function toChainError (err: unknown, what: string): ChainError {
  if (err instanceof ChainError) return err
  const reason = revertReason(err)
  if (reason !== undefined) {
    return new ChainError('CHAIN_ERROR_REVERTED', `${what}: the broker refused (${reason})`, { reason }, { cause: err })
  }
  const e = err as MaybeRevert
  if (e?.code === 'CALL_EXCEPTION') {
    return new ChainError('CHAIN_ERROR_REVERTED', `${what}: reverted (${e.shortMessage ?? 'no reason'})`, { reason: 'unknown' }, { cause: err })
  }
  return new ChainError('CHAIN_ERROR_RPC', `${what}: ${e?.shortMessage ?? e?.message ?? String(err)}`, undefined, { cause: err })
}

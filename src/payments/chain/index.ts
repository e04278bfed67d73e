/** The chain side of payments: local anvil, compile + deploy, the ethers Broker, account operations. */
export { startAnvil, anvilBinary, waitForRpc, type LocalChain, type AnvilOptions } from './anvil.js'
export { loadContractArtifact, loadTicketBrokerArtifact, findContractsRoot, type ContractArtifact, type ContractName } from './compile.js'
export { deployPriceAggregator, deployTicketBroker, type AggregatorDeployOptions, DEFAULT_UNLOCK_PERIOD_BLOCKS, DEFAULT_REDEEM_WINDOW_BLOCKS, type Deployment, type DeployOptions } from './deploy.js'
export { createEthersBroker, type EthersBrokerInit } from './ethers-broker.js'
export { createWinningTicketLog, type RecipientWinners, type WinningTicketLog, type WinningTicketLogInit } from './winning-tickets.js'
export { createChainOperations, type ChainOperations, type ChainStatus, type TxResult } from './operations.js'
export { createProvider, DEFAULT_CHAIN_CONNECT_TIMEOUT_MS, type ProviderOptions } from './provider.js'
export { TICKET_BROKER_ABI, ticketBrokerInterface, revertReason } from './abi.js'

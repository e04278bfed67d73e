export { createBondBook, defaultStakeOptions, type BondBook, type BondBookInit, type StakeOptions } from './bonds.js'

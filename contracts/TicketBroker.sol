// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Shoal TicketBroker
 * @notice Settles Shoal's probabilistic micropayments. A sender (gateway) funds a deposit
 * and a reserve; recipients (orchestrators) redeem winning tickets signed by the sender.
 *
 * Rules (see src/payments/README.md for the full picture):
 * - A ticket is the tuple (recipient, sender, faceValue, winProb, senderNonce,
 *   recipientRandHash, expirationBlock). Its hash binds it to this contract and chain:
 *   keccak256(abi.encodePacked(recipient, sender, faceValue, winProb, senderNonce,
 *   recipientRandHash, expirationBlock, block.chainid, address(this))).
 * - The sender signs that hash with the EIP-191 personal-message prefix (65-byte r|s|v,
 *   low-s only, v in {27, 28}).
 * - A ticket wins when uint256(keccak256(signature ‖ recipientRand)) < winProb, where
 *   keccak256(recipientRand) == recipientRandHash (commit-reveal by the recipient).
 * - A ticket can be redeemed once, until `redeemWindow` blocks after its params'
 *   expiration block. Recipients redeem only after the params expired, so recipientRand
 *   stays secret while the params are in use.
 * - A winning ticket is paid from the sender's deposit first, then from the reserve.
 *   Reserve rule: the sender declares `maxRecipients` (N). Each recipient may claim at
 *   most allocBase / N per reserve epoch, where allocBase is the reserve's funds at the
 *   first claim of the epoch (the reserve "freezes" then, so early claimants cannot
 *   shrink the share of later ones). Topping up a frozen reserve starts a new epoch
 *   whose allocBase is the new balance. N may only be raised while the reserve is empty.
 * - Senders unlock, wait `unlockPeriod` blocks, then withdraw deposit and reserve.
 * - Orchestrators may bond funds (stake against Sybil identities, issue 15): bond() adds
 *   to the bond; unbond(amount) moves part of it out of the bond at once and makes it
 *   withdrawable `unlockPeriod` blocks later (a further unbond restarts the wait);
 *   withdrawBond() takes the unbonded funds back. Gateways read bondOf() for the Ethereum
 *   address an orchestrator's announcement binds to its peer id.
 */
contract TicketBroker {
    struct Ticket {
        address recipient;
        address sender;
        uint256 faceValue;
        uint256 winProb;
        uint256 senderNonce;
        bytes32 recipientRandHash;
        uint256 expirationBlock;
    }

    struct SenderState {
        uint256 deposit;
        uint256 withdrawBlock; // 0 while not unlocking
    }

    struct ReserveState {
        uint256 funds;
        uint256 allocBase; // funds when the current epoch froze (its first claim)
        uint64 epoch;
        uint32 maxRecipients;
        bool frozen;
    }

    // secp256k1 order / 2: signatures with a larger s are malleable copies and refused.
    uint256 private constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice Blocks between unlock() and the first block withdraw() is allowed in.
    uint256 public immutable unlockPeriod;
    /// @notice Blocks after a ticket's expirationBlock during which it may still be redeemed.
    uint256 public immutable redeemWindow;

    mapping(address => SenderState) private senders;
    mapping(address => ReserveState) private reserves;
    // sender => reserve epoch => recipient => amount claimed from the reserve
    mapping(address => mapping(uint64 => mapping(address => uint256))) private claimed;
    /// @notice Ticket hashes already redeemed.
    mapping(bytes32 => bool) public usedTickets;

    struct BondState {
        uint256 bonded;
        uint256 unbonding;
        uint256 withdrawBlock; // 0 while nothing is unbonding
    }

    mapping(address => BondState) private bonds;

    uint256 private lock = 1;

    event DepositFunded(address indexed sender, uint256 amount);
    event ReserveFunded(address indexed sender, uint256 amount, uint32 maxRecipients, uint64 epoch);
    event WinningTicketRedeemed(
        bytes32 indexed ticketHash,
        address indexed sender,
        address indexed recipient,
        uint256 faceValue,
        uint256 fromDeposit,
        uint256 fromReserve
    );
    event TicketRedemptionFailed(uint256 index, bytes32 indexed ticketHash, bytes reason);
    event Unlock(address indexed sender, uint256 startBlock, uint256 withdrawBlock);
    event UnlockCancelled(address indexed sender);
    event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve);
    event Bonded(address indexed orchestrator, uint256 amount, uint256 bonded);
    event Unbonding(address indexed orchestrator, uint256 amount, uint256 bonded, uint256 withdrawBlock);
    event BondWithdrawn(address indexed orchestrator, uint256 amount);

    error ZeroValue();
    error ValueMismatch();
    error InvalidMaxRecipients();
    error MaxRecipientsIncrease(uint32 current, uint32 requested);
    error NoFunds();
    error AlreadyUnlocking();
    error NotUnlocking();
    error UnlockPeriodNotOver(uint256 withdrawBlock);
    error InvalidRecipient();
    error InvalidSender();
    error ZeroFaceValue();
    error TicketExpired();
    error TicketUsed();
    error InvalidRecipientRand();
    error InvalidSignature();
    error TicketNotWinning();
    error SenderUnfunded();
    error LengthMismatch();
    error TransferFailed();
    error Reentrancy();
    error InsufficientBond(uint256 bonded);

    modifier nonReentrant() {
        if (lock != 1) revert Reentrancy();
        lock = 2;
        _;
        lock = 1;
    }

    constructor(uint256 unlockPeriod_, uint256 redeemWindow_) {
        unlockPeriod = unlockPeriod_;
        redeemWindow = redeemWindow_;
    }

    // ---------------------------------------------------------------- funding

    /// @notice Adds msg.value to the caller's deposit.
    function fundDeposit() external payable {
        if (msg.value == 0) revert ZeroValue();
        _fundDeposit(msg.sender, msg.value);
    }

    /// @notice Adds msg.value to the caller's reserve and sets how many recipients share it.
    function fundReserve(uint32 maxRecipients) external payable {
        if (msg.value == 0) revert ZeroValue();
        _fundReserve(msg.sender, msg.value, maxRecipients);
    }

    /// @notice Funds both in one call; msg.value must equal depositAmount + reserveAmount.
    function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount, uint32 maxRecipients) external payable {
        if (msg.value == 0) revert ZeroValue();
        if (depositAmount + reserveAmount != msg.value) revert ValueMismatch();
        if (depositAmount > 0) _fundDeposit(msg.sender, depositAmount);
        if (reserveAmount > 0) _fundReserve(msg.sender, reserveAmount, maxRecipients);
    }

    function _fundDeposit(address sender, uint256 amount) private {
        senders[sender].deposit += amount;
        emit DepositFunded(sender, amount);
    }

    function _fundReserve(address sender, uint256 amount, uint32 maxRecipients) private {
        if (maxRecipients == 0) revert InvalidMaxRecipients();
        ReserveState storage r = reserves[sender];
        // Raising N shrinks every recipient's share of money already promised: only while empty.
        if (r.funds != 0 && maxRecipients > r.maxRecipients) revert MaxRecipientsIncrease(r.maxRecipients, maxRecipients);
        if (r.frozen) {
            r.epoch += 1;
            r.frozen = false;
            r.allocBase = 0;
        }
        r.funds += amount;
        r.maxRecipients = maxRecipients;
        emit ReserveFunded(sender, amount, maxRecipients, r.epoch);
    }

    // ---------------------------------------------------------------- unlock and withdraw

    /// @notice Starts the unlock period; withdraw() is allowed from block.number + unlockPeriod.
    function unlock() external {
        SenderState storage s = senders[msg.sender];
        if (s.deposit == 0 && reserves[msg.sender].funds == 0) revert NoFunds();
        if (s.withdrawBlock != 0) revert AlreadyUnlocking();
        s.withdrawBlock = block.number + unlockPeriod;
        emit Unlock(msg.sender, block.number, s.withdrawBlock);
    }

    /// @notice Stops an unlock in progress.
    function cancelUnlock() external {
        SenderState storage s = senders[msg.sender];
        if (s.withdrawBlock == 0) revert NotUnlocking();
        s.withdrawBlock = 0;
        emit UnlockCancelled(msg.sender);
    }

    /// @notice Sends the whole deposit and reserve to the caller once the unlock period is over.
    function withdraw() external nonReentrant {
        SenderState storage s = senders[msg.sender];
        ReserveState storage r = reserves[msg.sender];
        uint256 wb = s.withdrawBlock;
        if (wb == 0) revert NotUnlocking();
        if (block.number < wb) revert UnlockPeriodNotOver(wb);
        uint256 deposit = s.deposit;
        uint256 reserve = r.funds;
        s.deposit = 0;
        s.withdrawBlock = 0;
        r.funds = 0;
        r.allocBase = 0;
        if (r.frozen) {
            r.frozen = false;
            r.epoch += 1;
        }
        emit Withdrawal(msg.sender, deposit, reserve);
        (bool ok, ) = msg.sender.call{value: deposit + reserve}("");
        if (!ok) revert TransferFailed();
    }

    // ---------------------------------------------------------------- orchestrator bond

    /// @notice Adds msg.value to the caller's bond.
    function bond() external payable {
        if (msg.value == 0) revert ZeroValue();
        BondState storage b = bonds[msg.sender];
        b.bonded += msg.value;
        emit Bonded(msg.sender, msg.value, b.bonded);
    }

    /// @notice Takes `amount` out of the bond at once; it can be withdrawn `unlockPeriod` blocks later.
    function unbond(uint256 amount) external {
        if (amount == 0) revert ZeroValue();
        BondState storage b = bonds[msg.sender];
        if (amount > b.bonded) revert InsufficientBond(b.bonded);
        b.bonded -= amount;
        b.unbonding += amount;
        b.withdrawBlock = block.number + unlockPeriod;
        emit Unbonding(msg.sender, amount, b.bonded, b.withdrawBlock);
    }

    /// @notice Sends the unbonded funds to the caller once their wait is over.
    function withdrawBond() external nonReentrant {
        BondState storage b = bonds[msg.sender];
        uint256 wb = b.withdrawBlock;
        if (wb == 0 || b.unbonding == 0) revert NotUnlocking();
        if (block.number < wb) revert UnlockPeriodNotOver(wb);
        uint256 amount = b.unbonding;
        b.unbonding = 0;
        b.withdrawBlock = 0;
        emit BondWithdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    /// @notice An orchestrator's bond: what is bonded now, what is unbonding, and from which block it can be withdrawn.
    function bondOf(address orchestrator) external view returns (uint256 bonded, uint256 unbonding, uint256 withdrawBlock) {
        BondState storage b = bonds[orchestrator];
        return (b.bonded, b.unbonding, b.withdrawBlock);
    }

    // ---------------------------------------------------------------- redemption

    /// @notice Redeems one winning ticket; the face value goes to ticket.recipient.
    function redeemWinningTicket(Ticket calldata ticket, bytes calldata sig, uint256 recipientRand) external nonReentrant {
        _redeem(ticket, sig, recipientRand);
    }

    /// @notice Redeems many tickets; a failing ticket emits TicketRedemptionFailed and does not stop the others.
    function batchRedeemWinningTickets(Ticket[] calldata tickets, bytes[] calldata sigs, uint256[] calldata recipientRands) external {
        if (tickets.length != sigs.length || tickets.length != recipientRands.length) revert LengthMismatch();
        for (uint256 i = 0; i < tickets.length; i++) {
            try this.redeemWinningTicket(tickets[i], sigs[i], recipientRands[i]) {
            } catch (bytes memory reason) {
                emit TicketRedemptionFailed(i, getTicketHash(tickets[i]), reason);
            }
        }
    }

    function _redeem(Ticket calldata t, bytes calldata sig, uint256 recipientRand) private {
        if (t.recipient == address(0)) revert InvalidRecipient();
        if (t.sender == address(0)) revert InvalidSender();
        if (t.faceValue == 0) revert ZeroFaceValue();
        if (block.number > t.expirationBlock && block.number - t.expirationBlock > redeemWindow) revert TicketExpired();
        bytes32 ticketHash = getTicketHash(t);
        if (usedTickets[ticketHash]) revert TicketUsed();
        if (keccak256(abi.encodePacked(recipientRand)) != t.recipientRandHash) revert InvalidRecipientRand();
        if (!_isValidSignature(ticketHash, sig, t.sender)) revert InvalidSignature();
        if (uint256(keccak256(abi.encodePacked(sig, recipientRand))) >= t.winProb) revert TicketNotWinning();

        usedTickets[ticketHash] = true;

        SenderState storage s = senders[t.sender];
        uint256 fromDeposit = t.faceValue < s.deposit ? t.faceValue : s.deposit;
        s.deposit -= fromDeposit;
        uint256 fromReserve = 0;
        if (fromDeposit < t.faceValue) fromReserve = _claimReserve(t.sender, t.recipient, t.faceValue - fromDeposit);
        // Nothing to pay: revert so the ticket stays unused and may be redeemed later in its window.
        if (fromDeposit + fromReserve == 0) revert SenderUnfunded();

        emit WinningTicketRedeemed(ticketHash, t.sender, t.recipient, t.faceValue, fromDeposit, fromReserve);
        (bool ok, ) = t.recipient.call{value: fromDeposit + fromReserve}("");
        if (!ok) revert TransferFailed();
    }

    function _claimReserve(address sender, address recipient, uint256 needed) private returns (uint256) {
        ReserveState storage r = reserves[sender];
        if (r.funds == 0) return 0;
        if (!r.frozen) {
            r.frozen = true;
            r.allocBase = r.funds;
        }
        uint256 alloc = r.allocBase / r.maxRecipients;
        uint256 already = claimed[sender][r.epoch][recipient];
        if (already >= alloc) return 0;
        uint256 amount = alloc - already;
        if (amount > needed) amount = needed;
        if (amount > r.funds) amount = r.funds;
        claimed[sender][r.epoch][recipient] = already + amount;
        r.funds -= amount;
        return amount;
    }

    function _isValidSignature(bytes32 ticketHash, bytes calldata sig, address signer) private pure returns (bool) {
        if (sig.length != 65) return false;
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (uint256(s) > HALF_CURVE_ORDER) return false;
        if (v != 27 && v != 28) return false;
        bytes32 digest = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", ticketHash));
        address recovered = ecrecover(digest, v, r, s);
        return recovered != address(0) && recovered == signer;
    }

    // ---------------------------------------------------------------- views

    /// @notice The hash a sender signs (EIP-191) for a ticket, bound to this chain and contract.
    function getTicketHash(Ticket calldata t) public view returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                t.recipient,
                t.sender,
                t.faceValue,
                t.winProb,
                t.senderNonce,
                t.recipientRandHash,
                t.expirationBlock,
                block.chainid,
                address(this)
            )
        );
    }

    /// @notice A sender's funds and unlock state.
    function getSenderInfo(address sender)
        external
        view
        returns (
            uint256 deposit,
            uint256 withdrawBlock,
            uint256 reserveFunds,
            uint256 reserveAllocBase,
            uint32 maxRecipients,
            uint64 reserveEpoch,
            bool reserveFrozen
        )
    {
        SenderState storage s = senders[sender];
        ReserveState storage r = reserves[sender];
        return (s.deposit, s.withdrawBlock, r.funds, r.allocBase, r.maxRecipients, r.epoch, r.frozen);
    }

    /// @notice What `recipient` has claimed from `sender`'s reserve in the current epoch.
    function claimedReserve(address sender, address recipient) external view returns (uint256) {
        return claimed[sender][reserves[sender].epoch][recipient];
    }

    /// @notice What `recipient` could still claim from `sender`'s reserve right now.
    function claimableReserve(address sender, address recipient) external view returns (uint256) {
        ReserveState storage r = reserves[sender];
        if (r.funds == 0 || r.maxRecipients == 0) return 0;
        uint256 base = r.frozen ? r.allocBase : r.funds;
        uint256 alloc = base / r.maxRecipients;
        uint256 already = claimed[sender][r.epoch][recipient];
        if (already >= alloc) return 0;
        uint256 amount = alloc - already;
        return amount > r.funds ? r.funds : amount;
    }
}

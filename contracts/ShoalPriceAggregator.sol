// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Shoal price aggregator (for local and test chains)
 * @notice Chainlink's AggregatorV3Interface (decimals, description, version,
 * latestRoundData, getRoundData) with answers posted by its owner, as Chainlink's
 * MockV3Aggregator does. The testnet deploys it as the ETH/USD feed that orchestrators
 * pricing in USD and gateways showing USD read; on a real chain the same reader uses
 * Chainlink's own feed. Answers are not checked here (zero or negative ones may be
 * posted): readers must refuse them, and tests post them to see that they do.
 */
contract ShoalPriceAggregator {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
    }

    uint8 public immutable decimals;
    string public description;
    uint256 public constant version = 4;
    address public immutable owner;
    uint80 public latestRound;
    mapping(uint80 => Round) private rounds;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        decimals = decimals_;
        description = description_;
        owner = msg.sender;
        _post(initialAnswer, block.timestamp);
    }

    /// @notice Posts a new answer, updated now.
    function updateAnswer(int256 answer) external {
        require(msg.sender == owner, "only the owner posts answers");
        _post(answer, block.timestamp);
    }

    /// @notice Posts a new answer with the given update time (tests of stale answers).
    function updateRoundData(int256 answer, uint256 updatedAt) external {
        require(msg.sender == owner, "only the owner posts answers");
        _post(answer, updatedAt);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(latestRound);
    }

    function getRoundData(uint80 roundId) public view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = rounds[roundId];
        require(r.updatedAt > 0, "No data present");
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    function _post(int256 answer, uint256 updatedAt) private {
        latestRound += 1;
        rounds[latestRound] = Round(answer, updatedAt, updatedAt);
        emit AnswerUpdated(answer, latestRound, updatedAt);
    }
}

// SPDX-License-Identifier: MIT
// The L1 inbox of the rollup's batches (docs/rollup.md, "Contracts").
//
// It stores nothing: a frame stays in the calldata of the transaction that
// posted it, where derivation reads it, and the event says who posted which
// data. Only the configured batcher may post, so a deriving node reads the
// batcher's frames and nobody else's.
pragma solidity ^0.8.24;

contract BatchInbox {
    address public immutable batcher;
    bytes32 public immutable l2Genesis;

    event BatchPosted(address indexed sender, bytes32 dataHash);

    error ZeroBatcher();
    error NotBatcher(address sender);

    constructor(address batcher_, bytes32 l2Genesis_) {
        if (batcher_ == address(0)) revert ZeroBatcher();
        batcher = batcher_;
        l2Genesis = l2Genesis_;
    }

    function post(bytes calldata frame) external {
        if (msg.sender != batcher) revert NotBatcher(msg.sender);
        emit BatchPosted(msg.sender, keccak256(frame));
    }
}

// SPDX-License-Identifier: MIT
// The L1 side of the OPEN bridge (docs/rollup.md, "Bridge"). A deposit locks
// OPEN here and emits DepositInitiated, which the validators mint on the L2.
// A withdrawal burnt on the L2 sits in the withdrawals tree, a compressed
// sparse Merkle tree over SHA-256 whose root is part of the output root; once
// the output holding it is final in the oracle, anyone may release it here
// with an inclusion proof, checked with the rules of chain_smt_verify
// (chain/state/smt.c) through the SHA-256 precompile.
pragma solidity ^0.8.24;

import {OpenToken} from "OpenToken.sol";
import {OutputOracle} from "OutputOracle.sol";

contract Bridge {
    // Keeps the L2's sums (minted, burned, supply) within u64.
    uint256 public constant MAX_LOCKED = 10 ** 19;
    uint256 private constant MAX_SIBLINGS = 256;

    OpenToken public immutable token;
    OutputOracle public immutable oracle;
    // Copied from the oracle, where they are immutable too: saves a call.
    uint64 private immutable outputInterval;
    uint64 private immutable finalizationPeriodSeconds;

    // One slot, written by every deposit: MAX_LOCKED < 2^64, so the locked
    // amount fits beside the nonce.
    uint64 public depositNonce;
    uint64 private locked;
    // Released withdrawal ids, 256 per slot: a release next to an earlier one
    // rewrites a non-zero slot instead of filling an empty one.
    mapping(uint256 => uint256) private finalizedBits;

    struct Withdrawal {
        uint64 id;
        bytes20 sender;
        address l1Recipient;
        uint64 amount;
    }

    event DepositInitiated(uint64 indexed nonce, address indexed from, bytes20 l2Recipient, uint64 amount);
    event WithdrawalFinalized(uint64 indexed id, address indexed l1Recipient, uint64 amount);

    error ZeroAmount();
    error ZeroRecipient();
    error LockLimit(uint256 locked, uint256 amount);
    error OutputNotFound(uint64 outputIndex);
    error OracleFrozen();
    error NotFinal(uint256 readyAt);
    error BadProofLength(uint256 length);
    error OutputRootMismatch();
    error AlreadyFinalized(uint64 id);
    error BadProof();

    constructor(OpenToken token_, OutputOracle oracle_) {
        token = token_;
        oracle = oracle_;
        outputInterval = oracle_.outputInterval();
        finalizationPeriodSeconds = oracle_.finalizationPeriodSeconds();
    }

    function totalLocked() external view returns (uint256) {
        return locked;
    }

    function finalized(uint64 id) public view returns (bool) {
        return (finalizedBits[id >> 8] >> (id & 0xff)) & 1 != 0;
    }

    function deposit(uint64 amount, bytes20 l2Recipient) external {
        if (amount == 0) revert ZeroAmount();
        if (l2Recipient == bytes20(0)) revert ZeroRecipient();
        uint256 l = uint256(locked) + amount;
        if (l > MAX_LOCKED) revert LockLimit(locked, amount);
        uint64 nonce = depositNonce;
        depositNonce = nonce + 1;
        locked = uint64(l);
        token.transferFrom(msg.sender, address(this), amount);
        emit DepositInitiated(nonce, msg.sender, l2Recipient, amount);
    }

    function finalizeWithdrawal(Withdrawal calldata w, uint64 outputIndex, bytes32[] calldata proof) external {
        uint256 height = uint256(outputIndex) * outputInterval;
        if (height > type(uint64).max) revert OutputNotFound(outputIndex);
        (bytes32 outputRoot, uint64 timestamp) = oracle.getOutput(uint64(height));
        if (outputRoot == bytes32(0)) revert OutputNotFound(outputIndex);
        if (oracle.frozen()) revert OracleFrozen();
        uint256 readyAt = uint256(timestamp) + finalizationPeriodSeconds;
        if (block.timestamp < readyAt) revert NotFinal(readyAt);
        if (proof.length < 3 || proof.length > 3 + MAX_SIBLINGS) revert BadProofLength(proof.length);
        if (_outputRoot(proof[0], proof[1], proof[2]) != outputRoot) revert OutputRootMismatch();
        uint64 id = w.id;
        uint256 slot = id >> 8;
        uint256 bit = uint256(1) << (id & 0xff);
        uint256 bits = finalizedBits[slot];
        if (bits & bit != 0) revert AlreadyFinalized(id);
        if (!_verifyInclusion(proof[2], _path(id), _valueHash(w), proof[3:])) revert BadProof();
        finalizedBits[slot] = bits | bit;
        // Cannot underflow: the tree holds only burnt L2 tokens, all minted
        // from deposits counted here (checked, to fail loudly if ever).
        locked -= w.amount;
        token.transfer(w.l1Recipient, w.amount);
        emit WithdrawalFinalized(id, w.l1Recipient, w.amount);
    }

    // chain_smt_verify for an inclusion: the leaf SHA-256(0x00 || path ||
    // valueHash) folded with siblings[n-1] (deepest) up to siblings[0]; bit i
    // of path (bit 0 = most significant) set means the current hash is the
    // right child. Each node is SHA-256(0x01 || left || right).
    function verifyInclusion(bytes32 root, bytes32 path, bytes32 valueHash, bytes32[] calldata siblings)
        public
        pure
        returns (bool)
    {
        // The fold calls the SHA-256 precompile with staticcall, which the
        // compiler counts as reading the environment; a precompile reads
        // nothing, so the function is pure in fact, and the cast says so
        // (the same fold serves finalizeWithdrawal).
        return _asPure(_verifyInclusion)(root, path, valueHash, siblings);
    }

    function _asPure(function(bytes32, bytes32, bytes32, bytes32[] calldata) internal view returns (bool) f)
        private
        pure
        returns (function(bytes32, bytes32, bytes32, bytes32[] calldata) internal pure returns (bool) g)
    {
        assembly ("memory-safe") {
            g := f
        }
    }

    function _verifyInclusion(bytes32 root, bytes32 path, bytes32 valueHash, bytes32[] calldata siblings)
        private
        view
        returns (bool ok)
    {
        if (siblings.length > MAX_SIBLINGS) return false;
        assembly ("memory-safe") {
            // 65 bytes at the free memory pointer, not reserved: nothing
            // else allocates while this runs. Results go to scratch space.
            let buf := mload(0x40)
            mstore8(buf, 0x00)
            mstore(add(buf, 1), path)
            mstore(add(buf, 33), valueHash)
            if iszero(staticcall(gas(), 0x02, buf, 65, 0x00, 32)) { revert(0, 0) }
            let cur := mload(0x00)
            mstore8(buf, 0x01)
            let left := add(buf, 1)
            let right := add(buf, 33)
            for { let i := siblings.length } gt(i, 0) {} {
                i := sub(i, 1)
                let sib := calldataload(add(siblings.offset, shl(5, i)))
                switch and(shr(sub(255, i), path), 1)
                case 0 {
                    mstore(left, cur)
                    mstore(right, sib)
                }
                default {
                    mstore(left, sib)
                    mstore(right, cur)
                }
                if iszero(staticcall(gas(), 0x02, buf, 65, 0x00, 32)) { revert(0, 0) }
                cur := mload(0x00)
            }
            ok := eq(cur, root)
        }
    }

    // SHA-256(0x11 || 0x00 || stateRoot || blockHash || withdrawalsRoot)
    // (rollup/output.h).
    function _outputRoot(bytes32 stateRoot, bytes32 blockHash, bytes32 withdrawalsRoot)
        private
        view
        returns (bytes32 r)
    {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, 0x1100000000000000000000000000000000000000000000000000000000000000)
            mstore(add(buf, 2), stateRoot)
            mstore(add(buf, 34), blockHash)
            mstore(add(buf, 66), withdrawalsRoot)
            if iszero(staticcall(gas(), 0x02, buf, 98, 0x00, 32)) { revert(0, 0) }
            r := mload(0x00)
        }
    }

    // SHA-256('w' || id u64 big-endian).
    function _path(uint64 id) private view returns (bytes32 p) {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, or(shl(248, 0x77), shl(184, id)))
            if iszero(staticcall(gas(), 0x02, buf, 9, 0x00, 32)) { revert(0, 0) }
            p := mload(0x00)
        }
    }

    // SHA-256(id u64le || sender[20] || l1Recipient[20] || amount u64le).
    function _valueHash(Withdrawal calldata w) private view returns (bytes32 h) {
        uint256 idLe = _le64(w.id);
        uint256 amountLe = _le64(w.amount);
        bytes20 sender = w.sender;
        address to = w.l1Recipient;
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, shl(192, idLe))
            mstore(add(buf, 8), sender)
            mstore(add(buf, 28), shl(96, to))
            mstore(add(buf, 48), shl(192, amountLe))
            if iszero(staticcall(gas(), 0x02, buf, 56, 0x00, 32)) { revert(0, 0) }
            h := mload(0x00)
        }
    }

    // The 8 bytes of x in reverse order.
    function _le64(uint64 x) private pure returns (uint256 r) {
        uint256 v = x;
        v = ((v & 0x00ff00ff00ff00ff) << 8) | ((v >> 8) & 0x00ff00ff00ff00ff);
        v = ((v & 0x0000ffff0000ffff) << 16) | ((v >> 16) & 0x0000ffff0000ffff);
        r = ((v & 0x00000000ffffffff) << 32) | (v >> 32);
    }
}

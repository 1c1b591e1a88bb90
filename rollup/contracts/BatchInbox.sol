// SPDX-License-Identifier: MIT
// The L1 inbox of the rollup's batches (docs/rollup.md, "Contracts").
//
// It stores nothing: a frame stays in the calldata of the transaction that
// posted it, where derivation reads it, and the event says who posted which
// data. Only the configured batcher may post, so a deriving node reads the
// batcher's frames and nobody else's.
//
// postBlobs is the same for frames in EIP-4844 blobs (docs/rollup.md,
// "Blobs"): the blobs are outside the EVM, so it takes their KZG commitments
// and checks each against the transaction's blob hashes. A deriving node then
// knows the commitment of every blob from calldata, and checks the blobs it
// fetches against all of them at once.
pragma solidity ^0.8.24;

contract BatchInbox {
    address public immutable batcher;
    bytes32 public immutable l2Genesis;

    /* Blobs per transaction: Osaka's per-transaction limit (EIP-7594). */
    uint256 internal constant MAX_BLOBS = 6;
    uint256 internal constant COMMITMENT_BYTES = 48;

    event BatchPosted(address indexed sender, bytes32 dataHash);
    event BlobPosted(address indexed sender, bytes32 versionedHash);

    error ZeroBatcher();
    error NotBatcher(address sender);
    error BadCommitments(uint256 length);
    error BlobMismatch(uint256 index);
    error ExtraBlob(uint256 index);

    constructor(address batcher_, bytes32 l2Genesis_) {
        if (batcher_ == address(0)) revert ZeroBatcher();
        batcher = batcher_;
        l2Genesis = l2Genesis_;
    }

    function post(bytes calldata frame) external {
        if (msg.sender != batcher) revert NotBatcher(msg.sender);
        emit BatchPosted(msg.sender, keccak256(frame));
    }

    // commitments: the 48-byte KZG commitments of the transaction's blobs,
    // in blob order. One event per blob, so the log carries the versioned
    // hash a deriving node asks the beacon API for.
    function postBlobs(bytes calldata commitments) external {
        if (msg.sender != batcher) revert NotBatcher(msg.sender);
        uint256 len = commitments.length;
        if (len == 0 || len % COMMITMENT_BYTES != 0 || len > MAX_BLOBS * COMMITMENT_BYTES) {
            revert BadCommitments(len);
        }
        uint256 n = len / COMMITMENT_BYTES;
        for (uint256 i = 0; i < n; i++) {
            // EIP-4844's kzg_to_versioned_hash: 0x01 || sha256(commitment)[1..32].
            bytes32 h = sha256(commitments[i * COMMITMENT_BYTES:(i + 1) * COMMITMENT_BYTES]);
            bytes32 vh = (h & bytes32(type(uint256).max >> 8)) | bytes32(uint256(1) << 248);
            if (blobhash(i) != vh) revert BlobMismatch(i);
            emit BlobPosted(msg.sender, vh);
        }
        // A blob without a commitment would be paid for and never read.
        if (blobhash(n) != bytes32(0)) revert ExtraBlob(n);
    }
}

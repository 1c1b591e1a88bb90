// SPDX-License-Identifier: MIT
// The L1 record of the rollup's output roots (docs/rollup.md, "Contracts").
//
// An output root for an L2 height is accepted only when signed (ECDSA,
// checked with ecrecover) by validators holding more than 2/3 of the voting
// power of the current validator set. The set is given at deployment and
// replaced only by a message signed by more than 2/3 of the current one.
// Two different roots for one height, each signed by more than 1/3, prove
// that validators equivocated: anyone may submit them to freeze the oracle,
// after which nothing is accepted and nothing is final.
pragma solidity ^0.8.24;

contract OutputOracle {
    bytes32 public constant OUTPUT_TYPEHASH =
        keccak256("OpenLedger.Output(bytes32 l2Genesis,uint64 l2Height,bytes32 outputRoot)");
    bytes32 public constant VALSET_TYPEHASH = keccak256(
        "OpenLedger.ValidatorSet(bytes32 l2Genesis,uint64 nonce,bytes32 validatorsHash,bytes32 powersHash)"
    );
    uint256 public constant MAX_VALIDATORS = 64;
    // Signatures with s in the upper half are refused (EIP-2): otherwise
    // every signature would have a second valid form.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    bytes32 public immutable l2Genesis;
    uint64 public immutable outputInterval;
    uint64 public immutable finalizationPeriodSeconds;

    // One storage slot: read together by every proposal.
    uint64 public totalPower;
    uint64 public validatorSetNonce;
    uint64 public latestOutputHeight;
    bool public frozen;

    struct Output {
        bytes32 root;
        uint64 timestamp;
    }

    mapping(uint64 => Output) private outputs;
    // Powers per validator-set nonce: a new set is written under the next
    // nonce, so the old one needs no clearing.
    mapping(uint64 => mapping(address => uint64)) private powers;

    event OutputProposed(uint64 indexed l2Height, bytes32 outputRoot, uint64 timestamp);
    event Frozen(uint64 indexed l2Height, bytes32 rootA, bytes32 rootB);
    event ValidatorsUpdated(uint64 indexed nonce, address[] validators, uint64[] powers);

    error ZeroInterval();
    error OracleFrozen();
    error BadHeight(uint64 l2Height);
    error OutputExists(uint64 l2Height);
    error ZeroOutputRoot();
    error SameRoot();
    error BadSignaturesLength(uint256 length);
    error BadSignature(uint256 index);
    error SignersNotIncreasing(uint256 index);
    error UnknownSigner(address signer);
    error InsufficientPower(uint256 signed, uint256 total);
    error BadValidatorCount(uint256 validators, uint256 powers);
    error ZeroValidator(uint256 index);
    error ZeroPower(uint256 index);
    error DuplicateValidator(address validator);
    error PowerOverflow();

    constructor(
        bytes32 l2Genesis_,
        uint64 outputInterval_,
        uint64 finalizationPeriodSeconds_,
        address[] memory validators_,
        uint64[] memory powers_
    ) {
        if (outputInterval_ == 0) revert ZeroInterval();
        l2Genesis = l2Genesis_;
        outputInterval = outputInterval_;
        finalizationPeriodSeconds = finalizationPeriodSeconds_;
        totalPower = _writeSet(0, validators_, powers_);
        emit ValidatorsUpdated(0, validators_, powers_);
    }

    function powerOf(address validator) external view returns (uint64) {
        return powers[validatorSetNonce][validator];
    }

    function getOutput(uint64 l2Height) external view returns (bytes32 outputRoot, uint64 timestamp) {
        Output storage o = outputs[l2Height];
        return (o.root, o.timestamp);
    }

    function isFinalized(uint64 l2Height) external view returns (bool) {
        uint64 t = outputs[l2Height].timestamp;
        return t != 0 && !frozen && block.timestamp >= uint256(t) + finalizationPeriodSeconds;
    }

    function outputDigest(uint64 l2Height, bytes32 outputRoot) public view returns (bytes32) {
        return keccak256(abi.encode(OUTPUT_TYPEHASH, l2Genesis, uint256(l2Height), outputRoot));
    }

    function validatorSetDigest(uint64 nonce, address[] calldata validators_, uint64[] calldata powers_)
        public
        view
        returns (bytes32)
    {
        // abi.encodePacked pads array elements to 32 bytes: both hashes are
        // over n words.
        return keccak256(
            abi.encode(
                VALSET_TYPEHASH,
                l2Genesis,
                uint256(nonce),
                keccak256(abi.encodePacked(validators_)),
                keccak256(abi.encodePacked(powers_))
            )
        );
    }

    function proposeOutput(uint64 l2Height, bytes32 outputRoot, bytes calldata sigs) external {
        if (frozen) revert OracleFrozen();
        if (l2Height == 0 || l2Height % outputInterval != 0) revert BadHeight(l2Height);
        if (outputRoot == bytes32(0)) revert ZeroOutputRoot();
        if (outputs[l2Height].timestamp != 0) revert OutputExists(l2Height);
        uint256 total = totalPower;
        uint256 signed = _signedPower(outputDigest(l2Height, outputRoot), sigs);
        if (3 * signed <= 2 * total) revert InsufficientPower(signed, total);
        outputs[l2Height] = Output(outputRoot, uint64(block.timestamp));
        if (l2Height > latestOutputHeight) latestOutputHeight = l2Height;
        emit OutputProposed(l2Height, outputRoot, uint64(block.timestamp));
    }

    function freeze(uint64 l2Height, bytes32 rootA, bytes calldata sigsA, bytes32 rootB, bytes calldata sigsB)
        external
    {
        if (frozen) revert OracleFrozen();
        if (rootA == rootB) revert SameRoot();
        uint256 total = totalPower;
        uint256 a = _signedPower(outputDigest(l2Height, rootA), sigsA);
        if (3 * a <= total) revert InsufficientPower(a, total);
        uint256 b = _signedPower(outputDigest(l2Height, rootB), sigsB);
        if (3 * b <= total) revert InsufficientPower(b, total);
        frozen = true;
        emit Frozen(l2Height, rootA, rootB);
    }

    function updateValidators(address[] calldata validators_, uint64[] calldata powers_, bytes calldata sigs)
        external
    {
        if (frozen) revert OracleFrozen();
        uint64 nonce = validatorSetNonce;
        uint256 total = totalPower;
        uint256 signed = _signedPower(validatorSetDigest(nonce, validators_, powers_), sigs);
        if (3 * signed <= 2 * total) revert InsufficientPower(signed, total);
        nonce += 1;
        totalPower = _writeSet(nonce, validators_, powers_);
        validatorSetNonce = nonce;
        emit ValidatorsUpdated(nonce, validators_, powers_);
    }

    // Checks a set and writes its powers under nonce; returns the total.
    function _writeSet(uint64 nonce, address[] memory validators_, uint64[] memory powers_)
        private
        returns (uint64)
    {
        uint256 n = validators_.length;
        if (n == 0 || n > MAX_VALIDATORS || powers_.length != n) {
            revert BadValidatorCount(n, powers_.length);
        }
        mapping(address => uint64) storage p = powers[nonce];
        uint256 total = 0;
        for (uint256 i = 0; i < n; i++) {
            address v = validators_[i];
            uint64 w = powers_[i];
            if (v == address(0)) revert ZeroValidator(i);
            if (w == 0) revert ZeroPower(i);
            if (p[v] != 0) revert DuplicateValidator(v);
            p[v] = w;
            total += w;
        }
        if (total > type(uint64).max) revert PowerOverflow();
        return uint64(total);
    }

    // The power of the current set behind sigs, 65-byte signatures (r, s, v)
    // whose signers must be strictly increasing addresses (no signer counts
    // twice) that all hold power.
    function _signedPower(bytes32 digest, bytes calldata sigs) private view returns (uint256 power) {
        if (sigs.length % 65 != 0) revert BadSignaturesLength(sigs.length);
        uint256 n = sigs.length / 65;
        mapping(address => uint64) storage p = powers[validatorSetNonce];
        address prev = address(0);
        for (uint256 i = 0; i < n; i++) {
            bytes32 r;
            bytes32 s;
            uint8 v;
            assembly {
                let o := add(sigs.offset, mul(i, 65))
                r := calldataload(o)
                s := calldataload(add(o, 32))
                v := byte(0, calldataload(add(o, 64)))
            }
            if ((v != 27 && v != 28) || uint256(s) > HALF_ORDER) revert BadSignature(i);
            address signer = ecrecover(digest, v, r, s);
            if (signer == address(0)) revert BadSignature(i);
            if (signer <= prev) revert SignersNotIncreasing(i);
            uint64 w = p[signer];
            if (w == 0) revert UnknownSigner(signer);
            power += w;
            prev = signer;
        }
    }
}

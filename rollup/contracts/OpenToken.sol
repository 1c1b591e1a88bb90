// SPDX-License-Identifier: MIT
// OPEN on the L1 (docs/rollup.md, "Bridge"): a plain ERC-20 with 9 decimals,
// so that one base unit is the same amount on the L1 and on the L2. The
// deployer is the only minter: it mints devnet and test tokens; on a real
// deployment it would mint the supply once.
pragma solidity ^0.8.24;

contract OpenToken {
    string public constant name = "OpenLedger";
    string public constant symbol = "OPEN";
    uint8 public constant decimals = 9;
    address public immutable minter;

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error NotMinter(address sender);
    error ZeroAddress();
    error InsufficientBalance(address from, uint256 balance, uint256 needed);
    error InsufficientAllowance(address spender, uint256 allowance, uint256 needed);

    constructor() {
        minter = msg.sender;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        if (to == address(0)) revert ZeroAddress();
        totalSupply += amount; // checked: the sum of balances never wraps
        unchecked {
            balanceOf[to] += amount;
        }
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        if (spender == address(0)) revert ZeroAddress();
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    // An allowance of type(uint256).max is never decreased (as in
    // OpenZeppelin's ERC20): an "approve once" user pays no allowance write.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 a = allowance[from][msg.sender];
        if (a != type(uint256).max) {
            if (a < amount) revert InsufficientAllowance(msg.sender, a, amount);
            unchecked {
                allowance[from][msg.sender] = a - amount;
            }
        }
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) private {
        if (to == address(0)) revert ZeroAddress();
        uint256 b = balanceOf[from];
        if (b < amount) revert InsufficientBalance(from, b, amount);
        unchecked {
            balanceOf[from] = b - amount;
            balanceOf[to] += amount; // bounded by totalSupply
        }
        emit Transfer(from, to, amount);
    }
}

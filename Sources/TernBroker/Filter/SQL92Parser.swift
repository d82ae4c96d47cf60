/// Recursive-descent parser for the selector grammar of features.md §5:
///
///     selector  := or END
///     or        := and (OR and)*
///     and       := not (AND not)*
///     not       := NOT not | predicate
///     predicate := '(' or ')' | TRUE | FALSE
///                | operand ( cmp operand | IS [NOT] NULL | [NOT] BETWEEN operand AND operand
///                          | [NOT] IN '(' string (',' string)* ')' )
///     operand   := identifier | string | ['+'|'-'] number | TRUE | FALSE | NULL
///
/// NOT binds looser than comparisons (`NOT a = 1` is `NOT (a = 1)`), as in SQL. The checks RocketMQ makes
/// when it builds the tree are made here: ordering and BETWEEN need numeric literals, `=` / `<>` refuse NULL
/// (IS NULL exists for that), BETWEEN bounds must be ordered, IN applies to a property and lists strings.
struct SQL92Parser {
    static let maxDepth = 64

    private let tokens: [(token: SQL92Token, column: Int)]
    private var at = 0
    private var depth = 0
    /// Property names in order of first use; an operand's slot indexes this.
    private(set) var propertyNames: [String] = []

    init(tokens: [(token: SQL92Token, column: Int)]) { self.tokens = tokens }

    private var current: SQL92Token { tokens[at].token }
    private var column: Int { tokens[at].column }

    private func fail(_ message: String) -> SQL92Error { SQL92Error(message: message, column: column) }

    private mutating func advance() { if at < tokens.count - 1 { at += 1 } }

    private mutating func accept(_ k: SQL92Token.Keyword) -> Bool {
        guard current == .keyword(k) else { return false }
        advance()
        return true
    }

    private mutating func accept(_ s: SQL92Token.Symbol) -> Bool {
        guard current == .symbol(s) else { return false }
        advance()
        return true
    }

    private mutating func expect(_ s: SQL92Token.Symbol) throws(SQL92Error) {
        guard accept(s) else { throw fail("expected '\(s.rawValue)' but found \(current.text)") }
    }

    private mutating func expect(_ k: SQL92Token.Keyword) throws(SQL92Error) {
        guard accept(k) else { throw fail("expected \(k.rawValue.uppercased()) but found \(current.text)") }
    }

    mutating func parseSelector() throws(SQL92Error) -> SQL92Node {
        if current == .end { throw fail("empty expression") }
        let node = try parseOr()
        guard current == .end else { throw fail("unexpected \(current.text)") }
        return node
    }

    private mutating func parseOr() throws(SQL92Error) -> SQL92Node {
        var node = try parseAnd()
        while accept(.or) { node = .or(node, try parseAnd()) }
        return node
    }

    private mutating func parseAnd() throws(SQL92Error) -> SQL92Node {
        var node = try parseNot()
        while accept(.and) { node = .and(node, try parseNot()) }
        return node
    }

    private mutating func parseNot() throws(SQL92Error) -> SQL92Node {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("expression nested too deeply") }
        if accept(.not) { return .not(try parseNot()) }
        return try parsePredicate()
    }

    private mutating func parsePredicate() throws(SQL92Error) -> SQL92Node {
        if accept(.lparen) {
            let node = try parseOr()
            try expect(.rparen)
            return node
        }
        let startColumn = column
        let left = try parseOperand()
        switch current {
        case .symbol(let s) where [.eq, .ne, .gt, .ge, .lt, .le].contains(s):
            advance()
            let right = try parseOperand()
            switch s {
            case .eq, .ne:
                guard left != .constant(.null), right != .constant(.null) else {
                    throw SQL92Error(message: "NULL cannot be compared with '\(s.rawValue)'; use IS NULL / IS NOT NULL", column: startColumn)
                }
                let eq = SQL92Node.compare(left, .eq, right)
                return s == .eq ? eq : .not(eq)
            default:
                try requireNumeric(left, s.rawValue, startColumn)
                try requireNumeric(right, s.rawValue, startColumn)
                let op: SQL92CompareOp = switch s { case .gt: .gt; case .ge: .ge; case .lt: .lt; default: .le }
                return .compare(left, op, right)
            }
        case .keyword(.is):
            advance()
            let negated = accept(.not)
            try expect(.null)
            return negated ? .not(.isNull(left)) : .isNull(left)
        case .keyword(.not), .keyword(.between), .keyword(.in):
            let negated = accept(.not)
            if accept(.between) { return try parseBetween(left, negated: negated, startColumn) }
            if accept(.in) { return try parseIn(left, negated: negated, startColumn) }
            throw fail("expected BETWEEN or IN after NOT but found \(current.text)")
        default:
            if case .constant(.bool(let b)) = left { return .literal(b) }
            throw SQL92Error(message: "expected a comparison after \(describe(left))", column: startColumn)
        }
    }

    private mutating func parseBetween(_ value: SQL92Operand, negated: Bool, _ startColumn: Int) throws(SQL92Error) -> SQL92Node {
        let lo = try parseOperand()
        try expect(.and)
        let hi = try parseOperand()
        for o in [value, lo, hi] { try requireNumeric(o, "BETWEEN", startColumn) }
        if case .constant(let a) = lo, case .constant(let b) = hi, let x = SQL92Number(a), let y = SQL92Number(b),
           let order = x.compare(y), order > 0 {
            throw SQL92Error(message: "BETWEEN bounds out of order: \(describe(lo)) is greater than \(describe(hi))", column: startColumn)
        }
        let node = SQL92Node.between(value, lo, hi)
        return negated ? .not(node) : node
    }

    private mutating func parseIn(_ value: SQL92Operand, negated: Bool, _ startColumn: Int) throws(SQL92Error) -> SQL92Node {
        guard case .property(let slot) = value else {
            throw SQL92Error(message: "IN applies to a property, not \(describe(value))", column: startColumn)
        }
        try expect(.lparen)
        var values: [[UInt8]] = []
        repeat {
            guard case .string(let s) = current else { throw fail("IN lists string literals only, found \(current.text)") }
            values.append(Array(s.utf8))
            advance()
        } while accept(.comma)
        try expect(.rparen)
        let node = SQL92Node.inList(slot, values)
        return negated ? .not(node) : node
    }

    private mutating func parseOperand() throws(SQL92Error) -> SQL92Operand {
        let token = current
        switch token {
        case .identifier(let name):
            advance()
            if let i = propertyNames.firstIndex(of: name) { return .property(i) }
            propertyNames.append(name)
            return .property(propertyNames.count - 1)
        case .string(let s): advance(); return .constant(.string(Array(s.utf8)))
        case .integer(let v): advance(); return .constant(.long(v))
        case .decimal(let v): advance(); return .constant(.double(v))
        case .keyword(.true): advance(); return .constant(.bool(true))
        case .keyword(.false): advance(); return .constant(.bool(false))
        case .keyword(.null): advance(); return .constant(.null)
        case .symbol(.plus), .symbol(.minus):
            advance()
            let negate = token == .symbol(.minus)
            switch current {
            case .integer(let v): advance(); return .constant(.long(negate ? -v : v))
            case .decimal(let v): advance(); return .constant(.double(negate ? -v : v))
            default: throw fail("a sign applies to a number literal, not \(current.text)")
            }
        default:
            throw fail("expected a property or a literal but found \(token.text)")
        }
    }

    /// A literal used with `>`, `>=`, `<`, `<=` or BETWEEN must be a number (RocketMQ `checkLessThanOperand`).
    private func requireNumeric(_ o: SQL92Operand, _ op: String, _ startColumn: Int) throws(SQL92Error) {
        guard case .constant(let c) = o else { return }
        switch c {
        case .long, .double: return
        default: throw SQL92Error(message: "\(describe(o)) cannot be compared with \(op); only numbers can", column: startColumn)
        }
    }

    private func describe(_ o: SQL92Operand) -> String {
        switch o {
        case .property(let i): "property '\(propertyNames[i])'"
        case .constant(.string(let s)): "'\(String(decoding: s, as: UTF8.self))'"
        case .constant(.long(let v)): String(v)
        case .constant(.double(let v)): String(v)
        case .constant(.bool(let b)): b ? "TRUE" : "FALSE"
        case .constant(.null): "NULL"
        }
    }
}

import TernMessage

/// A literal of the selector language.
enum SQL92Constant: Equatable, Sendable {
    case string([UInt8])
    case long(Int64)
    case double(Double)
    case bool(Bool)
    case null
}

/// One side of a comparison: a message property (by slot in `SQL92Filter.propertyNames`) or a literal.
enum SQL92Operand: Equatable, Sendable {
    case property(Int)
    case constant(SQL92Constant)
}

enum SQL92CompareOp: Equatable, Sendable {
    case eq, gt, ge, lt, le

    /// The operator with its operands swapped (`5 < a` is `a > 5`).
    var flipped: SQL92CompareOp {
        switch self { case .eq: .eq; case .gt: .lt; case .ge: .le; case .lt: .gt; case .le: .ge }
    }
}

/// The compiled tree. `<>`, NOT BETWEEN, NOT IN and IS NOT NULL are `.not` of the positive form: with
/// three-valued logic (Kleene) that is exactly RocketMQ's definition of each.
indirect enum SQL92Node: Equatable, Sendable {
    case and(SQL92Node, SQL92Node)
    case or(SQL92Node, SQL92Node)
    case not(SQL92Node)
    case literal(Bool)
    case compare(SQL92Operand, SQL92CompareOp, SQL92Operand)
    case isNull(SQL92Operand)
    case inList(Int, [[UInt8]])
    case between(SQL92Operand, SQL92Operand, SQL92Operand)
}

/// A compiled SQL92 selector (features.md §5), evaluated over a record's raw properties.
///
/// Semantics (RocketMQ's, with its evaluation errors made "unknown"): results are three-valued; a missing
/// property is NULL and makes any comparison NULL; the message matches only when the whole expression is
/// TRUE. Property values are strings: against a numeric literal they are parsed as numbers (a non-numeric
/// value makes the comparison NULL, so both `a = 1` and `a <> 1` are false); against TRUE / FALSE they must be
/// `true` / `false` (any case); against a string literal they compare byte for byte. `>`, `>=`, `<`, `<=`
/// and BETWEEN take numeric literals only (refused at compile time otherwise); IN takes string literals.
struct SQL92Filter: Sendable, Equatable {
    let root: SQL92Node
    /// Property names in slot order (UTF-8).
    let propertyNames: [[UInt8]]
    /// The expression as given.
    let text: String

    static func compile(_ text: String) throws(SQL92Error) -> SQL92Filter {
        var parser = SQL92Parser(tokens: try SQL92Lexer.tokenize(text))
        let root = try parser.parseSelector()
        return SQL92Filter(root: root, propertyNames: parser.propertyNames.map { Array($0.utf8) }, text: text)
    }

    /// Whether a message with these encoded properties matches. One pass over the properties collects the
    /// values the expression names; nothing is allocated unless a decimal has to be parsed.
    func matches(properties: UnsafeRawBufferPointer) -> Bool {
        let n = propertyNames.count
        return withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer?.self, capacity: max(n, 1)) { slots in
            slots.initialize(repeating: nil)
            if n > 0 {
                MessageProperties.forEachEntry(in: properties) { name, value in
                    // Later duplicates win, as in Java's property map.
                    for i in 0..<n where propertyNames[i].elementsEqual(name) { slots[i] = value }
                    return true
                }
            }
            return Self.evaluate(root, UnsafeBufferPointer(slots)) == true
        }
    }

    func matches(properties: [(String, String)]) -> Bool {
        MessageProperties.encode(properties).withUnsafeBytes { matches(properties: $0) }
    }

    // MARK: Evaluation

    private typealias Slots = UnsafeBufferPointer<UnsafeRawBufferPointer?>

    private static func evaluate(_ node: SQL92Node, _ slots: Slots) -> Bool? {
        switch node {
        case .literal(let b): return b
        case .and(let l, let r):
            let lv = evaluate(l, slots)
            if lv == false { return false }
            let rv = evaluate(r, slots)
            if rv == false { return false }
            return lv == nil || rv == nil ? nil : true
        case .or(let l, let r):
            let lv = evaluate(l, slots)
            if lv == true { return true }
            let rv = evaluate(r, slots)
            if rv == true { return true }
            return lv == nil || rv == nil ? nil : false
        case .not(let e): return evaluate(e, slots).map { !$0 }
        case .isNull(let o):
            switch o {
            case .property(let i): return slots[i] == nil
            case .constant(let c): return c == .null
            }
        case .inList(let i, let values):
            guard let v = slots[i] else { return nil }
            return values.contains { $0.elementsEqual(v) }
        case .compare(let l, let op, let r):
            return compare(l, op, r, slots)
        case .between(let v, let lo, let hi):
            let ge = compare(v, .ge, lo, slots), le = compare(v, .le, hi, slots)
            if ge == false || le == false { return false }
            return ge == nil || le == nil ? nil : true
        }
    }

    /// A resolved operand: raw property bytes or a literal.
    private enum Value {
        case text(UnsafeRawBufferPointer)
        case constant(SQL92Constant)
    }

    private static func resolve(_ o: SQL92Operand, _ slots: Slots) -> Value? {
        switch o {
        case .property(let i): slots[i].map { .text($0) }
        case .constant(.null): nil
        case .constant(let c): .constant(c)
        }
    }

    private static func compare(_ l: SQL92Operand, _ op: SQL92CompareOp, _ r: SQL92Operand, _ slots: Slots) -> Bool? {
        guard let lv = resolve(l, slots), let rv = resolve(r, slots) else { return nil }
        switch (lv, rv) {
        case (.text(let a), .text(let b)):
            if op == .eq { return a.elementsEqual(b) }
            guard let x = SQL92Number(a), let y = SQL92Number(b) else { return nil }
            return x.compare(y).map { holds(op, $0) }
        case (.text(let a), .constant(let c)):
            return compare(text: a, op, c)
        case (.constant(let c), .text(let b)):
            return compare(text: b, op.flipped, c)
        case (.constant(let a), .constant(let b)):
            return compare(constant: a, op, b)
        }
    }

    private static func compare(text: UnsafeRawBufferPointer, _ op: SQL92CompareOp, _ c: SQL92Constant) -> Bool? {
        switch c {
        case .string(let s):
            if op == .eq { return text.elementsEqual(s) }
            return nil
        case .bool(let b):
            guard op == .eq, let v = parseBool(text) else { return nil }
            return v == b
        case .long, .double:
            guard let x = SQL92Number(text), let y = SQL92Number(c) else { return nil }
            return x.compare(y).map { holds(op, $0) }
        case .null:
            return nil
        }
    }

    private static func compare(constant a: SQL92Constant, _ op: SQL92CompareOp, _ b: SQL92Constant) -> Bool? {
        switch (a, b) {
        case (.string(let x), .string(let y)): return op == .eq ? x == y : nil
        case (.bool(let x), .bool(let y)): return op == .eq ? x == y : nil
        default:
            guard let x = SQL92Number(a), let y = SQL92Number(b) else { return nil }
            return x.compare(y).map { holds(op, $0) }
        }
    }

    private static func holds(_ op: SQL92CompareOp, _ order: Int) -> Bool {
        switch op { case .eq: order == 0; case .gt: order > 0; case .ge: order >= 0; case .lt: order < 0; case .le: order <= 0 }
    }

    private static func parseBool(_ t: UnsafeRawBufferPointer) -> Bool? {
        func equalsIgnoringCase(_ word: StaticString) -> Bool {
            guard t.count == word.utf8CodeUnitCount else { return false }
            let w = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            return zip(t, w).allSatisfy { $0 | 0x20 == $1 }
        }
        if equalsIgnoringCase("true") { return true }
        if equalsIgnoringCase("false") { return false }
        return nil
    }
}

/// A number from a literal or a property value: exact for integers, else a double.
enum SQL92Number {
    case long(Int64)
    case double(Double)

    init?(_ c: SQL92Constant) {
        switch c {
        case .long(let v): self = .long(v)
        case .double(let v): self = .double(v)
        default: return nil
        }
    }

    /// Java `Long.valueOf` / `Double.valueOf` on the bytes: optional sign, digits, fraction, exponent; no
    /// blanks. Integers that overflow Int64 become doubles.
    init?(_ t: UnsafeRawBufferPointer) {
        guard !t.isEmpty, t.count <= 64 else { return nil }
        var i = 0
        let negative = t[0] == UInt8(ascii: "-")
        if negative || t[0] == UInt8(ascii: "+") { i = 1 }
        guard i < t.count else { return nil }
        var value: Int64 = 0
        var integral = true
        for j in i..<t.count {
            let c = t[j]
            if c >= 0x30, c <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30) * (negative ? -1 : 1))
                if o1 || o2 { integral = false; break }
                value = a
            } else {
                integral = false
                break
            }
        }
        if integral { self = .long(value); return }
        let numeric = t[i...].allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: ".") || c | 0x20 == UInt8(ascii: "e")
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
        }
        guard numeric else { return nil }
        guard let d = Double(String(decoding: t, as: UTF8.self)), d.isFinite else { return nil }
        self = .double(d)
    }

    /// -1 / 0 / 1; nil for NaN.
    func compare(_ other: SQL92Number) -> Int? {
        if case .long(let a) = self, case .long(let b) = other { return a < b ? -1 : (a == b ? 0 : 1) }
        let a = asDouble, b = other.asDouble
        if a < b { return -1 }
        if a > b { return 1 }
        return a == b ? 0 : nil
    }

    private var asDouble: Double {
        switch self { case .long(let v): Double(v); case .double(let v): v }
    }
}

/// One element, or many in an array: a single-message send's draft and append result without the array a
/// batch needs (an array of one is a heap allocation per send).
enum OneOrMany<Element>: RandomAccessCollection {
    case one(Element)
    case many([Element])

    var startIndex: Int { 0 }
    var endIndex: Int {
        switch self {
        case .one: 1
        case let .many(elements): elements.count
        }
    }

    subscript(position: Int) -> Element {
        switch self {
        case let .one(element):
            precondition(position == 0, "index \(position) out of range of one element")
            return element
        case let .many(elements): return elements[position]
        }
    }
}

extension OneOrMany: Sendable where Element: Sendable {}

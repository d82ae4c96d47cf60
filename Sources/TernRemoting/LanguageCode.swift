/// The sender's language: JSON carries the name, the ROCKETMQ header the code byte.
public enum LanguageCode: UInt8, Sendable, Hashable, CaseIterable {
    case java = 0
    case cpp = 1
    case dotnet = 2
    case python = 3
    case delphi = 4
    case erlang = 5
    case ruby = 6
    case other = 7
    case http = 8
    case go = 9
    case php = 10
    case oms = 11
    case rust = 12

    /// JSON spellings, indexed by raw value.
    private static let names = [
        "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST",
    ]

    /// The JSON spelling (`"JAVA"`, `"CPP"`, ...).
    public var name: String { Self.names[Int(rawValue)] }

    /// The language with this JSON name, or `nil` if the name is unknown.
    public init?(name: String) {
        guard let index = Self.names.firstIndex(of: name) else { return nil }
        self.init(rawValue: UInt8(index))
    }

    /// The language whose JSON name is the UTF-8 `name`, or `nil` if the name is unknown (no String built).
    public init?(name: UnsafeRawBufferPointer) {
        guard let index = Self.names.firstIndex(where: { known in
            var known = known
            return known.withUTF8 { $0.count == name.count && $0.elementsEqual(name) }
        }) else { return nil }
        self.init(rawValue: UInt8(index))
    }
}

extension RemotingExtFields {
    /// Fields laid out once (keys, constant values, integer placeholders) and completed per use with up to four
    /// integers kept inline: a response sent for every message (the send answer) then needs no field table and
    /// no String per answer. Both encoders write the integers straight into the frame; the JSON encoder copies
    /// the rest from ``JSONForm``, rendered once here.
    public struct Template: Sendable {
        /// One field's value in the template.
        public enum Field: Sendable {
            case text(String)
            /// The signed decimal of word `slot` (0...3).
            case decimal(slot: Int)
            /// Words `slot` and `slot + 1` (0...2) as 32 uppercase hex digits, big-endian (an offset message id).
            case hex128(slot: Int)
            /// `prefix`, then ``hex128(slot:)``, then `suffix`: a request's message properties, whose one
            /// per-message part is the UNIQ_KEY at the end.
            case framedHex128(prefix: String, slot: Int, suffix: String)
        }

        /// The fixed texts around a ``Field/framedHex128(prefix:slot:suffix:)`` value: one reference in the
        /// table's entry, so the entry is no larger than a text value's. Immutable.
        final class Affixes: Sendable {
            let prefix: String
            let suffix: String

            init(prefix: String, suffix: String) {
                self.prefix = prefix
                self.suffix = suffix
            }
        }

        /// Keys and values; placeholders render only once words are set.
        let table: RemotingExtFields
        /// The fields as the JSON header writes them, placeholders cut out.
        let json: JSONForm

        /// - Precondition: keys are unique and slots within range.
        public init(_ fields: KeyValuePairs<String, Field>) {
            var table = RemotingExtFields()
            for (key, field) in fields {
                precondition(!table.keys.contains(key), "template key \(key) twice")
                switch field {
                case let .text(text): table.set(.text(text), for: key)
                case let .decimal(slot):
                    precondition((0...3).contains(slot), "template slot \(slot) out of range")
                    table.set(.decimal(slot: UInt8(slot)), for: key)
                case let .hex128(slot):
                    precondition((0...2).contains(slot), "template slot \(slot) out of range")
                    table.set(.hex128(slot: UInt8(slot)), for: key)
                case let .framedHex128(prefix, slot, suffix):
                    precondition((0...2).contains(slot), "template slot \(slot) out of range")
                    table.set(.framedHex128(slot: UInt8(slot), Affixes(prefix: prefix, suffix: suffix)), for: key)
                }
            }
            self.table = table
            json = JSONForm(table.entries)
        }

        /// The template's JSON extFields members (`"key":"value"` joined by `,`, without the braces): literal
        /// runs, each followed by a placeholder or by nothing (the last). The runs are written by the encoder's
        /// own escaping routine, so the bytes are those the field-by-field path writes for the same entries.
        /// Immutable after init.
        final class JSONForm: Sendable {
            enum Placeholder: Sendable {
                case none
                case decimal(slot: UInt8)
                case hex128(slot: UInt8)
            }

            /// All literal runs, concatenated.
            let literal: [UInt8]
            /// Run `i` is `literal[pieces[i - 1].end ..< pieces[i].end]` (from 0 for the first), then
            /// `pieces[i].placeholder`.
            let pieces: [(end: Int, placeholder: Placeholder)]

            init(_ entries: [Entry]) {
                var literal: [UInt8] = [], pieces: [(end: Int, placeholder: Placeholder)] = []
                for (i, entry) in entries.enumerated() {
                    if i > 0 { literal.append(UInt8(ascii: ",")) }
                    literal += JSONHeaderEncoder.quoted(entry.key)
                    literal.append(UInt8(ascii: ":"))
                    switch entry.value {
                    case let .text(text):
                        literal += JSONHeaderEncoder.quoted(text)
                        continue
                    case let .decimal(slot):
                        literal.append(UInt8(ascii: "\""))
                        pieces.append((literal.count, .decimal(slot: slot)))
                    case let .hex128(slot):
                        literal.append(UInt8(ascii: "\""))
                        pieces.append((literal.count, .hex128(slot: slot)))
                    case let .framedHex128(slot, affixes):
                        // The quoted texts without their closing and opening quote: escapes are per byte, and
                        // hex digits need none, so this is the quoted whole.
                        literal += JSONHeaderEncoder.quoted(affixes.prefix).dropLast()
                        pieces.append((literal.count, .hex128(slot: slot)))
                        literal += JSONHeaderEncoder.quoted(affixes.suffix).dropFirst()
                        continue
                    case .verbatim, .jsonString:
                        preconditionFailure("template fields hold no header tokens")
                    }
                    literal.append(UInt8(ascii: "\""))
                }
                pieces.append((literal.count, .none))
                self.literal = literal
                self.pieces = pieces
            }
        }
    }

    /// `template`'s fields with its placeholders set from `words` (sharing the template's table).
    public init(_ template: Template, words w0: UInt64, _ w1: UInt64 = 0, _ w2: UInt64 = 0, _ w3: UInt64 = 0) {
        self = template.table.withWords(template.json, w0, w1, w2, w3)
    }
}

extension RemotingExtFields {
    /// `high` then `low` as 32 uppercase hex digits, big-endian: the text of a ``Template/Field/hex128(slot:)``
    /// value.
    public static func hex128(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { out in
            for i in 0 ..< 16 {
                out[i] = hexDigit(high >> UInt64(60 - 4 * i))
                out[16 + i] = hexDigit(low >> UInt64(60 - 4 * i))
            }
            return 32
        }
    }

    /// The uppercase hex digit of `value`'s low 4 bits.
    static func hexDigit(_ value: UInt64) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value & 0xF)
        return nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}

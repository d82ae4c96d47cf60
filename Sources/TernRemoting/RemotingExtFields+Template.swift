extension RemotingExtFields {
    /// Fields laid out once (keys, constant values, integer placeholders) and completed per use with up to four
    /// integers kept inline: a response sent for every message (the send answer) then needs no field table and
    /// no String per answer. The encoder writes the integers straight into the frame.
    public struct Template: Sendable {
        /// One field's value in the template.
        public enum Field: Sendable {
            case text(String)
            /// The signed decimal of word `slot` (0...3).
            case decimal(slot: Int)
            /// Words `slot` and `slot + 1` (0...2) as 32 uppercase hex digits, big-endian (an offset message id).
            case hex128(slot: Int)
        }

        /// Keys and values; placeholders render only once words are set.
        let table: RemotingExtFields

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
                }
            }
            self.table = table
        }
    }

    /// `template`'s fields with its placeholders set from `words` (sharing the template's table).
    public init(_ template: Template, words w0: UInt64, _ w1: UInt64 = 0, _ w2: UInt64 = 0, _ w3: UInt64 = 0) {
        self = template.table.withWords(w0, w1, w2, w3)
    }
}

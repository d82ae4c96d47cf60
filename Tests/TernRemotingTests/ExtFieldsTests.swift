import TernRemoting
import Testing

@Suite("extFields")
struct ExtFieldsTests {
    @Test func keepsInsertionOrderAndUniqueKeys() {
        var fields: RemotingExtFields = ["b": "1", "a": "2"]
        fields["c"] = "3"
        fields["b"] = "4"
        #expect(fields.keys == ["b", "a", "c"])
        #expect(fields["b"] == "4")
        fields["a"] = nil
        #expect(fields.keys == ["b", "c"])
        #expect(fields.count == 2)
    }

    @Test func equalityIgnoresOrder() {
        let one: RemotingExtFields = ["a": "1", "b": "2"]
        let two: RemotingExtFields = ["b": "2", "a": "1"]
        #expect(one == two)
        #expect(one != ["a": "1"])
        #expect(one != ["a": "1", "b": "3"])
    }

    @Test func typedAccessors() {
        let fields: RemotingExtFields = [
            "n": "-42", "big": "9223372036854775807", "over": "9223372036854775808", "spaced": " 7 ",
            "t": "true", "T": "TRUE", "f": "false", "one": "1", "zero": "0", "yes": "yes", "x": "4x",
        ]
        #expect(fields.int64("n") == -42)
        #expect(fields.int64("big") == Int64.max)
        #expect(fields.int64("over") == nil)
        #expect(fields.int64("spaced") == 7)
        #expect(fields.int64("x") == nil)
        #expect(fields.int64("missing") == nil)
        #expect(fields.int32("big") == nil)
        #expect(fields.int32("n") == -42)
        #expect(fields.bool("t") == true)
        #expect(fields.bool("T") == true)
        #expect(fields.bool("f") == false)
        #expect(fields.bool("one") == true)
        #expect(fields.bool("zero") == false)
        #expect(fields.bool("yes") == nil)
        #expect(fields.bool("missing") == nil)
    }

    @Test func typedSetters() {
        var fields = RemotingExtFields()
        fields.set("offset", Int64(-5))
        fields.set("queueId", Int32(3))
        fields.set("flag", true)
        #expect(fields["offset"] == "-5" && fields["queueId"] == "3" && fields["flag"] == "true")
    }
}

@testable import TernBroker
import TernMessage
import Testing

@Suite struct SQL92FilterTests {
    private func matches(_ expression: String, _ props: [String: String]) throws -> Bool {
        try SQL92Filter.compile(expression).matches(properties: props.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    private func refused(_ expression: String) -> SQL92Error? {
        do { _ = try SQL92Filter.compile(expression); return nil } catch { return error }
    }

    @Test func equalityOnStringsNumbersAndBooleans() throws {
        #expect(try matches("a = 'x'", ["a": "x"]))
        #expect(try !matches("a = 'x'", ["a": "y"]))
        #expect(try matches("a <> 'x'", ["a": "y"]))
        #expect(try !matches("a <> 'x'", ["a": "x"]))
        #expect(try matches("a = 10", ["a": "10"]))
        #expect(try matches("a = 10.0", ["a": "10"]))
        #expect(try matches("a = 10", ["a": "10.0"]))
        #expect(try matches("a <> 10", ["a": "11"]))
        #expect(try matches("flag = TRUE", ["flag": "true"]))
        #expect(try matches("flag = true", ["flag": "TRUE"]))
        #expect(try !matches("flag = FALSE", ["flag": "true"]))
        #expect(try matches("'x' = a", ["a": "x"]))
        #expect(try matches("a = b", ["a": "v", "b": "v"]))
        #expect(try !matches("a = b", ["a": "v", "b": "w"]))
        #expect(try matches("a = 'it''s'", ["a": "it's"]))
        #expect(try matches("a = 'ünï'", ["a": "ünï"]))
    }

    @Test func ordering() throws {
        #expect(try matches("a > 5", ["a": "6"]))
        #expect(try !matches("a > 5", ["a": "5"]))
        #expect(try matches("a >= 5", ["a": "5"]))
        #expect(try matches("a < 5", ["a": "-3"]))
        #expect(try !matches("a < 5", ["a": "5"]))
        #expect(try matches("a <= 5", ["a": "5"]))
        #expect(try matches("a > 1.5", ["a": "2"]))
        #expect(try matches("a < 1e3", ["a": "999.5"]))
        #expect(try matches("a > -2", ["a": "-1"]))
        #expect(try matches("5 < a", ["a": "6"]))
        #expect(try !matches("5 < a", ["a": "4"]))
        #expect(try matches("a > 10L", ["a": "11"]))
        // Exact for large integers (a double would call these equal).
        #expect(try matches("a > 9007199254740992", ["a": "9007199254740993"]))
        // Two properties compare numerically when both are numbers.
        #expect(try matches("a > b", ["a": "10", "b": "9"]))
        #expect(try !matches("a > b", ["a": "x", "b": "9"]))
    }

    @Test func betweenAndNotBetween() throws {
        #expect(try matches("a BETWEEN 1 AND 3", ["a": "1"]))
        #expect(try matches("a BETWEEN 1 AND 3", ["a": "3"]))
        #expect(try !matches("a BETWEEN 1 AND 3", ["a": "4"]))
        #expect(try matches("a NOT BETWEEN 1 AND 3", ["a": "4"]))
        #expect(try !matches("a NOT BETWEEN 1 AND 3", ["a": "2"]))
        #expect(try matches("a between 0.5 and 1.5", ["a": "1"]))
        #expect(try !matches("a NOT BETWEEN 1 AND 3", [:]))
        #expect(try !matches("a BETWEEN 1 AND 3", ["a": "two"]))
        #expect(try !matches("a NOT BETWEEN 1 AND 3", ["a": "two"]))
    }

    @Test func inAndNotIn() throws {
        #expect(try matches("a IN ('x', 'y')", ["a": "y"]))
        #expect(try !matches("a IN ('x', 'y')", ["a": "z"]))
        #expect(try matches("a NOT IN ('x', 'y')", ["a": "z"]))
        #expect(try !matches("a NOT IN ('x', 'y')", ["a": "x"]))
        #expect(try !matches("a IN ('x')", [:]))
        #expect(try !matches("a NOT IN ('x')", [:]))
        #expect(try matches("TAGS in ('TagA','TagB')", ["TAGS": "TagB"]))
    }

    @Test func nullsAreNeitherEqualNorUnequal() throws {
        #expect(try matches("a IS NULL", [:]))
        // An empty value does not survive the properties encoding (as in RocketMQ): it is NULL.
        #expect(try matches("a IS NULL", ["a": ""]))
        #expect(try !matches("a IS NULL", ["a": "0"]))
        #expect(try matches("a IS NOT NULL", ["a": "1"]))
        #expect(try !matches("a IS NOT NULL", [:]))
        #expect(try !matches("a = 'x'", [:]))
        #expect(try !matches("a <> 'x'", [:]))
        #expect(try !matches("a > 1", [:]))
        #expect(try !matches("NOT (a = 'x')", [:]))
        // Unknown OR true is true; unknown AND false is false; NOT unknown stays unknown.
        #expect(try matches("a = 'x' OR b = 'y'", ["b": "y"]))
        #expect(try !matches("a = 'x' AND b = 'y'", ["b": "y"]))
        #expect(try matches("NOT (a = 'x' AND b = 'y')", ["b": "z"]))
        #expect(try matches("b IS NOT NULL AND a IS NULL", ["b": "1"]))
    }

    @Test func typeMismatchesAreFalseBothWays() throws {
        #expect(try !matches("a > 5", ["a": "abc"]))
        #expect(try !matches("a = 5", ["a": "abc"]))
        #expect(try !matches("a <> 5", ["a": "abc"]))
        #expect(try !matches("a = TRUE", ["a": "yes"]))
        #expect(try !matches("a <> TRUE", ["a": "yes"]))
        #expect(try !matches("a = 5", ["a": " 5"]))
        #expect(try !matches("a = '5'", ["a": "5.0"]))
        #expect(try !matches("a = 5", ["a": ""]))
    }

    @Test func precedenceAndParentheses() throws {
        // AND binds tighter than OR.
        #expect(try matches("a = 1 OR b = 1 AND c = 1", ["a": "1"]))
        #expect(try !matches("(a = 1 OR b = 1) AND c = 1", ["a": "1"]))
        // NOT binds looser than comparison, tighter than AND.
        #expect(try matches("NOT a = 1 AND b = 2", ["a": "2", "b": "2"]))
        #expect(try !matches("NOT (a = 1 AND b = 2)", ["a": "1", "b": "2"]))
        #expect(try matches("NOT NOT a = 1", ["a": "1"]))
        #expect(try matches("a BETWEEN 1 AND 2 AND b = 'x'", ["a": "2", "b": "x"]))
        #expect(try !matches("a BETWEEN 1 AND 2 AND b = 'x'", ["a": "2", "b": "y"]))
        #expect(try matches("TRUE", [:]))
        #expect(try !matches("FALSE OR (FALSE)", [:]))
    }

    @Test func keywordsAreCaseInsensitive() throws {
        #expect(try matches("a is not null and b in ('1') Or c between 1 and 2", ["a": "x", "b": "1"]))
        #expect(try matches("x Not In ('q')", ["x": "p"]))
    }

    @Test func lastDuplicatePropertyWins() throws {
        let f = try SQL92Filter.compile("a = '2'")
        #expect(f.matches(properties: [("a", "1"), ("a", "2")]))
        #expect(!f.matches(properties: [("a", "2"), ("a", "1")]))
    }

    @Test func badExpressionsAreRefusedWithAPosition() throws {
        let cases: [(String, String)] = [
            ("", "empty"),
            ("a =", "expected a property or a literal"),
            ("a = 'x", "unterminated"),
            ("a > 'x'", "cannot be compared"),
            ("a >= TRUE", "cannot be compared"),
            ("a = NULL", "IS NULL"),
            ("a BETWEEN 3 AND 1", "out of order"),
            ("a BETWEEN 'a' AND 'b'", "cannot be compared"),
            ("a IN (1, 2)", "string literals only"),
            ("'x' IN ('x')", "applies to a property"),
            ("a", "expected a comparison"),
            ("a = 1 b = 2", "unexpected"),
            ("(a = 1", "expected ')'"),
            ("a LIKE 'x%'", "expected a comparison"),
            ("a != 1", "unexpected character"),
            ("a = 1 AND", "expected a property"),
            ("a IS 1", "expected NULL"),
            ("a NOT LIKE 'x'", "expected BETWEEN or IN"),
            ("a = 99999999999999999999", "out of range"),
            ("a = 1.2.3", "malformed"),
            ("a = - b", "a sign applies to a number"),
            (String(repeating: "NOT ", count: 100) + "a = 1", "nested too deeply"),
        ]
        for (text, expected) in cases {
            let error = refused(text)
            #expect(error != nil, "\(text) should be refused")
            #expect(error?.description.contains(expected) == true, "\(text): \(String(describing: error))")
        }
        #expect(refused("a = 1 AND b = 2")?.column == nil)
        #expect(refused("a = 1 AND b >")?.column == 14)
    }

    @Test func compiledOnceThenCached() throws {
        let cache = SQL92FilterCache()
        let key = SQL92FilterCache.Key(group: "G", topic: "T", expression: "a > 1", subVersion: 1)
        let first = try cache.filter(key).get()
        #expect(try cache.filter(key).get() == first)
        #expect(cache.count == 1)
        _ = cache.filter(.init(group: "G", topic: "T", expression: "a >", subVersion: 1))
        #expect(cache.count == 2)
        if case .success = cache.filter(.init(group: "G", topic: "T", expression: "a >", subVersion: 1)) {
            Issue.record("a bad expression must stay refused")
        }
    }
}

@Suite struct EnvironmentFilterTests {
    private func matches(_ f: EnvironmentFilter, _ env: String?) -> Bool {
        MessageProperties.encode(env.map { [("__ENV", $0), ("TAGS", "t")] } ?? [("TAGS", "t")])
            .withUnsafeBytes { f.matches(properties: $0) }
    }

    @Test func groupNameConvention() {
        #expect(EnvironmentFilter.split(group: "orders%env%dev") == ("orders", "dev"))
        #expect(EnvironmentFilter.split(group: "orders") == ("orders", nil))
        #expect(EnvironmentFilter.split(group: "orders%env%") == ("orders%env%", nil))
        #expect(EnvironmentFilter.split(group: "a%env%b%env%c") == ("a%env%b", "c"))
    }

    @Test func eachConsumerSeesItsShare() {
        let base = EnvironmentFilter(environment: nil, takesBase: false)
        #expect(matches(base, nil))
        #expect(matches(base, ""))
        #expect(!matches(base, "dev"))
        let dev = EnvironmentFilter(environment: "dev", takesBase: false)
        #expect(matches(dev, "dev"))
        #expect(!matches(dev, "qa"))
        #expect(!matches(dev, nil))
        let devAlone = EnvironmentFilter(environment: "dev", takesBase: true)
        #expect(matches(devAlone, nil))
        #expect(matches(devAlone, "dev"))
        #expect(!matches(devAlone, "qa"))
    }
}

import Foundation
import Testing
import TernConsole
import TernSecurity

/// Stored strings are hostile: nothing a producer or operator chose can open a tag, leave an attribute or
/// reach script source on a console page.
@Suite struct EscapingTests {
    static let hostile = "<script>alert(1)</script>\"'&x\" onmouseover=\"alert(2)"

    @Test func textEscapesEveryMarkupCharacter() {
        #expect(HTML.text("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;")
        #expect(HTML.text("plain topic_1-%DLQ%") == "plain topic_1-%DLQ%")
        #expect(HTML.text("ünïcødé ✓") == "ünïcødé ✓")
    }

    @Test func escapedOutputHasNoRawMarkupCharacters() {
        let out = HTML.text(Self.hostile)
        for c in ["<", ">", "\"", "'"] { #expect(!out.contains(c), "\(c) left in \(out)") }
    }

    @Test func queryValuesArePercentEncoded() {
        #expect(HTML.query("%DLQ%g 1&x=y") == "%25DLQ%25g%201%26x%3Dy")
        #expect(HTML.href("/topic", [("name", "a&b\"")]) == "/topic?name=a%26b%22")
    }

    @Test func confirmQuestionIsDataNotScript() {
        let form = HTML.form("/topic/delete", id: "d", [], button: "Delete", confirm: "Delete \(Self.hostile)?")
        #expect(form.contains("onsubmit=\"return confirm(this.dataset.confirm)\""))
        #expect(!form.contains("<script>"))
        #expect(!form.contains("alert(2)\""))
    }

    @Test func formParsingDecodesPlusAndPercent() {
        let f = ConsoleRequest.parseForm("name=%25DLQ%25g+1&empty=&x=a%3Db&bad=%zz")
        #expect(f["name"] == "%DLQ%g 1")
        #expect(f["empty"] == "")
        #expect(f["x"] == "a=b")
        #expect(f["bad"] == "%zz")
    }

    @Test func basicCredentials() throws {
        let header = "Basic " + Data("RocketMQ:12345678:x".utf8).base64EncodedString()
        let c = try #require(ConsoleRequest.basicCredentials(header))
        #expect(c.accessKey == "RocketMQ")
        #expect(c.secretKey == "12345678:x")
        #expect(ConsoleRequest.basicCredentials(nil) == nil)
        #expect(ConsoleRequest.basicCredentials("Bearer abc") == nil)
        #expect(ConsoleRequest.basicCredentials("Basic !!!") == nil)
        #expect(ConsoleRequest.basicCredentials("Basic " + Data(":secret".utf8).base64EncodedString()) == nil)
    }

    @Test func crossSiteFormsAreRefused() {
        #expect(ConsoleRequest.isSameOrigin(origin: nil, authority: "127.0.0.1:8080"))
        #expect(ConsoleRequest.isSameOrigin(origin: "http://127.0.0.1:8080", authority: "127.0.0.1:8080"))
        #expect(ConsoleRequest.isSameOrigin(origin: "https://broker.example:8443", authority: "broker.example:8443"))
        #expect(!ConsoleRequest.isSameOrigin(origin: "http://evil.example", authority: "127.0.0.1:8080"))
        #expect(!ConsoleRequest.isSameOrigin(origin: "http://127.0.0.1:9999", authority: "127.0.0.1:8080"))
        #expect(!ConsoleRequest.isSameOrigin(origin: "null", authority: "127.0.0.1:8080"))
        #expect(!ConsoleRequest.isSameOrigin(origin: "http://127.0.0.1:8080", authority: nil))
    }

    @Test func formTimes() {
        #expect(ConsoleRequest.timestamp("") == -1)
        #expect(ConsoleRequest.timestamp("1700000000000") == 1_700_000_000_000)
        #expect(ConsoleRequest.timestamp("2023-11-14T22:13") == 1_699_999_980_000)
        #expect(ConsoleRequest.timestamp("2023-11-14T22:13:20") == 1_700_000_000_000)
        #expect(ConsoleRequest.timestamp("yesterday") == nil)
    }

    @Test func hexDumpShowsOffsetsBytesAndPrintableText() {
        let dump = HTML.hexDump(Array("Hello, <world>\u{1}!?".utf8))
        let lines = dump.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("00000000  48 65 6c 6c 6f 2c"))
        #expect(lines[0].hasSuffix("  Hello, <world>.!"))
        #expect(lines[1].hasPrefix("00000010  3f"))
        #expect(lines[1].hasSuffix("  ?"))
        #expect(HTML.hexDump(Array(repeating: 0, count: 40), limit: 16).hasSuffix("… 24 more bytes"))
    }

    @Test func times() {
        #expect(HTML.time(1_700_000_000_123) == "2023-11-14 22:13:20.123")
        #expect(HTML.time(951_782_400_000) == "2000-02-29 00:00:00.000")
        #expect(HTML.time(0) == "-")
    }
}

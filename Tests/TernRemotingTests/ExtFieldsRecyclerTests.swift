import NIOCore
import TernTestSupport
import TernRemoting
import Testing

@Suite("extFields table recycling")
struct ExtFieldsRecyclerTests {
    /// A recycled table is refilled by the next decode while the command it came from is still held elsewhere:
    /// both keep their own fields (the shared array is copied, never written through).
    @Test func heldCommandKeepsItsFieldsWhenItsTableIsRecycled() throws {
        var generator = CommandGenerator(random: SplitMix64(seed: 0x5EED_0ECC))
        let recycler = ExtFieldsRecycler()
        var stream = ByteBufferAllocator().buffer(capacity: 0)
        let sent = (0 ..< 200).map { _ in generator.command(.json) }
        for command in sent { try RemotingFrame.write(command, into: &stream) }
        var held: [RemotingCommand] = []
        while let command = try RemotingFrame.read(from: &stream, frameSizeMax: 1 << 20, recycler: recycler) {
            held.append(command)
            recycler.recycle(command.extFields)
        }
        #expect(held == sent)
    }

    /// The path a send takes: each command dropped before the next decode, whose fields refill its table.
    @Test func droppedCommandsTableIsRefilled() throws {
        let recycler = ExtFieldsRecycler()
        var stream = ByteBufferAllocator().buffer(capacity: 0)
        let sent = (0 ..< 20).map { i in
            RemotingCommand(code: 310, opaque: Int32(i), extFields: ["a": "group-\(i)", "b": String(repeating: "t", count: i)])
        }
        for command in sent { try RemotingFrame.write(command, into: &stream) }
        var i = 0
        while let command = try RemotingFrame.read(from: &stream, frameSizeMax: 1 << 20, recycler: recycler) {
            #expect(command == sent[i])
            recycler.recycle(command.extFields)
            i += 1
        }
        #expect(i == sent.count)
    }
}

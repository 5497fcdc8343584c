import NIOCore
import Testing
@testable import SMTPCore
import SealpostTestSupport

@Suite struct DataEncoderTests {
    @Test(arguments: [
        ("", ".\r\n"),
        ("a", "a\r\n.\r\n"),
        ("a\r\n", "a\r\n.\r\n"),
        ("a\nb", "a\r\nb\r\n.\r\n"),
        ("a\rb\r", "a\r\nb\r\n.\r\n"),
        (".", "..\r\n.\r\n"),
        (".\r\n", "..\r\n.\r\n"),
        ("a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"),
        ("a\r\n.\r\n", "a\r\n..\r\n.\r\n"),
        ("a\r.\r\n", "a\r\n..\r\n.\r\n"),
        ("a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"),
        ("..x", "...x\r\n.\r\n"),
        ("x.y\r\n", "x.y\r\n.\r\n"),
    ])
    func dataEncoding(_ content: String, _ wire: String) {
        #expect(DataEncoder.encode(buffer(content)).text == wire)
    }

    @Test func bdatModeOnlyNormalizesLineEndings() {
        #expect(DataEncoder.encode(buffer(".a\nb"), mode: .bdat).text == ".a\r\nb\r\n")
        #expect(DataEncoder.encode(buffer(""), mode: .bdat).text == "")
    }

    @Test func encodedOutputNeverHasBareLineBreaksAndDecodesBack() {
        var generator = SeededGenerator(seed: 0xDA7A)
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x2E, 0x00, 0x61, 0x20]
        for _ in 0..<3000 {
            let content = (0..<Int.random(in: 0...60, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            // Encode in random pieces.
            var encoder = DataEncoder()
            var wire = ByteBuffer()
            var start = 0
            while start < content.count {
                let end = min(content.count, start + Int.random(in: 1...7, using: &generator))
                encoder.encode(buffer(Array(content[start..<end])), into: &wire)
                start = end
            }
            encoder.finish(into: &wire)
            let bytes = wire.bytes
            for (index, byte) in bytes.enumerated() {
                if byte == 0x0A { #expect(index > 0 && bytes[index - 1] == 0x0D) }
                if byte == 0x0D { #expect(index + 1 < bytes.count && bytes[index + 1] == 0x0A) }
            }
            // The decoder finds the end exactly at the end, and gets the content back with every
            // line break as CR LF.
            let decoded = decodeData([bytes])
            #expect(decoded.report != nil)
            #expect(decoded.rest.isEmpty)
            #expect(decoded.report?.hasStrictLineEndings == true)
            #expect(decoded.content == normalized(content))
        }
    }

    /// Content with every CR, LF and CR LF as CR LF, and a final line ending added.
    func normalized(_ content: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < content.count {
            let byte = content[index]
            if byte == 0x0D {
                result += [0x0D, 0x0A]
                if index + 1 < content.count && content[index + 1] == 0x0A { index += 1 }
            } else if byte == 0x0A {
                result += [0x0D, 0x0A]
            } else {
                result.append(byte)
            }
            index += 1
        }
        if !result.isEmpty && result.suffix(2) != [0x0D, 0x0A] { result += [0x0D, 0x0A] }
        return result
    }
}

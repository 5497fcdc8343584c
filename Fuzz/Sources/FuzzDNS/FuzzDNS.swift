// DNS messages: the response decoder on arbitrary bytes (compression pointers, loops, truncated records).
import FuzzDriver
@testable import SealpostDNSMessage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNS(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parser = DNSMessageParser(bytes)

    // Every offset as the start of a name: bounded, and within the message.
    for offset in 0..<bytes.count {
        guard let (name, next) = try? parser.name(at: offset) else { continue }
        checkName(name)
        require(next > offset && next <= bytes.count, "a name ends outside the message")
    }

    let message: DNSMessage
    do {
        message = try parser.message()
    } catch {
        require(!error.reason.isEmpty)
        return 0
    }
    guard let (header, questions, _) = try? parser.headerAndQuestions() else {
        fatalError("the message parses, its question section does not")
    }
    require(header == message.header && questions == message.questions)
    require(message.questions.count == Int(header.questionCount))
    require(message.answers.count == Int(header.answerCount))
    require(message.authority.count == Int(header.authorityCount))
    require(message.additional.count == Int(header.additionalCount))
    for question in message.questions { checkName(question.name) }
    for record in message.answers + message.authority + message.additional {
        checkName(record.name)
        switch record.data {
        case .a(let address): require(address.count == 4)
        case .aaaa(let address): require(address.count == 16)
        case .mx(_, let exchange): checkName(exchange)
        case .cname(let target): checkName(target)
        default: break
        }
    }

    // Written out again without compression, the message parses to the same value.
    let again: DNSMessage
    do {
        again = try DNSMessageParser(encode(message)).message()
    } catch {
        fatalError("the message written out again does not parse: \(error)")
    }
    require(again == message, "the message written out again parses differently")
    return 0
}

func checkName(_ name: DNSName) {
    require(name.wireLength <= DNSName.maximumWireLength, "a name longer than 255 bytes")
    for label in name.labels {
        require(!label.isEmpty && label.count <= DNSName.maximumLabelLength, "a label of \(label.count) bytes")
    }
    // The presentation form escapes every byte that could pass for structure.
    let text = name.description
    require(!text.utf8.contains(where: { $0 < 0x21 || $0 > 0x7E }), "unprintable byte in a presented name")
    require(text.split(separator: ".", omittingEmptySubsequences: false).count == max(name.labels.count, 1) || name.isRoot)
}

/// The message in wire form without compression (RFC 1035 section 4.1).
func encode(_ message: DNSMessage) -> [UInt8] {
    var bytes: [UInt8] = []
    let header = message.header
    for word in [header.id, header.flags, header.questionCount, header.answerCount, header.authorityCount, header.additionalCount] {
        append(word, to: &bytes)
    }
    for question in message.questions {
        question.name.encode(into: &bytes)
        append(question.type.rawValue, to: &bytes)
        append(question.recordClass, to: &bytes)
    }
    for record in message.answers + message.authority + message.additional {
        record.name.encode(into: &bytes)
        append(record.type.rawValue, to: &bytes)
        append(record.recordClass, to: &bytes)
        append(UInt16(record.ttl >> 16), to: &bytes)
        append(UInt16(record.ttl & 0xFFFF), to: &bytes)
        var data: [UInt8] = []
        switch record.data {
        case .a(let address), .aaaa(let address), .other(let address): data = address
        case .mx(let preference, let exchange):
            append(preference, to: &data)
            exchange.encode(into: &data)
        case .cname(let target): target.encode(into: &data)
        case .tlsa(let tlsa): data = [tlsa.usage, tlsa.selector, tlsa.matchingType] + tlsa.data
        case .opt(_, let options): data = options
        }
        append(UInt16(data.count), to: &bytes)
        bytes += data
    }
    return bytes
}

func append(_ word: UInt16, to bytes: inout [UInt8]) {
    bytes.append(UInt8(word >> 8))
    bytes.append(UInt8(word & 0xFF))
}

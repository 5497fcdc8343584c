import Foundation
import Testing

/// A strict reader of the messages the DSN composer writes: CR LF line ends only, lines of at
/// most 998 octets, RFC 5322 headers with folding, and MIME multiparts split at their boundary.
struct ParsedMessage {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// Header fields in order, names as written, values unfolded (CR LF removed).
    var headers: [(name: String, value: String)]
    /// The raw header lines (folded), for line-level checks.
    var rawHeaderLines: [String]
    var body: [UInt8]

    /// Parses a whole message or MIME part (`crlf`: every line must end in CR LF).
    init(_ bytes: [UInt8], checkLines: Bool = true) throws {
        if checkLines { try Self.checkLineEnds(bytes) }
        var headers: [(String, String)] = []
        var raw: [String] = []
        var index = 0
        var bodyStart = bytes.count
        while index < bytes.count {
            guard let end = Self.lineEnd(bytes, from: index) else { throw Problem(description: "header without CR LF") }
            let line = String(decoding: bytes[index..<end], as: UTF8.self)
            index = end + 2
            if line.isEmpty {
                bodyStart = index
                break
            }
            raw.append(line)
            if line.first == " " || line.first == "\t" {
                guard !headers.isEmpty else { throw Problem(description: "continuation line first: \(line)") }
                headers[headers.count - 1].1 += line
            } else {
                guard let colon = line.firstIndex(of: ":") else { throw Problem(description: "not a header: \(line)") }
                let name = String(line[..<colon])
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && $0 != " " }) else {
                    throw Problem(description: "bad header name in \(line)")
                }
                var value = String(line[line.index(after: colon)...])
                if value.first == " " { value.removeFirst() }
                headers.append((name, value))
            }
        }
        self.headers = headers
        self.rawHeaderLines = raw
        self.body = Array(bytes[min(bodyStart, bytes.count)...])
    }

    /// The values of every field named `name` (case-insensitive).
    func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The single value of `name`; records an issue when it is missing or repeated.
    func value(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let found = values(name)
        #expect(found.count == 1, "\(name): \(found)", sourceLocation: sourceLocation)
        return found.first
    }

    /// The `boundary` parameter of a multipart Content-Type.
    var boundary: String? {
        guard let type = values("Content-Type").first, let range = type.range(of: "boundary=\"") else { return nil }
        let rest = type[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    /// The body split at the boundary (RFC 2046 section 5.1.1): the parts without their
    /// delimiter lines; the preamble is dropped; the close delimiter must be there.
    func parts() throws -> [ParsedMessage] {
        guard let boundary else { throw Problem(description: "no boundary") }
        let lines = String(decoding: body, as: UTF8.self).components(separatedBy: "\r\n")
        var parts: [[String]] = []
        var current: [String]?
        var closed = false
        for line in lines {
            if line == "--" + boundary {
                if let current { parts.append(current) }
                current = []
            } else if line == "--" + boundary + "--" {
                if let current { parts.append(current) }
                current = nil
                closed = true
                break
            } else if current != nil {
                current!.append(line)
            }
        }
        guard closed else { throw Problem(description: "no close delimiter") }
        return try parts.map { lines in
            // The CR LF before a delimiter belongs to the delimiter.
            try ParsedMessage(Array(lines.joined(separator: "\r\n").utf8), checkLines: false)
        }
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Every line ends in CR LF (no bare CR or LF) and no line has more than 998 octets.
    static func checkLineEnds(_ bytes: [UInt8]) throws {
        var lineLength = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D {
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else { throw Problem(description: "bare CR at \(index)") }
                lineLength = 0
                index += 2
                continue
            }
            if byte == 0x0A { throw Problem(description: "bare LF at \(index)") }
            lineLength += 1
            if lineLength > 998 { throw Problem(description: "line longer than 998 octets at \(index)") }
            index += 1
        }
        guard bytes.count >= 2, bytes.suffix(2) == [0x0D, 0x0A] else { throw Problem(description: "no final CR LF") }
    }

    private static func lineEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }
}

/// Finds Postfix's programs, which these tests compare against.
enum PostfixTools {
    /// The path of a Postfix program; records a failure naming the package when it is missing.
    static func require(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        Issue.record("\(name) is missing; install the postfix package", sourceLocation: sourceLocation)
        return nil
    }

    /// Runs a program to completion and returns its standard output.
    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The texts `postconf -b` prints for a configuration of `main` lines: the lines between
    /// `expanded_<kind>_text = <<EOF` and `EOF`, by kind (`failure`, `delay`, `success`).
    static func templateTexts(main: String) throws -> [String: [String]]? {
        guard let postconf = require("postconf") else { return nil }
        let directory = NSTemporaryDirectory() + "sealpost-postconf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try main.write(toFile: directory + "/main.cf", atomically: false, encoding: .utf8)
        try "".write(toFile: directory + "/master.cf", atomically: false, encoding: .utf8)
        let (status, output) = try run(postconf, ["-c", directory, "-b"])
        #expect(status == 0)
        var texts: [String: [String]] = [:]
        var current: String?
        for line in output.components(separatedBy: "\n") {
            if line.hasPrefix("expanded_"), line.hasSuffix("_text = <<EOF") {
                current = String(line.dropFirst("expanded_".count).dropLast("_text = <<EOF".count))
                texts[current!] = []
            } else if line == "EOF" {
                current = nil
            } else if let name = current {
                texts[name]!.append(line)
            }
        }
        return texts
    }
}

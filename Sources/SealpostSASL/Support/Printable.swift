/// Postfix's printable(3) for text that reaches logs and replies: control characters and bytes
/// that are not UTF-8 become `?`, so a client or back end cannot forge log lines or replies.
enum Printable {
    static func text(_ bytes: some Collection<UInt8>) -> String {
        var output = ""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if scalar == "\u{FFFD}" || scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                output.unicodeScalars.append("?")
            } else {
                output.unicodeScalars.append(scalar)
            }
        }
        return output
    }

    static func text(_ string: String) -> String { text(Array(string.utf8)) }
}

/// Comparison whose duration depends on the lengths only, never on where the inputs differ.
enum ConstantTime {
    static func equal(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        let left = Array(lhs)
        let right = Array(rhs)
        let length = max(left.count, right.count)
        var difference = UInt8(truncatingIfNeeded: left.count ^ right.count) | (left.count == right.count ? 0 : 1)
        for index in 0..<length {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }
}

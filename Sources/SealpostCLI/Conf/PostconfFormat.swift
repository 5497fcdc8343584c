import SealpostConfig

/// Output formatting exactly as postconf(1) prints it.
enum PostconfFormat {
    static let lineLimit = 80
    static let indent = "    "

    /// A `name = value` (or any) line with whitespace normalized; with `fold`, words wrap at 80
    /// columns onto lines indented by four spaces (postconf's `pcf_print_line`).
    static func line(_ text: String, fold: Bool) -> String {
        let words = PostfixList.normalizedWhitespace(text).split(separator: " ", omittingEmptySubsequences: true)
        var output = ""
        var length = 0
        for word in words {
            if length > 0 {
                if !fold || length + word.utf8.count < lineLimit {
                    output += " "
                    length += 1
                } else {
                    output += "\n" + indent
                    length = indent.count
                }
            }
            output += word
            length += word.utf8.count
        }
        return output + "\n"
    }

    /// One master.cf entry as `postconf -M` prints it: the eight fields at their preferred columns,
    /// each `-o name=value` on the same line (or, with `fold`, on its own indented line).
    static func masterEntry(_ service: MasterService, fold: Bool, expandValue: (String) -> String) -> String {
        let columns = [0, 11, 17, 25, 33, 41, 49, 57]
        let fields = [
            service.name, service.type.rawValue, service.privateField, service.unprivilegedField, service.chrootField,
            service.wakeupField, service.maxProcessesField, service.command,
        ]
        var output = ""
        var length = 0
        for (index, field) in fields.enumerated() {
            if length > 0 {
                repeat {
                    output += " "
                    length += 1
                } while length < columns[index]
            }
            output += field
            length += field.utf8.count
        }

        var inOptions = true
        var index = 0
        let arguments = service.arguments
        while index < arguments.count {
            var argument = arguments[index]
            var value: String?
            var needsBraces = false
            if inOptions && (!argument.hasPrefix("-") || argument == "--") { inOptions = false }
            var itemLength = argument.utf8.count
            if inOptions {
                if argument == "-o", index + 1 < arguments.count {
                    length = lineLimit  // an option with a value starts a new line when folding
                    let expanded = expandValue(arguments[index + 1])
                    value = expanded
                    itemLength += expanded.utf8.count + 3
                    needsBraces = expanded.utf8.contains(where: isBlank)
                    if needsBraces { itemLength += 2 }
                }
            } else {
                needsBraces = argument.utf8.contains(where: isBlank)
            }
            if length > indent.count {
                if !fold || length + 1 + itemLength < lineLimit {
                    output += " "
                    length += 1
                } else {
                    output += "\n" + indent
                    length = indent.count
                }
            }
            if !inOptions && needsBraces { argument = "{\(argument)}" }
            output += argument
            length += argument.utf8.count
            if let value {
                let shown = needsBraces ? "{\(value)}" : value
                output += " " + shown
                index += 1
                length = lineLimit
            }
            index += 1
        }
        return output + "\n"
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }
}

import Foundation
import SealpostTestSupport
import Testing

/// Raw SMTP conversations for the attack tests, run the same way against Sealpost and against a
/// reference Postfix, so that their answers can be compared line by line.
enum AttackConversation {
    /// Sends each step (Python bytes source, its line ends included; `2*b'…'` when it draws two
    /// replies) on one connection after the greeting, and returns each reply's last line with
    /// queue IDs replaced by `ID`; `<closed>` when the server hung up.
    static func replies(port: Int, steps: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        let output = try python("""
            import re, socket
            s = socket.create_connection(('127.0.0.1', \(port)))
            s.settimeout(60)
            f = s.makefile('rb')
            def reply():
                line = f.readline()
                while line[3:4] == b'-': line = f.readline()
                if not line: return '<closed>'
                return re.sub(r'queued as [0-9A-Za-z]+', 'queued as ID', line.decode('latin-1').strip())
            reply()
            class Twice(bytes): pass
            def steps():
                for step in [\(steps.map { $0.hasPrefix("2*") ? "Twice(\($0.dropFirst(2)))" : $0 }.joined(separator: ",\n        "))]:
                    yield step
            for step in steps():
                answers = []
                try:
                    s.sendall(step)
                    for _ in range(2 if isinstance(step, Twice) else 1):
                        answers.append(reply())
                        if answers[-1] == '<closed>': break
                except OSError:
                    answers.append('<closed>')
                for answer in answers: print(answer)
                if '<closed>' in answers: break
            """, sourceLocation: sourceLocation)
        return output.split(separator: "\n").map(String.init)
    }

    /// A reference Postfix 3.7 set up like ``MailInstance``: the same names, the local virtual
    /// domain `example.test` with the user demo, and 127.0.0.1 outside mynetworks.
    static func referencePostfix(mainExtra: String = "", sourceLocation: SourceLocation = #_sourceLocation) throws -> ReferencePostfix? {
        try ReferencePostfix.start(mainExtra: """
            myhostname = mx.example.test
            mynetworks = 192.0.2.0/24
            virtual_mailbox_domains = example.test
            virtual_mailbox_maps = inline:{ demo@example.test=example.test/demo/ }
            mydestination = $myhostname, localhost.$mydomain, localhost
            smtpd_error_sleep_time = 0
            \(mainExtra)
            """, sourceLocation: sourceLocation)
    }

    /// Header lines of a delivered message, split at every CR and LF (a reader may take either as
    /// a line end), up to the first empty line.
    static func headerLines(_ message: String) -> [String] {
        var lines: [String] = []
        for line in message.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            if line.isEmpty { break }
            lines.append(String(line))
        }
        return lines
    }
}

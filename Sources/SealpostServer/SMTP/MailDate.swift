#if canImport(Glibc)
import Glibc
#endif

/// Dates as Postfix's mail_date() writes them in Received and Date headers:
/// `Sun, 29 Nov 2026 12:00:00 +0000 (UTC)` in local time.
public enum MailDate {
    public static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S ", &parts)
        var text = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let offset = Int(parts.tm_gmtoff)
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        text += sign + twoDigits(minutes / 60) + twoDigits(minutes % 60)
        let zoneLength = strftime(&buffer, buffer.count, "%Z", &parts)
        if zoneLength > 0 {
            text += " (" + String(decoding: buffer[0..<zoneLength].map { UInt8(bitPattern: $0) }, as: UTF8.self) + ")"
        }
        return text
    }

    /// The current time, in seconds.
    public static func now() -> Int { Int(time(nil)) }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}

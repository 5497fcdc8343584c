#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 5322 dates in Postfix's mail_date() form: `Sun,  1 Nov 2026 10:30:41 -0500 (EST)`.
enum MailDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The date of `seconds` since the epoch, in the local time zone, or at a fixed offset from
    /// UTC (in seconds) when `utcOffset` is given (then the zone comment is `UTC` or omitted).
    static func format(_ seconds: Int64, utcOffset: Int? = nil) -> String {
        var fields = tm()
        var zoneName: String?
        let offset: Int
        if let utcOffset {
            var time = time_t(seconds + Int64(utcOffset))
            gmtime_r(&time, &fields)
            offset = utcOffset
            zoneName = utcOffset == 0 ? "UTC" : nil
        } else {
            var time = time_t(seconds)
            localtime_r(&time, &fields)
            offset = Int(fields.tm_gmtoff)
            if let zone = fields.tm_zone { zoneName = String(cString: zone) }
        }
        // mail_date.c uses strftime's %e: the day of the month padded with a space.
        let day = fields.tm_mday < 10 ? " \(fields.tm_mday)" : "\(fields.tm_mday)"
        var text = "\(days[Int(fields.tm_wday)]), \(day) \(months[Int(fields.tm_mon)]) \(1900 + Int(fields.tm_year)) "
        text += "\(twoDigits(Int(fields.tm_hour))):\(twoDigits(Int(fields.tm_min))):\(twoDigits(Int(fields.tm_sec))) "
        let minutes = abs(offset) / 60
        text += (offset < 0 ? "-" : "+") + twoDigits(minutes / 60) + twoDigits(minutes % 60)
        if let zoneName, !zoneName.isEmpty { text += " (\(zoneName))" }
        return text
    }

    /// `YYYYMMDDhhmmss` in UTC, for message IDs.
    static func compact(_ seconds: Int64) -> String {
        var fields = tm()
        var time = time_t(seconds)
        gmtime_r(&time, &fields)
        return "\(1900 + Int(fields.tm_year))" + [fields.tm_mon + 1, fields.tm_mday, fields.tm_hour, fields.tm_min, fields.tm_sec]
            .map { twoDigits(Int($0)) }.joined()
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}

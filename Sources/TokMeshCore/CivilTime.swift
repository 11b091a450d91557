// CivilTime: Unix milliseconds → UTC calendar fields and RFC 3339 strings, without Foundation
// (Howard Hinnant's days-from-civil algorithm). Used for audit file names, snapshot IDs and logs.

public struct CivilTime: Sendable, Equatable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int

    public init(unixMillis: Int64) {
        let ms = Int(unixMillis)
        var days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        hour = msOfDay / 3_600_000
        minute = msOfDay / 60_000 % 60
        second = msOfDay / 1000 % 60
        millisecond = msOfDay % 1000
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days since 1970-01-01 of a civil date.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `YYYY-MM-DD`.
    public var dateString: String { "\(CivilTime.pad(year, 4))-\(CivilTime.pad(month, 2))-\(CivilTime.pad(day, 2))" }

    /// `YYYYMMDD-HHMMSS`, the stamp in snapshot and job IDs.
    public var compactStamp: String {
        "\(CivilTime.pad(year, 4))\(CivilTime.pad(month, 2))\(CivilTime.pad(day, 2))-\(CivilTime.pad(hour, 2))\(CivilTime.pad(minute, 2))\(CivilTime.pad(second, 2))"
    }

    /// `<prefix>-YYYYMMDD-HHMMSS` (UTC), with `-2`, `-3`… when that second is taken (spec/01 §1:
    /// snapshot and restore job IDs).
    public static func stampedID(_ prefix: String, unixMillis: Int64, isTaken: (String) -> Bool) -> String {
        let base = "\(prefix)-\(CivilTime(unixMillis: unixMillis).compactStamp)"
        var id = base, n = 2
        while isTaken(id) {
            id = "\(base)-\(n)"
            n += 1
        }
        return id
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var rfc3339: String {
        "\(dateString)T\(CivilTime.pad(hour, 2)):\(CivilTime.pad(minute, 2)):\(CivilTime.pad(second, 2)).\(CivilTime.pad(millisecond, 3))Z"
    }
}

// IPAddress and CIDR: parsing, canonical rendering (dotted IPv4, RFC 5952 IPv6, IPv4-mapped
// IPv6 folded to IPv4) and prefix matching, for session IPs, allow-lists, trusted proxies and
// list filters (spec/01 §2, spec/03 §7).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6).
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let raw = withUnsafeBytes(of: &v6) { Array($0) }
        if raw[0..<10].allSatisfy({ $0 == 0 }) && raw[10] == 0xFF && raw[11] == 0xFF {
            bytes = Array(raw[12..<16])
        } else {
            bytes = raw
        }
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16, "IP address must be 4 or 16 bytes")
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            self.bytes = Array(bytes[12..<16])
        } else {
            self.bytes = bytes
        }
    }

    public var description: String {
        if isIPv4 { return "\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3])" }
        var buffer = [CChar](repeating: 0, count: 64)
        if isIPv4 {
            var a = in_addr()
            withUnsafeMutableBytes(of: &a) { $0.copyBytes(from: bytes) }
            inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
        } else {
            var a = in6_addr()
            withUnsafeMutableBytes(of: &a) { $0.copyBytes(from: bytes) }
            inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Parses an address that may carry a port or brackets (`1.2.3.4:80`, `[::1]:80`, `[::1]`).
    public static func parseLoose(_ raw: String) -> IPAddress? {
        var s = Substring(raw.trimmingWhitespace())
        if s.hasPrefix("\"") && s.hasSuffix("\"") && s.count >= 2 { s = s.dropFirst().dropLast() }
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            return IPAddress(String(s[s.index(after: s.startIndex)..<close]))
        }
        if let ip = IPAddress(String(s)) { return ip }
        // IPv4 with port.
        if let colon = s.lastIndex(of: ":"), s.firstIndex(of: ":") == colon {
            return IPAddress(String(s[..<colon]))
        }
        return nil
    }
}

public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    /// Parses `addr` (= /32 or /128) or `addr/len`.
    public init?(_ text: String) {
        let trimmed = text.trimmingWhitespace()
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let ip = IPAddress(String(parts[0])) else { return nil }
        let maxLength = ip.isIPv4 ? 32 : 128
        var length = maxLength
        if parts.count == 2 {
            guard let l = Int(parts[1]), l >= 0, l <= maxLength, !parts[1].hasPrefix("+") else { return nil }
            length = l
        }
        network = CIDR.mask(ip, length)
        prefixLength = length
    }

    private static func mask(_ ip: IPAddress, _ length: Int) -> IPAddress {
        var bytes = ip.bytes
        for i in 0..<bytes.count {
            let bitsHere = max(0, min(8, length - i * 8))
            bytes[i] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        return IPAddress(bytes: bytes)
    }

    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == network.bytes.count else { return false }
        return CIDR.mask(ip, prefixLength) == network
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs, CR and LF.
    public func trimmingWhitespace() -> String {
        let u = Array(utf8)
        var start = 0, end = u.count
        func blank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        while start < end, blank(u[start]) { start += 1 }
        while end > start, blank(u[end - 1]) { end -= 1 }
        return String(decoding: u[start..<end], as: UTF8.self)
    }
}

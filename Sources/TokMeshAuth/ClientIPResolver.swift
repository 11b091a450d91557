// ClientIPResolver: the client IP of spec/03 §7. The TCP peer, unless it is a trusted proxy;
// then `Forwarded` (for=), else `X-Forwarded-For`, else `X-Real-IP`, walked from the right,
// skipping trusted addresses (all trusted → the leftmost). Unparsable values fall back to the peer.
import TokMeshCore

public struct ClientIPResolver: Sendable {
    public var trustedProxies: [CIDR]

    public init(trustedProxies: [CIDR]) { self.trustedProxies = trustedProxies }

    private func isTrusted(_ ip: IPAddress) -> Bool { trustedProxies.contains { $0.contains(ip) } }

    /// `header(name)` returns every value of a header (lowercase name), in order.
    public func resolve(peer: IPAddress, header: (String) -> [String]) -> IPAddress {
        guard !trustedProxies.isEmpty, isTrusted(peer) else { return peer }
        if let list = forwardedFor(header("forwarded")) ?? plainList(header("x-forwarded-for")) ?? plainList(header("x-real-ip")) {
            return pick(list) ?? peer
        }
        return peer
    }

    private func pick(_ raw: [String]) -> IPAddress? {
        var parsed: [IPAddress] = []
        for item in raw {
            guard let ip = IPAddress.parseLoose(item) else { return nil }
            parsed.append(ip)
        }
        guard !parsed.isEmpty else { return nil }
        for ip in parsed.reversed() where !isTrusted(ip) { return ip }
        return parsed.first
    }

    private func plainList(_ values: [String]) -> [String]? {
        let items = values.flatMap { $0.split(separator: ",").map { String($0) } }
            .map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        return items.isEmpty ? nil : items
    }

    private func forwardedFor(_ values: [String]) -> [String]? {
        var items: [String] = []
        for value in values {
            for element in value.split(separator: ",") {
                for pair in element.split(separator: ";") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    if kv.count == 2, kv[0].trimmingWhitespace().lowercased() == "for" {
                        items.append(kv[1].trimmingWhitespace())
                    }
                }
            }
        }
        return items.isEmpty ? nil : items
    }
}

// Glob: Redis's glob patterns (stringmatchlen) for CONFIG GET and SCAN MATCH: `*`, `?`, `[abc]`,
// `[^a]`, `[a-z]` and `\x` escapes, case-sensitive, over bytes. Iterative with backtracking to
// the last `*` only, so a pattern like `*a*a*a*b` cannot take exponential time.

public enum Glob {
    public static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
                    if p == pattern.count { return true }
                    starP = p
                    starT = t
                    continue
                case UInt8(ascii: "?"):
                    p += 1
                    t += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, next) = matchClass(pattern, p, text[t]), matched {
                        p = next
                        t += 1
                        continue
                    }
                case UInt8(ascii: "\\") where p + 1 < pattern.count:
                    if pattern[p + 1] == text[t] {
                        p += 2
                        t += 1
                        continue
                    }
                default:
                    if pattern[p] == text[t] {
                        p += 1
                        t += 1
                        continue
                    }
                }
            }
            // Mismatch: let the last `*` swallow one more byte, or fail.
            guard starP >= 0 else { return false }
            starT += 1
            t = starT
            p = starP
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Matches `c` against the class starting at `pattern[start] == "["`; returns whether it
    /// matched and the index after the class (an unclosed class runs to the end, as in Redis).
    static func matchClass(_ pattern: [UInt8], _ start: Int, _ c: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.count && pattern[i] == UInt8(ascii: "^") { negate = true; i += 1 }
        var matched = false
        while i < pattern.count && pattern[i] != UInt8(ascii: "]") {
            if pattern[i] == UInt8(ascii: "\\") && i + 1 < pattern.count {
                if pattern[i + 1] == c { matched = true }
                i += 2
            } else if i + 2 < pattern.count && pattern[i + 1] == UInt8(ascii: "-") && pattern[i + 2] != UInt8(ascii: "]") {
                let (lo, hi) = (min(pattern[i], pattern[i + 2]), max(pattern[i], pattern[i + 2]))
                if c >= lo && c <= hi { matched = true }
                i += 3
            } else {
                if pattern[i] == c { matched = true }
                i += 1
            }
        }
        if i < pattern.count { i += 1 }  // the closing bracket
        return (matched != negate, i)
    }
}

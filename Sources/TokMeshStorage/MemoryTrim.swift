// MemoryTrim: keeps the heap close to the live set. glibc keeps freed memory in its arenas, so
// after the few operations that build large transient buffers (recovery, snapshots, restores)
// `release` hands free pages back to the OS; and `limitArenas`, called once at process start,
// caps the number of malloc arenas: glibc's default (8 per core) lets every short-lived worker
// thread of a bulk load or snapshot scatter allocations over its own arena, which fragments
// the heap (about 25 MB more resident with 1.1M sessions, docs/decisions.md).
#if os(Linux)
/// glibc's `int malloc_trim(size_t pad)` (malloc.h is not part of the Glibc module map).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
/// glibc's `int mallopt(int param, int value)`.
@_silgen_name("mallopt")
private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif

public enum MemoryTrim {
    public static func release() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    /// At most `2 × cores` arenas, and no fewer than 4 (fewer made parallel recovery contend for
    /// them). An operator's `MALLOC_ARENA_MAX` wins. Call before starting threads.
    public static func limitArenas(cores: Int, environment: [String: String]) {
        #if os(Linux)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        let mArenaMax: Int32 = -8
        _ = glibcMallopt(mArenaMax, Int32(max(4, min(2 * cores, 64))))
        #endif
    }
}

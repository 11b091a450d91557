// MemoryTrim: hands freed heap pages back to the OS after the few operations that build large
// transient buffers (recovery, snapshots, restores). glibc keeps freed memory in its arenas, so
// without this the resident size stays at the peak of the last snapshot instead of the live set.
#if os(Linux)
/// glibc's `int malloc_trim(size_t pad)` (malloc.h is not part of the Glibc module map).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

public enum MemoryTrim {
    public static func release() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }
}

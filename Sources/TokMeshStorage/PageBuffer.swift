// PageBuffer: a large scratch buffer taken straight from the kernel for the few moments a
// snapshot's plaintext body lives (recovery, restore by id). Where the kernel offers transparent
// huge pages on request (`madvise` mode, the common default), the buffer asks for them: a 250 MB
// body then costs about 125 page faults instead of about 60,000, and the parsing workers that
// read it miss the TLB far less. The memory goes back to the kernel when the buffer is dropped,
// so it never fragments the malloc heap the engine's sessions live in.
#if canImport(Glibc)
import Glibc
#endif

final class PageBuffer: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let count: Int

    /// `count` zeroed bytes; nil when the kernel refuses the mapping.
    init?(count: Int) {
        let length = max(1, count)
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { return nil }
        #if os(Linux)
        _ = madvise(mapped, length, 14)  // MADV_HUGEPAGE: advice only, so its result does not matter
        #endif
        base = mapped
        self.count = length
    }

    deinit { munmap(base, count) }
}

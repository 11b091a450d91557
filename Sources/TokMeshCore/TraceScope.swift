// TraceScope: how code below the transports (the session service, the authenticator) opens a
// child span without knowing about tracing (spec/10 §5): a front end that serves a sampled
// request makes its span current on the thread for the synchronous part of the call, and an
// operation asks `TraceScope.child(…)`. With tracing off `enabled` is false and nothing else is
// read, so the hot path pays one relaxed atomic load.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A span that can have children (a server span of the tracer).
public protocol TraceParentSpan: AnyObject, Sendable {
    func startChild(_ name: String) -> any TraceChildSpan
}

/// An internal span opened under the current one.
public protocol TraceChildSpan: AnyObject, Sendable {
    func setAttribute(_ key: String, string value: String)
    func setAttribute(_ key: String, bool value: Bool)
    /// Ends the span; `errorCode` (a TM code) marks a failed operation.
    func end(errorCode: String?)
}

public enum TraceScope {
    /// True once a tracer exists (`telemetry.tracing.enabled`).
    public static let enabled = Atomic<Bool>(false)

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// The span current on this thread, if any.
    public static var current: (any TraceParentSpan)? {
        guard enabled.load(ordering: .relaxed), let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue() as? any TraceParentSpan
    }

    /// Runs `body` with `span` current on this thread (restoring what was current before).
    public static func with<T, E: Error>(_ span: any TraceParentSpan, _ body: () throws(E) -> T) throws(E) -> T {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged<AnyObject>.passUnretained(span).toOpaque())
        defer {
            pthread_setspecific(key, previous)
            withExtendedLifetime(span) {}
        }
        return try body()
    }

    /// A child of the current span, or nil when nothing is traced here.
    @inline(__always)
    public static func child(_ name: String) -> (any TraceChildSpan)? {
        guard enabled.load(ordering: .relaxed) else { return nil }
        return current?.startChild(name)
    }
}

// TLSReloader: keeps each TLS listener's certificate pair current (spec/08 §7). Every second it
// compares the inode, size and mtime of the configured files; a change that has held still for
// one more poll (so a certificate and key copied one after the other are read together) reloads
// that listener's pair, well inside the 5 s the spec allows. Reloads triggered by SIGHUP or
// `config/reload` re-read every pair. A new pair must parse, match its key, be inside its
// validity period and (cluster) name this node; otherwise the old context stays, an ERROR
// `tls_reload_failed` is logged and `tokmesh_tls_reload_failures_total{listener}` counts it.
// New handshakes use the new context; open connections keep theirs.
import CoreMetrics
import Foundation
import NIOCore
import NIOSSL
import Synchronization
import TokMeshHTTP
import TokMeshTelemetry

final class TLSReloader: Sendable {
    struct Listener: Sendable {
        var name: String
        /// The TLS group of spec/08 (`server.https.tls`), reported in `updated`.
        var group: String
        var certFile: String
        var keyFile: String
        var clientCAFile: String
        var alpn: [String]
        var box: TLSContextBox
    }

    private struct FileStamp: Equatable {
        var inode: UInt64
        var size: Int64
        var mtimeNanos: Int64
    }

    private struct Watched {
        var listener: Listener
        var loaded: [FileStamp?]
        /// A change seen at the last poll, reloaded once it holds still.
        var pending: [FileStamp?]?
    }

    private let watched: Mutex<[Watched]>
    private let logger: Logger
    private let nodeID: String

    init(listeners: [Listener], logger: Logger, nodeID: String) {
        self.logger = logger
        self.nodeID = nodeID
        watched = Mutex(listeners.map { Watched(listener: $0, loaded: Self.stamps($0), pending: nil) })
        for l in listeners {
            _ = CoreMetrics.Counter(label: "tokmesh_tls_reload_failures_total", dimensions: [("listener", l.name)])
            if let expiry = Self.expiry(l.certFile) { Self.exportExpiry(l.name, expiry) }
        }
    }

    var isEmpty: Bool { watched.withLock { $0.isEmpty } }

    private static func stamps(_ l: Listener) -> [FileStamp?] {
        [l.certFile, l.keyFile, l.clientCAFile].map { path in
            guard !path.isEmpty else { return nil }
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            return FileStamp(inode: UInt64(st.st_ino), size: Int64(st.st_size),
                             mtimeNanos: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
        }
    }

    /// One poll: reloads the listeners whose files changed and then held still.
    func poll() {
        let due = watched.withLock { list -> [Int] in
            var due: [Int] = []
            for i in list.indices {
                let now = Self.stamps(list[i].listener)
                if now == list[i].loaded { list[i].pending = nil; continue }
                if list[i].pending == now { due.append(i) } else { list[i].pending = now }
            }
            return due
        }
        for i in due { _ = reload(index: i, trigger: "file_change") }
    }

    /// Re-reads every pair (SIGHUP, `config/reload`), with the paths of `config` when given.
    /// Returns the groups whose context changed.
    func reloadAll(paths config: ServerConfig?, trigger: String) -> [String] {
        let count = watched.withLock { list -> Int in
            if let config {
                for i in list.indices {
                    switch list[i].listener.name {
                    case "https": (list[i].listener.certFile, list[i].listener.keyFile, list[i].listener.clientCAFile) =
                        (config.httpsCertFile, config.httpsKeyFile, config.httpsClientCAFile)
                    case "redis_tls": (list[i].listener.certFile, list[i].listener.keyFile, list[i].listener.clientCAFile) =
                        (config.redisTLSCertFile, config.redisTLSKeyFile, config.redisTLSClientCAFile)
                    case "cluster": (list[i].listener.certFile, list[i].listener.keyFile, list[i].listener.clientCAFile) =
                        (config.clusterCertFile, config.clusterKeyFile, config.clusterCAFile)
                    default: break
                    }
                }
            }
            return list.count
        }
        return (0..<count).compactMap { reload(index: $0, trigger: trigger) }
    }

    /// Loads one listener's pair; on success swaps the context and returns its group.
    private func reload(index: Int, trigger: String) -> String? {
        let (listener, stamps) = watched.withLock { ($0[index].listener, Self.stamps($0[index].listener)) }
        do {
            let context = try TLSServerContext.make(certFile: listener.certFile, keyFile: listener.keyFile,
                                                    clientCAFile: listener.clientCAFile.isEmpty ? nil : listener.clientCAFile, alpn: listener.alpn)
            let chain = try NIOSSLCertificate.fromPEMFile(listener.certFile)
            guard let leaf = chain.first else { throw TLSServerContext.LoadError(file: listener.certFile, reason: "no certificate in the file") }
            let now = time(nil)
            guard leaf.notValidBefore <= now, leaf.notValidAfter > now else {
                throw TLSServerContext.LoadError(file: listener.certFile, reason: "the certificate is outside its validity period")
            }
            if listener.name == "cluster", CertificateName.commonName(leaf) != nodeID {
                throw TLSServerContext.LoadError(file: listener.certFile, reason: "the certificate's CN is not this node's ID")
            }
            listener.box.replace(with: context)
            watched.withLock { $0[index].loaded = stamps; $0[index].pending = nil }
            Self.exportExpiry(listener.name, leaf.notValidAfter)
            logger.log(.info, "tokmesh.config", "certificate reloaded", [
                "event": "config_reloaded", "component": "tls_manager", "status": "success", "trigger": .string(trigger),
                "listener": .string(listener.name),
                "changes": .object([listener.group + ".cert_file": .object([
                    "path": .string(listener.certFile), "modified_at": .int((stamps.first??.mtimeNanos ?? 0) / 1_000_000),
                    "new_expiry": .int(Int64(leaf.notValidAfter) * 1000),
                ])]),
            ])
            return listener.group
        } catch {
            watched.withLock { $0[index].loaded = stamps; $0[index].pending = nil }
            CoreMetrics.Counter(label: "tokmesh_tls_reload_failures_total", dimensions: [("listener", listener.name)]).increment()
            let reason = (error as? TLSServerContext.LoadError)?.description ?? "the certificate or key could not be read"
            logger.log(.error, "tokmesh.config", "certificate reload failed; the previous certificate stays in use", [
                "event": "tls_reload_failed", "listener": .string(listener.name), "trigger": .string(trigger), "error": .string(reason),
            ])
            return nil
        }
    }

    private static func expiry(_ certFile: String) -> time_t? {
        (try? NIOSSLCertificate.fromPEMFile(certFile))?.first?.notValidAfter
    }

    private static func exportExpiry(_ listener: String, _ notAfter: time_t) {
        MetricsRegistry.shared.setGauge("tokmesh_tls_certificate_expiry_timestamp_seconds", [("listener", listener)], Double(notAfter))
    }
}

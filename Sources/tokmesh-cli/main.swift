// tokmesh-cli: the operator's client (spec/09). Global flags may stand anywhere and the group
// aliases (sess, key, sys, cfg) are expanded before the command tree parses the line. Ctrl+C
// ends a direct-mode command with exit code 2 (the REPL handles it itself).
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import TokMeshCLI

let arguments = TokMeshCLICommand.expandAliases(GlobalOptions.hoist(Array(CommandLine.arguments.dropFirst())))
signal(SIGINT) { _ in _exit(2) }
do {
    let command = try TokMeshCLICommand.parseAsRoot(arguments)
    if let runnable = command as? any CLIRunnable {
        try await runnable.execute()
    } else {
        var plain = command
        try plain.run()
    }
} catch {
    TokMeshCLICommand.exit(withError: error)
}

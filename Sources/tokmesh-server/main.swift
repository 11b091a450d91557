// tokmesh-server: the node process. All logic lives in TokMeshServer.
import Foundation
import TokMeshServer
import TokMeshStorage

MemoryTrim.limitArenas(cores: ProcessInfo.processInfo.activeProcessorCount, environment: ProcessInfo.processInfo.environment)
let code = await TokMeshNode.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(code)

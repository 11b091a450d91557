// tokmesh-server: the node process. All logic lives in TokMeshServer.
import Foundation
import TokMeshServer

let code = await TokMeshNode.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(code)

// ConnectError: the JSON form of an RPC error in the Connect protocol (spec/06 §5) —
// `{"code","message","details":[{"type","value","debug"}]}` with the `tokmesh.v1.ErrorDetail`
// as base64 protobuf (`value`) and as readable JSON (`debug`). Used for unary error bodies and
// inside the end-of-stream envelope of streaming calls.
import TokMeshCore
import TokMeshProto

enum ConnectError {
    static func json(_ error: RPCError) -> JSONObject {
        var object: JSONObject = ["code": .string(error.status.connectName), "message": .string(error.message)]
        if let detail = error.detail {
            var debug: JSONObject = ["code": .string(detail.code), "message": .string(detail.message)]
            if !detail.requestId.isEmpty { debug["requestId"] = .string(detail.requestId) }
            if !detail.details.isEmpty {
                var details = JSONObject()
                for key in detail.details.keys.sorted() { details.append(key, .string(detail.details[key]!)) }
                debug["details"] = .object(details)
            }
            if detail.retryAfterMs != 0 { debug["retryAfterMs"] = .string(String(detail.retryAfterMs)) }
            object["details"] = .array([.object([
                "type": .string("tokmesh.v1.ErrorDetail"),
                "value": .string(Base64.encode(detail.serializedBytes(), padding: false)),
                "debug": .object(debug),
            ])])
        }
        return object
    }
}

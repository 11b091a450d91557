// Envelope: the JSON response envelope and headers of spec/04 §3 — `{code, message,
// request_id, timestamp, data}` for success, `{…, details}` for errors with `X-Error-Code`,
// plus `X-Request-ID`, `Cache-Control: no-store` and `X-Content-Type-Options: nosniff` on every
// response.
import NIOCore
import NIOHTTP1
import TokMeshCore
import TokMeshHTTP

enum Envelope {
    static func baseHeaders(requestID: String) -> HTTPHeaders {
        var h = HTTPHeaders()
        h.reserveCapacity(5)
        h.add(name: "X-Request-ID", value: requestID)
        h.add(name: "Cache-Control", value: "no-store")
        h.add(name: "X-Content-Type-Options", value: "nosniff")
        return h
    }

    static func success(_ status: HTTPResponseStatus, data: JSONObject, requestID: String, now: Int64) -> ServerResponse {
        var encoded: [UInt8] = []
        JSONWriter.write(.object(data), into: &encoded)
        return success(status, encodedData: encoded, requestID: requestID, now: now)
    }

    /// The success envelope around already-encoded `data`, written straight into the body buffer.
    static func success(_ status: HTTPResponseStatus, encodedData: [UInt8], requestID: String, now: Int64) -> ServerResponse {
        var out: [UInt8] = []
        out.reserveCapacity(encodedData.count + 128)
        out.append(contentsOf: #"{"code":"OK","message":"Success","request_id":"#.utf8)
        JSONWriter.writeString(requestID, into: &out)
        out.append(contentsOf: #","timestamp":"#.utf8)
        out.append(contentsOf: String(now).utf8)
        out.append(contentsOf: #","data":"#.utf8)
        out.append(contentsOf: encodedData)
        out.append(UInt8(ascii: "}"))
        var headers = baseHeaders(requestID: requestID)
        headers.add(name: "Content-Type", value: "application/json")
        var buffer = ByteBufferAllocator().buffer(capacity: out.count)
        buffer.writeBytes(out)
        return ServerResponse(status: status, headers: headers, body: buffer)
    }

    static func error(_ error: TokMeshError, requestID: String, now: Int64, emptyBody: Bool = false) -> ServerResponse {
        var headers = baseHeaders(requestID: requestID)
        headers.add(name: "X-Error-Code", value: error.code.rawValue)
        for (name, value) in error.headers { headers.replaceOrAdd(name: name, value: value) }
        let status = HTTPResponseStatus(statusCode: error.code.httpStatus)
        let close = error.code == .sysBodyTooLarge || error.code == .adminUploadTooLarge || error.code == .sysMalformed && error.details["framing"] != nil
        if emptyBody { return ServerResponse(status: status, headers: headers, body: nil, closeConnection: close) }
        var o = JSONObject()
        o.append("code", .string(error.code.rawValue))
        o.append("message", .string(error.message))
        o.append("request_id", .string(requestID))
        o.append("timestamp", .int(now))
        var details = error.details
        details["framing"] = nil
        o.append("details", .object(details))
        var response = json(status, o, headers: headers)
        response.closeConnection = close
        return response
    }

    private static func json(_ status: HTTPResponseStatus, _ body: JSONObject, headers: HTTPHeaders) -> ServerResponse {
        var headers = headers
        headers.add(name: "Content-Type", value: "application/json")
        let bytes = JSONWriter.write(.object(body))
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return ServerResponse(status: status, headers: headers, body: buffer)
    }
}

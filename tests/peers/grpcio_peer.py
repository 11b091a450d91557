"""An independent gRPC server (Python grpcio) for the Swift RPC client's interoperability test
(spec/06 §6): ClusterService.Ping (unary) answers PingResponse{node_id: "py-peer", timestamp: the
request's timestamp}, ClusterService.TransferShard (client streaming) answers
TransferShardResponse{success: true, transferred_items: the number of messages, last_sequence:
the largest `sequence`}. Messages are handled as raw protobuf bytes. Prints the port, then serves
until stdin closes."""

import sys
from concurrent import futures

import grpc


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(data: bytes, i: int):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(data: bytes):
    """(number, wire type, value) of a flat message (varint and length-delimited only)."""
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 2:
            length, i = read_varint(data, i)
            value, i = data[i:i + length], i + length
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def ping(request: bytes, context) -> bytes:
    timestamp = next((v for n, w, v in fields(request) if n == 2 and w == 0), 0)
    name = b"py-peer"
    return b"\x0a" + varint(len(name)) + name + (b"\x10" + varint(timestamp) if timestamp else b"")


def transfer(requests, context) -> bytes:
    count = last = 0
    for message in requests:
        count += 1
        last = max([last] + [v for n, w, v in fields(message) if n == 6 and w == 0])
    return b"\x08\x01" + b"\x10" + varint(count) + (b"\x18" + varint(last) if last else b"")


def main():
    identity = lambda b: b  # noqa: E731
    handlers = {
        "Ping": grpc.unary_unary_rpc_method_handler(ping, request_deserializer=identity, response_serializer=identity),
        "TransferShard": grpc.stream_unary_rpc_method_handler(transfer, request_deserializer=identity, response_serializer=identity),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("tokmesh.cluster.v1.ClusterService", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    sys.stdin.read()
    server.stop(0)


if __name__ == "__main__":
    main()

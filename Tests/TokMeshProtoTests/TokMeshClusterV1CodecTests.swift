// Codec tests for `TokMeshClusterV1`: the schema-driven random round trip (SchemaRoundTrip) over
// every message of cluster.proto (session.proto's tables resolve the imported types), plus what
// a random round trip does not pin down: oneof last-member-wins and merging, a oneof string set
// to "", integer-keyed maps with message values, open enums, and a Raft entry carrying a
// serialized control command.
import Testing
@testable import TokMeshProto

@Suite struct TokMeshClusterV1CodecTests {
    static let codecs = codecProbes([
        TokMeshClusterV1.JoinRequest.self, TokMeshClusterV1.JoinResponse.self, TokMeshClusterV1.LeaveRequest.self,
        TokMeshClusterV1.LeaveResponse.self, TokMeshClusterV1.GetShardMapRequest.self, TokMeshClusterV1.GetShardMapResponse.self,
        TokMeshClusterV1.Member.self, TokMeshClusterV1.ShardMap.self, TokMeshClusterV1.ReplicaSet.self,
        TokMeshClusterV1.ShardTransfer.self, TokMeshClusterV1.TransferShardRequest.self,
        TokMeshClusterV1.TransferShardResponse.self, TokMeshClusterV1.MemberUpdate.self, TokMeshClusterV1.PingRequest.self,
        TokMeshClusterV1.PingResponse.self, TokMeshClusterV1.ProposeRequest.self, TokMeshClusterV1.ProposeResponse.self,
        TokMeshClusterV1.ControlCommand.self, TokMeshClusterV1.Bootstrap.self, TokMeshClusterV1.AddMember.self,
        TokMeshClusterV1.MarkLeaving.self, TokMeshClusterV1.RemoveMember.self, TokMeshClusterV1.AddVnodes.self,
        TokMeshClusterV1.BeginTransfer.self, TokMeshClusterV1.CompleteTransfer.self, TokMeshClusterV1.AbortTransfer.self,
        TokMeshClusterV1.PromoteReplicas.self, TokMeshClusterV1.SetReplicas.self, TokMeshClusterV1.ApiKeyRecord.self,
        TokMeshClusterV1.PutApiKey.self, TokMeshClusterV1.SetSetting.self, TokMeshClusterV1.TouchApiKeys.self,
        TokMeshClusterV1.ControlState.self, TokMeshClusterV1.RaftEntry.self, TokMeshClusterV1.ConfChange.self,
        TokMeshClusterV1.ConfState.self, TokMeshClusterV1.RequestVoteRequest.self, TokMeshClusterV1.RequestVoteResponse.self,
        TokMeshClusterV1.AppendEntriesRequest.self, TokMeshClusterV1.AppendEntriesResponse.self,
        TokMeshClusterV1.InstallSnapshotRequest.self, TokMeshClusterV1.InstallSnapshotResponse.self,
        TokMeshClusterV1.TimeoutNowRequest.self, TokMeshClusterV1.TimeoutNowResponse.self, TokMeshClusterV1.SessionRecord.self,
        TokMeshClusterV1.IndexRecord.self, TokMeshClusterV1.CallerContext.self, TokMeshClusterV1.ForwardRequest.self,
        TokMeshClusterV1.CreateOp.self, TokMeshClusterV1.SessionKeyOp.self, TokMeshClusterV1.ValidateOp.self,
        TokMeshClusterV1.RenewOp.self, TokMeshClusterV1.RevokeOp.self, TokMeshClusterV1.RevokeUserOp.self,
        TokMeshClusterV1.RevokeManyOp.self, TokMeshClusterV1.GetManyOp.self, TokMeshClusterV1.ListOp.self,
        TokMeshClusterV1.IndexOp.self, TokMeshClusterV1.ForwardResponse.self, TokMeshClusterV1.ValidateResult.self,
        TokMeshClusterV1.RenewResult.self, TokMeshClusterV1.RevokeResult.self, TokMeshClusterV1.CountResult.self,
        TokMeshClusterV1.SessionList.self, TokMeshClusterV1.IndexResult.self, TokMeshClusterV1.ReplicationRecord.self,
        TokMeshClusterV1.ReplicateRequest.self, TokMeshClusterV1.ReplicateResponse.self,
    ])

    @Test("every message has a codec, and 200 random instances of each round-trip byte for byte")
    func roundTrips() throws {
        let round = SchemaRoundTrip([TokMeshV1Schema.file, TokMeshClusterV1Schema.file])
        try round.check(files: [TokMeshClusterV1Schema.file], codecs: Self.codecs, seed: 0xC1D5)
    }

    static func keyOp(_ id: String) -> TokMeshClusterV1.SessionKeyOp {
        var op = TokMeshClusterV1.SessionKeyOp()
        op.sessionId = id
        return op
    }

    @Test("forward ops: the last member on the wire wins, one member twice is merged, the same type under another member is not")
    func forwardOneof() throws {
        var caller = TokMeshClusterV1.CallerContext()
        caller.requestId = "req-1"
        var request = TokMeshClusterV1.ForwardRequest()
        request.shardMapVersion = 9
        request.caller = caller
        request.op = .touch(Self.keyOp("tmss-a"))
        #expect(try TokMeshClusterV1.ForwardRequest(serializedBytes: request.serializedBytes()) == request)

        var create = ProtoWriter(), more = ProtoWriter()
        create.write(1, string: "tmss-b")
        create.write(6, stringMap: ["k": "v"])
        more.write(3, string: "alice")
        var w = ProtoWriter()
        w.write(10, message: create.bytes)
        w.write(10, message: more.bytes)
        let merged = try TokMeshClusterV1.ForwardRequest(serializedBytes: w.bytes)
        guard case .create(let op)? = merged.op else {
            Issue.record("expected create, got \(String(describing: merged.op))")
            return
        }
        #expect(op.sessionId == "tmss-b" && op.userId == "alice" && op.data == ["k": "v"])

        // get (11) then touch (13) then get again: the last alone, not merged with the first.
        w = ProtoWriter()
        w.write(11, message: Self.keyOp("tmss-1").serializedBytes())
        w.write(13, message: Self.keyOp("tmss-2").serializedBytes())
        w.write(11, message: TokMeshClusterV1.SessionKeyOp().serializedBytes())
        #expect(try TokMeshClusterV1.ForwardRequest(serializedBytes: w.bytes).op == .get(TokMeshClusterV1.SessionKeyOp()))
        w = ProtoWriter()
        w.write(11, message: Self.keyOp("tmss-1").serializedBytes())
        w.write(21, message: TokMeshClusterV1.SessionKeyOp().serializedBytes())
        #expect(try TokMeshClusterV1.ForwardRequest(serializedBytes: w.bytes).op == .pull(TokMeshClusterV1.SessionKeyOp()))

        // An empty member is still a member: the tag and a zero length are written.
        request = TokMeshClusterV1.ForwardRequest()
        request.op = .getMany(TokMeshClusterV1.GetManyOp())
        #expect(request.serializedBytes() == [0x9A, 0x01, 0x00])
    }

    @Test("replication records: deleted_session_id \"\" is still set; results and records round-trip")
    func replication() throws {
        var record = TokMeshClusterV1.ReplicationRecord()
        record.lsn = 42
        record.record = .deletedSessionId("")
        #expect(record.serializedBytes() == [0x08, 42, 0x5A, 0x00])
        #expect(try TokMeshClusterV1.ReplicationRecord(serializedBytes: record.serializedBytes()) == record)

        var session = TokMeshV1.Session()
        session.id = "tmss-x"
        session.data = ["a": "1"]
        var stored = TokMeshClusterV1.SessionRecord()
        stored.session = session
        stored.tokenHash = "tmth_" + String(repeating: "0", count: 64)
        var second = record
        second.lsn = 43
        second.sync = true
        second.record = .session(stored)
        var batch = TokMeshClusterV1.ReplicateRequest()
        batch.ownerNodeId = "tmnd-a"
        batch.records = [record, second, TokMeshClusterV1.ReplicationRecord()]
        #expect(try TokMeshClusterV1.ReplicateRequest(serializedBytes: batch.serializedBytes()) == batch)

        var response = TokMeshClusterV1.ForwardResponse()
        var list = TokMeshClusterV1.SessionList()
        list.items = [stored, TokMeshClusterV1.SessionRecord()]
        list.total = 2
        response.result = .sessions(list)
        #expect(try TokMeshClusterV1.ForwardResponse(serializedBytes: response.serializedBytes()) == response)
    }

    @Test("shard map: uint32 keys (0 included) with string and message values, empty replica sets kept")
    func shardMap() throws {
        var map = TokMeshClusterV1.ShardMap()
        map.shards = [0: "tmnd-a", 4_000_000_000: "tmnd-b"]
        var replicas = TokMeshClusterV1.ReplicaSet()
        replicas.nodeIds = ["tmnd-b", ""]
        map.replicas = [7: replicas, 8: TokMeshClusterV1.ReplicaSet()]
        var transfer = TokMeshClusterV1.ShardTransfer()
        transfer.purpose = .replicaSeed
        transfer.epoch = 3
        map.transfers = [7: transfer]
        map.version = 12
        let decoded = try TokMeshClusterV1.ShardMap(serializedBytes: map.serializedBytes())
        #expect(decoded == map)
        #expect(decoded.replicas[8] == TokMeshClusterV1.ReplicaSet() && decoded.replicas[7]?.nodeIds == ["tmnd-b", ""])
        // Entries are written in key order; key 0 leaves the key out.
        #expect(map.serializedBytes().starts(with: [0x0A, 0x08, 0x12, 0x06] + Array("tmnd-a".utf8)))

        var state = TokMeshClusterV1.ControlState()
        state.shardMap = map
        var answer = TokMeshClusterV1.ProposeResponse()
        answer.index = 5
        answer.applied = true
        state.recentRequests = ["req-1": answer, "req-2": TokMeshClusterV1.ProposeResponse()]
        state.settings = ["cluster.x": "1"]
        #expect(try TokMeshClusterV1.ControlState(serializedBytes: state.serializedBytes()) == state)
        var touch = TokMeshClusterV1.TouchApiKeys()
        touch.lastUsedAt = ["k1": 1_700_000_000_000, "k2": 0, "": -1]
        #expect(try TokMeshClusterV1.TouchApiKeys(serializedBytes: touch.serializedBytes()) == touch)
    }

    @Test("enums keep numbers they do not name; names carry the prefix, Swift names do not")
    func enums() throws {
        var update = TokMeshClusterV1.MemberUpdate()
        update.state = .suspect
        #expect(update.serializedBytes() == [0x18, 0x02])
        #expect(TokMeshClusterV1.SwimState.suspect.description == "SWIM_STATE_SUSPECT")
        let future = try TokMeshClusterV1.MemberUpdate(serializedBytes: [0x18, 0x63])
        #expect(future.state.rawValue == 99 && future.serializedBytes() == [0x18, 0x63])
        var index = TokMeshClusterV1.IndexOp()
        index.action = TokMeshClusterV1.IndexAction(rawValue: -1)
        #expect(try TokMeshClusterV1.IndexOp(serializedBytes: index.serializedBytes()).action.rawValue == -1)
        #expect(TokMeshClusterV1.TransferPurpose.handover.rawValue == 1 && TokMeshClusterV1.MembershipState().rawValue == 0)
        for e in TokMeshClusterV1Schema.file.enums {
            #expect(e.values.first?.number == 0 && e.values.first?.name.hasSuffix("_UNSPECIFIED") == true, "\(e.name)")
        }
    }

    @Test("a Raft entry carries a serialized control command; every command decodes back")
    func raftEntry() throws {
        var commands: [TokMeshClusterV1.ControlCommand.Command] = []
        var begin = TokMeshClusterV1.BeginTransfer()
        begin.vnode = 17
        begin.purpose = .retire
        commands.append(.beginTransfer(begin))
        var key = TokMeshClusterV1.ApiKeyRecord()
        key.keyId = "tmak-1"
        key.allowedlist = ["10.0.0.0/8"]
        var put = TokMeshClusterV1.PutApiKey()
        put.key = key
        commands.append(.putApiKey(put))
        commands.append(.touchApiKeys(TokMeshClusterV1.TouchApiKeys()))
        var bootstrap = TokMeshClusterV1.Bootstrap()
        bootstrap.members = [TokMeshClusterV1.Member()]
        commands.append(.bootstrap(bootstrap))
        for command in commands {
            var proposal = TokMeshClusterV1.ControlCommand()
            proposal.requestId = "req"
            proposal.proposedAt = 1_700_000_000_000
            proposal.command = command
            var entry = TokMeshClusterV1.RaftEntry()
            entry.term = 2
            entry.index = 10
            entry.type = .normal
            entry.data = proposal.serializedBytes()
            let back = try TokMeshClusterV1.RaftEntry(serializedBytes: entry.serializedBytes())
            #expect(back == entry)
            #expect(try TokMeshClusterV1.ControlCommand(serializedBytes: back.data) == proposal)
        }
    }
}

import Postgres
import TestSupport
import Testing

@testable import BillingStore

@Suite struct ReplicaLagTests {
    @Test func logSequenceNumbersReadAsByteOffsets() {
        #expect(ReplicaLag.lsn("0/0") == 0)
        #expect(ReplicaLag.lsn("0/3000148") == 0x300_0148)
        #expect(ReplicaLag.lsn("16/B374D848") == 0x16_B374_D848)
        #expect(ReplicaLag.lsn("FFFFFFFF/FFFFFFFF") == -1)
        #expect(ReplicaLag.lsn("16B374D848") == nil)
        #expect(ReplicaLag.lsn("x/1") == nil)
    }

    /// A "replica" that is a primary (READ_DATABASE_URL at the primary, or a promoted standby) is
    /// never behind.
    @Test func aPrimaryReadAsReplicaIsNotBehind() async throws {
        try await withMigratedPool { pool in
            let lag = try await ReplicaLag.measure(primary: pool, replica: pool)
            #expect(lag == ReplicaLag(bytes: 0, seconds: 0))
        }
    }
}

/// An append-only log of records, the store of real transitions (they are precious: every one cost
/// real time on the plant).
///
/// File layout (little-endian): a 16-byte header `"EDGELOG1"`, format version (u32), schema (u32: what a
/// record holds, so a log from another rig or shape is refused); then records, each
/// `[payload length u32][CRC-32 of payload u32][payload]`.
///
/// Appends are buffered in memory and reach the disk at `sync()` (write + fsync), which the runtime
/// calls at each episode end and on exit. On open, records are read until the first one that is short or
/// fails its CRC: that torn tail (a crash mid-write) is truncated away and reported.
public final class RecordLog {
    public static let formatVersion: UInt32 = 1
    static let headerSize = 16
    static let maximumRecordSize = 1 << 24

    public let path: String
    public let schema: UInt32
    /// Records in the file plus those appended since (synced or not).
    public private(set) var recordCount = 0
    /// Records known to be on disk (as of the last successful sync or open).
    public private(set) var syncedRecordCount = 0
    /// Bytes of torn tail removed when the log was opened (0 for a clean file).
    public let truncatedBytes: Int
    private let file: FileHandle
    private var pending: [UInt8] = []

    static func header(schema: UInt32) -> [UInt8] {
        var w = ByteWriter(capacity: headerSize)
        for b in "EDGELOG1".utf8 { w.u8(b) }
        w.u32(formatVersion)
        w.u32(schema)
        return w.bytes
    }

    /// Opens or creates the log at `path`, calling `visit` with each intact record's payload in order.
    /// Throws a `FileError` naming the file when it is not a log of this format and schema.
    public init(path: String, schema: UInt32, visit: (UnsafeRawBufferPointer) -> Void) throws(FileError) {
        self.path = path
        self.schema = schema
        file = try FileHandle(path: path, mode: .readWrite)
        let bytes = try file.readAll()
        let header = Self.header(schema: schema)
        if bytes.count < Self.headerSize {
            // Empty, or a header torn during creation: start afresh if what is there matches the header.
            guard bytes.elementsEqual(header.prefix(bytes.count)) else {
                throw FileError(path: path, operation: "read", code: 0, detail: "not an edge-ctl dataset log (bad header)")
            }
            try file.truncate(to: 0)
            try file.write(header)
            try file.sync()
            truncatedBytes = bytes.count
        } else {
            let scan = try Self.scan(bytes, path: path, expectedSchema: schema, visit: visit)
            recordCount = scan.records
            syncedRecordCount = scan.records
            truncatedBytes = bytes.count - scan.validEnd
            if truncatedBytes > 0 {
                try file.truncate(to: scan.validEnd)
                try file.sync()
            }
        }
        try file.seekToEnd()
    }

    /// What a log holds, read without changing the file: its schema, intact records and torn-tail bytes.
    public static func inspect(path: String) throws(FileError) -> (schema: UInt32, records: Int, tornBytes: Int) {
        let bytes = try FileHandle(path: path, mode: .read).readAll()
        guard bytes.count >= headerSize else {
            throw FileError(path: path, operation: "read", code: 0, detail: "not an edge-ctl dataset log (too short)")
        }
        let scan = try Self.scan(bytes, path: path, expectedSchema: nil) { _ in }
        return (scan.schema, scan.records, bytes.count - scan.validEnd)
    }

    /// Checks the header and walks the records up to the first short or corrupt one.
    static func scan(_ bytes: [UInt8], path: String, expectedSchema: UInt32?,
                     visit: (UnsafeRawBufferPointer) -> Void) throws(FileError) -> (schema: UInt32, records: Int, validEnd: Int) {
        guard bytes[0..<8].elementsEqual("EDGELOG1".utf8) else {
            throw FileError(path: path, operation: "read", code: 0, detail: "not an edge-ctl dataset log (bad magic)")
        }
        var r = ByteReader(bytes, offset: 8)
        let version = r.u32(), fileSchema = r.u32()
        guard version == formatVersion else {
            throw FileError(path: path, operation: "read", code: 0,
                            detail: "dataset log format version \(version), this build reads version \(formatVersion)")
        }
        if let expectedSchema, fileSchema != expectedSchema {
            throw FileError(path: path, operation: "read", code: 0,
                            detail: "dataset log holds records of schema \(fileSchema), this run writes schema \(expectedSchema) (another rig or observation size): use another --data directory")
        }
        var count = 0
        var validEnd = headerSize
        while r.remaining >= 8 {
            let length = Int(r.u32()), crc = r.u32()
            guard length <= maximumRecordSize, length <= r.remaining else { break }
            let start = r.offset
            let intact = bytes.withUnsafeBytes { raw in
                let payload = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                guard CRC32.of(payload) == crc else { return false }
                visit(payload)
                return true
            }
            guard intact else { break }
            r.skip(length)
            count += 1
            validEnd = r.offset
        }
        return (fileSchema, count, validEnd)
    }

    /// Buffers one record; it reaches the disk at the next `sync()`.
    public func append(_ payload: UnsafeRawBufferPointer) {
        var w = ByteWriter(capacity: payload.count + 8)
        w.u32(UInt32(payload.count))
        w.u32(CRC32.of(payload))
        pending.append(contentsOf: w.bytes)
        pending.append(contentsOf: payload)
        recordCount += 1
    }

    public func append(_ payload: [UInt8]) {
        payload.withUnsafeBytes { append($0) }
    }

    /// Writes the buffered records and fsyncs. On failure the records stay buffered (a later sync retries)
    /// and what was synced before is intact.
    public func sync() throws(FileError) {
        if !pending.isEmpty {
            let size = try file.size()
            do {
                try file.write(pending)
            } catch {
                // A partial write (disk full) must not leave a torn record in the middle of the log.
                try? file.truncate(to: size)
                try? file.seekToEnd()
                throw error
            }
            pending.removeAll(keepingCapacity: true)
        }
        try file.sync()
        syncedRecordCount = recordCount
    }
}

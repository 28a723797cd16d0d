// libFuzzer target: the dataset-log reader (Sources/EdgeRuntime/Persistence/RecordLog.swift and the
// transition records of DataDirectory.swift): opening a log for appending (torn-tail truncation),
// `RecordLog.inspect`, `DataDirectory.summary()` (`edge-ctl info`) and `exportTransitionsCSV`
// (`edge-ctl export`), all on the same file.
//
// Input: one flags byte, then the file. Flags bit 0: rewrite every record's CRC to match its payload
// (records that would otherwise stop the scan at the first mutated byte), so mutations reach the
// record decoders. Bit 1: also open the log for appending as a training run does (truncates a torn
// tail, appends one record, syncs, reopens: every intact record must survive).
import EdgeIO
import EdgeRuntime

nonisolated(unsafe) var scratch = ""

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    scratch = scratchDirectory("log")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTransitionsLog(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let flags = data[0]
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if flags & 1 == 1 {
        var offset = 16
        while offset + 8 <= bytes.count {
            let length = Int(getU32(bytes, at: offset))
            guard length <= bytes.count - offset - 8 else { break }
            putU32(crc32(bytes[(offset + 8)..<(offset + 8 + length)]), into: &bytes, at: offset + 4)
            offset += 8 + length
        }
    }
    let directory = DataDirectory(path: scratch)
    let path = directory.transitionsPath
    writeFile(path, bytes)

    var records = -1
    do throws(FileError) {
        let info = try RecordLog.inspect(path: path)
        records = info.records
        require(info.records >= 0 && info.tornBytes >= 0 && info.tornBytes <= bytes.count, "inspect: \(info)")
    } catch {
        requireClearBinaryError(error.message, naming: path)
    }
    do throws(FileError) {
        let summary = try directory.summary()
        require(summary.datasetRecords == records, "summary counts \(summary.datasetRecords), inspect \(records)")
    } catch {
        requireClearBinaryError(error.message, naming: path)
    }
    do throws(FileError) {
        let csv = try exportTransitionsCSV(directory: scratch)
        var lines = 0
        for byte in csv.utf8 where byte == 10 { lines += 1 }
        require(lines == records + 1, "CSV has \(lines) lines for \(records) records")
    } catch {
        requireClearBinaryError(error.message, naming: path)
    }
    if flags & 2 == 2 && records >= 0 {
        do throws(FileError) {
            let info = try RecordLog.inspect(path: path)
            var visited = 0
            let log = try RecordLog(path: path, schema: info.schema) { _ in visited += 1 }
            require(visited == records && log.recordCount == records, "open saw \(visited) of \(records) records")
            log.append([1, 2, 3])
            try log.sync()
            let reopened = try RecordLog.inspect(path: path)
            require(reopened.records == records + 1 && reopened.tornBytes == 0,
                    "after append and sync: \(reopened.records) records, \(reopened.tornBytes) torn bytes")
        } catch {
            requireClearBinaryError(error.message, naming: path)
        }
    }
    return 0
}
